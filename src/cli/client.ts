import { type CliIo, UsageError } from './io.ts';

export const DEFAULT_URL = 'http://localhost:8000';
const API_PREFIX = '/api/v1';

/** An RFC 9457 problem as the API sends it (every field optional: proxies send other things). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: Array<{ field: string; message: string }>;
}

/** The API answered with an error status. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${problem.title ?? `HTTP ${status}`}: ${problem.detail ?? ''}`.trim());
  }
}

/** The server could not be reached at all. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
}

export interface ConnectOptions {
  /** --url, over REGISTRAR_URL. */
  url?: string | undefined;
  /** --token, over REGISTRAR_TOKEN. */
  token?: string | undefined;
}

export interface RequestOptions {
  json?: unknown;
  form?: FormData;
  query?: Record<string, string | number | boolean | undefined>;
}

interface TokenPair {
  access_token: string;
  refresh_token: string;
  must_change_password: boolean;
}

function parseBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(
      `REGISTRAR_URL="${raw}" is not a URL; use the server's address, e.g. ${DEFAULT_URL}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`REGISTRAR_URL="${raw}" must start with http:// or https://`);
  }
  return url;
}

async function readProblem(response: Response): Promise<Problem> {
  const text = await response.text().catch(() => '');
  if (/json/.test(response.headers.get('content-type') ?? '')) {
    try {
      return JSON.parse(text) as Problem;
    } catch {
      // Not the JSON it claimed to be: fall through and show the text.
    }
  }
  return {
    title: response.statusText || `HTTP ${response.status}`,
    detail: text.slice(0, 500) || `The server answered ${response.status}.`,
  };
}

/** Why fetch() failed, in words that point at REGISTRAR_URL. */
function connectionError(error: unknown, base: string): ConnectionError {
  // fetch() says only "fetch failed"; the reason is in its cause.
  const cause = error instanceof Error ? (error.cause as Error & { code?: string }) : undefined;
  const code = cause?.code ?? '';
  const hint = 'Is the server running? Set REGISTRAR_URL (or --url) to its address.';
  if (code === 'ECONNREFUSED') {
    return new ConnectionError(
      `Cannot connect to Registrar at ${base}: connection refused. ${hint}`,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ConnectionError(`Cannot find the host of ${base} (REGISTRAR_URL). ${hint}`);
  }
  const reason = code || cause?.message || (error instanceof Error ? error.message : String(error));
  return new ConnectionError(`Cannot reach Registrar at ${base} (${reason}). ${hint}`);
}

/**
 * The HTTP API as the signed-in user: every request carries their token, so the server
 * audits each action as theirs. Tokens stay in memory only.
 */
export class RegistrarClient {
  private refreshToken: string | undefined;

  private constructor(
    readonly baseUrl: URL,
    private token: string,
  ) {}

  /** Signs in from --token / REGISTRAR_TOKEN, REGISTRAR_EMAIL + REGISTRAR_PASSWORD, or a prompt. */
  static async connect(options: ConnectOptions, io: CliIo): Promise<RegistrarClient> {
    const baseUrl = parseBaseUrl(options.url ?? io.env.REGISTRAR_URL ?? DEFAULT_URL);
    const token = options.token ?? io.env.REGISTRAR_TOKEN;
    if (token) return new RegistrarClient(baseUrl, token);

    let email = io.env.REGISTRAR_EMAIL;
    let password = io.env.REGISTRAR_PASSWORD;
    if (!email || !password) {
      if (!io.prompt) {
        throw new UsageError(
          'Not signed in: set REGISTRAR_TOKEN (an access token), or REGISTRAR_EMAIL and REGISTRAR_PASSWORD, or run in a terminal to be asked.',
        );
      }
      email ||= (await io.prompt.ask('E-mail: ')).trim();
      password ||= await io.prompt.ask('Password: ', { secret: true });
    }
    const client = new RegistrarClient(baseUrl, '');
    const tokens = await client.json<TokenPair>('POST', '/auth/login', {
      json: { email, password },
    });
    client.token = tokens.access_token;
    client.refreshToken = tokens.refresh_token;
    if (tokens.must_change_password) {
      await client.close();
      throw new UsageError(
        `${email} must change its password before using Registrar: sign in to the web app once, then try again.`,
      );
    }
    return client;
  }

  /** The bearer token, for the WebSocket's first message. */
  get accessToken(): string {
    return this.token;
  }

  url(path: string, query: RequestOptions['query'] = {}): URL {
    const url = new URL(this.baseUrl);
    // A trailing slash on REGISTRAR_URL would double up with the API prefix.
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${API_PREFIX}${path}`;
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url;
  }

  socketUrl(): URL {
    const url = this.url('/ws');
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url;
  }

  /** A successful response (its body unread), or an ApiError / ConnectionError. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    let response = await this.fetch(method, path, options);
    // A long job can outlive an access token: renew it once when we signed in ourselves.
    if (response.status === 401 && this.refreshToken && path !== '/auth/refresh') {
      await response.body?.cancel();
      if (await this.renew()) response = await this.fetch(method, path, options);
    }
    if (!response.ok) throw new ApiError(response.status, await readProblem(response));
    return response;
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    return (await response.json()) as T;
  }

  /** Ends the session this client signed in (nothing to do for a given token). */
  async close(): Promise<void> {
    const refreshToken = this.refreshToken;
    if (!refreshToken) return;
    this.refreshToken = undefined;
    await this.send('POST', '/auth/logout', { json: { refresh_token: refreshToken } }).then(
      (response) => response.body?.cancel(),
      () => undefined,
    );
  }

  private async renew(): Promise<boolean> {
    const refreshToken = this.refreshToken;
    this.refreshToken = undefined;
    try {
      const tokens = await this.json<TokenPair>('POST', '/auth/refresh', {
        json: { refresh_token: refreshToken },
      });
      this.token = tokens.access_token;
      this.refreshToken = tokens.refresh_token;
      return true;
    } catch {
      return false;
    }
  }

  private async fetch(method: string, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json, */*' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | FormData | undefined;
    if (options.form) {
      body = options.form;
    } else if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    try {
      return await fetch(this.url(path, options.query), { method, headers, body });
    } catch (error) {
      throw connectionError(error, this.baseUrl.href.replace(/\/$/, ''));
    }
  }
}
