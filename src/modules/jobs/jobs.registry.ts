import type { z } from 'zod';
import { JOB_TYPES, type JobProgress, type JobResult, type JobType } from './jobs.constants.ts';
import type { JobResponse } from './jobs.manager.ts';

/** What a handler may report as it goes; percentage is computed. */
export type ProgressUpdate = Partial<Omit<JobProgress, 'percentage'>> & { current: number };

export interface JobContext<Payload> {
  job: JobResponse;
  /** The job's metadata, validated against the handler's payload schema. */
  payload: Payload;
  /** Fired when someone cancels the job (or the process shuts down): stop at the next batch. */
  signal: AbortSignal;
  progress(update: ProgressUpdate): Promise<void>;
}

export type HandlerResult = Partial<JobResult> & { success: boolean };

export interface JobHandler<Payload = unknown> {
  /** Validates metadata when the job is created, so a bad job never reaches a worker. */
  payload: z.ZodType<Payload>;
  /** Which permission starts this job type through the API. */
  permission: 'jobs:create' | 'jobs:manage';
  run(context: JobContext<Payload>): Promise<HandlerResult>;
}

export type JobHandlers = { [K in JobType]?: JobHandler<never> };

/** Handlers by job type. */
export class JobRegistry {
  private readonly handlers = new Map<JobType, JobHandler<unknown>>();

  register<Payload>(type: JobType, handler: JobHandler<Payload>): this {
    if (this.handlers.has(type)) throw new Error(`Job type ${type} has two handlers`);
    this.handlers.set(type, handler as JobHandler<unknown>);
    return this;
  }

  /**
   * For tests and benchmarks only: puts `handler` in place of the type's handler (registered
   * or not) and returns the one it replaced, so a test can run its own stand-in under a real
   * job type and put the original back. Production code uses register(), which refuses
   * duplicates.
   */
  replace<Payload>(type: JobType, handler: JobHandler<Payload>): JobHandler<unknown> | undefined {
    const previous = this.handlers.get(type);
    this.handlers.set(type, handler as JobHandler<unknown>);
    return previous;
  }

  get(type: JobType): JobHandler<unknown> | undefined {
    return this.handlers.get(type);
  }

  has(type: JobType): boolean {
    return this.handlers.has(type);
  }

  /** Job types without a handler; startup refuses to run jobs while any of `required` lacks one. */
  missing(required: readonly JobType[] = JOB_TYPES): JobType[] {
    return required.filter((type) => !this.handlers.has(type));
  }

  assertComplete(required: readonly JobType[] = JOB_TYPES): void {
    const missing = this.missing(required);
    if (missing.length > 0) {
      throw new Error(`No handler for job type(s): ${missing.join(', ')}`);
    }
  }
}
