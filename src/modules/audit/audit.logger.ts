import { asc, eq, gt } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import {
  type Database,
  type Executor,
  type FixedStatement,
  runFixed,
  type Transaction,
} from '../../platform/db/client.ts';
import {
  type ChangeContext,
  type ChangeRecorder,
  changeContextFrom,
  type RecordedChange,
} from '../../platform/http/request-context.ts';
import { ChainVerifier } from './audit.chain.ts';
import type { AuditAction, AuditResource } from './audit.constants.ts';
import { AuditSealer } from './audit.sealer.ts';
import { AUDIT_ENTRY_COLUMN_LIST, auditChainHead, auditLogs } from './audit.table.ts';

export interface AuditEntryInput {
  action: AuditAction;
  resource: AuditResource;
  resourceId?: string | number | null;
  details?: Record<string, unknown> | null;
  success?: boolean;
  errorMessage?: string | null;
  oldValues?: Record<string, unknown> | null;
  newValues?: Record<string, unknown> | null;
}

/** Who and where, for entries that do not come from a request (jobs, system routines). */
export interface AuditOrigin {
  userId?: number | null;
  userEmail?: string | null;
  ipAddress?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
}

export interface VerificationReport {
  valid: boolean;
  checked: number;
  first_id: number | null;
  last_id: number;
  /** The first broken link, or null. */
  first_problem: { id: number; kind: string; message: string } | null;
  problems: Array<{ id: number; kind: string; message: string }>;
  duration_ms: number;
}

const MAX_TEXT = 2000;
const truncate = (value: string | null | undefined, max = MAX_TEXT) =>
  value == null ? null : value.length > max ? `${value.slice(0, max - 1)}…` : value;

/** JSON without NUL characters, which PostgreSQL cannot store: they are dropped, not the entry. */
function jsonWithoutNul(value: unknown): string {
  const json = JSON.stringify(value);
  if (!json.includes('\\u0000')) return json;
  return JSON.stringify(value, (_key, item) =>
    typeof item === 'string' ? item.replaceAll('\0', '') : item,
  );
}

const textWithoutNul = (value: string | null) =>
  value === null ? null : value.replaceAll('\0', '');

/**
 * One entry (almost every change) as plain parameters, which PGlite reads faster than a JSON
 * array; several (bulk work, job batches) as one JSON array. Both texts are fixed.
 */
const APPEND_ONE: FixedStatement = {
  name: 'audit_append_one',
  text: `INSERT INTO audit_pending (${AUDIT_ENTRY_COLUMN_LIST}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
};
/**
 * SQL that inserts into audit_pending the entries of a JSON array parameter (`AuditLogger.
 * pendingJson`), those that `where` keeps: for a writer that records a change and its entries
 * in one statement.
 */
export const insertPendingFromJson = (param: string, where = '') =>
  `INSERT INTO audit_pending (${AUDIT_ENTRY_COLUMN_LIST}) SELECT ${AUDIT_ENTRY_COLUMN_LIST} FROM jsonb_populate_recordset(NULL::audit_pending, ${param}::jsonb) ${where}`;

const APPEND_MANY: FixedStatement = {
  name: 'audit_append_many',
  text: insertPendingFromJson('$1'),
};

/** An audit_pending row: the entry with its origin and time. */
function pendingRow(origin: AuditOrigin, entry: AuditEntryInput, timestamp: Date) {
  return {
    action: entry.action,
    resource: entry.resource,
    resource_id: entry.resourceId == null ? null : String(entry.resourceId),
    user_id: origin.userId ?? null,
    user_email: origin.userEmail ?? null,
    ip_address: origin.ipAddress ?? null,
    user_agent: truncate(origin.userAgent, 500),
    details: entry.details ?? null,
    success: entry.success ?? true,
    error_message: truncate(entry.errorMessage),
    timestamp,
    request_id: origin.requestId ?? null,
    old_values: entry.oldValues ?? null,
    new_values: entry.newValues ?? null,
  };
}

export function originFromContext(context: ChangeContext): AuditOrigin {
  return {
    userId: context.actor?.id ?? null,
    userEmail: context.actor?.email ?? null,
    ipAddress: context.ipAddress,
    userAgent: context.userAgent,
    requestId: context.requestId,
  };
}

/**
 * Writes the audit trail. An append is a plain insert into audit_pending inside the caller's
 * transaction, so the entry commits or rolls back with the change it records and writers do
 * not queue behind one another; the sealer (audit.sealer.ts) chains committed entries into
 * audit_logs shortly after. Called inside the transaction of the change it records (record,
 * append) or in a transaction of its own (logFromRequest, logAction).
 */
export class AuditLogger implements ChangeRecorder {
  private readonly sealer: AuditSealer;

  constructor(
    private readonly db: Database,
    private readonly options: {
      enabled: boolean;
      now?: () => Date;
      /**
       * The period of the background seal: at most this long after its commit an entry is
       * chained. Unset, AuditSealer's default: 1000 ms on a pool; 10,000 ms on one connection
       * (PGlite), where entries are also chained as soon as appends pause.
       */
      sealIntervalMs?: number | undefined;
      onSealError?: (error: unknown) => void;
    } = { enabled: true },
  ) {
    this.sealer = new AuditSealer(db, options.onSealError ? { onError: options.onSealError } : {});
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Records entries inside the caller's transaction; they are chained once it has committed. */
  async append(tx: Transaction, origin: AuditOrigin, entries: AuditEntryInput[]): Promise<void> {
    if (!this.options.enabled || entries.length === 0) return;
    const timestamp = this.now();
    const rows = entries.map((entry) => pendingRow(origin, entry, timestamp));
    const [only] = rows;
    if (rows.length === 1 && only) {
      const jsonb = (value: unknown) => (value == null ? null : jsonWithoutNul(value));
      await runFixed(tx, APPEND_ONE, [
        only.action,
        only.resource,
        textWithoutNul(only.resource_id),
        only.user_id,
        textWithoutNul(only.user_email),
        textWithoutNul(only.ip_address),
        textWithoutNul(only.user_agent),
        jsonb(only.details),
        only.success,
        textWithoutNul(only.error_message),
        only.timestamp.toISOString(),
        textWithoutNul(only.request_id),
        jsonb(only.old_values),
        jsonb(only.new_values),
      ]);
    } else {
      await runFixed(tx, APPEND_MANY, [jsonWithoutNul(rows)]);
    }
    this.sealer.schedule();
  }

  /**
   * Entries, each with its origin, as one JSON parameter for `insertPendingFromJson`, for a
   * writer that records its change and the entries in one statement; null when auditing is
   * off. Call `appended()` once the statement has run.
   */
  pendingJson(items: Array<{ origin: AuditOrigin; entry: AuditEntryInput }>): string | null {
    if (!this.options.enabled) return null;
    const timestamp = this.now();
    return jsonWithoutNul(items.map(({ origin, entry }) => pendingRow(origin, entry, timestamp)));
  }

  /** After a `pendingJson` statement: the new entries are chained shortly after. */
  appended(): void {
    if (this.options.enabled) this.sealer.schedule();
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /**
   * Chains every entry committed so far (waiting for another process's sealer if need be).
   * Every audit read calls it first; tests call it before reading audit_logs directly.
   */
  flush(): Promise<number> {
    return this.sealer.flush();
  }

  /**
   * Starts sealing in the background: now (what a crashed process left), then every period on
   * a pool, or once appends pause (within a period) on PGlite.
   */
  start(): void {
    if (this.options.enabled) this.sealer.start(this.options.sealIntervalMs);
  }

  /** Stops the background sealing and seals what is left (at shutdown). */
  stop(): Promise<void> {
    return this.sealer.stop();
  }

  /** The ChangeRecorder side: one entry per changed record, in the change's transaction. */
  async record(tx: Transaction, change: RecordedChange): Promise<void> {
    await this.append(tx, originFromContext(change.context), [toEntry(change)]);
  }

  /** An entry in its own transaction, with user, address and request id from the request. */
  async logFromRequest(request: FastifyRequest, entry: AuditEntryInput, origin: AuditOrigin = {}) {
    await this.logAction(entry, { ...originFromContext(changeContextFrom(request)), ...origin });
  }

  /** An entry for jobs and system work, in its own transaction unless one is given. */
  async logAction(entry: AuditEntryInput, origin: AuditOrigin = {}, tx?: Transaction) {
    if (!this.options.enabled) return;
    if (tx) return this.append(tx, origin, [entry]);
    await this.db.transaction((own) => this.append(own, origin, [entry]));
  }

  /** Walks the whole chain in id order and reports every broken link. */
  async verify(): Promise<VerificationReport> {
    // A chain that cannot be extended (say, a row forged behind the head makes sealing fail)
    // is still walked, so that the report names the problem instead of an error.
    await this.flush().catch(() => 0);
    // One snapshot: retention deleting a batch meanwhile must not look like a missing entry.
    return this.db.transaction((tx) => this.verifyIn(tx), {
      isolationLevel: 'repeatable read',
      accessMode: 'read only',
    });
  }

  private async verifyIn(executor: Executor): Promise<VerificationReport> {
    const started = performance.now();
    const [head] = await executor.select().from(auditChainHead).where(eq(auditChainHead.id, 1));
    if (!head) throw new Error('audit_chain_head is missing; run the migrations');
    const verifier = new ChainVerifier(head.anchor_id, head.anchor_hash);
    let firstId: number | null = null;
    let after = head.anchor_id > 0 ? head.anchor_id : -1;
    for (;;) {
      const page = await executor
        .select()
        .from(auditLogs)
        .where(gt(auditLogs.id, after))
        .orderBy(asc(auditLogs.id))
        .limit(5000);
      for (const row of page) {
        firstId ??= row.id;
        verifier.add(row);
      }
      const last = page.at(-1);
      if (!last || page.length < 5000) break;
      after = last.id;
    }
    verifier.finish(head.last_id, head.last_hash);
    return {
      valid: verifier.problems.length === 0,
      checked: verifier.checked,
      first_id: firstId,
      last_id: head.last_id,
      first_problem: verifier.problems[0] ?? null,
      problems: verifier.problems.slice(0, 100),
      duration_ms: Math.round(performance.now() - started),
    };
  }
}

/**
 * How a committed change reads in the audit trail. A restore is an UPDATE that says so; a
 * change of a user's role is a PERMISSION_CHANGE.
 */
function toEntry(change: RecordedChange): AuditEntryInput {
  const roleChanged =
    change.resource === 'USER' && change.action === 'UPDATE' && 'role' in (change.newValues ?? {});
  const action: AuditAction =
    change.action === 'RESTORE' ? 'UPDATE' : roleChanged ? 'PERMISSION_CHANGE' : change.action;
  return {
    action,
    resource: change.resource,
    resourceId: change.resourceId,
    oldValues: change.oldValues,
    newValues: change.newValues,
    details: change.action === 'RESTORE' ? { operation: 'restore' } : null,
  };
}
