// API benchmark (npm run bench:api): a real Registrar server in a child process, on embedded
// PGlite and on PostgreSQL, with 10,000 students, loaded with autocannon; the figures are
// compared with a bare Fastify route measured in the same run.
//
// Environment: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (50), BENCH_WARMUP (s, 2),
// BENCH_STUDENTS (10000), BENCH_MODES (embedded,postgres), BENCH_SEED (direct | http),
// BENCH_DATABASE_URL or TEST_DATABASE_URL (the PostgreSQL server), BENCH_EXPLAIN=1 (print the
// list query's plans), BENCH_ENFORCE_TARGETS=1 (exit 1 when a target is missed).
// The JSON report goes to stdout, then a one-line summary; progress goes to stderr.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { students } from '../src/modules/students/students.table.ts';
import { openDatabase } from '../src/platform/db/client.ts';
import {
  type Child,
  freePort,
  nodeOptionsFrom,
  runNode,
  startNode,
  waitUntilReady,
} from './children.ts';
import { type ExplainReport, explainStudentList } from './explain.ts';
import { makeStudents, pick, random, SEARCH_TERMS, type StudentInsert } from './students-data.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const API = '/api/v1';
const PAGE_SIZE = 50;
const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const TARGETS = { list_p99_ms: 25, list_share_of_bare: 0.25 } as const;

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

const settings = {
  duration_s: envNumber('BENCH_DURATION', 10),
  connections: Math.round(envNumber('BENCH_CONNECTIONS', 50)),
  warmup_s: envNumber('BENCH_WARMUP', 2),
  students: Math.round(envNumber('BENCH_STUDENTS', 10_000)),
  page_size: PAGE_SIZE,
  seed_method: process.env.BENCH_SEED === 'http' ? ('http' as const) : ('direct' as const),
  database_pool_size: Number(process.env.DATABASE_POOL_SIZE ?? 10),
  audit_reads: process.env.AUDIT_READS ?? 'default (off)',
};

/** Which code was measured: the commit and how many files differ from it. */
function codeVersion(): { commit: string; uncommitted_files: number } | { commit: 'unknown' } {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    const changed = git('status', '--porcelain')
      .split('\n')
      .filter((line) => line.trim() !== '');
    return {
      commit: git('rev-parse', '--short', 'HEAD').trim(),
      uncommitted_files: changed.length,
    };
  } catch {
    return { commit: 'unknown' };
  }
}
const modesWanted = (process.env.BENCH_MODES ?? 'embedded,postgres')
  .split(',')
  .map((mode) => mode.trim())
  .filter((mode): mode is Mode => mode === 'embedded' || mode === 'postgres');

const ADMIN_EMAIL = 'bench@school.test';
const ADMIN_PASSWORD = `bench-${randomBytes(12).toString('hex')}`;
const JWT_SECRET = randomBytes(48).toString('base64url');

type Mode = 'embedded' | 'postgres';
type ScenarioName = 'bare' | 'list' | 'get' | 'list_uncached';

const log = (message: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const errorText = (error: unknown) =>
  error instanceof Error ? (error.stack ?? error.message) : String(error);

// ---------------------------------------------------------------------------------------------
// Clean-up: everything started or created registers its undoing here, undone in reverse order
// at the end of each mode, on failure and on Ctrl-C.

const cleanups: Array<{ label: string; run: () => Promise<void> }> = [];
function defer(label: string, run: () => Promise<void>) {
  cleanups.push({ label, run });
}
async function unwind(to = 0) {
  while (cleanups.length > to) {
    const step = cleanups.pop()!;
    log(`clean-up: ${step.label}`);
    try {
      await step.run();
    } catch (error) {
      log(`clean-up "${step.label}" failed: ${errorText(error)}`);
    }
  }
}

let activeLoad: autocannon.Instance | undefined;
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    log(`${signal}: stopping and cleaning up`);
    activeLoad?.stop();
    void unwind(0).finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Load generation

interface Measurement {
  requests_per_sec: number;
  requests_total: number;
  duration_s: number;
  latency_ms: { p50: number; p90: number; p99: number; mean: number; max: number };
  errors: number;
  timeouts: number;
  non_2xx: number;
  status_codes: Record<string, number>;
  ratio_to_bare?: number;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

/** One autocannon run that rotates through `paths`; latencies kept exactly (not rounded to ms). */
function load(url: string, paths: string[], token: string | undefined, seconds: number) {
  return new Promise<Measurement>((resolve, reject) => {
    let next = 0;
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    const instance = autocannon(
      {
        url,
        connections: settings.connections,
        duration: seconds,
        headers: token ? { authorization: `Bearer ${token}` } : {},
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => {
              const requestPath = paths[next % paths.length] ?? '/';
              next += 1;
              return { ...request, path: requestPath };
            },
          },
        ],
      },
      (error, result) => {
        activeLoad = undefined;
        if (error) return reject(error);
        const sorted = Float64Array.from(latencies).sort();
        const sum = latencies.reduce((total, value) => total + value, 0);
        resolve({
          requests_per_sec: round(result.requests.mean, 1),
          requests_total: result.requests.total,
          duration_s: result.duration,
          latency_ms: {
            p50: round(percentile(sorted, 0.5)),
            p90: round(percentile(sorted, 0.9)),
            p99: round(percentile(sorted, 0.99)),
            mean: round(latencies.length ? sum / latencies.length : 0),
            max: round(sorted[sorted.length - 1] ?? 0),
          },
          errors: result.errors,
          timeouts: result.timeouts,
          non_2xx: result.non2xx,
          status_codes: statuses,
        });
      },
    );
    activeLoad = instance;
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
  });
}

/** A short warm-up, then the measured run. Any error or non-2xx is a failure of the bench. */
async function scenario(
  name: string,
  url: string,
  paths: string[],
  token: string | undefined,
  failures: string[],
): Promise<Measurement> {
  if (interrupted) throw new Error('interrupted');
  log(`${name}: warm-up ${settings.warmup_s} s`);
  const warm = await load(url, paths, token, settings.warmup_s);
  if (warm.errors > 0 || warm.non_2xx > 0) {
    failures.push(
      `${name} warm-up: ${warm.errors} errors, ${warm.non_2xx} non-2xx ${JSON.stringify(warm.status_codes)}`,
    );
  }
  log(`${name}: ${settings.duration_s} s at ${settings.connections} connections`);
  const measured = await load(url, paths, token, settings.duration_s);
  if (measured.requests_total === 0) failures.push(`${name}: not one response in the run`);
  if (measured.errors > 0 || measured.non_2xx > 0) {
    failures.push(
      `${name}: ${measured.errors} errors (${measured.timeouts} timeouts), ${measured.non_2xx} non-2xx ${JSON.stringify(measured.status_codes)}`,
    );
  }
  log(
    `${name}: ${measured.requests_per_sec} req/s, p50 ${measured.latency_ms.p50} ms, p99 ${measured.latency_ms.p99} ms`,
  );
  return measured;
}

// ---------------------------------------------------------------------------------------------
// Registrar: environment, sign-in, seeding

function serverEnv(port: number, dataDir: string, databaseUrl?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['DATABASE_URL', 'REDIS_URL', 'METRICS_TOKEN', 'TRUSTED_PROXIES']) {
    delete env[key];
  }
  Object.assign(env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    JWT_SECRET,
    // A token must outlive the longest run asked for.
    ACCESS_TOKEN_TTL_SECONDS: '86400',
  });
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return env;
}

async function getJson<T>(url: string, token: string): Promise<T> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url}: HTTP ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

async function signIn(base: string): Promise<string> {
  const response = await fetch(`${base}${API}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`sign-in: HTTP ${response.status} ${text}`);
  const body = JSON.parse(text) as { access_token: string; must_change_password: boolean };
  if (body.must_change_password) throw new Error('sign-in: the bench admin must change password');
  return body.access_token;
}

/** Inserts straight into the table in batches (the server must not be running on PGlite). */
async function seedDirect(
  mode: Mode,
  dataDir: string,
  databaseUrl: string | undefined,
  rows: StudentInsert[],
): Promise<number[]> {
  const database = await openDatabase(
    mode === 'postgres' ? { kind: 'postgres', url: databaseUrl! } : { kind: 'pglite', dataDir },
  );
  try {
    const ids: number[] = [];
    for (let start = 0; start < rows.length; start += 1000) {
      const inserted = await database.db
        .insert(students)
        .values(rows.slice(start, start + 1000))
        .returning({ id: students.id });
      for (const row of inserted) ids.push(row.id);
    }
    // What autovacuum does soon after a bulk load: statistics and the visibility map.
    await database.db.execute(sql`VACUUM ANALYZE students`);
    return ids;
  } finally {
    await database.close();
  }
}

/** One POST per student at concurrency 20, through the API. */
async function seedHttp(base: string, token: string, rows: StudentInsert[]): Promise<number[]> {
  const ids: number[] = new Array(rows.length);
  let next = 0;
  const worker = async () => {
    while (next < rows.length) {
      const index = next;
      next += 1;
      const response = await fetch(`${base}${API}/students`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(rows[index]),
      });
      const text = await response.text();
      if (response.status !== 201 && response.status !== 200) {
        throw new Error(`POST /students: HTTP ${response.status} ${text}`);
      }
      ids[index] = (JSON.parse(text) as { id: number }).id;
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Request mixes

interface TermStats {
  term: string;
  matches: number;
  share: number;
}

/**
 * List requests as people make them: 70% with a search term, 30% browsing; within the
 * results, 60% ask for page 1, 25% for pages 2 to 5 and 15% for any page.
 */
function listPaths(terms: TermStats[], total: number, count = 2000): string[] {
  const next = random(7);
  const page = (matches: number) => {
    const last = Math.max(1, Math.ceil(matches / PAGE_SIZE));
    const roll = next();
    if (roll < 0.6 || last === 1) return 1;
    if (roll < 0.85) return Math.min(last, 2 + Math.floor(next() * 4));
    return 1 + Math.floor(next() * last);
  };
  const paths: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const query = new URLSearchParams({ page_size: String(PAGE_SIZE) });
    if (next() < 0.7) {
      const term = pick(next, terms);
      query.set('search', term.term);
      query.set('page', String(page(term.matches)));
    } else {
      query.set('page', String(page(total)));
    }
    paths.push(`${API}/students?${query.toString()}`);
  }
  return paths;
}

function getPaths(ids: number[]): string[] {
  const next = random(11);
  const shuffled = [...ids];
  for (let index = shuffled.length - 1; index > 0; index -= 1) {
    const other = Math.floor(next() * (index + 1));
    [shuffled[index], shuffled[other]] = [shuffled[other]!, shuffled[index]!];
  }
  return shuffled.map((id) => `${API}/students/${id}`);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL server

function urlForDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The server to use, or why PostgreSQL mode is skipped. Throws if a named server is down. */
async function postgresServer(): Promise<{ url: string; version: string } | { skipped: string }> {
  const named = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;
  const url = named || DEFAULT_POSTGRES_URL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return { url, version: result.rows[0]?.server_version ?? 'unknown' };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (named) throw new Error(`PostgreSQL at ${new URL(url).host} is unreachable: ${reason}`);
    return { skipped: `no PostgreSQL at ${new URL(url).host} (${reason}); set BENCH_DATABASE_URL` };
  } finally {
    await client.end().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// One mode

interface ModeReport {
  database: string;
  seed?: { method: string; students: number; seconds: number };
  search_terms?: TermStats[];
  scenarios?: Partial<Record<ScenarioName, Measurement>>;
  explain?: ExplainReport;
  error?: string;
  skipped?: string;
  /** What went wrong where it is expected (the cache-off run's timeouts). */
  notes?: string[];
}

const EXPLAIN_CASES = [
  { label: 'browse page 1', page: 1 },
  { label: 'browse page 100', page: 100 },
  { label: 'search Παπαδ (common) page 1', page: 1, search: 'Παπαδ' },
  { label: 'search Thomp (rare) page 1', page: 1, search: 'Thomp' },
  { label: 'search papad (e-mail) page 2', page: 2, search: 'papad' },
  { label: 'search ou (2 letters) page 1', page: 1, search: 'ou' },
];

async function runMode(
  mode: Mode,
  serverUrl: string | undefined,
  failures: string[],
): Promise<ModeReport> {
  const report: ModeReport = { database: mode === 'postgres' ? 'postgresql' : 'pglite' };
  const mark = cleanups.length;
  let server: Child | undefined;
  try {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `registrar-bench-${mode}-`));
    defer(`remove ${dataDir}`, () => rm(dataDir, { recursive: true, force: true }));

    let databaseUrl: string | undefined;
    if (mode === 'postgres') {
      const name = `registrar_bench_${randomBytes(6).toString('hex')}`;
      await onServer(serverUrl!, `CREATE DATABASE ${name}`);
      defer(`drop database ${name}`, () =>
        onServer(serverUrl!, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
      databaseUrl = urlForDatabase(serverUrl!, name);
      log(`${mode}: created database ${name}`);
    }

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = serverEnv(port, dataDir, databaseUrl);
    const rows = makeStudents(settings.students);
    let ids: number[] = [];
    let seedSeconds = 0;

    if (settings.seed_method === 'direct') {
      log(`${mode}: migrating`);
      await runNode('registrar migrate', ['bin/registrar.js', 'migrate'], env, ROOT);
      log(`${mode}: inserting ${rows.length} students`);
      const started = performance.now();
      ids = await seedDirect(mode, dataDir, databaseUrl, rows);
      seedSeconds = (performance.now() - started) / 1000;
    }

    // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the server.
    const nodeArgs = nodeOptionsFrom('BENCH_SERVER_NODE_ARGS');
    const startRegistrar = async (extraEnv: NodeJS.ProcessEnv = {}) => {
      log(`${mode}: starting Registrar on port ${port} ${JSON.stringify(extraEnv)}`);
      const child = startNode(
        'registrar serve',
        [...nodeArgs, 'bin/registrar.js', 'serve'],
        { ...env, ...extraEnv },
        ROOT,
      );
      server = child;
      defer('stop registrar', () => child.stop());
      await waitUntilReady(child, `${base}/health`);
      return child;
    };
    let registrar = await startRegistrar();
    const token = await signIn(base);

    if (settings.seed_method === 'http') {
      log(`${mode}: creating ${rows.length} students through POST ${API}/students`);
      const started = performance.now();
      ids = await seedHttp(base, token, rows);
      seedSeconds = (performance.now() - started) / 1000;
    }
    report.seed = {
      method: settings.seed_method,
      students: ids.length,
      seconds: round(seedSeconds, 1),
    };
    log(`${mode}: ${ids.length} students in ${round(seedSeconds, 1)} s (${settings.seed_method})`);

    // How much each search term matches, through the API (also checks that lists answer).
    const terms: TermStats[] = [];
    for (const term of SEARCH_TERMS) {
      const query = new URLSearchParams({ search: term, page_size: '1' });
      const page = await getJson<{ total: number }>(`${base}${API}/students?${query}`, token);
      terms.push({ term, matches: page.total, share: round(page.total / ids.length, 4) });
    }
    report.search_terms = terms;
    const listed = await getJson<{ total: number }>(`${base}${API}/students?page_size=1`, token);
    if (listed.total !== ids.length) {
      throw new Error(`the list reports ${listed.total} students, ${ids.length} were seeded`);
    }
    await getJson(`${base}${API}/students/${ids[0]}`, token);

    const barePort = await freePort();
    const bare = startNode(
      'bare fastify',
      ['--import', 'tsx', 'bench/bare-server.ts'],
      { ...process.env, PORT: String(barePort), HOST: '127.0.0.1' },
      ROOT,
    );
    defer('stop bare fastify', () => bare.stop());
    const bareUrl = `http://127.0.0.1:${barePort}`;
    await waitUntilReady(bare, `${bareUrl}/`);

    const scenarios: Partial<Record<ScenarioName, Measurement>> = {};
    report.scenarios = scenarios;
    scenarios.bare = await scenario(`${mode} bare`, bareUrl, ['/'], undefined, failures);
    await bare.stop();
    scenarios.list = await scenario(
      `${mode} list`,
      base,
      listPaths(terms, ids.length),
      token,
      failures,
    );
    scenarios.get = await scenario(`${mode} get`, base, getPaths(ids), token, failures);
    // The same list requests with the list cache off: what every cache miss costs.
    const uncachedProblems: string[] = [];
    await registrar.stop();
    registrar = await startRegistrar({ LIST_CACHE_SECONDS: '0' });
    scenarios.list_uncached = await scenario(
      `${mode} list (cache off)`,
      base,
      listPaths(terms, ids.length),
      await signIn(base),
      // Timeouts are expected here (every request is a miss); they are reported, not failures.
      uncachedProblems,
    );
    if (uncachedProblems.length > 0) report.notes = uncachedProblems;
    const bareRate = scenarios.bare.requests_per_sec;
    for (const name of ['bare', 'list', 'get', 'list_uncached'] as const) {
      const measured = scenarios[name];
      if (measured)
        measured.ratio_to_bare = bareRate > 0 ? round(measured.requests_per_sec / bareRate, 3) : 0;
    }

    // PGlite allows one process per data directory: explain once the server is gone.
    await registrar.stop();
    log(`${mode}: EXPLAIN ANALYZE of the list query`);
    report.explain = await explainStudentList(
      mode === 'postgres' ? { kind: 'postgres', url: databaseUrl! } : { kind: 'pglite', dataDir },
      EXPLAIN_CASES,
      process.env.BENCH_EXPLAIN === '1',
    );
  } catch (error) {
    report.error = errorText(error);
    const serverOutput = server?.output().trim();
    if (serverOutput)
      report.error += `\n--- Registrar's output (tail) ---\n${serverOutput.slice(-4000)}`;
    failures.push(`${mode}: ${error instanceof Error ? error.message.split('\n')[0] : error}`);
    log(`${mode} failed: ${report.error}`);
  } finally {
    await unwind(mark);
  }
  return report;
}

// ---------------------------------------------------------------------------------------------

function describeMode(mode: Mode, report: ModeReport | undefined): string {
  if (!report) return `${mode} not run`;
  if (report.skipped) return `${mode} skipped`;
  const list = report.scenarios?.list;
  const get = report.scenarios?.get;
  if (!list) return `${mode} failed`;
  const share = (value = 0) =>
    `${value < 0.1 ? round(value * 100, 1) : Math.round(value * 100)}% of bare`;
  const uncached = report.scenarios?.list_uncached;
  return `${mode} list p99=${list.latency_ms.p99}ms ${share(list.ratio_to_bare)}${
    get ? `, get p99=${get.latency_ms.p99}ms ${share(get.ratio_to_bare)}` : ''
  }${uncached ? `, list with cache off p99=${uncached.latency_ms.p99}ms ${share(uncached.ratio_to_bare)}` : ''}`;
}

async function main() {
  const failures: string[] = [];
  const modes: Partial<Record<Mode, ModeReport>> = {};
  const startedAt = new Date();
  const loadAtStart = os.loadavg().map((value) => round(value));
  if ((loadAtStart[0] ?? 0) > os.cpus().length * 0.5) {
    log(`the machine is busy (load average ${loadAtStart.join(', ')}): figures will be noisy`);
  }

  for (const mode of modesWanted) {
    if (interrupted) break;
    let serverUrl: string | undefined;
    if (mode === 'postgres') {
      try {
        const server = await postgresServer();
        if ('skipped' in server) {
          log(`postgres mode skipped: ${server.skipped}`);
          modes.postgres = { database: 'postgresql', skipped: server.skipped };
          continue;
        }
        serverUrl = server.url;
        log(`postgres: server ${new URL(server.url).host}, PostgreSQL ${server.version}`);
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
        modes.postgres = { database: 'postgresql', error: errorText(error) };
        continue;
      }
    }
    modes[mode] = await runMode(mode, serverUrl, failures);
  }

  const postgresList = modes.postgres?.scenarios?.list;
  const targets = postgresList
    ? {
        evaluated_on: 'postgres',
        list_p99_ms: postgresList.latency_ms.p99,
        list_p99_target_ms: TARGETS.list_p99_ms,
        list_p99_met: postgresList.latency_ms.p99 < TARGETS.list_p99_ms,
        list_ratio_to_bare: postgresList.ratio_to_bare ?? 0,
        list_ratio_target: TARGETS.list_share_of_bare,
        list_ratio_met: (postgresList.ratio_to_bare ?? 0) >= TARGETS.list_share_of_bare,
        met: false,
      }
    : undefined;
  if (targets) targets.met = targets.list_p99_met && targets.list_ratio_met;

  const cpus = os.cpus();
  const report = {
    benchmark: 'registrar api',
    date: startedAt.toISOString(),
    machine: {
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      cpu_model: cpus[0]?.model ?? 'unknown',
      cpu_count: cpus.length,
      total_memory_gb: round(os.totalmem() / 1024 ** 3, 1),
      node_version: process.version,
      /** 1, 5 and 15 minute load averages: other work on the machine skews every figure. */
      load_average_start: loadAtStart,
      load_average_end: os.loadavg().map((value) => round(value)),
    },
    code: codeVersion(),
    settings: {
      ...settings,
      scenarios: {
        bare: 'GET / on a plain fastify() with one route, logger off (child process)',
        list: `GET ${API}/students?page=…&page_size=${PAGE_SIZE}[&search=…]: 70% searching, 30% browsing`,
        get: `GET ${API}/students/{id}, ids rotating over all students`,
        list_uncached: 'the list requests again, after a restart with LIST_CACHE_SECONDS=0',
      },
      note: 'load generator, server and database share this machine',
    },
    targets: targets ?? {
      evaluated_on: 'postgres',
      met: null,
      reason: 'PostgreSQL mode did not produce a list measurement',
    },
    modes,
    failures,
    ok: failures.length === 0,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);

  const verdict = targets
    ? `targets (postgres list p99<${TARGETS.list_p99_ms}ms, >=${TARGETS.list_share_of_bare * 100}% of bare): ${
        targets.met ? 'met' : 'NOT met'
      }`
    : 'targets not evaluated (no PostgreSQL run)';
  const summaryOrder = (['postgres', 'embedded'] as const).filter((mode) =>
    modesWanted.includes(mode),
  );
  const failed = failures.length ? `; FAILED: ${failures.join(' | ')}` : '';
  process.stdout.write(
    `bench:api ${summaryOrder.map((mode) => describeMode(mode, modes[mode])).join('; ')}; ${verdict}${failed}\n`,
  );
  const enforce = process.env.BENCH_ENFORCE_TARGETS === '1' && targets && !targets.met;
  process.exitCode = failures.length > 0 || enforce ? 1 : 0;
}

try {
  await main();
} catch (error) {
  log(`bench failed: ${errorText(error)}`);
  process.exitCode = 1;
} finally {
  await unwind(0);
}
