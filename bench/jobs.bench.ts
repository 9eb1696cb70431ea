// Job system benchmark (npm run bench:jobs):
//  1. pickup latency: JobManager.createJob → handler start, p50/p99 over sequential jobs, for the
//     local engine, for the BullMQ engine and for bare BullMQ (Queue.add → Worker processor
//     start, no Registrar code), in the same run;
//  2. throughput of no-op jobs, end to end (50 producers in flight, one worker at concurrency
//     50, from the first create to the last completion): the BullMQ engine through JobManager
//     versus bare BullMQ (Queue.add → Worker); bare BullMQ draining a pre-filled queue
//     (addBulk) is reported as well, for reference, and so is the BullMQ engine's worker alone
//     draining BENCH_DRAIN_JOBS jobs created beforehand (by an enqueue-only engine);
//  3. progress fan-out: a handler in a real Registrar (buildApp, listening on a port) reports
//     progress; time from the progress() call to a WebSocket client receiving it, p50/p99.
//
// Environment: BENCH_PARTS (1,2,3), BENCH_PICKUP_JOBS (500), BENCH_JOBS (20000),
// BENCH_PROGRESS_UPDATES (1000), BENCH_DRAIN_JOBS (2000), BENCH_CONCURRENCY (50), BENCH_POOL_SIZE (10, the
// DATABASE_POOL_SIZE default), BENCH_REDIS_URL (redis://127.0.0.1:6379/7),
// BENCH_DATABASE_URL or TEST_DATABASE_URL (PostgreSQL; PGlite in memory when none answers),
// BENCH_ENFORCE_TARGETS=1 (exit 1 when a target is missed).
// The JSON report goes to stdout, then a one-line summary; progress goes to stderr.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { loadConfig } from '../src/config.ts';
import { AuditLogger } from '../src/modules/audit/audit.logger.ts';
import { BullMqJobEngine, jobMirrorKey } from '../src/modules/jobs/engines/bullmq.engine.ts';
import { LocalJobEngine } from '../src/modules/jobs/engines/local.engine.ts';
import { JOB_EVENTS, type JobEvent, JobManager } from '../src/modules/jobs/jobs.manager.ts';
import { JobRegistry } from '../src/modules/jobs/jobs.registry.ts';
import { RolesService } from '../src/modules/roles/roles.service.ts';
import { type DatabaseHandle, openDatabase } from '../src/platform/db/client.ts';
import { type EventBus, LocalEventBus } from '../src/platform/events/event-bus.ts';
import { RedisEventBus } from '../src/platform/events/redis-event-bus.ts';
import { createScratchDatabase, findPostgres } from './children.ts';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/7';
const TARGETS = {
  bullmq_pickup_p50_ratio_max: 3,
  throughput_ratio_min: 0.3,
  progress_p99_ms_max: 50,
} as const;

function envInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Math.round(Number(raw));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

const PARTS = new Set((process.env.BENCH_PARTS ?? '1,2,3').split(',').map((p) => p.trim()));
const PICKUP_JOBS = envInteger('BENCH_PICKUP_JOBS', 500);
const THROUGHPUT_JOBS = envInteger('BENCH_JOBS', 20_000);
const PROGRESS_UPDATES = envInteger('BENCH_PROGRESS_UPDATES', 1000);
const CONCURRENCY = envInteger('BENCH_CONCURRENCY', 50);
const POOL_SIZE = envInteger('BENCH_POOL_SIZE', 10);
const DRAIN_JOBS = envInteger('BENCH_DRAIN_JOBS', 2000);
const WARMUP_JOBS = 20;
const REDIS_URL = process.env.BENCH_REDIS_URL || DEFAULT_REDIS_URL;
const TAG = `regbench-${process.pid}-${randomBytes(3).toString('hex')}`;
const LIMITS = { maxJobs: 10_000_000, maxJobsPerUser: 10_000_000, retentionHours: 24 };

const log = (message: string) => process.stderr.write(`[bench:jobs] ${message}\n`);
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function summarise(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50_ms: round(percentile(sorted, 50), 3),
    p90_ms: round(percentile(sorted, 90), 3),
    p99_ms: round(percentile(sorted, 99), 3),
    max_ms: round(sorted.at(-1) ?? Number.NaN, 3),
  };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Rejects when `promise` has not settled after `ms`: a stuck benchmark must still clean up. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let handle: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    handle = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(handle);
  }
}

/** Runs `count` tasks, `parallel` at a time. */
async function pool(count: number, parallel: number, task: (i: number) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
}

// ---------------------------------------------------------------------------------------------
// Cleanup: everything started registers its undo here; it runs in reverse, even on failure.

const cleanups: Array<{ what: string; run: () => Promise<unknown> }> = [];
const onCleanup = (what: string, run: () => Promise<unknown>) => cleanups.push({ what, run });
async function cleanUp() {
  for (const { what, run } of cleanups.splice(0).reverse()) {
    try {
      await within(Promise.resolve().then(run), 15_000, `cleanup ${what}`);
    } catch (error) {
      log(`cleanup of ${what} failed: ${error instanceof Error ? error.message : error}`);
    }
  }
}

/** Deletes the keys matching `pattern` (SCAN, never KEYS). */
async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

// ---------------------------------------------------------------------------------------------
// Databases: a scratch PostgreSQL database per part, or PGlite in memory.

type DatabaseChoice = { kind: 'postgres'; serverUrl: string; version: string } | { kind: 'pglite' };

async function chooseDatabase(): Promise<DatabaseChoice> {
  const found = await findPostgres(DEFAULT_POSTGRES_URL);
  if ('skipped' in found) {
    log(`${found.skipped}; using PGlite in memory`);
    return { kind: 'pglite' };
  }
  return { kind: 'postgres', serverUrl: found.url, version: found.version };
}

/** A migrated database with the built-in roles; dropped at cleanup. */
async function openBenchDatabase(choice: DatabaseChoice): Promise<DatabaseHandle> {
  let database: DatabaseHandle;
  if (choice.kind === 'postgres') {
    const scratch = await createScratchDatabase(choice.serverUrl, 'registrar_bench_jobs');
    onCleanup(`database ${scratch.name}`, () => scratch.drop());
    database = await openDatabase({ kind: 'postgres', url: scratch.url, poolSize: POOL_SIZE });
  } else {
    database = await openDatabase({ kind: 'pglite' });
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await database.close();
  };
  onCleanup('database connection', close);
  await database.migrate();
  await new RolesService(database.db, new AuditLogger(database.db)).ensureBuiltinRoles();
  return { ...database, close };
}

// ---------------------------------------------------------------------------------------------
// The job layer under test: a JobManager, a registry with one no-op handler, an engine.

interface Layer {
  manager: JobManager;
  bus: EventBus;
  /** Called with the job id when the handler starts. */
  onStart: (id: string) => void;
  /** Resolves when the job's COMPLETED status event arrives on the bus. */
  completed(id: string): Promise<void>;
  completedCount(): number;
  ids: string[];
}

function makeLayer(database: DatabaseHandle, bus: EventBus): Layer & { registry: JobRegistry } {
  const manager = new JobManager(database.db, bus, new AuditLogger(database.db), LIMITS);
  const done = new Set<string>();
  const waiting = new Map<string, () => void>();
  let count = 0;
  const unsubscribe = bus.subscribe(JOB_EVENTS, (message) => {
    const event = message as JobEvent;
    if (event.type !== 'status' || event.job.status !== 'COMPLETED') return;
    count++;
    const waiter = waiting.get(event.job.id);
    if (waiter) {
      waiting.delete(event.job.id);
      waiter();
    } else {
      done.add(event.job.id);
    }
  });
  onCleanup('bus subscription', async () => unsubscribe());
  const layer: Layer & { registry: JobRegistry } = {
    manager,
    bus,
    onStart: () => {},
    ids: [],
    completedCount: () => count,
    completed(id) {
      if (done.delete(id)) return Promise.resolve();
      return new Promise<void>((resolve) => waiting.set(id, resolve));
    },
    registry: new JobRegistry(),
  };
  layer.registry.register('bulk_update', {
    payload: z.object({ n: z.number().optional() }),
    permission: 'jobs:create',
    async run({ job }) {
      layer.onStart(job.id);
      return { success: true, message: 'done' };
    },
  });
  return layer;
}

async function createJob(layer: Layer, n: number): Promise<string> {
  const job = await layer.manager.createJob({
    jobType: 'bulk_update',
    userId: null,
    metadata: { n },
  });
  layer.ids.push(job.id);
  return job.id;
}

/** Sequential jobs: createJob → handler start, waiting for each to complete before the next. */
async function measureLayerPickup(layer: Layer, count: number) {
  const samples: number[] = [];
  /** How long createJob itself took (transaction with the audit append, publish, dispatch). */
  const createCalls: number[] = [];
  for (let i = 0; i < count + WARMUP_JOBS; i++) {
    const started = deferred<number>();
    layer.onStart = () => started.resolve(performance.now());
    const t0 = performance.now();
    const id = await createJob(layer, i);
    const returnedAt = performance.now();
    const startedAt = await within(started.promise, 10_000, `job ${i} start`);
    await within(layer.completed(id), 10_000, `job ${i} completion`);
    if (i >= WARMUP_JOBS) {
      samples.push(startedAt - t0);
      createCalls.push(returnedAt - t0);
    }
  }
  layer.onStart = () => {};
  return { ...summarise(samples), create_call: summarise(createCalls) };
}

// ---------------------------------------------------------------------------------------------
// Bare BullMQ.

interface Bare {
  queue: Queue;
  worker: Worker;
  onStart: () => void;
  completed(id: string): Promise<void>;
  completedCount(): number;
}

async function startBare(name: string, options: { autorun?: boolean } = {}): Promise<Bare> {
  const prefix = `${TAG}-bare`;
  const connection = { url: REDIS_URL, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection, prefix });
  queue.on('error', (error) => log(`bare queue: ${error.message}`));
  onCleanup(`bare queue ${name}`, () => queue.close());
  await queue.waitUntilReady();
  const done = new Set<string>();
  const waiting = new Map<string, () => void>();
  let count = 0;
  const bare = {} as Bare;
  bare.onStart = () => {};
  bare.worker = new Worker(
    name,
    async (_job: Job) => {
      bare.onStart();
    },
    { connection, prefix, concurrency: CONCURRENCY, autorun: options.autorun ?? true },
  );
  bare.worker.on('error', (error) => log(`bare worker: ${error.message}`));
  onCleanup(`bare worker ${name}`, () => bare.worker.close());
  bare.worker.on('completed', (job: Job) => {
    count++;
    const id = job.id ?? '';
    const waiter = waiting.get(id);
    if (waiter) {
      waiting.delete(id);
      waiter();
    } else {
      done.add(id);
    }
  });
  await bare.worker.waitUntilReady();
  bare.queue = queue;
  bare.completedCount = () => count;
  bare.completed = (id) => {
    if (done.delete(id)) return Promise.resolve();
    return new Promise<void>((resolve) => waiting.set(id, resolve));
  };
  return bare;
}

const BARE_JOB_OPTIONS = { removeOnComplete: true, removeOnFail: true, attempts: 1 };

async function measureBarePickup(bare: Bare, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count + WARMUP_JOBS; i++) {
    const started = deferred<number>();
    bare.onStart = () => started.resolve(performance.now());
    const t0 = performance.now();
    const job = await bare.queue.add('run', { n: i }, BARE_JOB_OPTIONS);
    const startedAt = await within(started.promise, 10_000, `bare job ${i} start`);
    await within(bare.completed(job.id ?? ''), 10_000, `bare job ${i} completion`);
    if (i >= WARMUP_JOBS) samples.push(startedAt - t0);
  }
  bare.onStart = () => {};
  return samples;
}

/** Waits until `count()` reaches `target`, failing when it stops moving for `stallMs`. */
async function waitForCount(count: () => number, target: number, what: string, stallMs = 30_000) {
  let last = -1;
  let lastChange = Date.now();
  while (count() < target) {
    if (count() !== last) {
      last = count();
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      throw new Error(`${what}: stuck at ${last}/${target}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function bullMqEngine(layer: Layer & { registry: JobRegistry }, runWorker: boolean, queue: string) {
  const engine = new BullMqJobEngine(layer.manager, layer.registry, layer.bus, {
    connection: REDIS_URL,
    concurrency: CONCURRENCY,
    runWorker,
    queueName: queue,
    prefix: TAG,
    onError: (error, where) =>
      log(`[bullmq engine ${where}] ${error instanceof Error ? error.message : error}`),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await engine.stop(5000);
  };
  onCleanup(`bullmq engine ${engine.workerId}`, stop);
  return { engine, stop };
}

// ---------------------------------------------------------------------------------------------
// Part 1: pickup latency.

async function partPickup(choice: DatabaseChoice, redis: Redis) {
  const result: Record<string, unknown> = { jobs: PICKUP_JOBS, warmup_jobs: WARMUP_JOBS };

  log(`pickup: local engine, ${PICKUP_JOBS} sequential jobs`);
  {
    const database = await openBenchDatabase(choice);
    const bus = new LocalEventBus();
    onCleanup('local bus', () => bus.close());
    const layer = makeLayer(database, bus);
    const engine = new LocalJobEngine(layer.manager, layer.registry, bus, {
      concurrency: () => CONCURRENCY,
    });
    await engine.start();
    onCleanup('local engine', () => engine.stop(5000));
    result.local_engine = await measureLayerPickup(layer, PICKUP_JOBS);
    await engine.stop(5000);
  }

  log(`pickup: BullMQ engine, ${PICKUP_JOBS} sequential jobs`);
  {
    const database = await openBenchDatabase(choice);
    const bus = new RedisEventBus(REDIS_URL, { prefix: `${TAG}:` });
    onCleanup('redis bus', () => bus.close());
    const layer = makeLayer(database, bus);
    onCleanup('mirrored jobs (pickup)', () => deleteMirrors(redis, layer.ids));
    const { engine, stop } = bullMqEngine(layer, true, `${TAG}-pickup`);
    await engine.start();
    result.bullmq_engine = await measureLayerPickup(layer, PICKUP_JOBS);
    await stop();
  }

  log(`pickup: bare BullMQ, ${PICKUP_JOBS} sequential jobs`);
  {
    const bare = await startBare(`${TAG}-bare-pickup`);
    result.bare_bullmq = summarise(await measureBarePickup(bare, PICKUP_JOBS));
    await bare.worker.close();
    await bare.queue.close();
  }

  const engineP50 = (result.bullmq_engine as { p50_ms: number }).p50_ms;
  const bareP50 = (result.bare_bullmq as { p50_ms: number }).p50_ms;
  const ratio = round(engineP50 / bareP50, 2);
  result.bullmq_vs_bare_p50_ratio = ratio;
  result.target = `BullMQ engine p50 ≤ ${TARGETS.bullmq_pickup_p50_ratio_max}x bare BullMQ p50`;
  result.target_met = ratio <= TARGETS.bullmq_pickup_p50_ratio_max;
  return result;
}

async function deleteMirrors(redis: Redis, ids: string[]) {
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    if (chunk.length > 0) await redis.del(...chunk.map(jobMirrorKey));
  }
}

// ---------------------------------------------------------------------------------------------
// Part 2: throughput.

async function partThroughput(choice: DatabaseChoice, redis: Redis) {
  const n = THROUGHPUT_JOBS;
  const result: Record<string, unknown> = {
    jobs: n,
    producers_in_flight: CONCURRENCY,
    worker_concurrency: CONCURRENCY,
    database_pool_size: choice.kind === 'postgres' ? POOL_SIZE : null,
  };

  log(`throughput: bare BullMQ, ${n} jobs end to end`);
  {
    const bare = await startBare(`${TAG}-bare-e2e`);
    const t0 = performance.now();
    await pool(n, CONCURRENCY, async (i) => {
      await bare.queue.add('run', { n: i }, BARE_JOB_OPTIONS);
    });
    await waitForCount(bare.completedCount, n, 'bare end to end');
    const seconds = (performance.now() - t0) / 1000;
    result.bare_bullmq = { seconds: round(seconds, 3), jobs_per_s: Math.round(n / seconds) };
    await bare.worker.close();
    await bare.queue.close();
  }

  log(`throughput: bare BullMQ draining ${n} pre-added jobs`);
  {
    const bare = await startBare(`${TAG}-bare-drain`, { autorun: false });
    for (let i = 0; i < n; i += 1000) {
      const size = Math.min(1000, n - i);
      await bare.queue.addBulk(
        Array.from({ length: size }, (_, k) => ({
          name: 'run',
          data: { n: i + k },
          opts: BARE_JOB_OPTIONS,
        })),
      );
    }
    const t0 = performance.now();
    void bare.worker.run();
    await waitForCount(bare.completedCount, n, 'bare drain');
    const seconds = (performance.now() - t0) / 1000;
    result.bare_bullmq_drain = { seconds: round(seconds, 3), jobs_per_s: Math.round(n / seconds) };
    await bare.worker.close();
    await bare.queue.close();
  }

  log(`throughput: BullMQ engine through JobManager, ${n} jobs end to end`);
  {
    const database = await openBenchDatabase(choice);
    const bus = new RedisEventBus(REDIS_URL, { prefix: `${TAG}:` });
    onCleanup('redis bus', () => bus.close());
    const layer = makeLayer(database, bus);
    onCleanup('mirrored jobs (throughput)', () => deleteMirrors(redis, layer.ids));
    const { engine, stop } = bullMqEngine(layer, true, `${TAG}-throughput`);
    await engine.start();
    let created = 0;
    const t0 = performance.now();
    let createdAt = 0;
    await pool(n, CONCURRENCY, async (i) => {
      await createJob(layer, i);
      if (++created === n) createdAt = performance.now();
    });
    await waitForCount(layer.completedCount, n, 'engine end to end');
    const seconds = (performance.now() - t0) / 1000;
    result.bullmq_engine = {
      seconds: round(seconds, 3),
      jobs_per_s: Math.round(n / seconds),
      create_phase_jobs_per_s: Math.round(n / ((createdAt - t0) / 1000)),
    };
    await stop();
  }

  // Where the time goes: the worker side alone, on jobs created (and enqueued) beforehand by an
  // enqueue-only engine (an API process with RUN_WORKER=false).
  const m = Math.min(n, DRAIN_JOBS);
  log(`throughput: BullMQ engine worker draining ${m} jobs created beforehand`);
  {
    const database = await openBenchDatabase(choice);
    const bus = new RedisEventBus(REDIS_URL, { prefix: `${TAG}:` });
    onCleanup('redis bus', () => bus.close());
    const layer = makeLayer(database, bus);
    onCleanup('mirrored jobs (drain)', () => deleteMirrors(redis, layer.ids));
    const queue = `${TAG}-drain`;
    const producer = bullMqEngine(layer, false, queue);
    await producer.engine.start();
    await pool(m, CONCURRENCY, async (i) => {
      await createJob(layer, i);
    });
    await producer.stop();
    const { engine, stop } = bullMqEngine(layer, true, queue);
    const t0 = performance.now();
    await engine.start();
    await waitForCount(layer.completedCount, m, 'engine drain');
    const seconds = (performance.now() - t0) / 1000;
    result.bullmq_engine_worker_drain = {
      jobs: m,
      seconds: round(seconds, 3),
      jobs_per_s: Math.round(m / seconds),
    };
    await stop();
  }

  const ours = (result.bullmq_engine as { jobs_per_s: number }).jobs_per_s;
  const bare = (result.bare_bullmq as { jobs_per_s: number }).jobs_per_s;
  const drain = (result.bare_bullmq_drain as { jobs_per_s: number }).jobs_per_s;
  result.ratio_vs_bare = round(ours / bare, 3);
  result.ratio_vs_bare_drain = round(ours / drain, 3);
  result.target = `BullMQ engine ≥ ${TARGETS.throughput_ratio_min}x bare BullMQ (end to end)`;
  result.target_met = ours / bare >= TARGETS.throughput_ratio_min;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Part 3: progress fan-out to a WebSocket client of a real Registrar.

async function partProgress(choice: DatabaseChoice) {
  // Loaded here: parts 1 and 2 need no HTTP app.
  const { buildApp } = await import('../src/app.ts');
  const database = await openBenchDatabase(choice);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'registrar-bench-jobs-'));
  onCleanup('data dir', () => rm(dataDir, { recursive: true, force: true }));
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256-signing',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
  });
  const { app, services } = await buildApp({ config, database, logger: false });
  let appClosed = false;
  const closeApp = async () => {
    if (appClosed) return;
    appClosed = true;
    await app.close();
  };
  onCleanup('app', closeApp);

  const gate = deferred<void>();
  // In place of the real bulk_update handler: this one only reports progress.
  services.jobRegistry.replace('bulk_update', {
    payload: z.object({}),
    permission: 'jobs:create',
    async run({ progress }) {
      await gate.promise;
      for (let i = 1; i <= PROGRESS_UPDATES; i++) {
        await progress({ current: i, total: PROGRESS_UPDATES, message: String(performance.now()) });
      }
      return { success: true, message: 'done' };
    },
  });
  await app.ready();
  await services.roles.ensureBuiltinRoles();
  const password = `bench-${randomBytes(8).toString('hex')}`;
  const user = await services.users.createUser(
    {
      email: 'bench-admin@school.test',
      full_name: 'Bench admin',
      role: 'admin',
      password,
      must_change_password: false,
    },
    { actor: null, ipAddress: null, userAgent: null, requestId: null },
  );
  const login = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: user.email, password },
  });
  const token = login.json().access_token as string;
  if (!token) throw new Error(`login failed: HTTP ${login.statusCode} ${login.body}`);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const socket = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
  onCleanup('websocket', async () => {
    if (socket.readyState !== socket.CLOSED) {
      socket.terminate();
    }
  });
  const samples: number[] = [];
  const ready = deferred<void>();
  const snapshot = deferred<void>();
  const finished = deferred<void>();
  socket.on('message', (raw) => {
    const receivedAt = performance.now();
    const message = JSON.parse(String(raw));
    if (message.type === 'ready') ready.resolve();
    else if (message.type === 'snapshot') snapshot.resolve();
    else if (message.type === 'error') log(`websocket error message: ${message.message}`);
    else if (message.type === 'job') {
      if (message.event === 'progress') {
        const sentAt = Number(message.job.progress.message);
        if (Number.isFinite(sentAt)) samples.push(receivedAt - sentAt);
      } else if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(message.job.status)) {
        finished.resolve();
      }
    }
  });
  await within(once(socket, 'open'), 10_000, 'websocket open');
  socket.send(JSON.stringify({ type: 'auth', token }));
  await within(ready.promise, 10_000, 'websocket auth');
  const job = await services.jobs.createJob({
    jobType: 'bulk_update',
    userId: user.id,
    metadata: {},
  });
  socket.send(JSON.stringify({ type: 'subscribe', job_ids: [job.id] }));
  await within(snapshot.promise, 10_000, 'websocket snapshot');
  const t0 = performance.now();
  gate.resolve();
  await within(finished.promise, 120_000, 'progress job');
  const seconds = (performance.now() - t0) / 1000;
  socket.close();
  await closeApp();

  const stats = summarise(samples);
  return {
    updates: PROGRESS_UPDATES,
    received: samples.length,
    engine: config.redisUrl ? 'bullmq' : 'local',
    updates_per_s: Math.round(PROGRESS_UPDATES / seconds),
    latency: stats,
    target: `p99 < ${TARGETS.progress_p99_ms_max} ms`,
    target_met: stats.p99_ms < TARGETS.progress_p99_ms_max && samples.length === PROGRESS_UPDATES,
  };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const report: Record<string, unknown> = {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}, ${os.cpus().length} CPUs`,
  };
  const stopSignal = () => {
    log('interrupted; cleaning up');
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopSignal);
  process.once('SIGTERM', stopSignal);

  let failed: unknown;
  try {
    const choice = await chooseDatabase();
    report.database =
      choice.kind === 'postgres'
        ? `PostgreSQL ${choice.version} (${new URL(choice.serverUrl).host})`
        : 'PGlite (in memory)';
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: true });
    redis.on('error', () => {});
    await redis.connect();
    onCleanup('redis client', () => redis.quit());
    onCleanup('redis keys', async () => {
      const deleted =
        (await deleteKeys(redis, `${TAG}:*`)) + (await deleteKeys(redis, `${TAG}-bare:*`));
      log(`deleted ${deleted} leftover Redis keys`);
    });
    const info = await redis.info('server');
    report.redis = `Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'} (${new URL(REDIS_URL).host}, db ${new URL(REDIS_URL).pathname.slice(1) || '0'})`;

    if (PARTS.has('1')) report.pickup = await partPickup(choice, redis);
    if (PARTS.has('2')) report.throughput = await partThroughput(choice, redis);
    if (PARTS.has('3')) report.progress_fanout = await partProgress(choice);
  } catch (error) {
    failed = error;
  } finally {
    await cleanUp();
  }
  if (failed) {
    console.error(failed);
    process.exitCode = 1;
    return;
  }

  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const pickup = report.pickup as
    | {
        bullmq_engine: { p50_ms: number };
        bare_bullmq: { p50_ms: number };
        local_engine: { p50_ms: number };
        bullmq_vs_bare_p50_ratio: number;
        target_met: boolean;
      }
    | undefined;
  const throughput = report.throughput as
    | {
        jobs: number;
        bullmq_engine: { jobs_per_s: number };
        bare_bullmq: { jobs_per_s: number };
        ratio_vs_bare: number;
        target_met: boolean;
      }
    | undefined;
  const progress = report.progress_fanout as
    | { latency: { p50_ms: number; p99_ms: number }; target_met: boolean }
    | undefined;
  const mark = (met: boolean) => (met ? 'met' : 'MISSED');
  const parts: string[] = [];
  if (pickup) {
    parts.push(
      `pickup p50 local ${pickup.local_engine.p50_ms} ms, bullmq ${pickup.bullmq_engine.p50_ms} ms vs bare ${pickup.bare_bullmq.p50_ms} ms (${pickup.bullmq_vs_bare_p50_ratio}x, ≤3x ${mark(pickup.target_met)})`,
    );
  }
  if (throughput) {
    parts.push(
      `throughput ${throughput.jobs} jobs: ${throughput.bullmq_engine.jobs_per_s}/s vs bare ${throughput.bare_bullmq.jobs_per_s}/s (${throughput.ratio_vs_bare}x, ≥0.3x ${mark(throughput.target_met)})`,
    );
  }
  if (progress) {
    parts.push(
      `progress→WS p50 ${progress.latency.p50_ms} ms p99 ${progress.latency.p99_ms} ms (<50 ms ${mark(progress.target_met)})`,
    );
  }
  process.stdout.write(`bench:jobs: ${parts.join('; ')}\n`);
  const missed = [pickup, throughput, progress].some((part) => part && !part.target_met);
  if (missed && process.env.BENCH_ENFORCE_TARGETS === '1') process.exitCode = 1;
}

await main();
