import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { EventBus } from '../../../platform/events/event-bus.ts';
import { Batcher } from '../batcher.ts';
import { FINISHED_STATUSES } from '../jobs.constants.ts';
import {
  JOB_CANCELS,
  JOB_EVENTS,
  type JobDispatcher,
  type JobEvent,
  type JobManager,
  type JobResponse,
} from '../jobs.manager.ts';
import type { JobRegistry } from '../jobs.registry.ts';
import type { JobRow } from '../jobs.table.ts';
import { runJob, ShutdownSignal } from './run-job.ts';

export interface BullMqEngineOptions {
  /** redis://… */
  connection: string;
  /** Jobs one worker runs at once (re-read on every sweep, so a settings change applies). */
  concurrency: number | (() => number | Promise<number>);
  /** false: this process only enqueues (an API process when RUN_WORKER=false). */
  runWorker: boolean;
  workerId?: string;
  /** Default 'registrar-jobs'. */
  queueName?: string;
  /** BullMQ's key prefix (default 'bull'); tests use their own. */
  prefix?: string;
  /** First retry delay; each further attempt doubles it. */
  retryBaseDelayMs?: number;
  /** How often to re-enqueue PENDING jobs missing from Redis and requeue dead workers' jobs. */
  sweepIntervalMs?: number;
  /** A worker whose heartbeat key is older than this is dead. */
  heartbeatTtlSeconds?: number;
  /** Default: a third of the TTL (10 s). */
  heartbeatIntervalMs?: number;
  /** BullMQ's lock on a running job (default 30 s); a dead worker's job is stalled after it. */
  lockDurationMs?: number;
  /** How often BullMQ looks for stalled jobs (default 30 s). */
  stalledIntervalMs?: number;
  /** Told about Redis or database errors the engine recovers from by itself. */
  onError?: (error: unknown, where: string) => void;
}

/** Keys written next to BullMQ's own: the job mirror (a contract) and worker heartbeats. */
export const jobMirrorKey = (id: string) => `job:${id}`;
export const workerHeartbeatKey = (workerId: string) => `registrar:worker:${workerId}`;

/** How long `job:{id}` is kept after the job ends. */
export const MIRROR_TTL_SECONDS = 86_400;
/** Safety net for jobs that never end (deleted while pending): a week. */
const UNFINISHED_MIRROR_TTL_SECONDS = 7 * 86_400;

interface QueuedJob {
  id: string;
}

interface LocalPublishTap {
  onLocalPublish(channel: string, listener: (message: unknown) => void): () => void;
}

interface SubscriptionAware {
  whenSubscribed(): Promise<void>;
}

const hasLocalTap = (bus: EventBus): bus is EventBus & LocalPublishTap =>
  typeof (bus as Partial<LocalPublishTap>).onLocalPublish === 'function';

const isSubscriptionAware = (bus: EventBus): bus is EventBus & SubscriptionAware =>
  typeof (bus as Partial<SubscriptionAware>).whenSubscribed === 'function';

/** Ours: 1..10, 10 first. BullMQ: lower runs first (0 would mean "before all prioritised"). */
export const bullPriority = (priority: number) => 11 - Math.min(10, Math.max(1, priority));

/**
 * Runs jobs on BullMQ workers, in any number of processes on any number of machines. The
 * jobs table stays the record: BullMQ only says "run job X now"; the worker claims X in the
 * database (a duplicate or stale BullMQ job finds it no longer PENDING and does nothing) and
 * settles it exactly like the local engine. Retries and backoff are decided here, not by
 * BullMQ (attempts = 1 there), and a sweep re-enqueues whatever Redis lost.
 */
export class BullMqJobEngine implements JobDispatcher {
  private readonly running = new Map<
    string,
    { controller: AbortController; done: Promise<void> }
  >();
  /** Jobs to enqueue again once BullMQ has removed the run that requeued them. */
  private readonly redispatch = new Map<string, { priority: number; runAt: Date }>();
  readonly workerId: string;
  readonly queueName: string;
  private queue: Queue<QueuedJob> | undefined;
  private worker: Worker<QueuedJob> | undefined;
  private redis: Redis | undefined;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribers: Array<() => void> = [];
  /** The last mirror write; Redis answers in order, so awaiting it awaits them all. */
  private lastMirror: Promise<void> = Promise.resolve();
  private sweeping: Promise<void> | undefined;
  /** Workers holding PROCESSING jobs whose heartbeat was missing, and since when. */
  private readonly missingSince = new Map<string, number>();
  private stopping = false;

  constructor(
    private readonly manager: JobManager,
    private readonly registry: JobRegistry,
    private readonly bus: EventBus,
    private readonly options: BullMqEngineOptions,
  ) {
    this.workerId = options.workerId ?? `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.queueName = options.queueName ?? 'registrar-jobs';
  }

  private get connection() {
    return { url: this.options.connection, maxRetriesPerRequest: null };
  }

  private get prefixOption() {
    return this.options.prefix ? { prefix: this.options.prefix } : {};
  }

  private report(error: unknown, where: string): void {
    this.options.onError?.(error, where);
  }

  async start(): Promise<void> {
    this.stopping = false;
    // Auto-pipelining: mirror writes issued in the same tick go to Redis in one write.
    const redis = new Redis(this.options.connection, {
      maxRetriesPerRequest: null,
      enableAutoPipelining: true,
    });
    redis.on('error', (error) => this.report(error, 'redis'));
    this.redis = redis;
    this.queue = new Queue<QueuedJob>(this.queueName, {
      connection: this.connection,
      ...this.prefixOption,
    });
    this.queue.on('error', (error) => this.report(error, 'queue'));
    await this.queue.waitUntilReady();

    const mirror = (message: unknown) => this.mirror(message as JobEvent);
    this.unsubscribers.push(
      hasLocalTap(this.bus)
        ? this.bus.onLocalPublish(JOB_EVENTS, mirror)
        : this.bus.subscribe(JOB_EVENTS, mirror),
    );
    this.manager.useDispatcher(this);
    if (!this.options.runWorker) return;

    this.unsubscribers.push(
      this.bus.subscribe(JOB_CANCELS, (message) => {
        const id = (message as { id?: string }).id;
        if (id) this.running.get(id)?.controller.abort(new Error('cancelled'));
      }),
    );
    if (isSubscriptionAware(this.bus)) await this.bus.whenSubscribed();
    await this.heartbeat();
    this.every(
      this.options.heartbeatIntervalMs ?? ((this.options.heartbeatTtlSeconds ?? 30) * 1000) / 3,
      () => this.heartbeat(),
    );

    this.worker = new Worker<QueuedJob>(this.queueName, (job) => this.process(job), {
      connection: this.connection,
      ...this.prefixOption,
      concurrency: await this.concurrency(),
      ...(this.options.lockDurationMs ? { lockDuration: this.options.lockDurationMs } : {}),
      ...(this.options.stalledIntervalMs
        ? { stalledInterval: this.options.stalledIntervalMs }
        : {}),
    });
    this.worker.on('error', (error) => this.report(error, 'worker'));
    // BullMQ has removed the run by now (removeOnComplete/Fail), so the same jobId can be added.
    const afterRun = (job: Job<QueuedJob> | undefined) => {
      if (job) void this.flushRedispatch(job.data.id);
    };
    this.worker.on('completed', afterRun);
    this.worker.on('failed', afterRun);
    await this.worker.waitUntilReady();

    await this.sweep();
    this.every(this.options.sweepIntervalMs ?? 30_000, () => this.sweep());
  }

  private every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => void task(), ms);
    timer.unref();
    this.timers.push(timer);
  }

  private async concurrency(): Promise<number> {
    const { concurrency } = this.options;
    return typeof concurrency === 'number' ? concurrency : await concurrency();
  }

  /** New and retried jobs. Redis trouble never fails the caller: the sweep enqueues later. */
  async dispatch(job: JobResponse): Promise<void> {
    await this.enqueue(job.id, job.priority, new Date());
    // A job retried the moment it ended may still hold its BullMQ entry (the run that failed
    // it has not returned yet, here or on another worker); then the add above was a no-op.
    if (job.attempts > 0) void this.enqueueWhenReleased(job.id, job.priority);
  }

  private async enqueueWhenReleased(id: string, priority: number): Promise<void> {
    try {
      const deadline = Date.now() + 60_000;
      while (this.queue && Date.now() < deadline) {
        const state = await this.queue.getJobState(id);
        if (state !== 'active') {
          if (state === 'unknown') await this.enqueue(id, priority, new Date());
          return;
        }
        await sleep(100);
      }
    } catch (error) {
      this.report(error, 'enqueue');
    }
  }

  /** Concurrent enqueues go to Redis together (one addBulk, one round trip). */
  private readonly adds = new Batcher<{ id: string; priority: number; runAt: Date }, void>(
    async (batch) => {
      const queue = this.queue;
      if (!queue) return batch.map(() => undefined);
      const jobs = batch.map(({ id, priority, runAt }) => ({
        name: 'run',
        data: { id },
        opts: {
          jobId: id,
          priority: bullPriority(priority),
          delay: Math.max(0, runAt.getTime() - Date.now()),
          attempts: 1,
          removeOnComplete: true,
          removeOnFail: true,
        },
      }));
      // A lone job skips addBulk's MULTI/EXEC: one script call, as bare BullMQ does.
      const [only] = jobs;
      if (only && jobs.length === 1) await queue.add(only.name, only.data, only.opts);
      else await queue.addBulk(jobs);
      return batch.map(() => undefined);
    },
  );

  private async enqueue(id: string, priority: number, runAt: Date): Promise<void> {
    if (!this.queue) return;
    const add = this.adds.push({ id, priority, runAt });
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), 2000).unref(),
    );
    try {
      if ((await Promise.race([add, timeout])) === 'timeout') {
        add.catch((error: unknown) => this.report(error, 'enqueue'));
        this.report(new Error(`enqueueing job ${id} timed out; the sweep will retry`), 'enqueue');
      }
    } catch (error) {
      this.report(error, 'enqueue');
    }
  }

  private async flushRedispatch(id: string): Promise<void> {
    const entry = this.redispatch.get(id);
    if (!entry) return;
    this.redispatch.delete(id);
    await this.enqueue(id, entry.priority, entry.runAt);
  }

  /** The BullMQ processor: claim in the database, run, settle. */
  private async process(bullJob: Job<QueuedJob>): Promise<void> {
    const row = await this.manager.claim(bullJob.data.id, this.workerId);
    // Cancelled, done, or being run by someone else: this BullMQ job is a stale duplicate.
    if (!row) return;
    const controller = new AbortController();
    if (row.cancel_requested_at) controller.abort(new Error('cancelled'));
    const done = this.execute(row, controller.signal);
    this.running.set(row.id, { controller, done });
    try {
      await done;
    } finally {
      this.running.delete(row.id);
    }
  }

  private async execute(row: JobRow, signal: AbortSignal): Promise<void> {
    const { requeuedFor } = await runJob(
      this.manager,
      this.registry,
      row,
      signal,
      this.options.retryBaseDelayMs ?? 1000,
    );
    // Hand a requeued job back to BullMQ once BullMQ has let go of this run.
    if (requeuedFor) this.redispatch.set(row.id, { priority: row.priority, runAt: requeuedFor });
  }

  /** `job:{id}` holds the job's JSON; 24 hours once it has ended. Writes keep event order. */
  private mirror(event: JobEvent): void {
    const redis = this.redis;
    if (!redis || !event?.job?.id) return;
    const ended = FINISHED_STATUSES.includes(event.job.status);
    // Sent at once, not chained: one connection runs its commands in the order they were sent.
    this.lastMirror = redis
      .set(
        jobMirrorKey(event.job.id),
        JSON.stringify(event.job),
        'EX',
        ended ? MIRROR_TTL_SECONDS : UNFINISHED_MIRROR_TTL_SECONDS,
      )
      .then(
        () => undefined,
        (error: unknown) => this.report(error, 'mirror'),
      );
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.redis?.set(
        workerHeartbeatKey(this.workerId),
        String(Date.now()),
        'EX',
        this.options.heartbeatTtlSeconds ?? 30,
      );
    } catch (error) {
      this.report(error, 'heartbeat');
    }
  }

  /**
   * Requeues the jobs of workers that stopped heartbeating, then enqueues every PENDING job
   * that BullMQ does not know (Redis flushed or restarted). Duplicates are harmless.
   */
  sweep(): Promise<void> {
    if (!this.sweeping) {
      this.sweeping = this.sweepOnce().finally(() => {
        this.sweeping = undefined;
      });
    }
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    const { redis, queue, worker } = this;
    if (!redis || !queue || this.stopping) return;
    try {
      if (worker) worker.concurrency = await this.concurrency();
      // A worker is dead once its heartbeat has been missing for a whole TTL: one missing read
      // may just follow a Redis restart, before live workers have written theirs again.
      const graceMs = (this.options.heartbeatTtlSeconds ?? 30) * 1000;
      const holders = await this.manager.processingWorkerIds();
      for (const workerId of this.missingSince.keys()) {
        if (!holders.includes(workerId)) this.missingSince.delete(workerId);
      }
      for (const workerId of holders) {
        if (workerId === this.workerId) continue;
        if ((await redis.exists(workerHeartbeatKey(workerId))) > 0) {
          this.missingSince.delete(workerId);
          continue;
        }
        const since = this.missingSince.get(workerId);
        if (since === undefined) {
          this.missingSince.set(workerId, Date.now());
        } else if (Date.now() - since >= graceMs) {
          this.missingSince.delete(workerId);
          await this.manager.requeueOrphans(workerId);
        }
      }
      // Which PENDING jobs BullMQ still knows: one pipelined EXISTS per 500, not a call per job.
      const pending = await this.manager.pendingSchedule();
      for (let start = 0; start < pending.length && !this.stopping; start += 500) {
        const chunk = pending.slice(start, start + 500);
        const pipeline = redis.pipeline();
        for (const job of chunk) pipeline.exists(queue.toKey(job.id));
        const known = (await pipeline.exec()) ?? [];
        const missing = chunk.filter((_, i) => known[i]?.[1] !== 1);
        await Promise.all(missing.map((job) => this.enqueue(job.id, job.priority, job.run_after)));
      }
    } catch (error) {
      this.report(error, 'sweep');
    }
  }

  /** Jobs running in this process now. */
  get activeJobIds(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Stops taking jobs, gives running ones `graceMs` to finish, then interrupts the rest at
   * their next batch boundary and puts them back in the queue for any worker to resume.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.sweeping;
    const closing = this.worker?.close();
    const all = () => Promise.all([...this.running.values()].map((entry) => entry.done));
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), graceMs).unref(),
    );
    if ((await Promise.race([all(), timeout])) === 'timeout') {
      for (const entry of this.running.values()) entry.controller.abort(new ShutdownSignal());
      await all();
    }
    await closing?.catch((error: unknown) => this.report(error, 'worker close'));
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
    for (const id of [...this.redispatch.keys()]) await this.flushRedispatch(id);
    await this.lastMirror;
    try {
      if (this.worker) await this.redis?.del(workerHeartbeatKey(this.workerId));
    } catch (error) {
      this.report(error, 'heartbeat');
    }
    await this.queue?.close().catch((error: unknown) => this.report(error, 'queue close'));
    await this.redis?.quit().catch(() => this.redis?.disconnect());
    this.worker = undefined;
    this.queue = undefined;
    this.redis = undefined;
  }
}
