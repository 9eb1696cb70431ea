import { sql } from 'drizzle-orm';
import pg from 'pg';
import {
  type Database,
  type DatabaseHandle,
  type Executor,
  openDatabase,
  queryRows,
} from '../../platform/db/client.ts';
import { HttpProblem } from '../../platform/http/problems.ts';
import { type AuditEntryInput, AuditLogger, type AuditOrigin } from '../audit/audit.logger.ts';
import { describeError, type ProgressSink } from '../backups/backups.service.ts';
import { copyTables, countRows, tableCounts } from '../backups/table-copy.ts';
import { connectionUrl, type TargetUrl } from './target-url.ts';

/** How long to wait for the target server before calling it unreachable. */
const CONNECT_TIMEOUT_MS = 5_000;

export interface MigrationReport {
  target: string;
  tables: Record<string, { source: number; target: number }>;
  audit_chain: { valid: boolean; checked: number };
  seconds: number;
}

const problem = (slug: string, detail: string) =>
  new HttpProblem(422, slug, 'Unprocessable Content', detail);

/**
 * Moves an install's data into an empty PostgreSQL database (data_migration): the target's
 * schema is migrated, every data table is copied from one snapshot of this database in one
 * target transaction, then counts and the audit chain are verified on the target. This
 * database is only read; the school then restarts with DATABASE_URL set to the target.
 */
export class DataMigrationService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLogger,
  ) {}

  /**
   * Refuses (422) a target that cannot be reached or already holds data. Writes nothing,
   * so the API answers bad input before a job is made.
   */
  async check(target: TargetUrl): Promise<void> {
    const client = new pg.Client({
      connectionString: connectionUrl(target),
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: 'registrar-migrate-data',
    });
    // A server that drops the connection later must not crash the process.
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw problem(
        'migration-target-unreachable',
        `Cannot connect to the target database ${target.label}: ${describeError(error) || 'no answer'}.`,
      );
    }
    try {
      const filled = await tablesWithRows(client);
      if (filled.length > 0) {
        throw problem(
          'migration-target-not-empty',
          `The target database ${target.label} is not empty: ${filled.join(', ')} hold rows. Migrate into a new, empty database (CREATE DATABASE …) that Registrar has not been started on.`,
        );
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Checks, migrates the target's schema, copies, verifies; throws with nothing committed on failure. */
  async migrate(
    target: TargetUrl,
    origin: AuditOrigin,
    onProgress: ProgressSink = () => {},
    signal?: AbortSignal,
  ): Promise<MigrationReport> {
    const started = performance.now();
    const entry: AuditEntryInput = {
      action: 'OTHER',
      resource: 'SYSTEM',
      resourceId: 'data_migration',
      details: { operation: 'data_migration', target: target.label },
    };
    let database: DatabaseHandle | null = null;
    let targetAudit: AuditLogger | null = null;
    try {
      onProgress({ current: 0, total: 0, message: `Checking ${target.label}` });
      await this.check(target);
      database = await openDatabase({ kind: 'postgres', url: connectionUrl(target), poolSize: 2 });
      onProgress({ current: 0, total: 0, message: `Creating the schema in ${target.label}` });
      await database.migrate();
      targetAudit = new AuditLogger(database.db, { enabled: this.audit.enabled });
      // Pending entries are chained first, so the copied trail verifies as it stands.
      await this.audit.flush();
      const tables = await this.copy(database.db, targetAudit, origin, entry, onProgress, signal);
      onProgress({ current: 0, total: 0, message: 'Verifying the audit chain on the target' });
      const chain = await targetAudit.verify();
      const report: MigrationReport = {
        target: target.label,
        tables,
        audit_chain: { valid: chain.valid, checked: chain.checked },
        seconds: Math.round((performance.now() - started) / 10) / 100,
      };
      if (!chain.valid) {
        throw new Error(
          `the audit chain on ${target.label} does not verify (${chain.first_problem?.message ?? 'broken'}); drop that database and do not switch to it`,
        );
      }
      await this.audit.logAction(
        { ...entry, details: { ...entry.details, tables, audit_chain: report.audit_chain } },
        origin,
      );
      return report;
    } catch (error) {
      await this.audit
        .logAction({ ...entry, success: false, errorMessage: describeError(error) }, origin)
        .catch(() => undefined);
      throw error;
    } finally {
      await targetAudit?.stop().catch(() => undefined);
      await database?.close().catch(() => undefined);
    }
  }

  /**
   * One snapshot of this database into one target transaction: a failure or a cancel (checked
   * between pages) rolls the target back to empty. Counts are compared before the commit.
   */
  private copy(
    target: Database,
    targetAudit: AuditLogger,
    origin: AuditOrigin,
    entry: AuditEntryInput,
    onProgress: ProgressSink,
    signal: AbortSignal | undefined,
  ): Promise<MigrationReport['tables']> {
    return this.db.transaction(
      async (source) => {
        const total = await countRows(source);
        onProgress({ current: 0, total, message: `Copying ${total} rows` });
        return target.transaction(async (tx) => {
          // Checked again inside the transaction: nothing that arrived since may be overwritten.
          const filled = await tablesWithRows(tx);
          if (filled.length > 0) {
            throw problem(
              'migration-target-not-empty',
              `The target database is not empty: ${filled.join(', ')} hold rows.`,
            );
          }
          // The migration's all-zero chain head makes way for this install's.
          await tx.execute(sql`DELETE FROM audit_chain_head`);
          await copyTables(source, tx, {
            signal,
            onPage: (table, rows, allRows) =>
              onProgress({
                current: allRows,
                total,
                message: `Copying ${table.name}: ${rows} rows`,
              }),
          });
          const sourceCounts = await tableCounts(source);
          const targetCounts = await tableCounts(tx);
          const tables: MigrationReport['tables'] = {};
          for (const [name, count] of Object.entries(sourceCounts)) {
            tables[name] = { source: count, target: targetCounts[name] ?? 0 };
          }
          const differ = Object.entries(tables).filter(([, n]) => n.source !== n.target);
          if (differ.length > 0) {
            throw new Error(
              `row counts differ on the target: ${differ.map(([name, n]) => `${name} ${n.source}→${n.target}`).join(', ')}`,
            );
          }
          // The target's trail records the move too (sealed when the chain is verified).
          await targetAudit.append(tx, origin, [entry]);
          return tables;
        });
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
  }
}

/**
 * Tables of the public schema that hold rows, as "name (n)". A freshly migrated Registrar
 * schema counts as empty: its only row is the all-zero audit chain head.
 */
async function tablesWithRows(db: pg.Client | Executor): Promise<string[]> {
  const run = async <T>(text: string): Promise<T[]> =>
    db instanceof pg.Client
      ? (await db.query(text)).rows
      : queryRows<T>(db as Executor, sql.raw(text));
  const tables = await run<{ name: string }>(
    `SELECT quote_ident(table_name) AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const filled: string[] = [];
  for (const { name } of tables) {
    const filter = name === 'audit_chain_head' ? ' WHERE last_id <> 0 OR anchor_id <> 0' : '';
    const [row] = await run<{ n: string | number }>(`SELECT count(*) AS n FROM ${name}${filter}`);
    const n = Number(row?.n ?? 0);
    if (n > 0) filled.push(`${name} (${n})`);
  }
  return filled;
}
