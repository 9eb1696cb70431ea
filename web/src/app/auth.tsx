import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useMemo,
  useSyncExternalStore,
} from 'react';
import { unwrap } from '../api/client.ts';
import type { TokenPair } from '../api/session.ts';
import type { ResponseBody } from '../api/types.ts';
import { useApi } from './api-context.tsx';

export type Me = ResponseBody<'/api/v1/auth/me', 'get'>;

export interface AuthValue {
  /** Undefined while the session is being checked; null when signed out. */
  user: Me | null | undefined;
  /** True when the role grants the permission key ("students:write"), as the server decides. */
  can(permission: string): boolean;
  signIn(email: string, password: string): Promise<void>;
  changePassword(currentPassword: string, newPassword: string): Promise<void>;
  signOut(): Promise<void>;
}

const AuthContext = createContext<AuthValue | null>(null);

/** Same rule as the server's grants(): a key, "resource:*" or "*". */
export function grants(granted: readonly string[], needed: string): boolean {
  const [resource] = needed.split(':');
  return granted.some((grant) => grant === '*' || grant === needed || grant === `${resource}:*`);
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const { client, session } = useApi();
  const queryClient = useQueryClient();
  const hasSession = useSyncExternalStore(
    (listener) => session.subscribe(listener),
    () => session.hasSession,
  );
  const me = useQuery({
    queryKey: ['me'],
    enabled: hasSession,
    retry: false,
    staleTime: 60_000,
    queryFn: async () => unwrap(await client.GET('/api/v1/auth/me')),
  });

  const signIn = useCallback(
    async (email: string, password: string) => {
      const tokens = unwrap(
        await client.POST('/api/v1/auth/login', { body: { email, password } }),
      ) as TokenPair;
      session.store(tokens);
      await queryClient.invalidateQueries({ queryKey: ['me'] });
    },
    [client, session, queryClient],
  );

  const changePassword = useCallback(
    async (currentPassword: string, newPassword: string) => {
      const tokens = unwrap(
        await client.POST('/api/v1/auth/change-password', {
          body: { current_password: currentPassword, new_password: newPassword },
        }),
      ) as TokenPair;
      session.store(tokens);
      await queryClient.invalidateQueries({ queryKey: ['me'] });
    },
    [client, session, queryClient],
  );

  const signOut = useCallback(async () => {
    const refreshToken = session.refreshToken;
    try {
      await client.POST('/api/v1/auth/logout', {
        body: refreshToken ? { refresh_token: refreshToken } : {},
      });
    } finally {
      session.clear();
      queryClient.clear();
    }
  }, [client, session, queryClient]);

  const user = !hasSession ? null : me.isError ? null : me.data;
  const value = useMemo<AuthValue>(
    () => ({
      user,
      can: (permission) => (user ? grants(user.permissions, permission) : false),
      signIn,
      changePassword,
      signOut,
    }),
    [user, signIn, changePassword, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth needs an AuthProvider');
  return auth;
}
