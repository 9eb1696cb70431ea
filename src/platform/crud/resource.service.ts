import { and, eq, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable, PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { AuditResource } from '../../modules/audit/audit.constants.ts';
import type { Database, Executor, Transaction } from '../db/client.ts';
import type { ChangeFeed } from '../events/change-feed.ts';
import { likePattern, type Page, readPage } from '../http/pagination.ts';
import { badRequest, conflict, notFound } from '../http/problems.ts';
import type { ChangeContext, ChangeRecorder } from '../http/request-context.ts';
import type { BulkChangeService } from './bulk-change.ts';
import { ResultCache } from './result-cache.ts';

/** Budget for one resource's cached list answers, in bytes of JSON. */
const CACHED_PAGES_MAX_BYTES = 8_000_000;
/** How many list totals one resource keeps. */
const CACHED_TOTALS_MAX = 1000;

/**
 * How lists are cached: answers are reused for `ttlMs` unless `changes` says the resource
 * changed (writes through a service announce it, in this process and, over the event bus,
 * in the others). ttlMs 0 turns caching off.
 */
export interface ListCaching {
  ttlMs: number;
  changes?: ChangeFeed;
}

/** Every domain table has an integer id and a soft-delete marker. */
export type ResourceTable = PgTable & { id: PgColumn; deleted_at: PgColumn };

export interface ListOptions {
  page: number;
  page_size: number;
  search?: string | undefined;
  include_deleted: boolean;
  sort: { key: string; descending: boolean };
}

export interface ResourceDefinition<T extends ResourceTable, Response> {
  /** Audit resource name (STUDENT, COURSE, …). */
  resource: AuditResource;
  /** What a person calls one record ("Student"), for messages. */
  label: string;
  table: T;
  toResponse(row: T['$inferSelect']): Response;
  sortColumns: Record<string, PgColumn>;
  /** Text that `search` matches (ILIKE), the same expression its trigram index is built on. */
  searchDocument?: SQL;
  /** Conditions for the list's own filters, from the validated query. */
  filters?(query: Record<string, unknown>): Array<SQL | undefined>;
  /**
   * Rules across fields or records, checked inside the write's transaction with the values
   * the record will have once written. Throw an HttpProblem to refuse.
   */
  checkWrite?(
    tx: Transaction,
    next: T['$inferSelect'] | T['$inferInsert'],
    existing: T['$inferSelect'] | null,
  ): Promise<void>;
  /** Rules a soft delete must keep, checked inside its transaction. Throw to refuse. */
  checkDelete?(tx: Transaction, existing: T['$inferSelect']): Promise<void>;
}

type Row<T extends ResourceTable> = T['$inferSelect'] & { id: number; deleted_at: Date | null };

/** The fields whose value differs, as old and new values (for the audit trail). */
export function changedFields(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): { oldValues: Record<string, unknown>; newValues: Record<string, unknown> } {
  const oldValues: Record<string, unknown> = {};
  const newValues: Record<string, unknown> = {};
  for (const key of Object.keys(after)) {
    if (key === 'updated_at') continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      oldValues[key] = before[key];
      newValues[key] = after[key];
    }
  }
  return { oldValues, newValues };
}

/**
 * List, get, create, update, soft delete and restore for one domain table. Every write runs
 * in a transaction that also hands the change to the recorder (the audit trail).
 */
export class ResourceService<T extends ResourceTable, Response extends Record<string, unknown>> {
  /** List answers as UTF-8 JSON, by query: ready to send, no encoding per request. */
  private readonly pages: ResultCache<Buffer>;
  /** How many records match a list's filters, by filters: paging asks it again and again. */
  private readonly totals: ResultCache<number>;
  private readonly changes: ChangeFeed | undefined;
  /**
   * Bulk update, delete and restore of these records (set by createServices, which builds
   * the job system after the services); the bulk routes exist only where it is set.
   */
  bulkChanges: BulkChangeService | undefined;

  constructor(
    protected readonly db: Database,
    protected readonly definition: ResourceDefinition<T, Response>,
    protected readonly recorder: ChangeRecorder,
    caching: ListCaching = { ttlMs: 0 },
  ) {
    const { ttlMs } = caching;
    this.pages = new ResultCache({
      ttlMs,
      maxBytes: CACHED_PAGES_MAX_BYTES,
      sizeOf: (body) => body.byteLength,
    });
    this.totals = new ResultCache({ ttlMs, maxBytes: CACHED_TOTALS_MAX, sizeOf: () => 1 });
    this.changes = caching.changes;
    this.changes?.onChange(definition.resource, () => this.forgetCachedLists());
  }

  get label() {
    return this.definition.label;
  }

  get resource() {
    return this.definition.resource;
  }

  get table(): T {
    return this.definition.table;
  }

  /** What the service is built from (filters, search, rules), for bulk-change.ts. */
  get spec(): ResourceDefinition<T, Response> {
    return this.definition;
  }

  /** A row as the API shows it (and as the audit trail records it). */
  toResponse(row: T['$inferSelect']): Response {
    return this.definition.toResponse(row);
  }

  /**
   * A list answer as UTF-8 JSON, from the cache when nothing has changed since it was made.
   * `render` turns the page into the route's JSON (validated against its schema once).
   */
  async listBody(
    query: ListOptions & Record<string, unknown>,
    render: (page: Page<Response>) => string,
  ): Promise<Buffer> {
    return this.pages.get(JSON.stringify(query), async () =>
      Buffer.from(render(await this.list(query)), 'utf8'),
    );
  }

  /**
   * Tells every process that this resource's records changed, so cached lists are dropped
   * (and derived results recomputed: `ids` names the records, when known). Writes through this
   * service do it themselves; call it after writing the table otherwise.
   */
  recordsChanged(ids?: readonly number[]): void {
    if (this.changes) this.changes.announce(this.definition.resource, ids);
    else this.forgetCachedLists();
  }

  private forgetCachedLists() {
    this.pages.clear();
    this.totals.clear();
  }

  async list(query: ListOptions & Record<string, unknown>): Promise<Page<Response>> {
    const { table, sortColumns, searchDocument } = this.definition;
    if (query.search && !searchDocument) {
      throw badRequest(`${this.definition.label} lists have no text search; use the filters.`, [
        { field: 'query.search', message: 'is not supported by this list' },
      ]);
    }
    const conditions: Array<SQL | undefined> = [
      query.include_deleted ? undefined : isNull(table.deleted_at),
      query.search && searchDocument
        ? sql`${searchDocument} ILIKE ${likePattern(query.search)}`
        : undefined,
      ...(this.definition.filters?.(query) ?? []),
    ];
    const where = and(...conditions);
    const sortColumn = sortColumns[query.sort.key] ?? table.id;
    const order = (column: SQL | PgColumn, id: SQL | PgColumn) => [
      // Records without a value go last in both directions.
      query.sort.descending ? sql`${column} DESC NULLS LAST` : sql`${column} ASC`,
      sql`${id} ASC`,
    ];
    // OFFSET 0 fences a search off from the ORDER BY … LIMIT: PostgreSQL then finds the
    // matches through the trigram index and sorts them, instead of walking the sort index
    // and testing every row (which it prefers, wrongly, for common terms).
    const matches = this.db
      .select()
      .from(table as PgTable)
      .where(where)
      .offset(0)
      .as('matches');
    const inMatches = (column: PgColumn) =>
      sql`${sql.identifier('matches')}.${sql.identifier(column.name)}`;
    const { rows, total, hasNext } = await readPage(
      query.page,
      query.page_size,
      async (limit, offset): Promise<Array<T['$inferSelect']>> =>
        query.search
          ? this.db
              .select()
              .from(matches)
              .orderBy(...order(inMatches(sortColumn), inMatches(table.id)))
              .limit(limit)
              .offset(offset)
          : this.db
              .select()
              .from(table as PgTable)
              .where(where)
              .orderBy(...order(sortColumn, table.id))
              .limit(limit)
              .offset(offset),
      () => this.countMatching(where, query),
    );
    return {
      items: rows.map((row) => this.definition.toResponse(row)),
      total,
      page: query.page,
      page_size: query.page_size,
      has_next: hasNext,
    };
  }

  /**
   * A write of record `id`'s transaction; cached lists are dropped once it has committed (a
   * rollback changed nothing). A create learns its id inside, through `written`.
   */
  private async inTransaction<R>(
    work: (tx: Transaction, written: (id: number) => void) => Promise<R>,
    id?: number,
  ): Promise<R> {
    const ids = id === undefined ? [] : [id];
    const result = await this.db.transaction((tx) => work(tx, (created) => ids.push(created)));
    this.recordsChanged(ids);
    return result;
  }

  /** How many records match a list's filters (cached, see `totals`). */
  private countMatching(where: SQL | undefined, query: ListOptions & Record<string, unknown>) {
    const { page: _page, page_size: _pageSize, sort: _sort, ...filters } = query;
    return this.totals.get(JSON.stringify(filters), async () => {
      const [counted] = await this.db
        .select({ total: sql<number>`count(*)`.mapWith(Number) })
        .from(this.definition.table as PgTable)
        .where(where);
      return counted?.total ?? 0;
    });
  }

  /**
   * Reads by id outside a transaction, prepared once: building the query is most of a get's
   * cost, and PostgreSQL keeps the plan of a named statement per connection.
   */
  private preparedReads?: Record<'live' | 'any', ReturnType<typeof this.prepareRead>>;

  private prepareRead(state: 'live' | 'any') {
    const { table, resource } = this.definition;
    const byId = eq(table.id, sql.placeholder('id'));
    return this.db
      .select()
      .from(table as PgTable)
      .where(state === 'live' ? and(byId, isNull(table.deleted_at)) : byId)
      .prepare(`${resource.toLowerCase()}_get_${state}`);
  }

  private readById(id: number, state: 'live' | 'any') {
    this.preparedReads ??= { live: this.prepareRead('live'), any: this.prepareRead('any') };
    return this.preparedReads[state].execute({ id }) as Promise<Row<T>[]>;
  }

  protected async findRow(
    executor: Executor,
    id: number,
    state: 'live' | 'deleted' | 'any',
    lock = false,
  ): Promise<Row<T> | undefined> {
    const { table } = this.definition;
    const stateCondition =
      state === 'live'
        ? isNull(table.deleted_at)
        : state === 'deleted'
          ? isNotNull(table.deleted_at)
          : undefined;
    const query = executor
      .select()
      .from(table as PgTable)
      .where(and(eq(table.id, id), stateCondition));
    const [row] = lock ? await query.for('update') : await query;
    return row as Row<T> | undefined;
  }

  async get(id: number, options: { includeDeleted?: boolean } = {}): Promise<Response> {
    const [row] = await this.readById(id, options.includeDeleted ? 'any' : 'live');
    if (!row) throw notFound(this.definition.label, id);
    return this.definition.toResponse(row);
  }

  /** Throws 404 unless a live record with this id exists (for nested lists). */
  async assertExists(id: number): Promise<void> {
    const [row] = await this.readById(id, 'live');
    if (!row) throw notFound(this.definition.label, id);
  }

  async create(values: T['$inferInsert'], context: ChangeContext): Promise<Response> {
    const { table, resource } = this.definition;
    return this.inTransaction(async (tx, written) => {
      await this.definition.checkWrite?.(tx, values, null);
      const [row] = (await tx
        .insert(table as PgTable)
        .values(values as PgTable['$inferInsert'])
        .returning()) as Row<T>[];
      if (!row) throw new Error(`insert into ${resource} returned no row`);
      written(row.id);
      const response = this.definition.toResponse(row);
      await this.recorder.record(tx, {
        action: 'CREATE',
        resource,
        resourceId: String(row.id),
        oldValues: null,
        newValues: response,
        context,
      });
      return response;
    });
  }

  async update(
    id: number,
    patch: Partial<T['$inferInsert']>,
    context: ChangeContext,
  ): Promise<Response> {
    const { table, resource, label } = this.definition;
    if (Object.keys(patch).length === 0) {
      throw badRequest('The request names no field to change.', [
        { field: 'body', message: 'must contain at least one field' },
      ]);
    }
    return this.inTransaction(async (tx) => {
      const existing = await this.findRow(tx, id, 'live', true);
      if (!existing) throw notFound(label, id);
      await this.definition.checkWrite?.(tx, { ...existing, ...patch }, existing);
      const [row] = (await tx
        .update(table as PgTable)
        .set(patch as PgUpdateSetSource<PgTable>)
        .where(eq(table.id, id))
        .returning()) as Row<T>[];
      if (!row) throw notFound(label, id);
      const before = this.definition.toResponse(existing);
      const after = this.definition.toResponse(row);
      const { oldValues, newValues } = changedFields(before, after);
      if (Object.keys(newValues).length > 0) {
        await this.recorder.record(tx, {
          action: 'UPDATE',
          resource,
          resourceId: String(id),
          oldValues,
          newValues,
          context,
        });
      }
      return after;
    }, id);
  }

  async remove(id: number, context: ChangeContext): Promise<void> {
    await this.setDeleted(id, new Date(), context);
  }

  async restore(id: number, context: ChangeContext): Promise<Response> {
    return this.setDeleted(id, null, context);
  }

  private async setDeleted(
    id: number,
    deletedAt: Date | null,
    context: ChangeContext,
  ): Promise<Response> {
    const { table, resource, label } = this.definition;
    const deleting = deletedAt !== null;
    return this.inTransaction(async (tx) => {
      const existing = await this.findRow(tx, id, 'any', true);
      if (!existing) throw notFound(label, id);
      if (deleting && existing.deleted_at) throw notFound(label, id);
      if (deleting) await this.definition.checkDelete?.(tx, existing);
      if (!deleting && !existing.deleted_at) {
        throw conflict(`${label} ${id} is not deleted, so there is nothing to restore.`);
      }
      const [row] = (await tx
        .update(table as PgTable)
        .set({ deleted_at: deletedAt } as PgUpdateSetSource<PgTable>)
        .where(eq(table.id, id))
        .returning()) as Row<T>[];
      if (!row) throw notFound(label, id);
      const response = this.definition.toResponse(row);
      await this.recorder.record(tx, {
        action: deleting ? 'DELETE' : 'RESTORE',
        resource,
        resourceId: String(id),
        oldValues: deleting ? this.definition.toResponse(existing) : null,
        newValues: deleting ? null : response,
        context,
      });
      return response;
    }, id);
  }
}
