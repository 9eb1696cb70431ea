import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { createApi } from '../api/client.ts';
import { Session } from '../api/session.ts';
import { ApiProvider } from '../app/api-context.tsx';
import { AuthProvider } from '../app/auth.tsx';
import { I18nProvider, type Language } from '../i18n/i18n.tsx';

type Handler = (request: Request, url: URL) => unknown | Response | Promise<unknown | Response>;

/**
 * A stand-in for the server in component tests: "GET /api/v1/jobs" → handler. A handler
 * returns a Response, or a value sent as JSON 200. Every request is recorded, so a test can
 * assert exactly what the screen asked for. Unknown routes answer a 404 problem.
 */
export function fakeServer(routes: Record<string, Handler>) {
  const requests: { method: string; url: URL; body: unknown }[] = [];
  const fetcher = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const text = request.method === 'GET' ? '' : await request.clone().text();
    // A multipart form (an upload) is recorded as its text fields; anything else is JSON.
    const multipart = request.headers.get('content-type')?.startsWith('multipart/form-data');
    const body = !text
      ? undefined
      : multipart
        ? Object.fromEntries(
            [...(await request.clone().formData())].filter(
              ([, value]) => typeof value === 'string',
            ),
          )
        : JSON.parse(text);
    requests.push({ method: request.method, url, body });
    const handler = routes[`${request.method} ${url.pathname}`];
    if (!handler) {
      return Response.json(
        { title: 'Not Found', status: 404, detail: `${request.method} ${url.pathname}` },
        { status: 404, headers: { 'content-type': 'application/problem+json' } },
      );
    }
    const result = await handler(request, url);
    return result instanceof Response ? result : Response.json(result);
  };
  return { fetch: fetcher as typeof fetch, requests };
}

export const ADMIN = {
  id: 1,
  email: 'admin@school.test',
  full_name: 'Admin Person',
  role: 'admin',
  is_active: true,
  must_change_password: false,
  permissions: ['*'],
};

/**
 * Renders a screen inside the app's providers, signed in as `user` (admin by default)
 * against the fake server's routes.
 */
export function renderWithApp(
  ui: ReactElement,
  {
    routes = {},
    language = 'en',
    user = ADMIN,
  }: { routes?: Record<string, Handler>; language?: Language; user?: unknown } = {},
) {
  const server = fakeServer({ 'GET /api/v1/auth/me': () => user, ...routes });
  const session = new Session(localStorage);
  session.store({ access_token: 'test-access', refresh_token: 'test-refresh', expires_in: 900 });
  const api = createApi(session, server.fetch);
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  });
  const result = render(
    <I18nProvider language={language}>
      <ApiProvider api={api}>
        <QueryClientProvider client={queryClient}>
          <AuthProvider>{ui}</AuthProvider>
        </QueryClientProvider>
      </ApiProvider>
    </I18nProvider>,
  );
  return { ...result, server, api, queryClient };
}
