import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { onServer, uniqueDatabaseName, urlForDatabase } from '../../../test/support/databases.ts';
import { type DatabaseHandle, openDatabase } from '../../platform/db/client.ts';
import { RedisEventBus } from '../../platform/events/redis-event-bus.ts';
import { AuditLogger } from '../audit/audit.logger.ts';
import { BullMqJobEngine, jobMirrorKey } from './engines/bullmq.engine.ts';
import { JobManager, type JobResponse } from './jobs.manager.ts';
import { JobRegistry } from './jobs.registry.ts';

/**
 * The fault tests of issue 4 besides kill -9 (jobs.worker-fault.test.ts): real worker
 * processes (test/support/fault-worker.ts) on real Redis and PostgreSQL; this process plays
 * an API process with RUN_WORKER=false.
 */
const redisUrl = process.env.TEST_REDIS_URL;
const serverUrl = process.env.TEST_DATABASE_URL;
// Real worker processes need a database they can share: PostgreSQL, so the postgres project only.
const enabled = Boolean(redisUrl && serverUrl && process.env.TEST_DB_KIND === 'postgres');
const root = path.resolve(import.meta.dirname, '../../..');

/**
 * The flush test flushes a Redis logical database of its own, never the one other test files
 * share (they use db 0 with their own key prefixes). A lock key in db 0 keeps two runs of this
 * file (two people testing the same machine) from flushing each other's jobs.
 */
const FLUSH_DB = 15;
const FLUSH_LOCK = `registrar-test:flushdb-${FLUSH_DB}-lock`;

const onDb = (url: string, db: number) => {
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.toString();
};

const done = (job: JobResponse) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status);

describe.skipIf(!enabled)('real worker processes: Redis flush, cancel, priority, retries', () => {
  const tag = `p${process.pid}${randomBytes(3).toString('hex')}`;
  const prefix = `regfault-${tag}`;
  const dbName = uniqueDatabaseName('registrar_pfault');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'registrar-pfault-'));
  const children = new Map<number, ChildProcess>();
  const apis: BullMqJobEngine[] = [];
  const jobIds: string[] = [];
  let database: DatabaseHandle;
  let redis: Redis;
  let bus: RedisEventBus;
  let manager: JobManager;
  let audit: AuditLogger;
  let flushLockHeld = false;

  const rows = (result: unknown) => (result as { rows: Record<string, unknown>[] }).rows;

  function spawnWorker(options: {
    queue: string;
    redis?: string;
    concurrency?: number;
    retryBaseMs?: number;
  }): Promise<number> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/fault-worker.ts'], {
      cwd: root,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        DATA_DIR: dataDir,
        JWT_SECRET: 'fault-test-secret-that-is-long-enough-for-hs256',
        DATABASE_URL: urlForDatabase(serverUrl ?? '', dbName),
        DATABASE_POOL_SIZE: '3',
        REDIS_URL: options.redis ?? redisUrl,
        FAULT_QUEUE: options.queue,
        FAULT_PREFIX: prefix,
        FAULT_CONCURRENCY: String(options.concurrency ?? 2),
        ...(options.retryBaseMs ? { FAULT_RETRY_BASE_MS: String(options.retryBaseMs) } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error('could not spawn a worker');
    children.set(pid, child);
    child.once('exit', () => children.delete(pid));
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker did not start: ${stderr}`)), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) {
          clearTimeout(timer);
          resolve(pid);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`worker exited with ${code}: ${stderr}`));
      });
    });
  }

  /** An enqueue-only engine in this process (an API process with RUN_WORKER=false). */
  async function startApi(queue: string, connection = redisUrl ?? '') {
    const api = new BullMqJobEngine(manager, new JobRegistry(), bus, {
      connection,
      concurrency: 1,
      runWorker: false,
      queueName: queue,
      prefix,
    });
    apis.push(api);
    await api.start();
    return api;
  }

  async function createJob(metadata: Record<string, unknown>, priority = 5) {
    const job = await manager.createJob({
      jobType: 'data_migration',
      userId: null,
      metadata: { items: 1, delay_ms: 0, ...metadata },
      priority,
    });
    jobIds.push(job.id);
    return job;
  }

  async function waitFor(id: string, until: (job: JobResponse) => boolean, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await manager.getJob(id);
      if (until(job)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status}`);
      await sleep(50);
    }
  }

  async function completions(ids: string[]) {
    const result = await database.db.execute(
      sql`SELECT job_id, completions FROM fault_completions WHERE job_id IN (${sql.join(
        ids.map((id) => sql`${id}::uuid`),
        sql`, `,
      )})`,
    );
    return new Map(rows(result).map((row) => [String(row.job_id), Number(row.completions)]));
  }

  async function stopChildren() {
    await Promise.all(
      [...children].map(async ([pid, child]) => {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(pid, 'SIGTERM');
        if ((await Promise.race([exited, sleep(10_000, 'late')])) === 'late') {
          process.kill(pid, 'SIGKILL');
        }
      }),
    );
  }

  async function acquireFlushLock() {
    const deadline = Date.now() + 120_000;
    while ((await redis.set(FLUSH_LOCK, tag, 'PX', 180_000, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new Error(`Redis db ${FLUSH_DB} stayed locked`);
      await sleep(250);
    }
    flushLockHeld = true;
  }

  /** Empties the flush test's Redis database once its processes have stopped, then unlocks it. */
  async function releaseFlushDb() {
    if (!flushLockHeld) return;
    const flusher = new Redis(onDb(redisUrl ?? '', FLUSH_DB), { maxRetriesPerRequest: null });
    await flusher.flushdb();
    await flusher.quit();
    // Only our own lock: compare and delete in one step.
    await redis.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
      1,
      FLUSH_LOCK,
      tag,
    );
    flushLockHeld = false;
  }

  beforeAll(async () => {
    const url = serverUrl ?? '';
    await onServer(url, `CREATE DATABASE ${dbName} TEMPLATE ${inject('postgresTemplate')}`);
    database = await openDatabase({
      kind: 'postgres',
      url: urlForDatabase(url, dbName),
      poolSize: 3,
    });
    await database.db.execute(
      sql`CREATE TABLE fault_effects (job_id uuid, item int, writes int NOT NULL, PRIMARY KEY (job_id, item))`,
    );
    await database.db.execute(
      sql`CREATE TABLE fault_completions (job_id uuid PRIMARY KEY, worker_id text NOT NULL, completions int NOT NULL)`,
    );
    await database.db.execute(
      sql`CREATE TABLE fault_starts (seq bigserial PRIMARY KEY, job_id uuid NOT NULL, attempt int NOT NULL,
          worker_id text NOT NULL, started_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    redis = new Redis(redisUrl ?? '', { maxRetriesPerRequest: null });
    bus = new RedisEventBus(redisUrl ?? '');
    audit = new AuditLogger(database.db, { enabled: true });
    manager = new JobManager(database.db, bus, audit, {
      maxJobs: 1000,
      maxJobsPerUser: 1000,
      retentionHours: 24,
    });
  }, 60_000);

  // Every test starts with no worker, no API engine and no unfinished job left by another.
  afterEach(async () => {
    await stopChildren();
    for (const api of apis.splice(0)) await api.stop(0);
    await releaseFlushDb();
    await database.db.execute(
      sql`UPDATE jobs SET status = 'CANCELLED', worker_id = NULL WHERE status IN ('PENDING', 'PROCESSING')`,
    );
  }, 60_000);

  afterAll(async () => {
    await stopChildren();
    for (const api of apis.splice(0)) await api.stop(0);
    if (redis) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      for (let i = 0; i < jobIds.length; i += 500) {
        await redis.del(...jobIds.slice(i, i + 500).map(jobMirrorKey));
      }
      await releaseFlushDb();
      await redis.quit();
    }
    await audit?.stop();
    await bus?.close();
    await database?.close();
    await onServer(serverUrl ?? '', `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it(`completes every pending job after Redis is flushed (FLUSHDB of db ${FLUSH_DB})`, async () => {
    await acquireFlushLock();
    const url = onDb(redisUrl ?? '', FLUSH_DB);
    const flusher = new Redis(url, { maxRetriesPerRequest: null });
    try {
      const queue = 'flush';
      await startApi(queue, url);

      // 1. Jobs enqueued while no worker runs; Redis forgets them; a worker starts: its
      // start-up sweep finds them PENDING in the database and enqueues them again.
      const early = [];
      for (let i = 0; i < 5; i++) early.push(await createJob({}));
      expect(await flusher.exists(`${prefix}:${queue}:${early[0]?.id}`)).toBe(1);
      await flusher.flushdb();
      expect(await flusher.dbsize()).toBe(0);
      await spawnWorker({ queue, redis: url, concurrency: 1 });
      for (const job of early) {
        expect((await waitFor(job.id, done)).status).toBe('COMPLETED');
      }

      // 2. The worker is busy and more jobs wait in the queue; Redis is flushed again: the
      // periodic sweep (every second in the fault worker) enqueues them again.
      const blocker = await createJob({ items: 15, delay_ms: 100 });
      await waitFor(blocker.id, (job) => job.status === 'PROCESSING');
      const late = [];
      for (let i = 0; i < 5; i++) late.push(await createJob({}));
      expect((await manager.getJob(late[0]?.id ?? '')).status).toBe('PENDING');
      await flusher.flushdb();
      for (const job of [blocker, ...late]) {
        expect(await waitFor(job.id, done)).toMatchObject({ status: 'COMPLETED', attempts: 1 });
      }

      // Run to completion exactly once each.
      const all = [...early, blocker, ...late].map((job) => job.id);
      const counted = await completions(all);
      expect(all.map((id) => counted.get(id))).toEqual(all.map(() => 1));
    } finally {
      await flusher.quit();
    }
  }, 120_000);

  it('cancels a job running in another worker process within one batch', async () => {
    const queue = 'cancel';
    await spawnWorker({ queue, concurrency: 1 });
    await startApi(queue);
    const job = await createJob({ items: 100, delay_ms: 200 });
    await waitFor(
      job.id,
      (current) => current.status === 'PROCESSING' && current.progress.current >= 3,
    );

    const requested = await manager.cancelJob(job.id);
    // Cancel only asks; the worker's handler sees its AbortSignal fire over Redis pub/sub.
    expect(requested.status).toBe('PROCESSING');
    const atCancel = requested.progress.current;
    const stopped = await waitFor(job.id, done, 10_000);

    expect(stopped.status).toBe('CANCELLED');
    // At most the batch that was being recorded when cancel was and the one running when the
    // signal arrived: one batch after the signal.
    expect(stopped.progress.current).toBeLessThanOrEqual(atCancel + 2);
    expect(stopped.result).toMatchObject({
      success: false,
      message: 'stopped',
      statistics: { processed: stopped.progress.current },
    });
    const effects = await database.db.execute(
      sql`SELECT count(*)::int AS items FROM fault_effects WHERE job_id = ${job.id}`,
    );
    expect(rows(effects)[0]?.items).toBe(stopped.progress.current);
    expect((await completions([job.id])).size).toBe(0);
  }, 60_000);

  it('starts 200 jobs of mixed priorities in priority order, then oldest, at concurrency 1', async () => {
    const queue = 'priority';
    await startApi(queue);
    // Created before any worker runs on the queue, so the order is the queue's, not arrival's.
    const created: Array<{ id: string; priority: number; index: number }> = [];
    for (let i = 0; i < 200; i++) {
      const priority = 1 + ((i * 7) % 10);
      const job = await createJob({ record_starts: true }, priority);
      created.push({ id: job.id, priority, index: i });
    }
    await spawnWorker({ queue, concurrency: 1 });

    const deadline = Date.now() + 90_000;
    const ids = created.map((job) => job.id);
    for (;;) {
      const result = await database.db.execute(
        sql`SELECT count(*)::int AS n FROM jobs WHERE status = 'COMPLETED' AND id IN (${sql.join(
          ids.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})`,
      );
      if (rows(result)[0]?.n === 200) break;
      if (Date.now() > deadline) throw new Error(`only ${rows(result)[0]?.n} of 200 completed`);
      await sleep(200);
    }
    const starts = rows(
      await database.db.execute(sql`SELECT job_id FROM fault_starts ORDER BY seq`),
    )
      .map((row) => String(row.job_id))
      .filter((id) => ids.includes(id));
    const expected = [...created]
      .sort((a, b) => b.priority - a.priority || a.index - b.index)
      .map((job) => job.id);
    expect(starts).toEqual(expected);
  }, 120_000);

  it('retries a throwing handler with growing delays, then FAILED; retry runs it again', async () => {
    const queue = 'retry';
    const baseMs = 300;
    await spawnWorker({ queue, retryBaseMs: baseMs });
    await startApi(queue);
    const job = await createJob({ items: 2, fail_times: 3, record_starts: true });

    const failed = await waitFor(job.id, done);
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 3, max_attempts: 3 });
    expect(failed.error_message).toBe('planned failure 3');
    expect(failed.result).toMatchObject({ success: false, errors: ['planned failure 3'] });
    const startTimes = async () =>
      rows(
        await database.db.execute(
          sql`SELECT attempt, (extract(epoch FROM started_at) * 1000)::float8 AS at
              FROM fault_starts WHERE job_id = ${job.id} ORDER BY seq`,
        ),
      ).map((row) => ({ attempt: Number(row.attempt), at: Number(row.at) }));
    const [first, second, third] = await startTimes();
    expect([first?.attempt, second?.attempt, third?.attempt]).toEqual([1, 2, 3]);
    const gap1 = (second?.at ?? 0) - (first?.at ?? 0);
    const gap2 = (third?.at ?? 0) - (second?.at ?? 0);
    // Exponential backoff: base, then twice the base (1 ms of timestamp rounding allowed).
    expect(gap1).toBeGreaterThanOrEqual(baseMs - 1);
    expect(gap2).toBeGreaterThanOrEqual(2 * baseMs - 1);
    expect(gap2).toBeGreaterThan(gap1);

    // The retry (POST /jobs/{id}/retry calls this) runs it as a fourth attempt, which succeeds.
    expect((await manager.retryJob(job.id)).status).toBe('PENDING');
    const completed = await waitFor(job.id, done);
    expect(completed).toMatchObject({ status: 'COMPLETED', attempts: 4, error_message: null });
    expect((await startTimes()).map((start) => start.attempt)).toEqual([1, 2, 3, 4]);
    expect((await completions([job.id])).get(job.id)).toBe(1);
  }, 60_000);
});
