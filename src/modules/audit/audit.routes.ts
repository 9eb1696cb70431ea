import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Executor } from '../../platform/db/client.ts';
import { perUserKey } from '../../platform/http/auth.ts';
import { MAX_PAGE_SIZE } from '../../platform/http/pagination.ts';
import { commonErrorResponses, notFound, problemSchema } from '../../platform/http/problems.ts';
import { csvCell as exportCell } from '../exports/exports.writers.ts';
import { AUDIT_RESOURCES } from './audit.constants.ts';
import type { AuditLogger } from './audit.logger.ts';
import {
  AuditQuery,
  auditFilterFields,
  auditLogSchema,
  checkDateRange,
  cursorField,
  toAuditLogResponse,
} from './audit.query.ts';
import type { AuditRow } from './audit.table.ts';

const tags = ['Audit'];
const itemErrors = { ...commonErrorResponses, 404: problemSchema };

const pageSize = z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50);
const pageNumber = z.coerce.number().int().min(1).max(1_000_000);

/** page mode (page, counted total) or cursor mode (cursor, total null); not both. */
function checkPaging(
  value: { page?: number | undefined; cursor?: unknown },
  ctx: z.RefinementCtx,
): void {
  if (value.page !== undefined && value.cursor !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['page'],
      message: 'cannot be combined with cursor; a cursor already says where the page starts',
    });
  }
}

const { user_id: userIdFilter, ...filtersWithoutUser } = auditFilterFields;

const pagingFields = {
  page: pageNumber.optional().describe('Page number from 1 (default 1); not with cursor'),
  page_size: pageSize,
  cursor: cursorField.optional(),
};

const listQuerySchema = z
  .strictObject({ user_id: userIdFilter, ...filtersWithoutUser, ...pagingFields })
  .superRefine(checkDateRange)
  .superRefine(checkPaging);

const userListQuerySchema = z
  .strictObject({ ...filtersWithoutUser, ...pagingFields })
  .superRefine(checkDateRange)
  .superRefine(checkPaging);

export const EXPORT_FORMATS = ['csv', 'json', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const exportQuerySchema = z
  .strictObject({
    ...auditFilterFields,
    format: z
      .enum(EXPORT_FORMATS, { message: 'must be csv, json or jsonl' })
      .default('csv')
      .describe('csv (default), json (one array) or jsonl (one object per line)'),
  })
  .superRefine(checkDateRange);

const historyQuerySchema = z.strictObject({ page: pageNumber.default(1), page_size: pageSize });

const idParams = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
const userParams = z.object({ user_id: z.coerce.number().int().min(1).max(2_147_483_647) });
const historyParams = z.object({
  resource: z
    .string()
    .transform((value) => value.toUpperCase())
    .pipe(z.enum(AUDIT_RESOURCES, { message: `must be one of: ${AUDIT_RESOURCES.join(', ')}` })),
  resource_id: z.string().min(1).max(200),
});

export const auditLogPageSchema = z
  .object({
    logs: z.array(auditLogSchema),
    total: z
      .number()
      .int()
      .nullable()
      .describe('Entries matching the filters; null when paging by cursor (not counted)'),
    page: z.number().int().nullable().describe('null when paging by cursor'),
    page_size: z.number().int(),
    has_next: z.boolean(),
    next_cursor: z
      .string()
      .nullable()
      .describe('Pass as cursor for the next page (keyset paging); null on the last page'),
  })
  .meta({ id: 'AuditLogPage' });

export const auditHistoryPageSchema = z
  .object({
    logs: z.array(auditLogSchema),
    total: z.number().int(),
    page: z.number().int(),
    page_size: z.number().int(),
    has_next: z.boolean(),
  })
  .meta({ id: 'AuditHistoryPage' });

const chainProblemSchema = z.object({
  id: z.number().int(),
  kind: z.string(),
  message: z.string(),
});

export const verificationReportSchema = z
  .object({
    valid: z.boolean(),
    checked: z.number().int(),
    first_id: z.number().int().nullable(),
    last_id: z.number().int(),
    first_problem: chainProblemSchema.nullable(),
    problems: z.array(chainProblemSchema).describe('At most the first 100'),
    duration_ms: z.number().int(),
  })
  .meta({ id: 'AuditVerificationReport' });

// ---------------------------------------------------------------------------------------
// Export encoding
// ---------------------------------------------------------------------------------------

export const CSV_COLUMNS = [
  'id',
  'timestamp',
  'action',
  'resource',
  'resource_id',
  'user_id',
  'user_email',
  'ip_address',
  'user_agent',
  'success',
  'error_message',
  'request_id',
  'details',
  'old_values',
  'new_values',
  'prev_hash',
  'hash',
] as const;

/** Characters a spreadsheet may read as the start of a formula (OWASP CSV injection). */
/**
 * One CSV cell: objects as JSON, nulls empty, a leading formula character neutralised with a
 * single quote, and quoted (RFC 4180) when it holds a quote, comma or line break.
 */
export function csvCell(value: unknown): string {
  return exportCell(value, value !== null && typeof value === 'object' ? 'json' : 'text');
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

const EXPORT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
};

/** audit-YYYYMMDD-HHMMSS.<ext>, in UTC. */
export function exportFileName(format: ExportFormat, now: Date): string {
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return `audit-${stamp}.${format}`;
}

function encodeBatch(format: ExportFormat, rows: AuditRow[], first: boolean): string {
  const logs = rows.map(toAuditLogResponse);
  switch (format) {
    case 'csv':
      return logs.map((log) => csvLine(CSV_COLUMNS.map((column) => log[column]))).join('');
    case 'jsonl':
      return logs.map((log) => `${JSON.stringify(log)}\n`).join('');
    case 'json':
      return logs
        .map((log, index) => `${first && index === 0 ? '\n' : ',\n'}${JSON.stringify(log)}`)
        .join('');
  }
}

/**
 * The export body, one keyset batch at a time. The EXPORT entry is written when the last
 * row has been handed to the response and before the stream ends, so a client that got the
 * whole file can always find its record; an export cut short is recorded with success=false
 * and the rows it sent.
 */
async function* exportBody(
  format: ExportFormat,
  batches: AsyncGenerator<AuditRow[]>,
  firstBatch: IteratorResult<AuditRow[]>,
  record: (rows: number, complete: boolean) => Promise<void>,
  request: FastifyRequest,
): AsyncGenerator<string> {
  let rows = 0;
  let finished = false;
  try {
    if (format === 'csv') yield csvLine(CSV_COLUMNS);
    if (format === 'json') yield '[';
    let batch = firstBatch;
    while (!batch.done) {
      yield encodeBatch(format, batch.value, rows === 0);
      rows += batch.value.length;
      batch = await batches.next();
    }
    finished = true;
    await record(rows, true);
    if (format === 'json') yield '\n]\n';
  } finally {
    if (!finished) {
      await batches.return(undefined);
      await record(rows, false).catch((error: unknown) => {
        request.log.error({ err: error }, 'could not record an export that was cut short');
      });
    }
  }
}

// ---------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------

/** The audit trail's read side: lists, one entry, a record's history, export and verify. */
export function auditRoutes(audit: AuditLogger, db: Executor, exportsPerMinute: number) {
  const query = new AuditQuery(db);

  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    // Readers see their writes: entries committed but not yet sealed are chained first (after
    // the access check, so a refused caller costs nothing). Cheap when nothing is pending.
    app.addHook('preHandler', async () => {
      await audit.flush();
    });

    app.get(
      '/audit/logs',
      {
        config: { access: 'audit:read' },
        schema: {
          tags,
          summary: 'Search the audit trail, newest first',
          description:
            'Page by page (page, page_size; total counted) or by cursor (cursor = next_cursor of the previous answer; total is null). Every answer carries next_cursor, so a client can switch to keyset paging at any point.',
          querystring: listQuerySchema,
          response: { 200: auditLogPageSchema, ...commonErrorResponses },
        },
      },
      async (request) => {
        const { page, page_size, cursor, ...filters } = request.query;
        return query.list(filters, cursor ? { cursor, page_size } : { page: page ?? 1, page_size });
      },
    );

    app.get(
      '/audit/logs/export',
      {
        config: {
          access: 'audit:read',
          rateLimit: { max: exportsPerMinute, timeWindow: 60_000, keyGenerator: perUserKey },
        },
        schema: {
          tags,
          summary: 'Download the matching entries as CSV, JSON or JSON Lines (streamed)',
          description:
            'Same filters as the list, newest first, without entries written after the export began. CSV cells that start with = + - @, tab or carriage return get a leading single quote. The export is itself recorded (EXPORT, SYSTEM) when the last row is sent.',
          querystring: exportQuerySchema,
          response: {
            200: z
              .unknown()
              .describe('The file: text/csv, application/json or application/x-ndjson'),
            ...commonErrorResponses,
          },
        },
      },
      async (request, reply) => {
        const { format, ...filters } = request.query;
        const maxId = await query.maxId();
        const batches = query.batches(filters, { maxId });
        // The first read happens before the answer starts, so a failing query is still a problem answer.
        const firstBatch = await batches.next();
        const record = (rows: number, complete: boolean) =>
          audit.logFromRequest(request, {
            action: 'EXPORT',
            resource: 'SYSTEM',
            details: { format, filters, rows, complete },
            success: complete,
            errorMessage: complete ? null : `The export stopped after ${rows} rows.`,
          });
        reply
          .header('content-type', EXPORT_TYPES[format])
          .header(
            'content-disposition',
            `attachment; filename="${exportFileName(format, new Date())}"`,
          )
          .header('cache-control', 'no-store');
        return reply.send(
          Readable.from(exportBody(format, batches, firstBatch, record, request), {
            objectMode: false,
          }),
        );
      },
    );

    app.get(
      '/audit/logs/user/:user_id',
      {
        config: { access: 'audit:read' },
        schema: {
          tags,
          summary: "One user's audit entries, newest first",
          description: 'The same filters and paging as GET /audit/logs.',
          params: userParams,
          querystring: userListQuerySchema,
          response: { 200: auditLogPageSchema, ...commonErrorResponses },
        },
      },
      async (request) => {
        const { page, page_size, cursor, ...filters } = request.query;
        const scoped = { ...filters, user_id: request.params.user_id };
        return query.list(scoped, cursor ? { cursor, page_size } : { page: page ?? 1, page_size });
      },
    );

    app.get(
      '/audit/logs/:id',
      {
        config: { access: 'audit:read' },
        schema: {
          tags,
          summary: 'One audit entry',
          params: idParams,
          response: { 200: auditLogSchema, ...itemErrors },
        },
      },
      async (request) => {
        const row = await query.get(request.params.id);
        if (!row) throw notFound('Audit entry', request.params.id);
        return toAuditLogResponse(row);
      },
    );

    app.get(
      '/audit/history/:resource/:resource_id',
      {
        config: { access: 'audit:read' },
        schema: {
          tags,
          summary: 'The full history of one record, oldest first, with old and new values',
          params: historyParams,
          querystring: historyQuerySchema,
          response: { 200: auditHistoryPageSchema, ...commonErrorResponses },
        },
      },
      async (request) =>
        query.history(request.params.resource, request.params.resource_id, request.query),
    );

    app.get(
      '/audit/verify',
      {
        config: { access: 'audit:read' },
        schema: {
          tags,
          summary: 'Walk the hash chain and report the first broken link',
          response: { 200: verificationReportSchema, ...commonErrorResponses },
        },
      },
      async () => audit.verify(),
    );
  };
}
