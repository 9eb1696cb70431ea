import createClient from 'openapi-fetch';
import type { paths } from './schema';
import { baseUrl, type Session } from './session.ts';

/** An RFC 9457 problem as the API answers it, with the field errors when there are any. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { field: string; message: string }[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiError';
  }

  get status(): number {
    return this.problem.status;
  }

  /** The message for one field, matched on its last part (body.email → email). */
  fieldError(name: string): string | undefined {
    return this.problem.errors?.find(
      (error) => error.field === name || error.field.endsWith(`.${name}`),
    )?.message;
  }
}

function toProblem(status: number, body: unknown): Problem {
  if (body && typeof body === 'object' && 'title' in body) {
    return { ...(body as Problem), status };
  }
  return { title: `Request failed (${status})`, status };
}

/**
 * The typed API client (types generated from /openapi.json into schema.d.ts). Every request
 * carries the access token; a 401 refreshes the session once and repeats the request.
 */
export function createApi(session: Session, fetcher: typeof fetch = (...args) => fetch(...args)) {
  const authorisedFetch = async (input: Request): Promise<Response> => {
    const attempt = (request: Request) => {
      const token = session.token;
      if (token) request.headers.set('authorization', `Bearer ${token}`);
      return fetcher(request);
    };
    const retry = input.clone();
    const response = await attempt(input);
    if (response.status !== 401 || !session.refreshToken) return response;
    if (!(await session.refresh(fetcher))) return response;
    return attempt(retry);
  };
  const client = createClient<paths>({ baseUrl: baseUrl(), fetch: authorisedFetch });
  return { client, session, fetch: authorisedFetch };
}

export type Api = ReturnType<typeof createApi>;

/** The data of a successful call, or an ApiError carrying the problem. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.error === undefined) return result.data as T;
  throw new ApiError(toProblem(result.response.status, result.error));
}

/** A message for any error a page may show. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
