import { randomUUID } from 'node:crypto';
import type { EventBus } from '../../../platform/events/event-bus.ts';
import { JOB_CANCELS, type JobDispatcher, type JobManager } from '../jobs.manager.ts';
import type { JobRegistry } from '../jobs.registry.ts';
import type { JobRow } from '../jobs.table.ts';
import { runJob, ShutdownSignal } from './run-job.ts';

export interface LocalEngineOptions {
  /** How many jobs run at once (read on every pickup, so a settings change applies). */
  concurrency: () => number | Promise<number>;
  /** How often to look for jobs that became due (retries with backoff, other processes). */
  pollIntervalMs?: number;
  /** First retry delay; each further attempt doubles it. */
  retryBaseDelayMs?: number;
  workerId?: string;
}

/**
 * Runs jobs inside this process: highest priority first, then oldest, at most
 * `concurrency` at a time. The jobs table is the queue (claims use SKIP LOCKED).
 */
export class LocalJobEngine implements JobDispatcher {
  private readonly running = new Map<
    string,
    { controller: AbortController; done: Promise<void> }
  >();
  private readonly workerId: string;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private pumping = false;
  private pumpAgain = false;
  private stopping = false;

  constructor(
    private readonly manager: JobManager,
    private readonly registry: JobRegistry,
    private readonly bus: EventBus,
    private readonly options: LocalEngineOptions,
  ) {
    this.workerId = options.workerId ?? `local-${process.pid}-${randomUUID().slice(0, 8)}`;
  }

  /** Resumes PENDING jobs and re-queues those a crash left PROCESSING, then starts taking jobs. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.manager.requeueOrphans();
    this.unsubscribe = this.bus.subscribe(JOB_CANCELS, (message) => {
      const id = (message as { id?: string }).id;
      if (id) this.running.get(id)?.controller.abort(new Error('cancelled'));
    });
    this.manager.useDispatcher(this);
    this.timer = setInterval(() => this.pump(), this.options.pollIntervalMs ?? 1000);
    this.timer.unref();
    this.pump();
  }

  async dispatch(): Promise<void> {
    this.pump();
  }

  /** Claims jobs until every slot is busy or none is due. One pump runs at a time. */
  private pump(): void {
    if (this.stopping) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void (async () => {
      try {
        do {
          this.pumpAgain = false;
          // Read once per pass (it is a settings query), not once per claim.
          const concurrency = await this.options.concurrency();
          while (!this.stopping && this.running.size < concurrency) {
            const row = await this.manager.claimNext(this.workerId);
            if (!row) break;
            this.launch(row);
          }
        } while (this.pumpAgain && !this.stopping);
      } catch {
        // The database was unreachable; the poll timer tries again.
      } finally {
        this.pumping = false;
      }
    })();
  }

  private launch(row: JobRow): void {
    const controller = new AbortController();
    if (row.cancel_requested_at) controller.abort(new Error('cancelled'));
    const done = this.execute(row, controller.signal).finally(() => {
      this.running.delete(row.id);
      this.pump();
    });
    this.running.set(row.id, { controller, done });
  }

  private async execute(row: JobRow, signal: AbortSignal): Promise<void> {
    // A requeued job is found again by the next pump (poll or dispatch).
    await runJob(this.manager, this.registry, row, signal, this.options.retryBaseDelayMs ?? 1000);
  }

  /** Jobs running in this process now. */
  get activeJobIds(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Stops taking jobs, gives running ones `graceMs` to finish, then interrupts the rest at
   * their next batch boundary and puts them back in the queue for the next start.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    const all = () => Promise.all([...this.running.values()].map((entry) => entry.done));
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), graceMs).unref(),
    );
    if ((await Promise.race([all(), timeout])) === 'timeout') {
      for (const entry of this.running.values()) entry.controller.abort(new ShutdownSignal());
      await all();
    }
  }
}
