import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openTestDatabase } from '../../../test/support/test-app.ts';
import type { DatabaseHandle } from '../../platform/db/client.ts';
import type { EventBus } from '../../platform/events/event-bus.ts';
import { AuditLogger } from '../audit/audit.logger.ts';
import { JobManager, type JobResponse } from './jobs.manager.ts';
import { JobRegistry } from './jobs.registry.ts';
import { jobs } from './jobs.table.ts';

/** What every engine offers (LocalJobEngine, BullMqJobEngine). */
export interface EngineUnderTest {
  start(): Promise<void>;
  stop(graceMs?: number): Promise<void>;
  readonly activeJobIds: string[];
}

export interface EngineFactoryInput {
  manager: JobManager;
  registry: JobRegistry;
  bus: EventBus;
  concurrency: number;
  retryBaseDelayMs: number;
}

export interface EngineContractSetup {
  /** The bus the manager publishes on (LocalEventBus, or RedisEventBus for BullMQ). */
  makeBus(): EventBus;
  makeEngine(input: EngineFactoryInput): EngineUnderTest;
  /** Runs after every engine has stopped (delete Redis keys, …). */
  cleanup?(): Promise<void>;
}

export interface EngineContractContext {
  database: DatabaseHandle;
  manager: JobManager;
  registry: JobRegistry;
  bus: EventBus;
  /** Starts an engine; it is stopped at the end of the test file if the test did not. */
  startEngine(options?: {
    concurrency?: number;
    retryBaseDelayMs?: number;
  }): Promise<EngineUnderTest>;
  createJob(
    metadata: Record<string, unknown>,
    options?: { priority?: number },
  ): Promise<JobResponse>;
  waitFor(
    id: string,
    done: (job: JobResponse) => boolean,
    timeoutMs?: number,
  ): Promise<JobResponse>;
  /** Labels in the order the test handler started them (every attempt). */
  started: string[];
  /** When each label's attempts started (ms since epoch). */
  startTimes: Map<string, number[]>;
  /** Items really processed per label: proves an effect happened once. */
  processed: Map<string, number>;
}

export const testPayload = z.strictObject({
  label: z.string(),
  items: z.number().int().min(0).default(5),
  batch: z.number().int().min(1).default(1),
  delay_ms: z.number().int().min(0).default(0),
  fail_times: z.number().int().min(0).default(0),
});

export const ended = (job: JobResponse) =>
  ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status);

/**
 * Builds the shared fixture: a database, a JobManager, a registry whose bulk_update handler
 * processes items in batches, reports progress and honours cancel.
 */
export function useEngineFixture(setup: EngineContractSetup): EngineContractContext {
  const engines: EngineUnderTest[] = [];
  const failures = new Map<string, number>();
  const context = {
    started: [] as string[],
    startTimes: new Map<string, number[]>(),
    processed: new Map<string, number>(),
  } as EngineContractContext;

  beforeAll(async () => {
    context.database = await openTestDatabase();
    context.bus = setup.makeBus();
    context.manager = new JobManager(
      context.database.db,
      context.bus,
      new AuditLogger(context.database.db, { enabled: true }),
      { maxJobs: 1000, maxJobsPerUser: 1000, retentionHours: 24 },
    );
    context.registry = new JobRegistry().register('bulk_update', {
      payload: testPayload,
      permission: 'jobs:create',
      async run({ payload, progress, signal }) {
        context.started.push(payload.label);
        context.startTimes.set(payload.label, [
          ...(context.startTimes.get(payload.label) ?? []),
          Date.now(),
        ]);
        const failed = failures.get(payload.label) ?? 0;
        if (failed < payload.fail_times) {
          failures.set(payload.label, failed + 1);
          throw new Error(`planned failure ${failed + 1}`);
        }
        let done = 0;
        while (done < payload.items) {
          if (signal.aborted) {
            return { success: false, message: 'stopped', statistics: { processed: done } };
          }
          await sleep(payload.delay_ms);
          done = Math.min(payload.items, done + payload.batch);
          context.processed.set(
            payload.label,
            (context.processed.get(payload.label) ?? 0) + payload.batch,
          );
          await progress({ current: done, total: payload.items, processed_items: done });
        }
        return { success: true, message: 'done', statistics: { processed: done } };
      },
    });
  });

  // A failed test must not leave its engine running into the next one.
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.stop(0);
  });
  afterAll(async () => {
    await setup.cleanup?.();
    await context.bus?.close();
    await context.database?.close();
  });

  context.startEngine = async (options = {}) => {
    const engine = setup.makeEngine({
      manager: context.manager,
      registry: context.registry,
      bus: context.bus,
      concurrency: options.concurrency ?? 2,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 100,
    });
    engines.push(engine);
    await engine.start();
    return engine;
  };
  context.createJob = (metadata, options = {}) =>
    context.manager.createJob({
      jobType: 'bulk_update',
      userId: null,
      metadata: testPayload.parse(metadata),
      priority: options.priority ?? 5,
    });
  context.waitFor = async (id, done, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await context.manager.getJob(id);
      if (done(job)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status}`);
      await sleep(25);
    }
  };
  return context;
}

/** The scenarios every engine must pass, the same assertions for each. */
export function registerEngineContract(
  name: string,
  setup: EngineContractSetup,
): EngineContractContext {
  const t = useEngineFixture(setup);

  describe(`${name}: the engine contract`, () => {
    it('runs a job to completion with progress and a result', async () => {
      const engine = await t.startEngine();
      const created = await t.createJob({ label: 'simple', items: 4, batch: 2 });
      const job = await t.waitFor(created.id, ended);
      expect(job).toMatchObject({
        status: 'COMPLETED',
        attempts: 1,
        progress: { current: 4, total: 4, percentage: 100 },
      });
      expect(job.result).toMatchObject({ success: true, statistics: { processed: 4 } });
      expect(job.expires_at).not.toBeNull();
      expect(t.processed.get('simple')).toBe(4);
      await engine.stop(0);
    });

    it('starts jobs in priority order, then oldest first, with concurrency 1', async () => {
      const engine = await t.startEngine({ concurrency: 1 });
      // The blocker holds the only slot until every job is queued (then it is cancelled), so
      // the order does not depend on how fast a loaded machine creates jobs.
      const blocker = await t.createJob({ label: 'blocker', items: 1000, delay_ms: 20 });
      await t.waitFor(blocker.id, (job) => job.status === 'PROCESSING');
      const low = await t.createJob({ label: 'low' }, { priority: 1 });
      const highOld = await t.createJob({ label: 'high-old' }, { priority: 9 });
      const highNew = await t.createJob({ label: 'high-new' }, { priority: 9 });
      const middle = await t.createJob({ label: 'middle' }, { priority: 5 });
      const top = await t.createJob({ label: 'top' }, { priority: 10 });
      await t.manager.cancelJob(blocker.id);
      for (const job of [blocker, low, highOld, highNew, middle, top]) {
        await t.waitFor(job.id, ended);
      }
      const order = t.started.filter((label) =>
        ['blocker', 'low', 'high-old', 'high-new', 'middle', 'top'].includes(label),
      );
      expect(order).toEqual(['blocker', 'top', 'high-old', 'high-new', 'middle', 'low']);
      await engine.stop(0);
    });

    it('cancels a pending job at once and a running one at its next batch', async () => {
      const engine = await t.startEngine({ concurrency: 1 });
      const running = await t.createJob({ label: 'long', items: 200, delay_ms: 20 });
      const pending = await t.createJob({ label: 'queued' });
      await t.waitFor(running.id, (job) => job.status === 'PROCESSING' && job.progress.current > 0);

      expect((await t.manager.cancelJob(pending.id)).status).toBe('CANCELLED');
      expect((await t.manager.cancelJob(running.id)).status).toBe('PROCESSING');
      const stopped = await t.waitFor(running.id, ended);
      expect(stopped.status).toBe('CANCELLED');
      expect(stopped.progress.current).toBeLessThan(200);
      expect(stopped.result?.statistics?.processed).toBe(stopped.progress.current);
      await expect(t.manager.cancelJob(running.id)).rejects.toMatchObject({ status: 409 });
      // Give a stale queue entry for the pending job the chance to (wrongly) run.
      await sleep(200);
      expect(t.started).not.toContain('queued');
      expect((await t.manager.getJob(pending.id)).status).toBe('CANCELLED');
      await engine.stop(0);
    });

    it('retries a throwing handler with growing delays, then fails; retryJob runs it again', async () => {
      const engine = await t.startEngine({ retryBaseDelayMs: 150 });
      const created = await t.createJob({ label: 'flaky', items: 2, fail_times: 3 });
      const failed = await t.waitFor(created.id, ended, 20_000);
      expect(failed).toMatchObject({ status: 'FAILED', attempts: 3 });
      expect(failed.error_message).toContain('planned failure 3');
      const [first = 0, second = 0, third = 0] = t.startTimes.get('flaky') ?? [];
      expect(second - first).toBeGreaterThanOrEqual(140);
      expect(third - second).toBeGreaterThanOrEqual(290);

      await t.manager.retryJob(created.id);
      const completed = await t.waitFor(created.id, ended);
      expect(completed).toMatchObject({ status: 'COMPLETED', attempts: 4 });
      expect(t.processed.get('flaky')).toBe(2);
      await engine.stop(0);
    }, 30_000);

    it('resumes jobs a shutdown interrupted, and jobs a dead worker left PROCESSING', async () => {
      const first = await t.startEngine();
      const long = await t.createJob({ label: 'interrupted', items: 60, delay_ms: 20 });
      await t.waitFor(long.id, (job) => job.progress.current > 0);
      await first.stop(0);
      expect((await t.manager.getJob(long.id)).status).toBe('PENDING');

      // Make another job look like its process died while running it.
      const orphan = await t.createJob({ label: 'orphan', items: 3 });
      await t.database.db
        .update(jobs)
        .set({ status: 'PROCESSING', worker_id: 'dead-worker', attempts: 1 })
        .where(eq(jobs.id, orphan.id));

      const second = await t.startEngine();
      expect((await t.waitFor(long.id, ended)).status).toBe('COMPLETED');
      const resumed = await t.waitFor(orphan.id, ended);
      expect(resumed).toMatchObject({ status: 'COMPLETED', attempts: 2 });
      expect(t.processed.get('orphan')).toBe(3);
      await second.stop(0);
    }, 30_000);
  });

  return t;
}
