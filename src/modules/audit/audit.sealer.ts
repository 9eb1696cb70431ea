import { asc, inArray, sql } from 'drizzle-orm';
import { type Database, queryRows } from '../../platform/db/client.ts';
import { insertFromJson, insertSlices } from '../../platform/db/json-rows.ts';
import { entryHash } from './audit.chain.ts';
import { type AuditRow, auditLogs, auditPending } from './audit.table.ts';

/** The advisory lock every sealer takes, in every process: one sealer at a time per database. */
export const AUDIT_SEAL_LOCK_KEY = 7_112_026;

/**
 * Entries per background transaction, and per stretch of hashing between two turns of the
 * event loop: the sealing shares the thread with the requests, which must not wait behind
 * a whole period's entries (bench:audit figure 1, p99).
 */
const BACKGROUND_BATCH = 200;
const HASHES_PER_TURN = 50;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

export interface AuditSealerOptions {
  /** Pending entries chained per transaction (default 1000, under the bind-parameter limit). */
  batchSize?: number;
  /**
   * In a process that does not seal periodically (`start`), how long after an append a
   * background seal runs (default 100 ms): late enough to find the writer committed, and to
   * chain a burst of appends in one transaction rather than one each.
   */
  debounceMs?: number;
  /** A background seal that failed; the next pass tries again. */
  onError?: (error: unknown) => void;
}

/** The first line of drizzle's message (not the parameters: entries hold personal data) and the cause. */
function errorSummary(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message.split('\n')[0]}${cause}`;
}

const reportToStderr = (error: unknown) =>
  process.stderr.write(`Registrar: audit sealing failed, will retry: ${errorSummary(error)}\n`);

/**
 * Moves committed entries from audit_pending into the hash chain of audit_logs. Writers only
 * insert into audit_pending (no lock, no hashing), so they never queue behind one another;
 * the sealer chains the entries in pending-id order, one batch per transaction, under an
 * advisory lock (concurrent sealers in other processes wait or skip) and the chain head's
 * row lock, with gap-free ids exactly as a single writer would.
 */
export class AuditSealer {
  private readonly batchSize: number;
  private readonly debounceMs: number;
  private readonly onError: (error: unknown) => void;
  private debounce: NodeJS.Timeout | undefined;
  private interval: NodeJS.Timeout | undefined;
  private background: Promise<void> | null = null;
  private backgroundAgain = false;
  private flushing: Promise<number> | null = null;
  private flushQueued: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly db: Database,
    options: AuditSealerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.debounceMs = options.debounceMs ?? 100;
    this.onError = options.onError ?? reportToStderr;
  }

  /**
   * Seals every entry committed before the call, waiting for a sealer in another process if
   * need be. Readers call it first, so an answered change is always visible and chained.
   * Concurrent callers in this process share one pass (plus one queued behind it).
   */
  flush(): Promise<number> {
    if (!this.flushing) {
      this.flushing = this.sealAll(true).finally(() => {
        this.flushing = null;
      });
      return this.flushing;
    }
    // The pass in progress may have read the pending rows before this caller's committed.
    this.flushQueued ??= this.flushing
      .catch(() => 0)
      .then(() => {
        this.flushQueued = null;
        return this.flush();
      });
    return this.flushQueued;
  }

  /**
   * After an append: a background seal shortly after (after the writer's COMMIT, usually),
   * unless the periodic seal will take it. One pass a period keeps the cost of a pass (a few
   * statements, most of it on PGlite, where it runs on the request's thread) off most requests.
   */
  schedule(): void {
    if (this.stopped || this.interval || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.runInBackground();
    }, this.debounceMs);
    this.debounce.unref();
  }

  /** Seals what crashed processes left, then every `intervalMs` what this and other processes wrote. */
  start(intervalMs: number): void {
    if (this.interval || this.stopped) return;
    this.runInBackground();
    this.interval = setInterval(() => this.runInBackground(), intervalMs);
    this.interval.unref();
  }

  /** Stops the timers and seals what is left; a failure is reported, not thrown. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.debounce);
    clearInterval(this.interval);
    this.debounce = undefined;
    this.interval = undefined;
    await this.background;
    await this.flush().catch(this.onError);
  }

  /** One background pass at a time; an append during a pass asks for one more after it. */
  private runInBackground(): void {
    if (this.background) {
      this.backgroundAgain = true;
      return;
    }
    this.background = this.sealAll(false)
      .then(
        () => {},
        (error: unknown) => this.onError(error),
      )
      .finally(() => {
        this.background = null;
        if (this.backgroundAgain && !this.stopped) {
          this.backgroundAgain = false;
          this.runInBackground();
        }
      });
  }

  /** Batches until nothing committed is pending. `wait: false` gives up if another sealer is at work. */
  private async sealAll(wait: boolean): Promise<number> {
    let total = 0;
    for (;;) {
      // Cheap when idle: no transaction, no lock. A row deleted by a sealer that has not
      // committed yet is still seen here, so "none" really means all of them are chained.
      const [any] = await this.db
        .select({ id: auditPending.id })
        .from(auditPending)
        .orderBy(asc(auditPending.id))
        .limit(1);
      if (!any) return total;
      // A reader waits for everything; the background goes in smaller steps.
      const limit = wait ? this.batchSize : Math.min(this.batchSize, BACKGROUND_BATCH);
      const sealed = await this.sealBatch(wait, limit);
      if (sealed === null) return total;
      total += sealed;
      if (sealed < limit) return total;
    }
  }

  /** One transaction: up to `limit` pending entries into the chain. Null: the lock was busy. */
  private sealBatch(wait: boolean, limit: number): Promise<number | null> {
    return this.db.transaction(async (tx) => {
      // One round trip: the advisory lock (taken in the subquery, before the head row is
      // locked, so two sealers never wait on each other crosswise), the chain head, and the
      // setting that lets audit_pending's trigger accept this transaction's DELETE.
      const lock = wait
        ? sql`SELECT pg_advisory_xact_lock(${AUDIT_SEAL_LOCK_KEY}), true AS locked`
        : sql`SELECT pg_try_advisory_xact_lock(${AUDIT_SEAL_LOCK_KEY}) AS locked`;
      const [head] = await queryRows<{ last_id: number | string; last_hash: string }>(
        tx,
        sql`SELECT h.last_id, h.last_hash
              FROM (${lock}) AS l, audit_chain_head AS h,
                   set_config('registrar.audit_sealer', 'on', true)
             WHERE h.id = 1 AND l.locked
               FOR UPDATE OF h`,
      );
      if (!head) {
        if (wait) throw new Error('audit_chain_head is missing; run the migrations');
        return null;
      }
      const taken = await tx
        .delete(auditPending)
        .where(
          inArray(
            auditPending.id,
            tx
              .select({ id: auditPending.id })
              .from(auditPending)
              .orderBy(asc(auditPending.id))
              .limit(limit),
          ),
        )
        .returning();
      if (taken.length === 0) return 0;
      taken.sort((a, b) => a.id - b.id);
      let lastId = Number(head.last_id);
      let lastHash = head.last_hash;
      const rows: AuditRow[] = [];
      for (const { id: _pendingId, ...entry } of taken) {
        if (rows.length > 0 && rows.length % HASHES_PER_TURN === 0) await nextTurn();
        const fields = { id: ++lastId, ...entry };
        const row = { ...fields, prev_hash: lastHash, hash: entryHash(lastHash, fields) };
        lastHash = row.hash;
        rows.push(row);
      }
      // The head moves in the same statement as the (last) insert: one round trip fewer.
      const slices = insertSlices(auditLogs, rows);
      for (const [index, slice] of slices.entries()) {
        const insert = insertFromJson(auditLogs, slice);
        await tx.execute(
          index === slices.length - 1
            ? sql`WITH move_head AS (UPDATE audit_chain_head SET last_id = ${lastId}, last_hash = ${lastHash} WHERE id = 1) ${insert}`
            : insert,
        );
      }
      return rows.length;
    });
  }
}
