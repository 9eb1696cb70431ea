import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  type Database,
  type FixedStatement,
  hasOneConnection,
  queryFixed,
  rowOf,
  runFixed,
} from '../../platform/db/client.ts';
import { entryHash } from './audit.chain.ts';
import { AUDIT_ENTRY_COLUMN_LIST, auditPending } from './audit.table.ts';

/** The advisory lock every sealer takes, in every process: one sealer at a time per database. */
export const AUDIT_SEAL_LOCK_KEY = 7_112_026;

/**
 * Entries per background transaction: on PGlite a transaction holds the one connection every
 * request needs, so it seals in short steps there (bench:audit figure 1, p99); on PostgreSQL
 * larger ones cost less per entry and make no request wait. Hashing, outside the transaction,
 * lets the event loop turn every HASHES_PER_TURN entries.
 */
const BACKGROUND_BATCH = { oneConnection: 50, pool: 200 };
/**
 * The default period (`start`): on a pool, of the background pass; on one connection, the
 * longest an entry waits under sustained writes, since the seal there waits for appends to
 * pause (`schedule`).
 */
const DEFAULT_PERIOD_MS = { oneConnection: 10_000, pool: 1000 };
const HASHES_PER_TURN = 50;

/** A seal whose chain head moved between the read and the lock. */
const STALE = Symbol('stale');

/**
 * The chain head and the oldest pending entries, in one statement (one snapshot): a row per
 * entry, each with the head, or one row with no entry when nothing is pending.
 */
const READ_BATCH: FixedStatement = {
  name: 'audit_read_batch',
  text: `SELECT h.last_id AS head_last_id, h.last_hash AS head_last_hash, p.*
           FROM audit_chain_head AS h
           LEFT JOIN LATERAL (SELECT * FROM audit_pending ORDER BY id LIMIT $1) AS p ON true
          WHERE h.id = 1`,
};

/**
 * The lock of a seal, in one round trip: the advisory lock (taken in the subquery, before the
 * head row is locked, so two sealers never wait on each other crosswise), the chain head, and
 * the setting that lets audit_pending's trigger accept this transaction's DELETE. Without a
 * row, another sealer holds the lock (the `try` form).
 */
const lockHead = (name: string, lock: string): FixedStatement => ({
  name,
  text: `SELECT h.last_id
           FROM (${lock}) AS l, audit_chain_head AS h,
                set_config('registrar.audit_sealer', 'on', true)
          WHERE h.id = 1 AND l.locked
            FOR UPDATE OF h`,
});
const LOCK_HEAD_WAIT = lockHead(
  'audit_lock_head_wait',
  `SELECT pg_advisory_xact_lock(${AUDIT_SEAL_LOCK_KEY}), true AS locked`,
);
const LOCK_HEAD_TRY = lockHead(
  'audit_lock_head_try',
  `SELECT pg_try_advisory_xact_lock(${AUDIT_SEAL_LOCK_KEY}) AS locked`,
);

/**
 * Moves hashed entries from audit_pending into audit_logs within the database, and the chain
 * head with them: the sealer sends only ids and hashes (as arrays, so the text is the same for
 * any batch), not the entries it read. Sending them back as JSON was most of a seal's cost.
 */
const MOVE_SEALED: FixedStatement = {
  name: 'audit_move_sealed',
  text: `WITH sealed AS (
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])
                      AS s(pending_id, id, prev_hash, hash)
         ), moved AS (
           DELETE FROM audit_pending AS p USING sealed AS s WHERE p.id = s.pending_id
           RETURNING p.*, s.id AS chain_id, s.prev_hash, s.hash
         ), move_head AS (
           UPDATE audit_chain_head SET last_id = $5, last_hash = $6 WHERE id = 1
         )
         INSERT INTO audit_logs (id, ${AUDIT_ENTRY_COLUMN_LIST}, prev_hash, hash)
         SELECT chain_id, ${AUDIT_ENTRY_COLUMN_LIST}, prev_hash, hash FROM moved`,
};

export interface AuditSealerOptions {
  /** Pending entries chained per transaction (default 1000). */
  batchSize?: number;
  /**
   * How long after an append a background seal runs (default 100 ms): late enough to find the
   * writer committed, and to chain a burst of appends in one transaction rather than one each.
   * On a pool, only in a process that does not seal periodically (`start`), and counted from
   * the first append; on one connection (PGlite), counted from the last: the seal waits for
   * appends to pause.
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
  private readonly oneConnection: boolean;
  private readonly backgroundBatch: number;
  private readonly debounceMs: number;
  private readonly onError: (error: unknown) => void;
  private debounce: NodeJS.Timeout | undefined;
  /** One connection: the latest the entries appended since the last seal are sealed. */
  private deadline: NodeJS.Timeout | undefined;
  /** Set by `start`: of the pass on a pool, of the longest wait on one connection. */
  private period: number | undefined;
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
    this.oneConnection = hasOneConnection(db);
    this.backgroundBatch = this.oneConnection
      ? BACKGROUND_BATCH.oneConnection
      : BACKGROUND_BATCH.pool;
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
   * After an append. On a pool: a background seal shortly after (after the writer's COMMIT,
   * usually), unless the periodic seal will take it; one pass a period keeps the cost of a
   * pass off most requests. On one connection (PGlite) a pass holds the connection and the
   * thread every request needs, and a request that arrives meanwhile waits for it; so the seal
   * waits until appends pause, and once started (`start`) no longer than the period after the
   * first entry it finds unsealed.
   */
  schedule(): void {
    if (this.stopped) return;
    if (this.oneConnection) {
      if (this.debounce) this.debounce.refresh();
      else this.debounce = this.sealAfter(this.debounceMs);
      if (this.period !== undefined) this.deadline ??= this.sealAfter(this.period);
      return;
    }
    if (this.interval || this.debounce) return;
    this.debounce = this.sealAfter(this.debounceMs);
  }

  /** A background seal in `ms`; whichever of the two timers fires first clears both. */
  private sealAfter(ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.clearTimers();
      this.runInBackground();
    }, ms);
    timer.unref();
    return timer;
  }

  private clearTimers(): void {
    clearTimeout(this.debounce);
    clearTimeout(this.deadline);
    this.debounce = undefined;
    this.deadline = undefined;
  }

  /**
   * Seals what crashed processes left, then, on a pool, every `intervalMs` what this and other
   * processes wrote; on one connection, no process but this one writes, and an entry waits
   * at most `intervalMs` (see `schedule`).
   */
  start(
    intervalMs = this.oneConnection ? DEFAULT_PERIOD_MS.oneConnection : DEFAULT_PERIOD_MS.pool,
  ): void {
    if (this.period !== undefined || this.stopped) return;
    this.period = intervalMs;
    this.runInBackground();
    if (this.oneConnection) return;
    this.interval = setInterval(() => this.runInBackground(), intervalMs);
    this.interval.unref();
  }

  /** Stops the timers and seals what is left; a failure is reported, not thrown. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    clearInterval(this.interval);
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
      // A reader waits for everything; the background goes in smaller steps.
      const limit = wait ? this.batchSize : Math.min(this.batchSize, this.backgroundBatch);
      const sealed = await this.sealBatch(wait, limit);
      if (sealed === null) return total;
      total += sealed;
      if (sealed < limit) return total;
    }
  }

  /**
   * Up to `limit` pending entries into the chain. Null: another sealer holds the lock. The
   * entries are read and hashed before the transaction, so the lock (and on PGlite the one
   * connection every request needs) is held only for the move; the move happens only if the
   * chain head is still the one they were hashed onto, else they are read again.
   */
  private async sealBatch(wait: boolean, limit: number): Promise<number | null> {
    for (;;) {
      const read = await queryFixed<Record<string, unknown>>(this.db, READ_BATCH, [limit]);
      const [first] = read;
      if (!first) throw new Error('audit_chain_head is missing; run the migrations');
      // Cheap when idle: no transaction, no lock. A row deleted by a sealer that has not
      // committed yet is still seen here, so "none" really means all of them are chained.
      if (first.id == null) return 0;
      const taken = read.map((raw) => rowOf(auditPending, raw));
      const expectedLastId = Number(first.head_last_id);
      let lastId = expectedLastId;
      let lastHash = first.head_last_hash as string;
      const pendingIds: number[] = [];
      const ids: number[] = [];
      const prevHashes: string[] = [];
      const hashes: string[] = [];
      for (const { id: pendingId, ...entry } of taken) {
        if (ids.length > 0 && ids.length % HASHES_PER_TURN === 0) await nextTurn();
        const id = ++lastId;
        pendingIds.push(pendingId);
        ids.push(id);
        prevHashes.push(lastHash);
        lastHash = entryHash(lastHash, { id, ...entry });
        hashes.push(lastHash);
      }
      const moved = await this.db.transaction(async (tx) => {
        const [locked] = await queryFixed<{ last_id: number | string }>(
          tx,
          wait ? LOCK_HEAD_WAIT : LOCK_HEAD_TRY,
          [],
        );
        if (!locked) return null;
        // Another sealer moved the chain since the read: these hashes are stale.
        if (Number(locked.last_id) !== expectedLastId) return STALE;
        // Ids are digits and hashes hex: they need no quoting in an array literal.
        const array = (values: Array<number | string>) => `{${values.join(',')}}`;
        const count = await runFixed(tx, MOVE_SEALED, [
          array(pendingIds),
          array(ids),
          array(prevHashes),
          array(hashes),
          lastId,
          lastHash,
        ]);
        // Only a sealer deletes pending rows, and every seal moves the head; anything else is a bug.
        if (count !== taken.length) {
          throw new Error(`audit sealing moved ${count} of ${taken.length} pending entries`);
        }
        return count;
      });
      if (moved !== STALE) return moved;
    }
  }
}
