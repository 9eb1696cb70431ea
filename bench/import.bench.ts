// Import benchmark (npm run bench:import): writes a BENCH_ROWS-row students CSV (default
// 100,000), then, on scratch PostgreSQL databases with the same migrations (same indexes):
// 1. COPY of the file into students (the baseline; the server reads the file itself);
// 2. Registrar's import end to end: preview (read, validate, look up, store the preview),
//    then the bulk_import job's handler (analyse again, write in batches with per-record
//    audit entries), then sealing the audit entries.
// Peak RSS of this process is sampled every 50 ms during part 2.
//
// Environment: BENCH_ROWS (100000), BENCH_DATABASE_URL or TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres), BENCH_ENFORCE_TARGETS=1.
// The JSON report goes to stdout, then a one-line summary; progress goes to stderr.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../src/config.ts';
import { bulkImportHandler } from '../src/modules/imports/bulk-import.job.ts';
import type { JobResponse } from '../src/modules/jobs/jobs.manager.ts';
import { openDatabase, queryRows } from '../src/platform/db/client.ts';
import { createServices } from '../src/services.ts';
import { createScratchDatabase, findPostgres } from './children.ts';
import { makeStudents } from './students-data.ts';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const TARGET_RATIO = 0.25;
const COLUMNS = [
  'student_id',
  'first_name',
  'last_name',
  'email',
  'father_name',
  'mobile_phone',
  'phone',
  'study_year',
  'enrollment_date',
  'academic_year',
  'class_division',
] as const;

const log = (message: string) => process.stderr.write(`[bench:import] ${message}\n`);
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

const rawRows = Number(process.env.BENCH_ROWS ?? 100_000);
if (!Number.isInteger(rawRows) || rawRows <= 0)
  throw new Error('BENCH_ROWS must be a positive integer');
const rows = rawRows;

function csvField(value: unknown): string {
  const text = value == null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

async function main() {
  const server = await findPostgres(DEFAULT_POSTGRES_URL);
  if ('skipped' in server) throw new Error(server.skipped);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'registrar-bench-import-'));
  // The PostgreSQL server reads the file for COPY, as its own user.
  await chmod(workDir, 0o755);
  const file = path.join(workDir, 'students.csv');
  const copyTarget = await createScratchDatabase(server.url, 'registrar_bench_copy');
  const importTarget = await createScratchDatabase(server.url, 'registrar_bench_import');
  try {
    log(`writing ${rows} rows`);
    const students = makeStudents(rows);
    const lines = [COLUMNS.join(',')];
    for (const student of students) {
      lines.push(COLUMNS.map((column) => csvField(student[column])).join(','));
    }
    const bytes = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    await writeFile(file, bytes);
    await chmod(file, 0o644);

    log('COPY baseline');
    const copyDatabase = await openDatabase({ kind: 'postgres', url: copyTarget.url, poolSize: 1 });
    let copySeconds: number;
    try {
      await copyDatabase.migrate();
      const started = performance.now();
      await copyDatabase.db.execute(
        sql.raw(
          `COPY students (${COLUMNS.join(', ')}) FROM '${file}' WITH (FORMAT csv, HEADER true)`,
        ),
      );
      copySeconds = (performance.now() - started) / 1000;
    } finally {
      await copyDatabase.close();
    }

    log('Registrar import');
    const dataDir = path.join(workDir, 'data');
    const config = loadConfig({
      DATA_DIR: dataDir,
      DATABASE_URL: importTarget.url,
      JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256-signing',
      LOG_LEVEL: 'silent',
      IMPORT_MAX_BYTES: String(Math.max(bytes.byteLength + 1024, 52_428_800)),
    });
    const database = await openDatabase({ kind: 'postgres', url: importTarget.url, poolSize: 10 });
    let peakRss = process.memoryUsage().rss;
    const rssBefore = peakRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    try {
      await database.migrate();
      const services = createServices(database.db, config);
      const actor = {
        id: 1,
        email: 'bench@school.test',
        role: 'admin',
        permissions: ['*'],
        passwordChangeRequired: false,
      };
      const context = { actor, ipAddress: '127.0.0.1', userAgent: 'bench', requestId: null };
      const started = performance.now();
      const preview = await services.imports.preview(
        bytes,
        'students.csv',
        { importType: 'students', allowUpdates: true, skipDuplicates: false, dateOrder: 'DMY' },
        context,
      );
      const previewSeconds = (performance.now() - started) / 1000;
      const handler = bulkImportHandler(database.db, services, services.audit);
      const job = { id: '00000000-0000-4000-8000-000000000000', user_id: actor.id } as JobResponse;
      const result = await handler.run({
        job,
        payload: {
          preview_id: preview.preview_id,
          import_type: 'students',
          file_name: 'students.csv',
          origin: {},
        },
        signal: new AbortController().signal,
        progress: async () => {},
      });
      const writtenSeconds = (performance.now() - started) / 1000;
      await services.audit.flush();
      const totalSeconds = (performance.now() - started) / 1000;
      await services.audit.stop();
      await services.bus.close();
      if (!result.success) throw new Error(`the import failed: ${result.message}`);
      const [counted] = await queryRows<{ n: number }>(
        database.db,
        sql`SELECT count(*)::int AS n FROM students`,
      );

      const copyRate = rows / copySeconds;
      const importRate = rows / writtenSeconds;
      const report = {
        benchmark: 'registrar import',
        date: new Date().toISOString(),
        machine: {
          cpu_count: os.cpus().length,
          node_version: process.version,
          load_average: os.loadavg().map((value) => round(value, 2)),
        },
        postgres_version: server.version,
        rows,
        file_bytes: bytes.byteLength,
        copy: { seconds: round(copySeconds, 2), rows_per_second: Math.round(copyRate) },
        registrar: {
          preview_seconds: round(previewSeconds, 2),
          preview_and_commit_seconds: round(writtenSeconds, 2),
          with_audit_sealed_seconds: round(totalSeconds, 2),
          rows_per_second: Math.round(importRate),
          rows_per_second_with_sealing: Math.round(rows / totalSeconds),
          students_in_table: counted?.n ?? null,
          statistics: result.statistics,
          peak_rss_mb: round(peakRss / 1_048_576),
          rss_before_mb: round(rssBefore / 1_048_576),
        },
        ratio_to_copy: round(importRate / copyRate, 3),
        target: { min_ratio: TARGET_RATIO, met: importRate / copyRate >= TARGET_RATIO },
      };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(
        `bench:import ${rows} rows: COPY ${report.copy.rows_per_second} rows/s, Registrar preview+commit ${report.registrar.rows_per_second} rows/s (${report.ratio_to_copy}x, target >= ${TARGET_RATIO}: ${report.target.met ? 'met' : 'NOT met'}), with audit sealed ${report.registrar.rows_per_second_with_sealing} rows/s, peak RSS ${report.registrar.peak_rss_mb} MB\n`,
      );
      if (process.env.BENCH_ENFORCE_TARGETS === '1' && !report.target.met) process.exitCode = 1;
    } finally {
      clearInterval(sampler);
      await database.close();
    }
  } finally {
    await copyTarget.drop().catch(() => {});
    await importTarget.drop().catch(() => {});
    await rm(workDir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
