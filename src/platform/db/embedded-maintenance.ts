import { sql } from 'drizzle-orm';
import { type Database, queryRows } from './client.ts';

/** How often the embedded database is checked (autovacuum's own default nap is a minute). */
const CHECK_INTERVAL_MS = 60_000;

/** What one pass did, table by table. */
export interface MaintenanceReport {
  vacuumed: string[];
  analyzed: string[];
}

interface TableActivity {
  table: string;
  live: number;
  dead: number;
  changedSinceAnalyze: number;
}

/**
 * PGlite runs PostgreSQL in single-user mode, which has no autovacuum: without this, every
 * row deleted or replaced stays on disk for good (audit_pending takes in and gives back every
 * audit entry, jobs and students are updated all day), and the planner never gets statistics,
 * so it plans a table of 100,000 rows as if it were empty. Once a minute this does what
 * autovacuum would, with its default thresholds: VACUUM a table whose dead rows exceed 50 +
 * 20% of its live ones, ANALYZE one changed by more than 50 + 10% since it was last analysed.
 * Each table is one statement, so requests wait for at most one table at a time.
 */
export class EmbeddedMaintenance {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly db: Database,
    private readonly onError: (error: unknown) => void = (error) =>
      process.stderr.write(
        `Registrar: embedded database maintenance failed, will retry: ${error instanceof Error ? error.message : String(error)}\n`,
      ),
  ) {}

  start(intervalMs = CHECK_INTERVAL_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce()
        .catch(this.onError)
        .finally(() => {
          this.running = null;
        });
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over the tables; what it vacuumed and analysed. */
  async runOnce(): Promise<MaintenanceReport> {
    // The counters of this (the only) session reach the statistics views only when flushed.
    await this.db.execute(sql`SELECT pg_stat_force_next_flush()`);
    const tables = await queryRows<TableActivity>(
      this.db,
      sql`SELECT relname AS "table", n_live_tup::float8 AS live, n_dead_tup::float8 AS dead,
                 n_mod_since_analyze::float8 AS "changedSinceAnalyze"
            FROM pg_stat_user_tables
           WHERE schemaname = 'public'
           ORDER BY relname`,
    );
    const report: MaintenanceReport = { vacuumed: [], analyzed: [] };
    for (const { table, live, dead, changedSinceAnalyze } of tables) {
      const vacuum = dead > 50 + 0.2 * live;
      const analyze = changedSinceAnalyze > 50 + 0.1 * live;
      if (!vacuum && !analyze) continue;
      const name = sql.identifier(table);
      if (vacuum) {
        await this.db.execute(analyze ? sql`VACUUM (ANALYZE) ${name}` : sql`VACUUM ${name}`);
        report.vacuumed.push(table);
      } else {
        await this.db.execute(sql`ANALYZE ${name}`);
      }
      if (analyze) report.analyzed.push(table);
    }
    return report;
  }
}
