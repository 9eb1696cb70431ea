// Recompute benchmark (npm run bench:recompute): a school of BENCH_STUDENTS students (default
// 10,000), each enrolled in 10 of 20 courses (so 10 result rows each), with 5 grades in three
// rule categories, 12 attendance marks and 4 daily performances per enrollment, seeded with
// set-based INSERT … SELECT generate_series. Then, for each mode (a scratch PostgreSQL
// database, and PGlite in a temporary DATA_DIR), in a child process of its own, the recompute
// of everything through ResultsService.recompute (what the recompute job runs), twice:
// 1. first: every result row is new (inserts);
// 2. again: every row exists (the upsert's update path, the usual case after a change).
// Each reports seconds, result rows per second and the peak RSS of the process.
//
// Environment: BENCH_STUDENTS (10000), BENCH_MODES (postgres,pglite), BENCH_DATABASE_URL or
// TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
// The JSON report goes to stdout, then a one-line summary; progress goes to stderr.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { DEFAULT_GRADE_SCALE } from '../src/modules/results/grade-scale.ts';
import { RECOMPUTE_BATCH_SIZE, ResultsService } from '../src/modules/results/results.service.ts';
import {
  type Database,
  type DatabaseHandle,
  openDatabase,
  queryRows,
} from '../src/platform/db/client.ts';
import { createScratchDatabase, findPostgres, runNode } from './children.ts';
import { envCount, loadAverage, machine, mb, round, seconds } from './report.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const MODES = ['postgres', 'pglite'] as const;
type Mode = (typeof MODES)[number];
const CHILD_TIMEOUT_MS = 2 * 3_600_000;

const log = (message: string) => process.stderr.write(`[bench:recompute] ${message}\n`);

/** The school, table by table, in the order of their references. */
async function seed(db: Database, students: number) {
  await db.execute(sql`
    INSERT INTO students (student_id, first_name, last_name, study_year, is_active)
    SELECT 'R' || lpad(g::text, 7, '0'),
           (ARRAY['Ελένη','Γεώργιος','Μαρία','Νικόλαος','Anna','John'])[1 + g % 6],
           (ARRAY['Παπαδοπούλου','Νικολάου','Οικονόμου','Smith','Brown'])[1 + g % 5],
           1 + g % 4, true
    FROM generate_series(1, ${students}) AS g`);
  // Three rule categories whose weights do not sum to 100 on every course, and a penalty.
  await db.execute(sql`
    INSERT INTO courses (course_code, course_name, semester, credits, evaluation_rules,
      absence_penalty)
    SELECT 'RC' || lpad(c::text, 3, '0'), 'Course ' || c, 'Fall 2025', 3,
           CASE WHEN c % 2 = 0
             THEN '[{"category":"Exams","weight":50},{"category":"Homework","weight":30},{"category":"Project","weight":20}]'::jsonb
             ELSE '[{"category":"Exams","weight":3},{"category":"Homework","weight":1},{"category":"Project","weight":1}]'::jsonb
           END,
           0.5
    FROM generate_series(1, 20) AS c`);
  // Ten courses per student: the ones of the student's parity.
  await db.execute(sql`
    INSERT INTO course_enrollments (student_id, course_id, enrollment_date, status)
    SELECT s.id, c.id, date '2025-09-08', 'active'
    FROM students s JOIN courses c ON (s.id + c.id) % 2 = 0`);
  await db.execute(sql`
    INSERT INTO grades (student_id, course_id, assignment_name, category, grade, max_grade,
      weight, date_assigned)
    SELECT e.student_id, e.course_id, 'Assignment ' || n,
           (ARRAY['Exams','Homework','Homework','Project','Exams'])[n],
           ((e.id * 31 + n * 17) % 81) + 20, 100, 1 + n % 2,
           date '2025-09-08' + n * 14
    FROM course_enrollments e, generate_series(1, 5) AS n`);
  await db.execute(sql`
    INSERT INTO attendance (student_id, course_id, date, status, period_number)
    SELECT e.student_id, e.course_id, date '2025-09-08' + w * 7,
           CASE WHEN (e.id * 11 + w) % 29 = 0 THEN 'Absent' WHEN (e.id + w) % 41 = 0 THEN 'Late'
                WHEN (e.id + w * 3) % 97 = 0 THEN 'Excused' ELSE 'Present' END,
           1
    FROM course_enrollments e, generate_series(1, 12) AS w`);
  await db.execute(sql`
    INSERT INTO daily_performances (student_id, course_id, date, category, score, max_score)
    SELECT e.student_id, e.course_id, date '2025-09-08' + d * 10, 'Participation',
           (e.id + d) % 11, 10
    FROM course_enrollments e, generate_series(1, 4) AS d`);
  await db.execute(sql`ANALYZE`);
}

interface RunResult {
  seconds: number;
  rows: number;
  rows_per_second: number;
  peak_rss_mb: number;
}

interface ModeResult {
  mode: Mode;
  seed_seconds: number;
  enrollments: number;
  first: RunResult;
  again: RunResult;
}

/** In the child: seed one database and time the recompute of everything, twice. */
async function child(mode: Mode, url: string, dataDir: string, students: number) {
  const database: DatabaseHandle =
    mode === 'postgres'
      ? await openDatabase({ kind: 'postgres', url, poolSize: 4 })
      : await openDatabase({ kind: 'pglite', dataDir });
  await database.migrate();
  const results = new ResultsService(database.db);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const run = async (label: string): Promise<RunResult> => {
    peakRss = process.memoryUsage().rss;
    const started = performance.now();
    const report = await results.recompute({ scope: 'all' }, { scale: DEFAULT_GRADE_SCALE });
    const elapsed = seconds(started);
    log(`${mode}: ${label}: ${report.results} results in ${round(elapsed, 2)} s`);
    return {
      seconds: round(elapsed, 2),
      rows: report.results,
      rows_per_second: Math.round(report.results / elapsed),
      peak_rss_mb: mb(peakRss),
    };
  };
  try {
    log(`${mode}: seeding ${students} students`);
    const seedStarted = performance.now();
    await seed(database.db, students);
    const seedSeconds = seconds(seedStarted);
    const [counted] = await queryRows<{ n: number }>(
      database.db,
      sql`SELECT count(*)::int AS n FROM course_enrollments`,
    );
    const enrollments = Number(counted?.n ?? 0);
    log(`${mode}: seeded ${enrollments} enrollments in ${round(seedSeconds)} s; recomputing`);
    const first = await run('first');
    const again = await run('again');
    if (first.rows !== enrollments || again.rows !== enrollments) {
      throw new Error(`${mode}: ${enrollments} enrollments but ${first.rows} results`);
    }
    const result: ModeResult = {
      mode,
      seed_seconds: round(seedSeconds, 1),
      enrollments,
      first,
      again,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    clearInterval(sampler);
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
    `recompute-${mode}`,
    [
      '--import',
      'tsx',
      'bench/recompute.bench.ts',
      '--child',
      mode,
      url,
      dataDir,
      String(students),
    ],
    { ...process.env },
    ROOT,
    CHILD_TIMEOUT_MS,
  );
  const line = output
    .split('\n')
    .reverse()
    .find((candidate) => candidate.startsWith('{'));
  if (!line) throw new Error(`recompute-${mode} printed no result:\n${output}`);
  return JSON.parse(line) as ModeResult;
}

async function main() {
  const students = envCount('BENCH_STUDENTS', 10_000);
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
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'registrar-bench-recompute-'));
  const results: Record<string, ModeResult | { skipped: string }> = {};
  try {
    for (const mode of modes as Mode[]) {
      const dataDir = path.join(workDir, mode);
      if (mode === 'postgres') {
        if (!serverUrl) {
          results.postgres = { skipped: 'skipped' in server ? server.skipped : 'no PostgreSQL' };
          continue;
        }
        const scratch = await createScratchDatabase(serverUrl, 'registrar_bench_recompute');
        try {
          results.postgres = await runMode(mode, scratch.url, dataDir, students);
        } finally {
          await scratch.drop().catch(() => {});
        }
      } else {
        results.pglite = await runMode(mode, '-', dataDir, students);
      }
    }
    const report = {
      benchmark: 'recompute',
      date: new Date().toISOString(),
      machine: machine(loadAtStart),
      postgres_version: 'skipped' in server ? null : server.version,
      students,
      batch_size: RECOMPUTE_BATCH_SIZE,
      modes: results,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    const parts = Object.entries(results).map(([mode, result]) =>
      'skipped' in result
        ? `${mode} skipped`
        : `${mode}: ${result.first.rows_per_second} rows/s first (${result.first.seconds} s, peak RSS ${result.first.peak_rss_mb} MB), ${result.again.rows_per_second} rows/s again (${result.again.seconds} s, peak RSS ${result.again.peak_rss_mb} MB)`,
    );
    process.stdout.write(`bench:recompute ${students} students: ${parts.join('; ')}\n`);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

try {
  const childIndex = process.argv.indexOf('--child');
  if (childIndex >= 0) {
    const [mode, url, dataDir, students] = process.argv.slice(childIndex + 1);
    if (!MODES.includes(mode as Mode) || !url || !dataDir || !students) {
      throw new Error('usage: recompute.bench.ts --child postgres|pglite URL|- DATA_DIR STUDENTS');
    }
    await child(mode as Mode, url, dataDir, Number(students));
  } else {
    await main();
  }
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
