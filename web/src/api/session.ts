/**
 * The signed-in session: the access token lives in memory only, the single-use refresh
 * token in localStorage so a reload (or a new tab) stays signed in. Sign-out clears both.
 */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  must_change_password?: boolean;
}

const REFRESH_KEY = 'registrar.refresh_token';

type Listener = () => void;

export class Session {
  private accessToken: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly storage: Storage | undefined = globalThis.localStorage) {}

  get token(): string | null {
    return this.accessToken;
  }

  get refreshToken(): string | null {
    return this.storage?.getItem(REFRESH_KEY) ?? null;
  }

  get hasSession(): boolean {
    return this.accessToken !== null || this.refreshToken !== null;
  }

  store(tokens: TokenPair): void {
    this.accessToken = tokens.access_token;
    this.storage?.setItem(REFRESH_KEY, tokens.refresh_token);
    this.emit();
  }

  clear(): void {
    this.accessToken = null;
    this.storage?.removeItem(REFRESH_KEY);
    this.emit();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Trades the refresh token for a new pair, once even when many requests ask at the same
   * time (the token is single use: a second concurrent refresh would sign the user out).
   */
  refresh(fetcher: typeof fetch): Promise<boolean> {
    const refreshToken = this.refreshToken;
    if (!refreshToken) return Promise.resolve(false);
    this.refreshing ??= (async () => {
      try {
        const response = await fetcher(
          new Request(new URL('/api/v1/auth/refresh', baseUrl()), {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ refresh_token: refreshToken }),
          }),
        );
        if (!response.ok) {
          this.clear();
          return false;
        }
        this.store((await response.json()) as TokenPair);
        return true;
      } catch {
        return false;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

/** The page's origin (tests run without one). */
export function baseUrl(): string {
  return globalThis.location?.origin ?? 'http://localhost';
}
