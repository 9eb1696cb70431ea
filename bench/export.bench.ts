// Export benchmark (npm run bench:export): seeds BENCH_ROWS students (default 1,000,000) into a
// scratch PostgreSQL database with one INSERT … SELECT generate_series, then exports them to
// CSV and to XLSX through the export_large job handler (the same keyset batches, writers and
// file handling a real job uses; progress is not written to a jobs row). Each export runs in
// a child process of its own so its memory is measured alone: the child samples
// process.memoryUsage().rss every 50 ms and also reports the kernel's max RSS.
//
// Environment: BENCH_ROWS (1000000), BENCH_FORMATS (csv,xlsx), BENCH_DATABASE_URL or
// TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
// BENCH_ENFORCE_TARGETS=1 (exit 1 when a target is missed).
// The JSON report goes to stdout, then a one-line summary; progress goes to stderr.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { AuditLogger } from '../src/modules/audit/audit.logger.ts';
import { exportLargeHandler } from '../src/modules/exports/export-large.job.ts';
import type { JobResponse } from '../src/modules/jobs/jobs.manager.ts';
import { openDatabase } from '../src/platform/db/client.ts';
import { createScratchDatabase, findPostgres, runNode } from './children.ts';
import { envCount, mb, round } from './report.ts';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const TARGETS = { peak_rss_mb_max: 250 } as const;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const log = (message: string) => process.stderr.write(`[bench:export] ${message}\n`);

interface ChildResult {
  format: string;
  rows: number;
  bytes: number;
  seconds: number;
  rows_per_second: number;
  peak_rss_mb: number;
  kernel_max_rss_mb: number;
  rss_before_mb: number;
  peak_heap_total_mb: number;
  peak_external_mb: number;
}

/** In the child: one export through the job handler, timed, with its RSS sampled. */
async function runChild(format: 'csv' | 'xlsx', url: string, dataDir: string) {
  let peak = process.memoryUsage().rss;
  let peakHeap = 0;
  let peakExternal = 0;
  let samples = 0;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peak = Math.max(peak, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapTotal);
    peakExternal = Math.max(peakExternal, usage.external);
    // BENCH_MEMORY_TRACE=1: the breakdown once a second, to see what grows.
    if (process.env.BENCH_MEMORY_TRACE === '1' && ++samples % 20 === 0) {
      process.stderr.write(
        `rss ${mb(usage.rss)} heapTotal ${mb(usage.heapTotal)} heapUsed ${mb(usage.heapUsed)} external ${mb(usage.external)} arrayBuffers ${mb(usage.arrayBuffers)}\n`,
      );
    }
  }, 50);
  const database = await openDatabase({ kind: 'postgres', url, poolSize: 2 });
  const rssBefore = process.memoryUsage().rss;
  const handler = exportLargeHandler({
    db: database.db,
    dataDir,
    audit: new AuditLogger(database.db, { enabled: true }),
  });
  const job = {
    id: `00000000-0000-4000-8000-${String(process.pid).padStart(12, '0')}`,
    job_type: 'export_large',
    user_id: null,
  } as unknown as JobResponse;
  const started = performance.now();
  const result = await handler.run({
    job,
    payload: handler.payload.parse({ resource: 'students', format }),
    signal: new AbortController().signal,
    progress: async () => {},
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  await database.close();
  if (!result.success) throw new Error(`export failed: ${result.message}`);
  const data = result.data as { rows: number; bytes: number };
  const report: ChildResult = {
    format,
    rows: data.rows,
    bytes: data.bytes,
    seconds: round(seconds, 2),
    rows_per_second: Math.round(data.rows / seconds),
    peak_rss_mb: mb(peak),
    // ru_maxrss, in KiB on Linux: the kernel's own high-water mark, sampling or not.
    kernel_max_rss_mb: mb(process.resourceUsage().maxRSS * 1024),
    rss_before_mb: mb(rssBefore),
    peak_heap_total_mb: mb(peakHeap),
    peak_external_mb: mb(peakExternal),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** One INSERT … SELECT: Greek and Latin names, e-mails, phones, a formula payload every 1,000 rows. */
async function seed(url: string, rows: number) {
  const database = await openDatabase({ kind: 'postgres', url, poolSize: 1 });
  try {
    await database.migrate();
    // The trigram index serves list searches, not exports; without it the seed is minutes faster.
    await database.db.execute(sql`DROP INDEX IF EXISTS idx_students_search_trgm`);
    await database.db.execute(sql`
      INSERT INTO students (student_id, first_name, last_name, email, father_name, mobile_phone,
        study_year, enrollment_date, is_active, academic_year, class_division, note)
      SELECT 'S' || lpad(g::text, 8, '0'),
             (ARRAY['Ελένη','Γεώργιος','Μαρία','Νικόλαος','Αικατερίνη','Anna','John'])[1 + g % 7],
             (ARRAY['Παπαδοπούλου','Νικολάου','Οικονόμου','Γεωργίου','Smith','Brown'])[1 + g % 6] || ' ' || g,
             's' || g || '@school.test',
             (ARRAY['Δημήτριος','Ιωάννης','Κωνσταντίνος', NULL])[1 + g % 4],
             '69' || lpad((g % 100000000)::text, 8, '0'),
             1 + g % 4,
             date '2020-09-01' + (g % 1500),
             g % 10 <> 0,
             '2025-2026',
             (ARRAY['Α1','Α2','Β1','Β2','Γ1'])[1 + g % 5],
             CASE WHEN g % 1000 = 0 THEN '=HYPERLINK("http://evil.test","click")'
                  WHEN g % 3 = 0 THEN 'Σημείωση για τον μαθητή ' || g ELSE NULL END
      FROM generate_series(1, ${rows}) AS g`);
    await database.db.execute(sql`ANALYZE students`);
  } finally {
    await database.close();
  }
}

async function main() {
  const rows = envCount('BENCH_ROWS', 1_000_000);
  const formats = (process.env.BENCH_FORMATS ?? 'csv,xlsx').split(',').map((f) => f.trim());
  const server = await findPostgres(DEFAULT_POSTGRES_URL);
  if ('skipped' in server) throw new Error(`bench:export needs PostgreSQL: ${server.skipped}`);
  const scratch = await createScratchDatabase(server.url, 'registrar_bench_export');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'registrar-export-bench-'));
  try {
    log(`seeding ${rows} students into ${scratch.name}`);
    const seedStarted = performance.now();
    await seed(scratch.url, rows);
    const seedSeconds = round((performance.now() - seedStarted) / 1000, 1);
    log(`seeded in ${seedSeconds} s`);

    const results: ChildResult[] = [];
    for (const format of formats) {
      log(`exporting to ${format}`);
      const output = await runNode(
        `export-${format}`,
        ['--import', 'tsx', 'bench/export.bench.ts', '--child', format, scratch.url, dataDir],
        { ...process.env },
        ROOT,
        3_600_000,
      );
      const line = output
        .split('\n')
        .reverse()
        .find((candidate) => candidate.startsWith('{'));
      if (!line) throw new Error(`export-${format} printed no result:\n${output}`);
      if (process.env.BENCH_MEMORY_TRACE === '1') process.stderr.write(output);
      const result = JSON.parse(line) as ChildResult;
      results.push(result);
      log(`${format}: ${result.rows_per_second} rows/s, peak RSS ${result.peak_rss_mb} MB`);
    }

    const report = {
      benchmark: 'export',
      date: new Date().toISOString(),
      node: process.version,
      postgres: server.version,
      rows,
      seed_seconds: seedSeconds,
      batch_size: 1000,
      results,
      targets: {
        peak_rss_mb_max: TARGETS.peak_rss_mb_max,
        met: results.every(
          (result) =>
            Math.max(result.peak_rss_mb, result.kernel_max_rss_mb) < TARGETS.peak_rss_mb_max,
        ),
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(
      `export of ${rows} students: ${results
        .map(
          (result) =>
            `${result.format} ${result.rows_per_second} rows/s, ${mb(result.bytes)} MB, peak RSS ${Math.max(result.peak_rss_mb, result.kernel_max_rss_mb)} MB`,
        )
        .join(
          '; ',
        )} (target < ${TARGETS.peak_rss_mb_max} MB: ${report.targets.met ? 'met' : 'NOT met'})\n`,
    );
    if (process.env.BENCH_ENFORCE_TARGETS === '1' && !report.targets.met) process.exitCode = 1;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    await scratch.drop();
  }
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) {
  const [format, url, dataDir] = process.argv.slice(childIndex + 1);
  if ((format !== 'csv' && format !== 'xlsx') || !url || !dataDir) {
    throw new Error('usage: export.bench.ts --child csv|xlsx URL DATA_DIR');
  }
  await runChild(format, url, dataDir);
} else {
  await main();
}
