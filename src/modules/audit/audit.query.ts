import { and, asc, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Executor } from '../../platform/db/client.ts';
import { isoDate } from '../../platform/http/fields.ts';
import { likePattern, queryBoolean } from '../../platform/http/pagination.ts';
import {
  AUDIT_ACTIONS,
  AUDIT_RESOURCES,
  type AuditAction,
  type AuditResource,
} from './audit.constants.ts';
import { type AuditRow, auditChainHead, auditLogs } from './audit.table.ts';

// ---------------------------------------------------------------------------------------
// Response shape
// ---------------------------------------------------------------------------------------

const jsonObject = z.record(z.string(), z.unknown());

export const auditLogSchema = z
  .object({
    id: z.number().int(),
    action: z.enum(AUDIT_ACTIONS),
    resource: z.enum(AUDIT_RESOURCES),
    resource_id: z.string().nullable(),
    user_id: z.number().int().nullable(),
    user_email: z.string().nullable(),
    ip_address: z.string().nullable(),
    user_agent: z.string().nullable(),
    details: jsonObject.nullable(),
    success: z.boolean(),
    error_message: z.string().nullable(),
    timestamp: z.string().describe('ISO 8601, UTC'),
    request_id: z.string().nullable(),
    old_values: jsonObject.nullable().describe('The changed fields before the change'),
    new_values: jsonObject.nullable().describe('The changed fields after the change'),
    prev_hash: z.string(),
    hash: z.string().describe('SHA-256(prev_hash + canonical JSON of the entry)'),
  })
  .meta({ id: 'AuditLog' });

export type AuditLogResponse = z.infer<typeof auditLogSchema>;

export function toAuditLogResponse(row: AuditRow): AuditLogResponse {
  return {
    id: row.id,
    action: row.action,
    resource: row.resource,
    resource_id: row.resource_id,
    user_id: row.user_id,
    user_email: row.user_email,
    ip_address: row.ip_address,
    user_agent: row.user_agent,
    details: row.details,
    success: row.success,
    error_message: row.error_message,
    timestamp: row.timestamp.toISOString(),
    request_id: row.request_id,
    old_values: row.old_values,
    new_values: row.new_values,
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}

// ---------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------

/** `?action=CREATE&action=UPDATE` or `?action=CREATE,UPDATE`, case-insensitive. */
function nameList<const T extends readonly [string, ...string[]]>(names: T, what: string) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((value) =>
      [value]
        .flat()
        .flatMap((item) => item.split(','))
        .map((item) => item.trim().toUpperCase())
        .filter((item) => item !== ''),
    )
    .pipe(
      z
        .array(z.enum(names, { message: `must be one of: ${names.join(', ')}` }))
        .min(1, `must name at least one ${what}`)
        .max(names.length),
    );
}

/** A date (a whole UTC day) or a date-time with Z or an offset. */
const dateBound = z.union([isoDate, z.iso.datetime({ offset: true })], {
  message: 'must be a date (YYYY-MM-DD) or an ISO 8601 date-time with Z or an offset',
});

const PLAIN_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The first instant a start_date admits, as an ISO string PostgreSQL reads exactly. */
export function lowerBound(start: string): string {
  return PLAIN_DATE.test(start) ? `${start}T00:00:00Z` : start;
}

/**
 * The end of an end_date: a plain date takes in its whole UTC day (entries before the next
 * midnight); a date-time is inclusive as written.
 */
export function upperBound(end: string): { at: string; inclusive: boolean } {
  if (!PLAIN_DATE.test(end)) return { at: end, inclusive: true };
  const next = new Date(`${end}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return { at: next.toISOString(), inclusive: false };
}

/** The filter fields of every audit list and of the export, as query-string fields. */
export const auditFilterFields = {
  user_id: z.coerce.number().int().min(1).max(2_147_483_647).optional(),
  user_email: z
    .string()
    .trim()
    .toLowerCase()
    .min(1)
    .max(254)
    .optional()
    .describe('Exact address (case-insensitive), also the address of a failed sign-in'),
  action: nameList(AUDIT_ACTIONS, 'action')
    .optional()
    .describe(
      `Repeat it or separate names with commas (action=CREATE&action=UPDATE). One of: ${AUDIT_ACTIONS.join(', ')}`,
    ),
  resource: nameList(AUDIT_RESOURCES, 'resource')
    .optional()
    .describe(`Repeat it or separate names with commas. One of: ${AUDIT_RESOURCES.join(', ')}`),
  resource_id: z.string().trim().min(1).max(200).optional(),
  success: queryBoolean.optional(),
  start_date: dateBound.optional().describe('From this date (UTC day) or date-time, inclusive'),
  end_date: dateBound
    .optional()
    .describe('Up to this date (its whole UTC day) or date-time, inclusive'),
  request_id: z.string().min(1).max(128).optional(),
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('Case-insensitive text in details and error_message; % and _ are plain characters'),
};

export interface AuditFilters {
  user_id?: number | undefined;
  user_email?: string | undefined;
  action?: AuditAction[] | undefined;
  resource?: AuditResource[] | undefined;
  resource_id?: string | undefined;
  success?: boolean | undefined;
  start_date?: string | undefined;
  end_date?: string | undefined;
  request_id?: string | undefined;
  q?: string | undefined;
}

/** A superRefine for any query with start_date / end_date: refuses a reversed range. */
export function checkDateRange(
  value: { start_date?: string | undefined; end_date?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (!value.start_date || !value.end_date) return;
  const start = Date.parse(lowerBound(value.start_date));
  const end = upperBound(value.end_date);
  const endAt = Date.parse(end.at);
  if (end.inclusive ? start > endAt : start >= endAt) {
    ctx.addIssue({
      code: 'custom',
      path: ['start_date'],
      message: `must not be after end_date (${value.end_date})`,
    });
  }
}

/** The WHERE conditions of a set of filters (undefined: every entry). */
export function filterConditions(filters: AuditFilters): SQL | undefined {
  const conditions: Array<SQL | undefined> = [
    filters.user_id === undefined ? undefined : eq(auditLogs.user_id, filters.user_id),
    filters.user_email === undefined ? undefined : eq(auditLogs.user_email, filters.user_email),
    filters.action === undefined
      ? undefined
      : filters.action.length === 1
        ? eq(auditLogs.action, filters.action[0]!)
        : inArray(auditLogs.action, filters.action),
    filters.resource === undefined
      ? undefined
      : filters.resource.length === 1
        ? eq(auditLogs.resource, filters.resource[0]!)
        : inArray(auditLogs.resource, filters.resource),
    filters.resource_id === undefined ? undefined : eq(auditLogs.resource_id, filters.resource_id),
    filters.success === undefined ? undefined : eq(auditLogs.success, filters.success),
    filters.start_date === undefined
      ? undefined
      : sql`${auditLogs.timestamp} >= ${lowerBound(filters.start_date)}::timestamptz`,
    filters.end_date === undefined ? undefined : endCondition(filters.end_date),
    filters.request_id === undefined ? undefined : eq(auditLogs.request_id, filters.request_id),
    filters.q === undefined
      ? undefined
      : sql`(${auditLogs.details}::text ILIKE ${likePattern(filters.q)} OR ${auditLogs.error_message} ILIKE ${likePattern(filters.q)})`,
  ];
  return and(...conditions);
}

function endCondition(end: string): SQL {
  const bound = upperBound(end);
  return bound.inclusive
    ? sql`${auditLogs.timestamp} <= ${bound.at}::timestamptz`
    : sql`${auditLogs.timestamp} < ${bound.at}::timestamptz`;
}

// ---------------------------------------------------------------------------------------
// Keyset cursor
// ---------------------------------------------------------------------------------------

/**
 * Where a newest-first walk stopped: the (timestamp, id) of the last entry returned. The
 * timestamp keeps PostgreSQL's microseconds, so the next page starts exactly after it.
 */
export interface AuditCursor {
  timestamp: string;
  id: number;
}

const CURSOR_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const cursorShape = z.tuple([
  z
    .string()
    .regex(CURSOR_TIMESTAMP)
    .refine((value) => !Number.isNaN(Date.parse(value))),
  z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
]);

/** An opaque token: base64url of the JSON pair [timestamp, id]. */
export function encodeCursor(cursor: AuditCursor): string {
  return Buffer.from(JSON.stringify([cursor.timestamp, cursor.id])).toString('base64url');
}

export function decodeCursor(token: string): AuditCursor | null {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(token)) return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const parsed = cursorShape.safeParse(decoded);
  return parsed.success ? { timestamp: parsed.data[0], id: parsed.data[1] } : null;
}

export const cursorField = z
  .string()
  .transform((value, ctx) => {
    const cursor = decodeCursor(value);
    if (!cursor) {
      ctx.addIssue({
        code: 'custom',
        message: 'is not a cursor this API gave out (use next_cursor from a list answer)',
      });
      return z.NEVER;
    }
    return cursor;
  })
  .describe('next_cursor of the previous answer: keyset paging, stays fast on deep pages');

// ---------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------

export interface AuditLogPage {
  logs: AuditLogResponse[];
  /** Null when paging by cursor: counting every match would cost what the cursor saves. */
  total: number | null;
  /** Null when paging by cursor. */
  page: number | null;
  page_size: number;
  has_next: boolean;
  next_cursor: string | null;
}

export interface AuditHistoryPage {
  logs: AuditLogResponse[];
  total: number;
  page: number;
  page_size: number;
  has_next: boolean;
}

export type AuditPaging =
  | { page: number; page_size: number; cursor?: undefined }
  | { page?: undefined; page_size: number; cursor: AuditCursor };

/** The timestamp in the exact form a cursor carries (UTC, microseconds). */
const cursorTimestamp = sql<string>`to_char(${auditLogs.timestamp} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const newestFirst = [desc(auditLogs.timestamp), desc(auditLogs.id)];

function after(cursor: AuditCursor): SQL {
  return sql`(${auditLogs.timestamp}, ${auditLogs.id}) < (${cursor.timestamp}::timestamptz, ${cursor.id}::bigint)`;
}

interface KeyedRow {
  row: AuditRow;
  cursor: AuditCursor;
}

/** Reads the audit trail: filtered lists (by page or by cursor), one entry, a record's history. */
export class AuditQuery {
  constructor(private readonly db: Executor) {}

  /**
   * One newest-first keyset page: up to `limit` entries after `cursor`, plus whether more
   * follow. `maxId` caps the walk (an export does not chase entries written after it began).
   */
  async keysetPage(
    filters: AuditFilters,
    options: { cursor?: AuditCursor | null; limit: number; offset?: number; maxId?: number },
  ): Promise<{ rows: KeyedRow[]; hasNext: boolean }> {
    const found = await this.db
      .select({ row: auditLogs, cursorTimestamp })
      .from(auditLogs)
      .where(
        and(
          filterConditions(filters),
          options.cursor ? after(options.cursor) : undefined,
          options.maxId === undefined ? undefined : sql`${auditLogs.id} <= ${options.maxId}`,
        ),
      )
      .orderBy(...newestFirst)
      .limit(options.limit + 1)
      .offset(options.offset ?? 0);
    const hasNext = found.length > options.limit;
    return {
      rows: found.slice(0, options.limit).map(({ row, cursorTimestamp: timestamp }) => ({
        row,
        cursor: { timestamp, id: row.id },
      })),
      hasNext,
    };
  }

  async count(filters: AuditFilters): Promise<number> {
    const where = filterConditions(filters);
    if (where === undefined) {
      // Ids are gap-free from the chain's anchor to its head, so the whole trail needs no scan.
      const [head] = await this.db.select().from(auditChainHead).where(eq(auditChainHead.id, 1));
      if (head) return head.last_id - head.anchor_id;
    }
    const [counted] = await this.db
      .select({ total: sql<number>`count(*)`.mapWith(Number) })
      .from(auditLogs)
      .where(filterConditions(filters));
    return counted?.total ?? 0;
  }

  /**
   * A newest-first page (ORDER BY timestamp DESC, id DESC). By page number it also counts the
   * matches; by cursor it does not (total is null). Both give next_cursor.
   */
  async list(filters: AuditFilters, paging: AuditPaging): Promise<AuditLogPage> {
    const pageSize = paging.page_size;
    const { rows, hasNext } = paging.cursor
      ? await this.keysetPage(filters, { cursor: paging.cursor, limit: pageSize })
      : await this.keysetPage(filters, {
          limit: pageSize,
          offset: (paging.page - 1) * pageSize,
        });
    const total = paging.cursor ? null : await this.count(filters);
    const last = rows.at(-1);
    return {
      logs: rows.map(({ row }) => toAuditLogResponse(row)),
      total,
      page: paging.cursor ? null : paging.page,
      page_size: pageSize,
      has_next: hasNext,
      next_cursor: hasNext && last ? encodeCursor(last.cursor) : null,
    };
  }

  async get(id: number): Promise<AuditRow | undefined> {
    const [row] = await this.db.select().from(auditLogs).where(eq(auditLogs.id, id));
    return row;
  }

  /** Every entry about one record, oldest first (id order is the order they were written). */
  async history(
    resource: AuditResource,
    resourceId: string,
    paging: { page: number; page_size: number },
  ): Promise<AuditHistoryPage> {
    const where = and(eq(auditLogs.resource, resource), eq(auditLogs.resource_id, resourceId));
    const offset = (paging.page - 1) * paging.page_size;
    const rows = await this.db
      .select()
      .from(auditLogs)
      .where(where)
      .orderBy(asc(auditLogs.id))
      .limit(paging.page_size)
      .offset(offset);
    const [counted] = await this.db
      .select({ total: sql<number>`count(*)`.mapWith(Number) })
      .from(auditLogs)
      .where(where);
    const total = counted?.total ?? 0;
    return {
      logs: rows.map(toAuditLogResponse),
      total,
      page: paging.page,
      page_size: paging.page_size,
      has_next: offset + rows.length < total,
    };
  }

  /** The newest id now; an export reads nothing written after it started. */
  async maxId(): Promise<number> {
    const [found] = await this.db
      .select({ id: sql<number | null>`max(${auditLogs.id})`.mapWith(Number) })
      .from(auditLogs);
    return found?.id ?? 0;
  }

  /**
   * Every matching entry, newest first, in keyset batches: memory holds one batch at a time
   * however many entries match.
   */
  async *batches(
    filters: AuditFilters,
    options: { batchSize?: number; maxId: number },
  ): AsyncGenerator<AuditRow[]> {
    const limit = options.batchSize ?? 1000;
    let cursor: AuditCursor | null = null;
    for (;;) {
      const { rows, hasNext } = await this.keysetPage(filters, {
        cursor,
        limit,
        maxId: options.maxId,
      });
      if (rows.length > 0) yield rows.map(({ row }) => row);
      const last = rows.at(-1);
      if (!hasNext || !last) return;
      cursor = last.cursor;
    }
  }
}
