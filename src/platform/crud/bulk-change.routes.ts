import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { jobSchema } from '../../modules/jobs/jobs.routes.ts';
import { grants, type Permission } from '../../modules/roles/permissions.ts';
import { perUserKey } from '../http/auth.ts';
import { recordId } from '../http/fields.ts';
import {
  badRequest,
  commonErrorResponses,
  forbidden,
  problemSchema,
  unprocessable,
} from '../http/problems.ts';
import { changeContextFrom } from '../http/request-context.ts';
import {
  type AnyResourceService,
  BULK_JOB_PERMISSION,
  BULK_OPERATIONS,
  BULK_OUTCOMES,
  type BulkChangeService,
  type BulkOperation,
  MAX_BULK_IDS,
} from './bulk-change.ts';

/** The list query fields a bulk filter does not take: paging, order, and which records (the operation decides). */
const NOT_FILTERS = { page: true, page_size: true, sort: true, include_deleted: true } as const;

const filterBody = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .describe("The resource's list filters and search, as its list query string names them");

const selectionFields = {
  ids: z
    .array(recordId)
    .min(1)
    .max(MAX_BULK_IDS)
    .optional()
    .describe('The records, by id (give ids or filter)'),
  filter: filterBody.optional(),
  all: z
    .boolean()
    .default(false)
    .describe('Confirms that an empty filter means every record (refused otherwise)'),
  dry_run: z
    .boolean()
    .default(false)
    .describe('Answer 200 with what would change, and change nothing'),
};

interface BulkBody {
  ids?: number[] | undefined;
  filter?: Record<string, string | number | boolean | null> | undefined;
  all: boolean;
  dry_run: boolean;
  changes?: Record<string, unknown>;
}

/** Exactly one of ids and filter; `all` only with a filter; an update names a field. */
function checkSelection(body: BulkBody, context: z.core.$RefinementCtx) {
  if (body.ids && body.filter) {
    context.addIssue({ code: 'custom', path: ['filter'], message: 'give ids or filter, not both' });
  }
  if (!body.ids && !body.filter) {
    context.addIssue({ code: 'custom', path: ['ids'], message: 'give ids or filter' });
  }
  if (body.all && !body.filter) {
    context.addIssue({ code: 'custom', path: ['all'], message: 'goes only with filter' });
  }
  if (body.changes && Object.keys(body.changes).length === 0) {
    context.addIssue({
      code: 'custom',
      path: ['changes'],
      message: 'must contain at least one field',
    });
  }
}

const fieldIssue = z.object({ field: z.string(), message: z.string() });
const dryRunSchema = z
  .object({
    dry_run: z.literal(true),
    resource: z.string(),
    operation: z.enum(BULK_OPERATIONS),
    matched: z.number().int().describe('Records named by ids or matched by the filter'),
    would_change: z.number().int(),
    counts: z.record(z.enum(BULK_OUTCOMES), z.number().int()),
    items: z.array(
      z.object({
        id: z.number().int(),
        outcome: z.enum(BULK_OUTCOMES),
        record: z.record(z.string(), z.unknown()).nullable(),
        old_values: z.record(z.string(), z.unknown()).nullable(),
        new_values: z.record(z.string(), z.unknown()).nullable(),
        reason: z.string().nullable(),
        errors: z.array(fieldIssue),
      }),
    ),
    has_more: z.boolean().describe('More records matched than items lists'),
  })
  .meta({ id: 'BulkDryRun' });

export interface BulkRoutesOptions {
  path: string;
  tag: string;
  write: Permission;
  service: AnyResourceService;
  update: z.ZodType<Record<string, unknown>>;
  listQuery: z.ZodType;
  bulk: BulkChangeService;
}

/** The list query's filters as a strict schema, for a bulk request's `filter`. */
function filterSchemaOf(listQuery: z.ZodType): z.ZodObject {
  if (!(listQuery instanceof z.ZodObject)) {
    throw new Error('bulk routes need the list query to be an object schema');
  }
  return listQuery.omit(NOT_FILTERS).strict();
}

/**
 * POST {path}/bulk-update, /bulk-delete and /bulk-restore: a dry run answers 200 with what
 * would change; otherwise a bulk_update job is started (202) on the ids named, or those the
 * filter matches now.
 */
export function registerBulkRoutes(app: FastifyInstance, options: BulkRoutesOptions) {
  const { path, tag, write, service, bulk } = options;
  const name = bulk.nameOf(service);
  if (!name) return;
  const label = service.label.toLowerCase();
  const filterSchema = filterSchemaOf(options.listQuery);
  const rateLimit = { max: bulk.requestsPerMinute, timeWindow: 60_000, keyGenerator: perUserKey };

  /** The filter's list query values; an empty one is refused unless `all` confirms it. */
  const parseFilter = (raw: Record<string, unknown>, all: boolean) => {
    // Filters are written as the query string spells them, so the list's schema reads them.
    const asText = Object.fromEntries(
      Object.entries(raw).map(([key, value]) => [key, value === null ? undefined : String(value)]),
    );
    const parsed = filterSchema.safeParse(asText);
    if (!parsed.success) {
      throw badRequest(
        'The filter is not valid.',
        parsed.error.issues.map((issue) => ({
          field: ['body', 'filter', ...issue.path.map(String)].join('.'),
          message: issue.message,
        })),
      );
    }
    const empty = Object.values(parsed.data).every((value) => value === undefined || value === '');
    if (empty && !all) {
      throw badRequest('An empty filter matches every record; send "all": true to mean that.', [
        { field: 'body.filter', message: 'is empty; add "all": true to change every record' },
      ]);
    }
    return parsed.data;
  };

  const routes: Array<{ operation: BulkOperation; summary: string; body: z.ZodType }> = [
    {
      operation: 'update',
      summary: `Change the same fields of many ${label} records (a bulk_update job)`,
      body: z
        .strictObject({ ...selectionFields, changes: options.update })
        .superRefine(checkSelection),
    },
    {
      operation: 'delete',
      summary: `Delete many ${label} records (soft: they can be restored; a bulk_update job)`,
      body: z.strictObject(selectionFields).superRefine(checkSelection),
    },
    {
      operation: 'restore',
      summary: `Restore many deleted ${label} records (a bulk_update job)`,
      body: z.strictObject(selectionFields).superRefine(checkSelection),
    },
  ];

  for (const route of routes) {
    const { operation } = route;
    app.post(
      `${path}/bulk-${operation}`,
      {
        config: {
          access: write,
          audit: {
            action: operation === 'delete' ? 'BULK_DELETE' : 'BULK_UPDATE',
            resource: service.resource,
          },
          rateLimit,
        },
        schema: {
          tags: [tag],
          summary: route.summary,
          description: `Give ids (up to ${MAX_BULK_IDS}) or filter (the list's filters; a filter for bulk-restore matches deleted records). dry_run=true answers 200 with what would change and writes nothing; otherwise answers 202 with the job, which needs ${BULK_JOB_PERMISSION} too.`,
          body: route.body,
          response: {
            200: dryRunSchema,
            202: jobSchema,
            ...commonErrorResponses,
            422: problemSchema,
            429: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const body = request.body as BulkBody;
        const permissions = request.actor?.permissions ?? [];
        if (!body.dry_run && !grants(permissions, BULK_JOB_PERMISSION)) {
          throw forbidden(`Starting bulk_update jobs needs the permission ${BULK_JOB_PERMISSION}.`);
        }
        const filter = body.filter ? parseFilter(body.filter, body.all) : null;
        const ids = body.ids
          ? [...new Set(body.ids)].sort((a, b) => a - b)
          : await bulk.idsMatching(name, operation, filter ?? {});
        const changes = body.changes ?? {};
        if (body.dry_run)
          return reply.code(200).send(await bulk.preview(name, operation, ids, changes));
        if (ids.length === 0) {
          throw unprocessable('The filter matches no records, so there is nothing to change.', [
            { field: 'body.filter', message: 'matches no records' },
          ]);
        }
        const job = await bulk.start(
          { name, operation, ids, changes, filter: body.filter ?? null },
          changeContextFrom(request),
        );
        return reply.code(202).send(job);
      },
    );
  }
}
