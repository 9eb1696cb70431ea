import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** One bad field of a request: where it is (body.email, query.page_size) and what is wrong. */
export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * An RFC 9457 problem. Services throw these; the error handler turns them into
 * application/problem+json answers.
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail: string,
    readonly extras: { errors?: FieldIssue[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

export const badRequest = (detail: string, errors?: FieldIssue[]) =>
  new HttpProblem(400, 'validation-error', 'Bad Request', detail, errors ? { errors } : {});
export const unauthorized = (detail = 'Sign in to use this resource.') =>
  new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, {
    headers: { 'www-authenticate': 'Bearer' },
  });
export const forbidden = (detail: string, slug = 'forbidden') =>
  new HttpProblem(403, slug, 'Forbidden', detail);
export const notFound = (resource: string, id: string | number) =>
  new HttpProblem(404, 'not-found', 'Not Found', `${resource} ${id} does not exist.`);
export const conflict = (detail: string, errors?: FieldIssue[]) =>
  new HttpProblem(409, 'conflict', 'Conflict', detail, errors ? { errors } : {});
export const unprocessable = (detail: string, errors?: FieldIssue[]) =>
  new HttpProblem(422, 'unprocessable', 'Unprocessable Content', detail, errors ? { errors } : {});

export const PROBLEM_TYPE_BASE = 'urn:registrar:problem:';

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    request_id: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export type Problem = z.infer<typeof problemSchema>;

/** The standard error answers every authenticated route can give, for the OpenAPI document. */
export const commonErrorResponses = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
} as const;

declare module 'fastify' {
  interface FastifyRequest {
    /** The detail of the problem this request answered with, for the failure's audit entry. */
    problemDetail: string | null;
  }
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: HttpProblem) {
  request.problemDetail = problem.detail;
  const body: Problem = {
    type: `${PROBLEM_TYPE_BASE}${problem.slug}`,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    instance: request.url.split('?')[0] ?? request.url,
    request_id: String(request.id),
    ...(problem.extras.errors ? { errors: problem.extras.errors } : {}),
  };
  for (const [name, value] of Object.entries(problem.extras.headers ?? {})) {
    reply.header(name, value);
  }
  // Bypass the route's response schema: the problem body is its own contract.
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .serializer((payload) => JSON.stringify(payload))
    .send(body);
}

const LOCATION_NAMES: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

function validationIssues(error: FastifyError & { validation: unknown[] }): FieldIssue[] {
  const location = LOCATION_NAMES[error.validationContext ?? 'body'] ?? 'body';
  return (error.validation as Array<{ instancePath?: string; message?: string }>).map((issue) => {
    const pointer = (issue.instancePath ?? '').split('/').filter(Boolean).join('.');
    return {
      field: pointer ? `${location}.${pointer}` : location,
      message: issue.message ?? 'is invalid',
    };
  });
}

/** PostgreSQL error fields, whichever driver (node-postgres or PGlite) raised them. */
interface PgError {
  code: string;
  detail?: string;
  constraint?: string;
  message: string;
}

function findPgError(error: unknown): PgError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const candidate = current as Partial<PgError> & { cause?: unknown };
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      return candidate as PgError;
    }
    current = candidate.cause;
  }
  return undefined;
}

/** "Key (student_id)=(S1) already exists." -> ["student_id"] */
function keyColumns(detail: string | undefined): string[] {
  const match = detail?.match(/^Key \(([^)]+)\)/);
  return match?.[1] ? match[1].split(',').map((column) => column.trim()) : [];
}

/** Maps database errors that bad input can cause to 4xx problems; anything else stays a 500. */
export function problemFromDatabaseError(error: unknown): HttpProblem | undefined {
  const pgError = findPgError(error);
  if (!pgError) return undefined;
  const columns = keyColumns(pgError.detail);
  switch (pgError.code) {
    case '23505': {
      const fields = columns.length > 0 ? columns : ['unknown'];
      return conflict(
        `A record with this ${fields.join(' and ')} already exists (deleted records count too; restore it instead).`,
        fields.map((field) => ({ field: `body.${field}`, message: 'already exists' })),
      );
    }
    case '23503': {
      const table = pgError.detail?.match(/table "([^"]+)"/)?.[1] ?? 'the referenced table';
      return unprocessable(
        `A referenced record does not exist in ${table}.`,
        columns.map((field) => ({ field: `body.${field}`, message: `does not exist in ${table}` })),
      );
    }
    case '23502':
    case '23514':
    case '22P02':
    case '22003':
    case '22007':
    case '22008':
    case '22001':
      return badRequest(`The database refused a value: ${pgError.message}`);
    default:
      return undefined;
  }
}

export function registerProblemHandlers(app: FastifyInstance) {
  app.decorateRequest('problemDetail', null);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      new HttpProblem(
        404,
        'not-found',
        'Not Found',
        `No route for ${request.method} ${request.url.split('?')[0]}.`,
      ),
    ),
  );

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpProblem) return sendProblem(request, reply, error);

    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = validationIssues(error);
      return sendProblem(
        request,
        reply,
        badRequest(
          `The request has ${errors.length} invalid field${errors.length === 1 ? '' : 's'}.`,
          errors,
        ),
      );
    }

    const databaseProblem = problemFromDatabaseError(error);
    if (databaseProblem) return sendProblem(request, reply, databaseProblem);

    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const slugByCode: Record<string, [string, string]> = {
        FST_ERR_CTP_BODY_TOO_LARGE: ['payload-too-large', 'Payload Too Large'],
        FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported-media-type', 'Unsupported Media Type'],
        FST_ERR_CTP_EMPTY_JSON_BODY: ['malformed-body', 'Bad Request'],
        FST_ERR_CTP_INVALID_JSON_BODY: ['malformed-body', 'Bad Request'],
      };
      const [slug, title] =
        slugByCode[error.code] ??
        (status === 429
          ? ['rate-limited', 'Too Many Requests']
          : error instanceof SyntaxError
            ? ['malformed-body', 'Bad Request']
            : ['bad-request', 'Bad Request']);
      const detail =
        error instanceof SyntaxError
          ? `The body is not valid JSON: ${error.message}`
          : error.message;
      return sendProblem(request, reply, new HttpProblem(status, slug, title, detail));
    }

    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(
      request,
      reply,
      new HttpProblem(
        500,
        'internal-error',
        'Internal Server Error',
        'Something went wrong on our side. Quote the request id when you report it.',
      ),
    );
  });
}
