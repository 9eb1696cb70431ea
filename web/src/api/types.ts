import type { paths } from './schema';

type JsonOf<Response> = Response extends { content: { 'application/json': infer Body } }
  ? Body
  : never;

type Operation<Path extends keyof paths, Method extends keyof paths[Path]> = paths[Path][Method];

/** The JSON body of an operation's success answer (200, else 201, else 202). */
export type ResponseBody<Path extends keyof paths, Method extends keyof paths[Path]> =
  Operation<Path, Method> extends { responses: infer Responses }
    ? Responses extends { 200: infer Ok }
      ? JsonOf<Ok>
      : Responses extends { 201: infer Created }
        ? JsonOf<Created>
        : Responses extends { 202: infer Accepted }
          ? JsonOf<Accepted>
          : never
    : never;

/** The query parameters an operation takes. */
export type QueryOf<Path extends keyof paths, Method extends keyof paths[Path]> =
  Operation<Path, Method> extends { parameters: { query?: infer Query } }
    ? NonNullable<Query>
    : never;

/** The JSON body an operation takes. */
export type RequestBody<Path extends keyof paths, Method extends keyof paths[Path]> =
  Operation<Path, Method> extends {
    requestBody?: { content: { 'application/json': infer Body } };
  }
    ? Body
    : never;
