import { and, eq, getTableColumns, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable, PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type {
  AuditEntryInput,
  AuditLogger,
  AuditOrigin,
} from '../../modules/audit/audit.logger.ts';
import { jobOriginFrom, jobOriginSchema } from '../../modules/jobs/job-origin.ts';
import type { JobManager, JobResponse } from '../../modules/jobs/jobs.manager.ts';
import type { Permission } from '../../modules/roles/permissions.ts';
import type { Database, Executor, Transaction } from '../db/client.ts';
import { recordId } from '../http/fields.ts';
import { likePattern } from '../http/pagination.ts';
import {
  badRequest,
  type FieldIssue,
  HttpProblem,
  problemFromDatabaseError,
  unprocessable,
} from '../http/problems.ts';
import type { ChangeContext } from '../http/request-context.ts';
import { changedFields, type ResourceService, type ResourceTable } from './resource.service.ts';

export const BULK_OPERATIONS = ['update', 'delete', 'restore'] as const;
export type BulkOperation = (typeof BULK_OPERATIONS)[number];

/**
 * What a bulk change does (or would do) to one record: change it, or skip it because it
 * already has the values (unchanged), is deleted (update, delete), is not deleted (restore),
 * does not exist, or a rule of the resource refuses the change.
 */
export const BULK_OUTCOMES = [
  'change',
  'unchanged',
  'deleted',
  'not_deleted',
  'not_found',
  'refused',
] as const;
export type BulkOutcome = (typeof BULK_OUTCOMES)[number];

/** Most records one bulk request may name, or its filter match. */
export const MAX_BULK_IDS = 100_000;
/** Records a bulk_update job writes per transaction. */
export const BULK_BATCH_SIZE = 500;
/** Records a dry run lists one by one; its counts cover them all. */
export const DRY_RUN_ITEMS = 100;
/** Records a dry run reads per query. */
const DRY_RUN_CHUNK = 1000;
/** Starting a bulk job needs this besides the resource's write permission (as POST /jobs does). */
export const BULK_JOB_PERMISSION = 'jobs:create' satisfies Permission;
/** Columns a bulk update never sets: the service and the database keep them. */
const PROTECTED_COLUMNS = new Set(['id', 'created_at', 'updated_at', 'deleted_at']);

// The target's own row and response types do not matter here; every resource is handled alike.
export type AnyResourceService = ResourceService<ResourceTable, Record<string, unknown>>;
type Row = Record<string, unknown> & { id: number; deleted_at: Date | null };

/** A resource bulk changes may write: its service, write permission and update schema. */
export interface BulkTarget {
  service: AnyResourceService;
  write: Permission;
  update: z.ZodType<Record<string, unknown>>;
}

/** The bulk_update job's metadata (POST /jobs validates it too). */
export const bulkChangePayload = z.object({
  resource: z.string().min(1).max(40),
  operation: z.enum(BULK_OPERATIONS),
  /** Resolved when the job is created, so the job acts on what the user previewed. */
  ids: z.array(recordId).min(1).max(MAX_BULK_IDS),
  changes: z.record(z.string(), z.unknown()).default({}),
  /** The filter the ids were resolved from, if any, for the audit trail. */
  filter: z.record(z.string(), z.unknown()).nullable().default(null),
  /** Who asked, for the audit entries the job writes. */
  origin: jobOriginSchema,
});
export type BulkChangePayload = z.infer<typeof bulkChangePayload>;

export interface RefusedRecord {
  id: number;
  message: string;
  errors: FieldIssue[];
}

/** What one batch did. */
export interface BatchReport {
  counts: Record<BulkOutcome, number>;
  refused: RefusedRecord[];
  notFound: number[];
}

export interface DryRunItem {
  id: number;
  outcome: BulkOutcome;
  /** The record as it is now (null when it does not exist). */
  record: Record<string, unknown> | null;
  /** Update only: the fields that would change, before and after. */
  old_values: Record<string, unknown> | null;
  new_values: Record<string, unknown> | null;
  reason: string | null;
  errors: FieldIssue[];
}

export interface DryRun {
  dry_run: true;
  resource: string;
  operation: BulkOperation;
  matched: number;
  would_change: number;
  counts: Record<BulkOutcome, number>;
  items: DryRunItem[];
  has_more: boolean;
}

interface Inspected {
  id: number;
  row: Row | null;
  outcome: Exclude<BulkOutcome, 'refused'>;
  /** Update: the fields whose value the change would alter. */
  fields: string[];
}

export const emptyCounts = (): Record<BulkOutcome, number> => ({
  change: 0,
  unchanged: 0,
  deleted: 0,
  not_deleted: 0,
  not_found: 0,
  refused: 0,
});

const SKIP_REASONS: Record<Exclude<BulkOutcome, 'change' | 'refused'>, string> = {
  unchanged: 'already has these values',
  deleted: 'is deleted',
  not_deleted: 'is not deleted',
  not_found: 'does not exist',
};

/** `column = ANY(ids)` with one parameter, whatever the number of ids. */
const idIn = (column: PgColumn, ids: readonly number[]): SQL =>
  sql`${column} = ANY(string_to_array(${ids.join(',')}, ',')::int[])`;

const pick = (values: Record<string, unknown>, keys: readonly string[]) =>
  Object.fromEntries(keys.map((key) => [key, values[key]]));

/** The problem a refused write raised, or undefined for an error that is not about the record. */
function refusalOf(error: unknown): HttpProblem | undefined {
  return error instanceof HttpProblem ? error : problemFromDatabaseError(error);
}

/**
 * Bulk update, soft delete and restore of a resource's records: resolving a filter to ids,
 * dry runs, starting the bulk_update job and writing its batches. Each batch is one
 * transaction with one audit entry per changed record; records already in the target state
 * are skipped, so a batch written twice changes nothing the second time.
 */
export class BulkChangeService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLogger,
    private readonly jobs: JobManager,
    readonly targets: Readonly<Record<string, BulkTarget>>,
    /** Bulk requests per user and minute (RATE_LIMIT_JOBS_PER_MINUTE, as job creation). */
    readonly requestsPerMinute: number,
  ) {}

  /** The name jobs use for a service's resource ("students"), if bulk changes may write it. */
  nameOf(service: AnyResourceService): string | undefined {
    return Object.entries(this.targets).find(([, target]) => target.service === service)?.[0];
  }

  target(name: string): BulkTarget {
    const target = this.targets[name];
    if (!target) throw unprocessable(`Bulk changes cannot write ${name}.`);
    return target;
  }

  /**
   * The changes of an update, checked again with the resource's update schema (a job can be
   * started through POST /jobs too); delete and restore take none. Throws a 4xx problem.
   */
  validChanges(
    name: string,
    operation: BulkOperation,
    changes: Record<string, unknown>,
  ): Record<string, unknown> {
    const keys = Object.keys(changes);
    if (operation !== 'update') {
      if (keys.length > 0) throw badRequest(`A bulk ${operation} takes no changes.`);
      return {};
    }
    if (keys.length === 0) {
      throw badRequest('The changes name no field to change.', [
        { field: 'changes', message: 'must contain at least one field' },
      ]);
    }
    const target = this.target(name);
    const parsed = target.update.safeParse(changes);
    if (!parsed.success) {
      throw badRequest(
        'The changes are not valid.',
        parsed.error.issues.map((issue) => ({
          field: ['changes', ...issue.path.map(String)].join('.'),
          message: issue.message,
        })),
      );
    }
    const columns = getTableColumns(target.service.table);
    const unknown = Object.keys(parsed.data).filter(
      (key) => !(key in columns) || PROTECTED_COLUMNS.has(key),
    );
    if (unknown.length > 0) {
      throw badRequest(
        'The changes name fields a bulk update cannot set.',
        unknown.map((key) => ({ field: `changes.${key}`, message: 'cannot be set' })),
      );
    }
    return parsed.data;
  }

  /**
   * The ids of the records a list filter matches, in id order: live records for update and
   * delete, deleted ones for restore. `filters` are list query values (already validated).
   */
  async idsMatching(
    name: string,
    operation: BulkOperation,
    filters: Record<string, unknown>,
  ): Promise<number[]> {
    const { service } = this.target(name);
    const { table, searchDocument } = service.spec;
    const search = typeof filters.search === 'string' ? filters.search : undefined;
    if (search && !searchDocument) {
      throw badRequest(`${service.label} lists have no text search; use the filters.`, [
        { field: 'body.filter.search', message: 'is not supported by this list' },
      ]);
    }
    const where = and(
      operation === 'restore' ? isNotNull(table.deleted_at) : isNull(table.deleted_at),
      search && searchDocument ? sql`${searchDocument} ILIKE ${likePattern(search)}` : undefined,
      ...(service.spec.filters?.(filters) ?? []),
    );
    const rows = await this.db
      .select({ id: table.id })
      .from(table as PgTable)
      .where(where)
      .orderBy(table.id)
      .limit(MAX_BULK_IDS + 1);
    if (rows.length > MAX_BULK_IDS) {
      throw unprocessable(
        `The filter matches more than ${MAX_BULK_IDS} records; narrow it, or send several requests.`,
        [{ field: 'body.filter', message: `matches more than ${MAX_BULK_IDS} records` }],
      );
    }
    return rows.map((row) => Number(row.id));
  }

  /**
   * The records with these ids and what the operation would do to each, in the order of
   * `ids`. `lock` takes row locks (FOR UPDATE) for a write in the same transaction.
   */
  private async inspect(
    executor: Executor,
    target: BulkTarget,
    operation: BulkOperation,
    ids: readonly number[],
    changes: Record<string, unknown>,
    lock: boolean,
  ): Promise<Inspected[]> {
    const { table } = target.service;
    const columns = getTableColumns(table) as Record<string, PgColumn>;
    // The database compares (with its own types: numeric, date, jsonb) and names the fields
    // whose value would change; an update changing none of them is skipped.
    const tests = Object.entries(changes).map(([key, value]) => {
      const column = columns[key];
      if (!column) throw new Error(`${key} is not a column of ${target.service.label}`);
      return sql`CASE WHEN ${column} IS DISTINCT FROM ${sql.param(value, column)} THEN ${key}::text END`;
    });
    const differing =
      tests.length === 0
        ? sql<string>`''`
        : sql<string>`concat_ws(',', ${sql.join(tests, sql`, `)})`;
    const query = executor
      .select({ row: columns, differing })
      .from(table as PgTable)
      .where(idIn(table.id, ids))
      .orderBy(table.id);
    const found = (lock ? await query.for('update') : await query) as Array<{
      row: Row;
      differing: string | null;
    }>;
    const byId = new Map(found.map((entry) => [Number(entry.row.id), entry]));
    return ids.map((id): Inspected => {
      const entry = byId.get(id);
      if (!entry) return { id, row: null, outcome: 'not_found', fields: [] };
      const { row } = entry;
      const fields = entry.differing ? entry.differing.split(',') : [];
      const deleted = row.deleted_at !== null;
      const outcome =
        operation === 'restore'
          ? deleted
            ? 'change'
            : 'not_deleted'
          : deleted
            ? 'deleted'
            : operation === 'update' && fields.length === 0
              ? 'unchanged'
              : 'change';
      return { id, row, outcome, fields };
    });
  }

  /** The resource's rules for this change; throws an HttpProblem to refuse it. */
  private async check(
    tx: Transaction,
    target: BulkTarget,
    operation: BulkOperation,
    row: Row,
    changes: Record<string, unknown>,
  ): Promise<void> {
    const { spec } = target.service;
    if (operation === 'update') await spec.checkWrite?.(tx, { ...row, ...changes }, row);
    if (operation === 'delete') await spec.checkDelete?.(tx, row);
  }

  /** What a dry run reports: the same inspection and rules as the job, and nothing written. */
  async preview(
    name: string,
    operation: BulkOperation,
    ids: readonly number[],
    changes: Record<string, unknown>,
  ): Promise<DryRun> {
    const target = this.target(name);
    const { service } = target;
    const counts = emptyCounts();
    const items: DryRunItem[] = [];
    // The rules run in a transaction because they may lock what they read (FOR SHARE); they
    // only read, so the transaction commits nothing.
    await this.db.transaction(async (tx) => {
      for (let start = 0; start < ids.length; start += DRY_RUN_CHUNK) {
        const chunk = ids.slice(start, start + DRY_RUN_CHUNK);
        for (const item of await this.inspect(tx, target, operation, chunk, changes, false)) {
          let outcome: BulkOutcome = item.outcome;
          let problem: HttpProblem | undefined;
          if (item.row && outcome === 'change') {
            try {
              await this.check(tx, target, operation, item.row, changes);
            } catch (error) {
              if (!(error instanceof HttpProblem)) throw error;
              problem = error;
              outcome = 'refused';
            }
          }
          counts[outcome] += 1;
          if (items.length >= DRY_RUN_ITEMS) continue;
          const record = item.row ? service.toResponse(item.row) : null;
          const diff = operation === 'update' && outcome === 'change' && record;
          items.push({
            id: item.id,
            outcome,
            record,
            old_values: diff ? pick(record, item.fields) : null,
            new_values: diff ? pick(changes, item.fields) : null,
            reason:
              problem?.detail ??
              (outcome === 'change' || outcome === 'refused' ? null : SKIP_REASONS[outcome]),
            errors: problem?.extras.errors ?? [],
          });
        }
      }
    });
    return {
      dry_run: true,
      resource: name,
      operation,
      matched: ids.length,
      would_change: counts.change,
      counts,
      items,
      has_more: ids.length > items.length,
    };
  }

  /** Starts the bulk_update job that changes these records (202 with the job). */
  start(
    request: {
      name: string;
      operation: BulkOperation;
      ids: number[];
      changes: Record<string, unknown>;
      filter: Record<string, unknown> | null;
    },
    context: ChangeContext,
  ): Promise<JobResponse> {
    const payload: BulkChangePayload = {
      resource: request.name,
      operation: request.operation,
      ids: request.ids,
      changes: request.changes,
      filter: request.filter,
      origin: jobOriginFrom(context),
    };
    return this.jobs.createJob(
      {
        jobType: 'bulk_update',
        userId: context.actor?.id ?? null,
        totalItems: request.ids.length,
        metadata: payload,
      },
      context,
    );
  }

  /**
   * Writes one batch in one transaction: locks the records, skips those already in the
   * target state, runs the resource's rules per record (a refusal skips that record only)
   * and records one audit entry per changed record.
   */
  async applyBatch(
    name: string,
    operation: BulkOperation,
    ids: readonly number[],
    changes: Record<string, unknown>,
    origin: AuditOrigin,
    jobId: string,
  ): Promise<BatchReport> {
    const target = this.target(name);
    const report: BatchReport = { counts: emptyCounts(), refused: [], notFound: [] };
    const changed: number[] = [];
    await this.db.transaction(async (tx) => {
      const entries: AuditEntryInput[] = [];
      for (const item of await this.inspect(tx, target, operation, ids, changes, true)) {
        if (item.outcome === 'not_found') report.notFound.push(item.id);
        if (!item.row || item.outcome !== 'change') {
          report.counts[item.outcome] += 1;
          continue;
        }
        const before = item.row;
        try {
          // A savepoint: a record the rules or the database refuse (a unique key, say) is
          // skipped without aborting the batch's transaction.
          const after = await tx.transaction(async (savepoint) => {
            await this.check(savepoint, target, operation, before, changes);
            return this.write(savepoint, target, operation, before.id, changes);
          });
          entries.push(this.entryFor(target, operation, before, after, jobId));
          changed.push(before.id);
          report.counts.change += 1;
        } catch (error) {
          const problem = refusalOf(error);
          if (!problem) throw error;
          report.counts.refused += 1;
          report.refused.push({
            id: item.id,
            message: problem.detail,
            errors: problem.extras.errors ?? [],
          });
        }
      }
      await this.audit.append(tx, origin, entries);
    });
    if (report.counts.change > 0) target.service.recordsChanged(changed);
    return report;
  }

  private async write(
    tx: Transaction,
    target: BulkTarget,
    operation: BulkOperation,
    id: number,
    changes: Record<string, unknown>,
  ): Promise<Row> {
    const { table } = target.service;
    const values =
      operation === 'update' ? changes : { deleted_at: operation === 'delete' ? new Date() : null };
    const [row] = (await tx
      .update(table as PgTable)
      .set(values as PgUpdateSetSource<PgTable>)
      .where(eq(table.id, id))
      .returning()) as Row[];
    if (!row) throw new Error(`update of ${target.service.label} ${id} returned no row`);
    return row;
  }

  /** The per-record entry, shaped as the single-record routes write it. */
  private entryFor(
    target: BulkTarget,
    operation: BulkOperation,
    before: Row,
    after: Row,
    jobId: string,
  ): AuditEntryInput {
    const { service } = target;
    const common = { resource: service.resource, resourceId: String(after.id) };
    if (operation === 'delete') {
      return {
        ...common,
        action: 'DELETE',
        oldValues: service.toResponse(before),
        newValues: null,
        details: { operation: 'bulk_delete', job_id: jobId },
      };
    }
    if (operation === 'restore') {
      return {
        ...common,
        action: 'UPDATE',
        oldValues: null,
        newValues: service.toResponse(after),
        details: { operation: 'restore', job_id: jobId },
      };
    }
    const { oldValues, newValues } = changedFields(
      service.toResponse(before),
      service.toResponse(after),
    );
    return {
      ...common,
      action: 'UPDATE',
      oldValues,
      newValues,
      details: { operation: 'bulk_update', job_id: jobId },
    };
  }

  /** The job's summary entry: BULK_DELETE for a delete, BULK_UPDATE for an update or restore. */
  async recordSummary(
    name: string,
    operation: BulkOperation,
    origin: AuditOrigin,
    details: Record<string, unknown>,
    cancelled: boolean,
  ): Promise<void> {
    const { service } = this.target(name);
    await this.audit.logAction(
      {
        action: operation === 'delete' ? 'BULK_DELETE' : 'BULK_UPDATE',
        resource: service.resource,
        details: { operation, resource: name, ...details },
        success: !cancelled,
        errorMessage: cancelled ? 'Cancelled; the batches already committed stay.' : null,
      },
      origin,
    );
  }
}
