import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApi } from './api/client.ts';
import { Session } from './api/session.ts';
import { App } from './app/App.tsx';
import { ApiProvider } from './app/api-context.tsx';
import { AuthProvider } from './app/auth.tsx';
import { I18nProvider } from './i18n/i18n.tsx';

const api = createApi(new Session());
const queryClient = new QueryClient({
  defaultOptions: {
    // A 4xx will not get better by asking again; a network blip might.
    queries: {
      retry: (count, error) => count < 2 && !('status' in error && Number(error.status) < 500),
      refetchOnWindowFocus: false,
    },
  },
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <I18nProvider>
      <ApiProvider api={api}>
        <QueryClientProvider client={queryClient}>
          <AuthProvider>
            <App />
          </AuthProvider>
        </QueryClientProvider>
      </ApiProvider>
    </I18nProvider>
  </StrictMode>,
);
