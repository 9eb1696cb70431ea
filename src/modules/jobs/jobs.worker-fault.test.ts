import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { onServer, uniqueDatabaseName, urlForDatabase } from '../../../test/support/databases.ts';
import { type DatabaseHandle, openDatabase } from '../../platform/db/client.ts';
import { RedisEventBus } from '../../platform/events/redis-event-bus.ts';
import { AuditLogger } from '../audit/audit.logger.ts';
import { BullMqJobEngine, jobMirrorKey } from './engines/bullmq.engine.ts';
import { JobManager, type JobResponse } from './jobs.manager.ts';
import { JobRegistry } from './jobs.registry.ts';

const redisUrl = process.env.TEST_REDIS_URL;
const serverUrl = process.env.TEST_DATABASE_URL;
// Real worker processes need a database they can share: PostgreSQL, so the postgres project only.
const enabled = Boolean(redisUrl && serverUrl && process.env.TEST_DB_KIND === 'postgres');
const root = path.resolve(import.meta.dirname, '../../..');

describe.skipIf(!enabled)('real worker processes (kill -9)', () => {
  const tag = `f${process.pid}${randomBytes(3).toString('hex')}`;
  const prefix = `regfault-${tag}`;
  const queueName = 'registrar-jobs';
  const dbName = uniqueDatabaseName('registrar_fault');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'registrar-fault-'));
  const children = new Map<number, ChildProcess>();
  const jobIds: string[] = [];
  let database: DatabaseHandle;
  let redis: Redis;
  let bus: RedisEventBus;
  let manager: JobManager;
  let audit: AuditLogger;
  let api: BullMqJobEngine;

  function spawnWorker(): Promise<number> {
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
        REDIS_URL: redisUrl,
        FAULT_QUEUE: queueName,
        FAULT_PREFIX: prefix,
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

  const rows = (result: unknown) => (result as { rows: Record<string, unknown>[] }).rows;

  async function waitFor(id: string, done: (job: JobResponse) => boolean, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await manager.getJob(id);
      if (done(job)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status}`);
      await sleep(50);
    }
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
    redis = new Redis(redisUrl ?? '', { maxRetriesPerRequest: null });
    bus = new RedisEventBus(redisUrl ?? '');
    audit = new AuditLogger(database.db, { enabled: true });
    manager = new JobManager(database.db, bus, audit, {
      maxJobs: 1000,
      maxJobsPerUser: 1000,
      retentionHours: 24,
    });
    // This test process plays an API process with RUN_WORKER=false.
    api = new BullMqJobEngine(manager, new JobRegistry(), bus, {
      connection: redisUrl ?? '',
      concurrency: 1,
      runWorker: false,
      queueName,
      prefix,
    });
    await api.start();
  }, 60_000);

  afterAll(async () => {
    for (const [pid, child] of children) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(pid, 'SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
    }
    await api?.stop(0);
    await audit?.stop();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    if (jobIds.length > 0) await redis.del(...jobIds.map(jobMirrorKey));
    await redis?.quit();
    await bus?.close();
    await database?.close();
    await onServer(serverUrl ?? '', `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('another worker finishes the job of a worker killed mid-job; its effects land once', async () => {
    const [first, second] = await Promise.all([spawnWorker(), spawnWorker()]);
    const job = await manager.createJob({
      jobType: 'data_migration',
      userId: null,
      metadata: { items: 20, delay_ms: 100 },
    });
    jobIds.push(job.id);
    const running = await waitFor(
      job.id,
      (current) => current.status === 'PROCESSING' && current.progress.current >= 3,
    );
    const [victimRow] = rows(
      await database.db.execute(sql`SELECT worker_id FROM jobs WHERE id = ${job.id}`),
    );
    const victim = Number(String(victimRow?.worker_id).replace('fault-', ''));
    expect([first, second]).toContain(victim);
    const survivor = victim === first ? second : first;
    expect(running.progress.current).toBeLessThan(20);
    process.kill(victim, 'SIGKILL');

    const done = await waitFor(job.id, (current) => current.status === 'COMPLETED', 60_000);
    expect(done.attempts).toBe(2);
    const effects = await database.db.execute(
      sql`SELECT count(*)::int AS items, sum(writes)::int AS writes FROM fault_effects WHERE job_id = ${job.id}`,
    );
    const completions = await database.db.execute(
      sql`SELECT worker_id, completions FROM fault_completions WHERE job_id = ${job.id}`,
    );
    // Every item exactly once (upserts absorb the batches the killed worker had done)…
    expect(rows(effects)[0]).toMatchObject({ items: 20 });
    expect(Number(rows(effects)[0]?.writes)).toBeGreaterThan(20);
    // …and the job ran to completion once, on the survivor.
    expect(rows(completions)).toEqual([{ worker_id: `fault-${survivor}`, completions: 1 }]);
  }, 120_000);
});
