// Backup benchmark (npm run bench:backup): a school of BENCH_STUDENTS students (default 100,000)
// with courses, enrollments, grades and attendance at the demo school's proportions per student
// (about 8 enrollments, 4.4 grades and 11.8 attendance marks per enrollment; 20 courses), seeded
// with set-based INSERT … SELECT generate_series. A few real changes through the students
// service give the audit trail a chain. Then, for each mode (a scratch PostgreSQL database, and
// PGlite in a temporary DATA_DIR), in a child process of its own:
// 1. a manual backup through BackupService.create (seconds, file MB, MB/s, rows/s);
// 2. a restore of that backup into the same database through BackupService.restore, which
//    validates the file, takes a safety backup, then replaces every table in one transaction
//    (seconds, MB/s of the backup file, rows/s; the phases are timed from its progress);
// 3. a check that every data table holds the backup's counts and that the audit chain verifies.
// Last, the data_migration of the PGlite school (as the restore left it) into an empty scratch
// PostgreSQL database through DataMigrationService.migrate (src/modules/migration/, imported at
// run time); when that module is missing the report says why instead.
//
// Environment: BENCH_STUDENTS (100000), BENCH_MODES (postgres,pglite), BENCH_DATABASE_URL or
// TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
// The JSON report goes to stdout, then a one-line summary; progress goes to stderr.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../src/config.ts';
import { AuditLogger, type AuditOrigin } from '../src/modules/audit/audit.logger.ts';
import { BACKUP_TABLES } from '../src/modules/backups/backup.tables.ts';
import type { ProgressSink } from '../src/modules/backups/backups.service.ts';
import {
  type Database,
  type DatabaseHandle,
  openDatabase,
  queryRows,
} from '../src/platform/db/client.ts';
import { SYSTEM_CONTEXT } from '../src/platform/http/request-context.ts';
import { createServices } from '../src/services.ts';
import { createScratchDatabase, findPostgres, runNode } from './children.ts';
import { envCount, loadAverage, machine, mb, round, seconds } from './report.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const MODES = ['postgres', 'pglite'] as const;
type Mode = (typeof MODES)[number];
/** Tables whose counts a restore must bring back exactly (the audit trail grows by its entries). */
const AUDIT_TABLES = new Set(['audit_logs', 'audit_chain_head', 'audit_pending']);
const CHILD_TIMEOUT_MS = 4 * 3_600_000;

const log = (message: string) => process.stderr.write(`[bench:backup] ${message}\n`);
const sum = (counts: Record<string, number>) =>
  Object.values(counts).reduce((total, n) => total + n, 0);

/** The school, table by table, in the order of their references. */
async function seed(db: Database, students: number) {
  await db.execute(sql`
    INSERT INTO students (student_id, first_name, last_name, email, father_name, mobile_phone,
      phone, study_year, enrollment_date, is_active, academic_year, class_division, note)
    SELECT 'S' || lpad(g::text, 7, '0'),
           (ARRAY['Ελένη','Γεώργιος','Μαρία','Νικόλαος','Αικατερίνη','Anna','John'])[1 + g % 7],
           (ARRAY['Παπαδοπούλου','Νικολάου','Οικονόμου','Γεωργίου','Smith','Brown'])[1 + g % 6],
           's' || g || '@school.test',
           (ARRAY['Δημήτριος','Ιωάννης','Κωνσταντίνος','Peter'])[1 + g % 4],
           '+30 69' || lpad((g % 100000000)::text, 8, '0'),
           CASE WHEN g % 3 = 0 THEN '+30 210 ' || lpad((g % 10000000)::text, 7, '0') END,
           1 + g % 4,
           date '2022-09-01' + (g % 1100),
           g % 33 <> 0,
           '2025-2026',
           (ARRAY['A','B','C','D'])[1 + g % 4] || (1 + g % 3),
           CASE WHEN g % 12 = 0 THEN 'Σημείωση για τον μαθητή ' || g END
    FROM generate_series(1, ${students}) AS g`);
  // Ten courses a semester, as in the demo school.
  await db.execute(sql`
    INSERT INTO courses (course_code, course_name, semester, credits, description,
      evaluation_rules, absence_penalty, hours_per_week, teaching_schedule)
    SELECT 'BC' || lpad(c::text, 3, '0'),
           'Course ' || c,
           CASE WHEN c <= 10 THEN 'Fall 2025' ELSE 'Spring 2026' END,
           3 + c % 4,
           'A course of the benchmark school',
           '[{"category":"Midterm","weight":30},{"category":"Final","weight":50},{"category":"Homework","weight":20}]'::jsonb,
           0.5,
           4,
           '[{"day":"Monday","start_time":"09:00","end_time":"11:00"},{"day":"Thursday","start_time":"11:00","end_time":"13:00"}]'::jsonb
    FROM generate_series(1, 20) AS c`);
  // Eight courses per student (the demo averages 7.8).
  await db.execute(sql`
    INSERT INTO course_enrollments (student_id, course_id, enrollment_date, status)
    SELECT s.id, c.id,
           CASE WHEN c.semester = 'Fall 2025' THEN date '2025-09-08' ELSE date '2026-02-02' END,
           CASE WHEN s.id % 50 = 0 THEN 'dropped' WHEN c.semester = 'Fall 2025' THEN 'completed'
                ELSE 'active' END
    FROM students s CROSS JOIN courses c
    WHERE (s.id * 7 + c.id * 13) % 10 < 4`);
  // 4.44 grades per enrollment.
  await db.execute(sql`
    INSERT INTO grades (student_id, course_id, assignment_name, category, grade, max_grade,
      weight, date_assigned, date_submitted, notes)
    SELECT e.student_id, e.course_id,
           'Assignment ' || n,
           (ARRAY['Homework','Midterm','Final','Project','Quiz'])[n],
           ((e.id * 31 + n * 17) % 81) + 20,
           100,
           1,
           e.enrollment_date + n * 14,
           e.enrollment_date + n * 14 + 5,
           CASE WHEN (e.id + n) % 20 = 0 THEN 'Late submission' END
    FROM course_enrollments e,
         generate_series(1, CASE WHEN e.id % 9 < 4 THEN 5 ELSE 4 END) AS n`);
  // 11.8 attendance marks per enrollment, one a week.
  await db.execute(sql`
    INSERT INTO attendance (student_id, course_id, date, status, period_number, notes)
    SELECT e.student_id, e.course_id,
           e.enrollment_date + w * 7,
           CASE WHEN (e.id * 11 + w) % 29 = 0 THEN 'Absent' WHEN (e.id + w) % 41 = 0 THEN 'Late'
                WHEN (e.id + w * 3) % 97 = 0 THEN 'Excused' ELSE 'Present' END,
           2,
           CASE WHEN (e.id + w * 3) % 97 = 0 THEN 'Medical certificate' END
    FROM course_enrollments e,
         generate_series(1, CASE WHEN e.id % 5 = 0 THEN 11 ELSE 12 END) AS w`);
  await db.execute(sql`ANALYZE`);
}

async function tableCounts(db: Database): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of BACKUP_TABLES) {
    const [row] = await queryRows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM ${sql.identifier(table.name)}`,
    );
    counts[table.name] = Number(row?.n ?? 0);
  }
  return counts;
}

interface ModeResult {
  mode: Mode;
  seed_seconds: number;
  rows: number;
  counts: Record<string, number>;
  backup: {
    seconds: number;
    file_mb: number;
    mb_per_second: number;
    rows_per_second: number;
    peak_rss_mb: number;
  };
  restore: {
    seconds: number;
    mb_per_second: number;
    rows_per_second: number;
    phases: { validate_seconds: number; safety_backup_seconds: number; replace_seconds: number };
    peak_rss_mb: number;
  };
  verified: { counts_match: true; audit_chain_valid: true; audit_entries_checked: number };
  database_mb: number | null;
}

/** In the child: seed one database, back it up, restore the backup, check the result. */
async function child(mode: Mode, url: string, dataDir: string, students: number) {
  const database: DatabaseHandle =
    mode === 'postgres'
      ? await openDatabase({ kind: 'postgres', url, poolSize: 4 })
      : await openDatabase({ kind: 'pglite', dataDir });
  await database.migrate();
  const config = loadConfig({
    DATA_DIR: dataDir,
    ...(mode === 'postgres' ? { DATABASE_URL: url } : {}),
    JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256-signing',
    LOG_LEVEL: 'silent',
  });
  const services = createServices(database.db, config);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  try {
    log(`${mode}: seeding ${students} students`);
    const seedStarted = performance.now();
    await seed(database.db, students);
    // A few real changes, so the backup carries an audit chain for the restore to keep.
    for (const id of [1, 2, 3]) {
      await services.students.update(
        id,
        { note: `Changed before the backup (${id})` },
        SYSTEM_CONTEXT,
      );
    }
    await services.audit.flush();
    const seedSeconds = seconds(seedStarted);
    const before = await tableCounts(database.db);
    log(`${mode}: seeded ${sum(before)} rows in ${round(seedSeconds)} s; backing up`);

    peakRss = process.memoryUsage().rss;
    const backupStarted = performance.now();
    const manifest = await services.backups.create('manual', {});
    const backupSeconds = seconds(backupStarted);
    const backupPeak = peakRss;
    const rows = sum(manifest.counts);
    log(`${mode}: backup ${mb(manifest.size_bytes)} MB in ${round(backupSeconds)} s; restoring`);

    // The restore reports "Taking a safety backup" once the file is validated, then
    // "Restored …" after each page it inserts; the first of those ends the safety backup
    // and the deletes.
    let validatedAt: number | null = null;
    let firstInsertAt: number | null = null;
    const onProgress: ProgressSink = (update) => {
      if (update.message === 'Taking a safety backup') validatedAt = performance.now();
      else if (firstInsertAt === null && update.message.startsWith('Restored')) {
        firstInsertAt = performance.now();
      }
    };
    peakRss = process.memoryUsage().rss;
    const restoreStarted = performance.now();
    await services.backups.restore(manifest.name, {}, onProgress);
    const restoreSeconds = seconds(restoreStarted);
    const restorePeak = peakRss;
    const validated = validatedAt ?? restoreStarted;
    const inserting = firstInsertAt ?? validated;
    log(`${mode}: restored in ${round(restoreSeconds)} s; checking`);

    const after = await tableCounts(database.db);
    for (const [table, count] of Object.entries(manifest.counts)) {
      const restored = after[table] ?? 0;
      const expected = AUDIT_TABLES.has(table) ? restored >= count : restored === count;
      if (!expected || (!AUDIT_TABLES.has(table) && before[table] !== count)) {
        throw new Error(
          `${mode}: ${table} had ${before[table]} rows, the backup ${count}, the restored database ${restored}`,
        );
      }
    }
    const chain = await services.audit.verify();
    if (!chain.valid) throw new Error(`${mode}: the audit chain does not verify after the restore`);

    const [size] = await queryRows<{ bytes: string | number }>(
      database.db,
      sql`SELECT pg_database_size(current_database()) AS bytes`,
    ).catch(() => [undefined]);
    const result: ModeResult = {
      mode,
      seed_seconds: round(seedSeconds, 1),
      rows,
      counts: manifest.counts,
      backup: {
        seconds: round(backupSeconds, 2),
        file_mb: mb(manifest.size_bytes),
        mb_per_second: round(manifest.size_bytes / 1_048_576 / backupSeconds, 2),
        rows_per_second: Math.round(rows / backupSeconds),
        peak_rss_mb: mb(backupPeak),
      },
      restore: {
        seconds: round(restoreSeconds, 2),
        mb_per_second: round(manifest.size_bytes / 1_048_576 / restoreSeconds, 2),
        rows_per_second: Math.round(rows / restoreSeconds),
        phases: {
          validate_seconds: round((validated - restoreStarted) / 1000, 2),
          safety_backup_seconds: round((inserting - validated) / 1000, 2),
          // From the first page inserted (its own time is small) to the end of the commit.
          replace_seconds: round((restoreStarted + restoreSeconds * 1000 - inserting) / 1000, 2),
        },
        peak_rss_mb: mb(restorePeak),
      },
      verified: {
        counts_match: true,
        audit_chain_valid: true,
        audit_entries_checked: chain.checked,
      },
      database_mb: size ? mb(Number(size.bytes)) : null,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    clearInterval(sampler);
    await services.audit.stop();
    await services.bus.close();
    await database.close();
  }
}

/** Runs one mode in a child process and reads its JSON line. */
async function runMode(
  mode: Mode,
  url: string,
  dataDir: string,
  students: number,
): Promise<ModeResult> {
  const output = await runNode(
    `backup-${mode}`,
    ['--import', 'tsx', 'bench/backup.bench.ts', '--child', mode, url, dataDir, String(students)],
    { ...process.env },
    ROOT,
    CHILD_TIMEOUT_MS,
  );
  const line = output
    .split('\n')
    .reverse()
    .find((candidate) => candidate.startsWith('{'));
  if (!line) throw new Error(`backup-${mode} printed no result:\n${output}`);
  return JSON.parse(line) as ModeResult;
}

// ---------------------------------------------------------------------------------------------
// data_migration: PGlite to PostgreSQL, through the migration module when there is one.

/** The migration module's files, imported at run time: it may not be there yet. */
const MIGRATION_SERVICE = '../src/modules/migration/data-migration.service.ts';
const MIGRATION_TARGET_URL = '../src/modules/migration/target-url.ts';

/** What the bench uses of the migration module (checked at run time). */
interface MigrationModule {
  DataMigrationService: new (
    db: Database,
    audit: AuditLogger,
  ) => {
    migrate(
      target: unknown,
      origin: AuditOrigin,
    ): Promise<{
      tables: Record<string, { source: number; target: number }>;
      audit_chain: { valid: boolean; checked: number };
    }>;
  };
  parseTargetUrl(text: string): unknown;
}

type MigrationResult =
  | { skipped: string }
  | {
      seconds: number;
      rows: number;
      rows_per_second: number;
      target_counts_match: true;
      audit_chain_valid: true;
    };

/** Loads the migration module, or says why it cannot be used. */
async function loadMigration(): Promise<MigrationModule | string> {
  for (const file of [MIGRATION_SERVICE, MIGRATION_TARGET_URL]) {
    const absolute = fileURLToPath(new URL(file, import.meta.url));
    if (!existsSync(absolute)) return `${path.relative(ROOT, absolute)} does not exist yet`;
  }
  const service = (await import(MIGRATION_SERVICE)) as Partial<MigrationModule>;
  const targetUrl = (await import(MIGRATION_TARGET_URL)) as Partial<MigrationModule>;
  if (typeof service.DataMigrationService !== 'function') {
    return 'the migration module does not export DataMigrationService';
  }
  if (typeof targetUrl.parseTargetUrl !== 'function') {
    return 'the migration module does not export parseTargetUrl';
  }
  return {
    DataMigrationService: service.DataMigrationService,
    parseTargetUrl: targetUrl.parseTargetUrl,
  };
}

/**
 * Copies the PGlite school in `pgliteDataDir` into a new, empty scratch PostgreSQL database
 * with DataMigrationService.migrate (which migrates the target's schema, copies every table in
 * one transaction and verifies the counts and the audit chain there).
 */
async function dataMigration(
  pgliteDataDir: string | null,
  serverUrl: string | null,
): Promise<MigrationResult> {
  if (!pgliteDataDir) return { skipped: 'the pglite mode did not run (BENCH_MODES)' };
  if (!serverUrl) return { skipped: 'no PostgreSQL server to migrate into' };
  const migration = await loadMigration();
  if (typeof migration === 'string') return { skipped: migration };
  const target = await createScratchDatabase(serverUrl, 'registrar_bench_migration');
  const source = await openDatabase({ kind: 'pglite', dataDir: pgliteDataDir });
  const audit = new AuditLogger(source.db, { enabled: true });
  try {
    const rows = sum(await tableCounts(source.db));
    const service = new migration.DataMigrationService(source.db, audit);
    const started = performance.now();
    const report = await service.migrate(migration.parseTargetUrl(target.url), {});
    const elapsed = seconds(started);
    const differ = Object.entries(report.tables).filter(([, n]) => n.source !== n.target);
    if (differ.length > 0)
      throw new Error(
        `data_migration: counts differ in ${differ.map(([name]) => name).join(', ')}`,
      );
    if (!report.audit_chain.valid) throw new Error('data_migration: the audit chain is broken');
    return {
      seconds: round(elapsed, 2),
      rows,
      rows_per_second: Math.round(rows / elapsed),
      target_counts_match: true,
      audit_chain_valid: true,
    };
  } finally {
    await audit.stop();
    await source.close();
    await target.drop().catch(() => {});
  }
}

async function main() {
  const students = envCount('BENCH_STUDENTS', 100_000);
  const modes = (process.env.BENCH_MODES ?? MODES.join(','))
    .split(',')
    .map((mode) => mode.trim())
    .filter(Boolean);
  for (const mode of modes) {
    if (!MODES.includes(mode as Mode)) throw new Error(`BENCH_MODES: unknown mode ${mode}`);
  }
  const loadAtStart = loadAverage();
  const server = await findPostgres(DEFAULT_POSTGRES_URL);
  const serverUrl = 'skipped' in server ? null : server.url;
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'registrar-bench-backup-'));
  const results: Record<string, ModeResult | { skipped: string }> = {};
  let pgliteDataDir: string | null = null;
  try {
    for (const mode of modes as Mode[]) {
      const dataDir = path.join(workDir, mode);
      if (mode === 'postgres') {
        if (!serverUrl) {
          results.postgres = { skipped: 'skipped' in server ? server.skipped : 'no PostgreSQL' };
          continue;
        }
        const scratch = await createScratchDatabase(serverUrl, 'registrar_bench_backup');
        try {
          results.postgres = await runMode(mode, scratch.url, dataDir, students);
        } finally {
          await scratch.drop().catch(() => {});
        }
      } else {
        results.pglite = await runMode(mode, '-', dataDir, students);
        pgliteDataDir = dataDir;
      }
    }
    log('data_migration');
    const migration = await dataMigration(pgliteDataDir, serverUrl);

    const report = {
      benchmark: 'backup',
      date: new Date().toISOString(),
      machine: machine(loadAtStart),
      postgres_version: 'skipped' in server ? null : server.version,
      students,
      modes: results,
      data_migration: migration,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    const parts = Object.entries(results).map(([mode, result]) =>
      'skipped' in result
        ? `${mode} skipped`
        : `${mode}: backup ${result.backup.seconds} s (${result.backup.file_mb} MB, ${result.backup.mb_per_second} MB/s), restore ${result.restore.seconds} s (${result.restore.mb_per_second} MB/s)`,
    );
    parts.push(
      'skipped' in migration
        ? 'data_migration skipped'
        : `data_migration ${migration.seconds} s (${migration.rows_per_second} rows/s)`,
    );
    const rows = Object.values(results).find((result) => !('skipped' in result)) as
      | ModeResult
      | undefined;
    process.stdout.write(
      `bench:backup ${students} students (${rows?.rows ?? '?'} rows): ${parts.join('; ')}\n`,
    );
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

try {
  const childIndex = process.argv.indexOf('--child');
  if (childIndex >= 0) {
    const [mode, url, dataDir, students] = process.argv.slice(childIndex + 1);
    if (!MODES.includes(mode as Mode) || !url || !dataDir || !students) {
      throw new Error('usage: backup.bench.ts --child postgres|pglite URL|- DATA_DIR STUDENTS');
    }
    await child(mode as Mode, url, dataDir, Number(students));
  } else {
    await main();
  }
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
