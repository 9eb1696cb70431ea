// Import benchmark (npm run bench:import): writes a BENCH_ROWS-row students CSV (default
// 100,000), then, on scratch PostgreSQL databases with the same migrations (same indexes):
// 1. COPY of the file into students (the baseline; the server reads the file itself);
// 2. Registrar's import end to end, in a child process of its own so its memory is measured
//    alone: preview (read the file from disk, validate, look up, store the analysed rows),
//    then the bulk_import job's handler (check each batch again, write it with per-record
//    audit entries), then sealing the audit entries. The child samples its RSS every 50 ms.
// 3. The same import on embedded PGlite (a fresh data directory) of a BENCH_PGLITE_ROWS-row
//    file (default BENCH_ROWS; 0 skips it), for its rate;
// 4. The same import of a BENCH_LARGE_ROWS-row file (default 1,000,000; 0 skips it), for
//    peak RSS against part 2's (target: within 1.5x) and its rate.
//
// Parts 1 and 2 take turns BENCH_ROUNDS times (default 3) and the ratio is of their medians.
//
// Environment: BENCH_ROWS (100000), BENCH_ROUNDS (3), BENCH_PGLITE_ROWS (BENCH_ROWS),
// BENCH_LARGE_ROWS (1000000),
// BENCH_DATABASE_URL or TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
// BENCH_CHILD_NODE_ARGS (node options for the importing child, e.g. --cpu-prof),
// BENCH_ENFORCE_TARGETS=1. The JSON report goes to stdout, then a one-line summary; progress
// goes to stderr.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../src/config.ts';
import { bulkImportHandler } from '../src/modules/imports/bulk-import.job.ts';
import type { JobResponse } from '../src/modules/jobs/jobs.manager.ts';
import { openDatabase, queryRows } from '../src/platform/db/client.ts';
import { createServices } from '../src/services.ts';
import { createScratchDatabase, findPostgres, nodeOptionsFrom, runNode } from './children.ts';
import { envCount, loadAverage, machine, mb, median, round } from './report.ts';
import { makeStudents } from './students-data.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** In place of a PostgreSQL URL: the import runs on embedded PGlite. */
const EMBEDDED = 'embedded';
const TARGETS = { min_ratio_to_copy: 0.25, max_rss_ratio_large_to_small: 1.5 };
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

function csvField(value: unknown): string {
  const text = value == null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Writes the CSV a few thousand lines at a time; returns its size in bytes. */
async function writeStudentsCsv(file: string, rows: number): Promise<number> {
  const out = createWriteStream(file);
  out.write(`${COLUMNS.join(',')}\n`);
  let lines: string[] = [];
  for (const student of makeStudents(rows)) {
    lines.push(COLUMNS.map((column) => csvField(student[column])).join(','));
    if (lines.length === 5000) {
      if (!out.write(`${lines.join('\n')}\n`)) await once(out, 'drain');
      lines = [];
    }
  }
  out.end(lines.length > 0 ? `${lines.join('\n')}\n` : '');
  await finished(out);
  await chmod(file, 0o644);
  return (await stat(file)).size;
}

interface ChildResult {
  rows: number;
  preview_seconds: number;
  preview_and_commit_seconds: number;
  with_audit_sealed_seconds: number;
  rows_per_second: number;
  students_in_table: number | null;
  statistics: unknown;
  rss_before_mb: number;
  peak_rss_mb: number;
  kernel_max_rss_mb: number;
}

/** In the child: one import of the file, preview then the job's handler, with its RSS sampled. */
/** `url` is a PostgreSQL URL, or EMBEDDED for PGlite in `dataDir`. */
async function child(file: string, url: string, dataDir: string) {
  const size = (await stat(file)).size;
  const embedded = url === EMBEDDED;
  const config = loadConfig({
    DATA_DIR: dataDir,
    ...(embedded ? {} : { DATABASE_URL: url }),
    JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256-signing',
    LOG_LEVEL: 'silent',
    IMPORT_MAX_BYTES: String(Math.max(size + 1024, 52_428_800)),
    IMPORT_MAX_ROWS: String(2_000_000),
  });
  const database = embedded
    ? await openDatabase({ kind: 'pglite', dataDir })
    : await openDatabase({ kind: 'postgres', url, poolSize: 10 });
  await database.migrate();
  const services = createServices(database.db, config);
  // The audit sealer runs as in the server or a worker that would run the job.
  services.audit.start();
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  try {
    const actor = {
      id: 1,
      email: 'bench@school.test',
      role: 'admin',
      permissions: ['*'],
      passwordChangeRequired: false,
    };
    const context = { actor, ipAddress: '127.0.0.1', userAgent: 'bench', requestId: null };
    const started = performance.now();
    // As the route does once the upload is on disk.
    const preview = await services.imports.preview(
      { path: file, size },
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
    const report: ChildResult = {
      rows: preview.total_rows,
      preview_seconds: round(previewSeconds, 2),
      preview_and_commit_seconds: round(writtenSeconds, 2),
      with_audit_sealed_seconds: round(totalSeconds, 2),
      rows_per_second: Math.round(preview.total_rows / writtenSeconds),
      students_in_table: counted?.n ?? null,
      statistics: result.statistics,
      rss_before_mb: mb(rssBefore),
      peak_rss_mb: mb(peakRss),
      // ru_maxrss, in KiB on Linux: the kernel's own high-water mark, sampling or not.
      kernel_max_rss_mb: mb(process.resourceUsage().maxRSS * 1024),
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    clearInterval(sampler);
    await database.close();
  }
}

/** Imports `file` into a fresh scratch database (or a fresh PGlite directory), in a child process. */
async function importInChild(
  serverUrl: string | typeof EMBEDDED,
  file: string,
  workDir: string,
): Promise<ChildResult> {
  const target =
    serverUrl === EMBEDDED
      ? { url: EMBEDDED, drop: async () => {} }
      : await createScratchDatabase(serverUrl, 'registrar_bench_import');
  const dataDir = await mkdtemp(path.join(workDir, 'data-'));
  try {
    const output = await runNode(
      'import',
      [
        ...nodeOptionsFrom('BENCH_CHILD_NODE_ARGS'),
        '--import',
        'tsx',
        'bench/import.bench.ts',
        '--child',
        file,
        target.url,
        dataDir,
      ],
      { ...process.env },
      ROOT,
      7_200_000,
    );
    const line = output
      .split('\n')
      .reverse()
      .find((candidate) => candidate.startsWith('{'));
    if (!line) throw new Error(`the import child printed no result:\n${output}`);
    return JSON.parse(line) as ChildResult;
  } finally {
    await target.drop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Seconds COPY takes to load `file` into students on a fresh scratch database. */
async function copyOnce(serverUrl: string, file: string): Promise<number> {
  const copyTarget = await createScratchDatabase(serverUrl, 'registrar_bench_copy');
  try {
    const copyDatabase = await openDatabase({ kind: 'postgres', url: copyTarget.url, poolSize: 1 });
    try {
      await copyDatabase.migrate();
      const started = performance.now();
      await copyDatabase.db.execute(
        sql.raw(
          `COPY students (${COLUMNS.join(', ')}) FROM '${file}' WITH (FORMAT csv, HEADER true)`,
        ),
      );
      return (performance.now() - started) / 1000;
    } finally {
      await copyDatabase.close();
    }
  } finally {
    await copyTarget.drop().catch(() => {});
  }
}

async function main() {
  const loadAtStart = loadAverage();
  const rows = envCount('BENCH_ROWS', 100_000);
  const rounds = envCount('BENCH_ROUNDS', 3);
  const largeRows = envCount('BENCH_LARGE_ROWS', 1_000_000, true);
  const pgliteRows = envCount('BENCH_PGLITE_ROWS', rows, true);
  const server = await findPostgres(DEFAULT_POSTGRES_URL);
  if ('skipped' in server) throw new Error(server.skipped);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'registrar-bench-import-'));
  // The PostgreSQL server reads the file for COPY, as its own user.
  await chmod(workDir, 0o755);
  try {
    log(`writing ${rows} rows`);
    const file = path.join(workDir, 'students.csv');
    const fileBytes = await writeStudentsCsv(file, rows);

    // COPY and the import take turns, so that drift on a shared machine falls on both; the
    // ratio is of the medians.
    const copyRuns: number[] = [];
    const importRuns: ChildResult[] = [];
    for (let turn = 1; turn <= rounds; turn++) {
      log(`round ${turn} of ${rounds}: COPY baseline`);
      copyRuns.push(await copyOnce(server.url, file));
      log(`round ${turn} of ${rounds}: Registrar import`);
      importRuns.push(await importInChild(server.url, file, workDir));
    }
    const copySeconds = median(copyRuns);
    const registrarRate = median(importRuns.map((run) => run.rows_per_second));
    // The run whose details (timings, memory) the report shows: the middle one by rate.
    const registrar = [...importRuns].sort((a, b) => a.rows_per_second - b.rows_per_second)[
      Math.floor((importRuns.length - 1) / 2)
    ]!;
    let embedded: ChildResult | null = null;
    if (pgliteRows > 0) {
      const pgliteFile = path.join(workDir, 'students-pglite.csv');
      if (pgliteRows !== rows) await writeStudentsCsv(pgliteFile, pgliteRows);
      log(`Registrar import of ${pgliteRows} rows on PGlite`);
      embedded = await importInChild(EMBEDDED, pgliteRows === rows ? file : pgliteFile, workDir);
    }
    let large: ChildResult | null = null;
    if (largeRows > 0) {
      log(`writing ${largeRows} rows`);
      const largeFile = path.join(workDir, 'students-large.csv');
      await writeStudentsCsv(largeFile, largeRows);
      log(`Registrar import of ${largeRows} rows`);
      large = await importInChild(server.url, largeFile, workDir);
    }

    const copyRate = rows / copySeconds;
    const ratio = registrarRate / copyRate;
    const peak = (result: ChildResult) => Math.max(result.peak_rss_mb, result.kernel_max_rss_mb);
    const rssRatio = large ? peak(large) / peak(registrar) : null;
    const report = {
      benchmark: 'registrar import',
      date: new Date().toISOString(),
      machine: machine(loadAtStart),
      postgres_version: server.version,
      rows,
      file_bytes: fileBytes,
      rounds,
      copy: {
        seconds: round(copySeconds, 2),
        rows_per_second: Math.round(copyRate),
        seconds_per_round: copyRuns.map((seconds) => round(seconds, 2)),
      },
      registrar: { ...registrar, median_rows_per_second: Math.round(registrarRate) },
      registrar_rows_per_second_per_round: importRuns.map((run) => run.rows_per_second),
      embedded,
      large,
      ratio_to_copy: round(ratio, 3),
      peak_rss_ratio_large_to_small: rssRatio === null ? null : round(rssRatio, 2),
      targets: {
        ...TARGETS,
        ratio_met: ratio >= TARGETS.min_ratio_to_copy,
        rss_met: rssRatio === null ? null : rssRatio <= TARGETS.max_rss_ratio_large_to_small,
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    const embeddedSummary = embedded
      ? `; PGlite ${embedded.rows} rows: ${embedded.rows_per_second} rows/s`
      : '';
    process.stdout.write(
      `bench:import ${rows} rows, median of ${rounds}: COPY ${report.copy.rows_per_second} rows/s, Registrar preview+commit ${Math.round(registrarRate)} rows/s (${report.ratio_to_copy}x, target >= ${TARGETS.min_ratio_to_copy}: ${report.targets.ratio_met ? 'met' : 'NOT met'}), peak RSS ${peak(registrar)} MB${
        large
          ? `; ${large.rows} rows: ${large.rows_per_second} rows/s, peak RSS ${peak(large)} MB (${report.peak_rss_ratio_large_to_small}x, target <= ${TARGETS.max_rss_ratio_large_to_small}: ${report.targets.rss_met ? 'met' : 'NOT met'})`
          : ''
      }${embeddedSummary}\n`,
    );
    const met = report.targets.ratio_met && report.targets.rss_met !== false;
    if (process.env.BENCH_ENFORCE_TARGETS === '1' && !met) process.exitCode = 1;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

try {
  const childIndex = process.argv.indexOf('--child');
  if (childIndex >= 0) {
    const [file, url, dataDir] = process.argv.slice(childIndex + 1);
    if (!file || !url || !dataDir)
      throw new Error('usage: import.bench.ts --child FILE URL|embedded DATA_DIR');
    await child(file, url, dataDir);
  } else {
    await main();
  }
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
