import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gte, inArray, lte, type SQL, sql } from 'drizzle-orm';
import { type Database, type FixedStatement, queryFixed, rowOf } from '../../platform/db/client.ts';
import type { EventBus } from '../../platform/events/event-bus.ts';
import { type Page, readPage } from '../../platform/http/pagination.ts';
import { conflict, HttpProblem, notFound } from '../../platform/http/problems.ts';
import { type ChangeContext, SYSTEM_CONTEXT } from '../../platform/http/request-context.ts';
import {
  type AuditLogger,
  insertPendingFromJson,
  originFromContext,
} from '../audit/audit.logger.ts';
import { Batcher } from './batcher.ts';
import {
  EMPTY_PROGRESS,
  FINISHED_STATUSES,
  type JobProgress,
  type JobResult,
  type JobStatus,
  type JobType,
} from './jobs.constants.ts';
import { type JobRow, jobs } from './jobs.table.ts';

/** Channels on the event bus. */
export const JOB_EVENTS = 'jobs.events';
export const JOB_CANCELS = 'jobs.cancel';

/** What a watcher (WebSocket, SSE) receives whenever a job changes. */
export interface JobEvent {
  type: 'progress' | 'status';
  job: JobResponse;
}

export interface JobResponse {
  id: string;
  job_type: JobType;
  status: JobStatus;
  priority: number;
  user_id: number | null;
  metadata: Record<string, unknown>;
  progress: JobProgress;
  result: JobResult | null;
  error_message: string | null;
  attempts: number;
  max_attempts: number;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  expires_at: string | null;
  cancel_requested_at: string | null;
}

const iso = (value: Date | null) => (value ? value.toISOString() : null);

export function toJobResponse(row: JobRow): JobResponse {
  return {
    id: row.id,
    job_type: row.job_type,
    status: row.status,
    priority: row.priority,
    user_id: row.user_id,
    metadata: row.metadata,
    progress: row.progress,
    result: row.result,
    error_message: row.error_message,
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    created_at: row.created_at.toISOString(),
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
    expires_at: iso(row.expires_at),
    cancel_requested_at: iso(row.cancel_requested_at),
  };
}

export interface CreateJobInput {
  jobType: JobType;
  userId: number | null;
  totalItems?: number;
  metadata?: Record<string, unknown>;
  priority?: number;
  maxAttempts?: number;
}

export interface JobFilters {
  userId?: number | undefined;
  status?: JobStatus | undefined;
  jobType?: JobType | undefined;
  createdFrom?: string | undefined;
  createdTo?: string | undefined;
  page: number;
  pageSize: number;
}

export interface JobLimits {
  /** Unfinished jobs overall. */
  maxJobs: number;
  /** Unfinished jobs per user. */
  maxJobsPerUser: number;
  /** How long a finished job is kept. */
  retentionHours: number;
}

/** Where a new or retried job is handed to be run (the local engine or BullMQ). */
export interface JobDispatcher {
  dispatch(job: JobResponse): Promise<void>;
}

export const percentageOf = (current: number, total: number) =>
  total > 0 ? Math.min(100, Math.round((current / total) * 10_000) / 100) : 0;

const UNFINISHED = `status IN ('PENDING', 'PROCESSING')`;

/**
 * Creates a batch of jobs (a JSON array, $1) and their audit entries ($4), admitting the jobs
 * in order as createJob would one by one: a job is refused when MAX_JOBS ($2) unfinished jobs
 * exist with those admitted before it, or MAX_JOBS_PER_USER ($3) of its user's (each count
 * stops at its limit). A user's k-th job of the batch fits if the user had fewer than
 * $3 - k + 1; once the overall limit is reached every later job is refused, so counting the
 * user-admissible jobs in order decides the rest. One answer per candidate, in order: the new
 * row, or which limit refused it.
 */
const CREATE_JOBS: FixedStatement = {
  name: 'jobs_create',
  text: `WITH input AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(ord int, id uuid, job_type text,
             user_id int, priority int, metadata jsonb, max_attempts int, progress jsonb)
         ), overall AS (
           SELECT count(*)::int AS n FROM (SELECT 1 FROM jobs WHERE ${UNFINISHED} LIMIT $2) o
         ), per_user AS (
           SELECT u.user_id, (SELECT count(*)::int FROM (SELECT 1 FROM jobs
                                WHERE ${UNFINISHED} AND user_id = u.user_id LIMIT $3) m) AS n
             FROM (SELECT DISTINCT user_id FROM input WHERE user_id IS NOT NULL) u
         ), fits_user AS (
           SELECT i.*, (i.user_id IS NULL OR p.n + row_number()
                          OVER (PARTITION BY i.user_id ORDER BY i.ord) <= $3) AS fits
             FROM input i LEFT JOIN per_user p USING (user_id)
         ), ranked AS (
           SELECT f.*, o.n + count(*) FILTER (WHERE f.fits) OVER (ORDER BY f.ord) AS nth
             FROM fits_user f, overall o
         ), created AS (
           INSERT INTO jobs (id, job_type, user_id, priority, metadata, max_attempts, progress,
                             created_at)
           SELECT id, job_type, user_id, priority, metadata, max_attempts, progress,
                  now() + ord * interval '1 microsecond'
             FROM ranked WHERE fits AND nth <= $2
           RETURNING *
         ), entries AS (
           ${insertPendingFromJson('$4', 'WHERE resource_id IN (SELECT id::text FROM created)')}
         )
         SELECT c.*, CASE WHEN c.id IS NOT NULL THEN NULL
                          WHEN r.nth - r.fits::int >= $2 THEN 'overall'
                          ELSE 'user' END AS refused
           FROM ranked r LEFT JOIN created c ON c.id = r.id
          ORDER BY r.ord`,
};

/** Claims the jobs of a JSON array of {id, worker_id} that are still PENDING. */
const CLAIM_JOBS: FixedStatement = {
  name: 'jobs_claim',
  text: `UPDATE jobs AS j
            SET status = 'PROCESSING', started_at = now(), attempts = j.attempts + 1,
                worker_id = c.worker_id
           FROM jsonb_to_recordset($1::jsonb) AS c(id uuid, worker_id text)
          WHERE j.id = c.id AND j.status = 'PENDING'
      RETURNING j.*`,
};

/**
 * Ends the PROCESSING jobs of a JSON array of {id, status, error_message, result, has_result}
 * at $2, to be removed after $3; a job keeps its result when the ending brings none.
 */
const FINISH_JOBS: FixedStatement = {
  name: 'jobs_finish',
  text: `UPDATE jobs AS j
            SET status = v.status, completed_at = $2, expires_at = $3, worker_id = NULL,
                error_message = v.error_message,
                result = CASE WHEN v.has_result THEN v.result ELSE j.result END
           FROM jsonb_to_recordset($1::jsonb)
             AS v(id uuid, status text, error_message text, result jsonb, has_result boolean)
          WHERE j.id = v.id AND j.status = 'PROCESSING'
      RETURNING j.*`,
};

/**
 * The programmatic face of the job system: every module creates, watches and controls jobs
 * through it. The jobs table is the record; events go out on the bus after each change.
 */
export class JobManager {
  private dispatcher: JobDispatcher | null = null;

  constructor(
    private readonly db: Database,
    private readonly bus: EventBus,
    private readonly audit: AuditLogger,
    private readonly limits: JobLimits,
  ) {}

  /** The engine registers itself here when it starts. */
  useDispatcher(dispatcher: JobDispatcher) {
    this.dispatcher = dispatcher;
  }

  /**
   * Not awaited: the change is committed already, events are best effort (the bus never
   * rejects and keeps their order), and a handler or caller should not wait for Redis.
   */
  private publish(type: JobEvent['type'], row: JobRow): JobResponse {
    const job = toJobResponse(row);
    this.bus.publish(JOB_EVENTS, { type, job } satisfies JobEvent).catch(() => undefined);
    return job;
  }

  private overLimit(limit: 'overall' | 'user'): HttpProblem {
    return new HttpProblem(
      429,
      'job-limit',
      'Too Many Requests',
      limit === 'overall'
        ? `Registrar already has ${this.limits.maxJobs} unfinished jobs (MAX_JOBS); wait for some to finish.`
        : `You already have ${this.limits.maxJobsPerUser} unfinished jobs (MAX_JOBS_PER_USER); wait for some to finish.`,
      { headers: { 'retry-after': '30' } },
    );
  }

  /** Concurrent creates share one statement (one commit) instead of one each. */
  private readonly creates = new Batcher<{ input: CreateJobInput; context: ChangeContext }, JobRow>(
    (batch) => this.insertJobs(batch),
    // One batch at a time: each counts the jobs the one before it admitted, so this process
    // never overshoots a limit.
    { maxBatch: 200, parallel: 1 },
  );

  async createJob(
    input: CreateJobInput,
    context: ChangeContext = SYSTEM_CONTEXT,
  ): Promise<JobResponse> {
    const row = await this.creates.push({ input, context });
    const job = this.publish('status', row);
    await this.dispatcher?.dispatch(job);
    return job;
  }

  /**
   * Inserts a batch of new jobs with their audit entries in one statement (one commit, no
   * transaction to open and close), admitting each in turn while the limits allow.
   */
  private async insertJobs(
    batch: Array<{ input: CreateJobInput; context: ChangeContext }>,
  ): Promise<Array<JobRow | Error>> {
    const candidates = batch.map(({ input }, ord) => ({
      ord,
      id: randomUUID(),
      job_type: input.jobType,
      user_id: input.userId,
      priority: input.priority ?? 5,
      metadata: input.metadata ?? {},
      max_attempts: input.maxAttempts ?? 3,
      progress: { ...EMPTY_PROGRESS, total: input.totalItems ?? 0 },
    }));
    // An entry for every candidate; the statement keeps those of the jobs it admits.
    const entries = this.audit.pendingJson(
      batch.map(({ context }, ord) => {
        const candidate = candidates[ord] as (typeof candidates)[number];
        return {
          origin: originFromContext(context),
          entry: {
            action: 'CREATE',
            resource: 'SYSTEM',
            resourceId: candidate.id,
            details: { job_type: candidate.job_type, priority: candidate.priority },
          },
        };
      }),
    );
    const answers = await queryFixed<Record<string, unknown> & { refused: string | null }>(
      this.db,
      CREATE_JOBS,
      [
        JSON.stringify(candidates),
        this.limits.maxJobs,
        this.limits.maxJobsPerUser,
        entries ?? '[]',
      ],
    );
    this.audit.appended();
    return answers.map((answer) => {
      if (answer.refused === 'overall') return this.overLimit('overall');
      if (answer.refused === 'user') return this.overLimit('user');
      return rowOf(jobs, answer);
    });
  }

  async getJob(id: string): Promise<JobResponse> {
    const [row] = await this.db.select().from(jobs).where(eq(jobs.id, id));
    if (!row) throw notFound('Job', id);
    return toJobResponse(row);
  }

  async listJobs(filters: JobFilters): Promise<Page<JobResponse>> {
    const conditions: Array<SQL | undefined> = [
      filters.userId === undefined ? undefined : eq(jobs.user_id, filters.userId),
      filters.status === undefined ? undefined : eq(jobs.status, filters.status),
      filters.jobType === undefined ? undefined : eq(jobs.job_type, filters.jobType),
      filters.createdFrom === undefined
        ? undefined
        : gte(jobs.created_at, new Date(filters.createdFrom)),
      filters.createdTo === undefined
        ? undefined
        : lte(jobs.created_at, new Date(filters.createdTo)),
    ];
    const where = and(...conditions);
    const { rows, total, hasNext } = await readPage(
      filters.page,
      filters.pageSize,
      (limit, offset) =>
        this.db
          .select()
          .from(jobs)
          .where(where)
          .orderBy(desc(jobs.created_at), asc(jobs.id))
          .limit(limit)
          .offset(offset),
      async () => {
        const [counted] = await this.db
          .select({ total: sql<number>`count(*)`.mapWith(Number) })
          .from(jobs)
          .where(where);
        return counted?.total ?? 0;
      },
    );
    return {
      items: rows.map(toJobResponse),
      total,
      page: filters.page,
      page_size: filters.pageSize,
      has_next: hasNext,
    };
  }

  /** Records progress; `total` may change as a handler learns more. */
  async updateProgress(
    id: string,
    update: Partial<Omit<JobProgress, 'percentage'>> & { current: number },
  ): Promise<JobResponse> {
    // One statement: merged into the locked row's progress, so no update is lost to a race.
    const merged = sql`(${jobs.progress} || ${JSON.stringify(update)}::jsonb)`;
    // Like percentageOf: 0 without a total, else rounded to 2 decimals, at most 100.
    const percentage = sql`CASE WHEN (${merged}->>'total')::numeric > 0
      THEN least(100, round((${merged}->>'current')::numeric * 10000 / (${merged}->>'total')::numeric) / 100)::float8
      ELSE 0 END`;
    const [row] = await this.db
      .update(jobs)
      .set({ progress: sql`${merged} || jsonb_build_object('percentage', ${percentage})` })
      .where(eq(jobs.id, id))
      .returning();
    if (!row) throw notFound('Job', id);
    return this.publish('progress', row);
  }

  async setResult(
    id: string,
    result: Partial<JobResult> & { success: boolean },
  ): Promise<JobResponse> {
    const [row] = await this.db
      .update(jobs)
      .set({ result: normaliseResult(result) })
      .where(eq(jobs.id, id))
      .returning();
    if (!row) throw notFound('Job', id);
    return this.publish('status', row);
  }

  /**
   * A PENDING job is cancelled at once; a PROCESSING one is asked to stop (its engine fires
   * the handler's AbortSignal, wherever it runs) and ends CANCELLED at its next batch boundary.
   */
  async cancelJob(id: string, context: ChangeContext = SYSTEM_CONTEXT): Promise<JobResponse> {
    const row = await this.db.transaction(async (tx) => {
      const [existing] = await tx.select().from(jobs).where(eq(jobs.id, id)).for('update');
      if (!existing) throw notFound('Job', id);
      if (FINISHED_STATUSES.includes(existing.status)) {
        throw conflict(
          `Job ${id} has already ended (${existing.status}); there is nothing to cancel.`,
        );
      }
      const now = new Date();
      const pending = existing.status === 'PENDING';
      const [updated] = await tx
        .update(jobs)
        .set(
          pending
            ? {
                status: 'CANCELLED',
                cancel_requested_at: now,
                completed_at: now,
                expires_at: this.expiry(now),
              }
            : { cancel_requested_at: now },
        )
        .where(eq(jobs.id, id))
        .returning();
      await this.audit.append(tx, originFromContext(context), [
        {
          action: 'UPDATE',
          resource: 'SYSTEM',
          resourceId: id,
          details: {
            job_type: existing.job_type,
            operation: 'cancel',
            status_before: existing.status,
          },
        },
      ]);
      return updated ?? existing;
    });
    if (row.status === 'PROCESSING') await this.bus.publish(JOB_CANCELS, { id });
    return this.publish('status', row);
  }

  /** Runs a FAILED or CANCELLED job again, as a new attempt. */
  async retryJob(id: string, context: ChangeContext = SYSTEM_CONTEXT): Promise<JobResponse> {
    const row = await this.db.transaction(async (tx) => {
      const [existing] = await tx.select().from(jobs).where(eq(jobs.id, id)).for('update');
      if (!existing) throw notFound('Job', id);
      if (existing.status !== 'FAILED' && existing.status !== 'CANCELLED') {
        throw conflict(
          `Only a FAILED or CANCELLED job can be retried; job ${id} is ${existing.status}.`,
        );
      }
      const [updated] = await tx
        .update(jobs)
        .set({
          status: 'PENDING',
          // One more attempt than it has used, whatever the limit was.
          max_attempts: Math.max(existing.max_attempts, existing.attempts + 1),
          error_message: null,
          result: null,
          completed_at: null,
          expires_at: null,
          cancel_requested_at: null,
          run_after: new Date(),
          progress: { ...EMPTY_PROGRESS, total: existing.progress.total },
        })
        .where(eq(jobs.id, id))
        .returning();
      await this.audit.append(tx, originFromContext(context), [
        {
          action: 'UPDATE',
          resource: 'SYSTEM',
          resourceId: id,
          details: {
            job_type: existing.job_type,
            operation: 'retry',
            status_before: existing.status,
          },
        },
      ]);
      return updated ?? existing;
    });
    const job = this.publish('status', row);
    await this.dispatcher?.dispatch(job);
    return job;
  }

  /** Removes a job that is not running (admins). */
  async deleteJob(id: string, context: ChangeContext = SYSTEM_CONTEXT): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [existing] = await tx.select().from(jobs).where(eq(jobs.id, id)).for('update');
      if (!existing) throw notFound('Job', id);
      if (existing.status === 'PROCESSING') {
        throw conflict(`Job ${id} is running; cancel it first.`);
      }
      await tx.delete(jobs).where(eq(jobs.id, id));
      await this.audit.append(tx, originFromContext(context), [
        {
          action: 'DELETE',
          resource: 'SYSTEM',
          resourceId: id,
          details: { job_type: existing.job_type, status: existing.status },
        },
      ]);
    });
  }

  // ---- Transitions made by the engines that run jobs ----

  /**
   * Claims the next runnable job: highest priority first, then oldest. SKIP LOCKED lets any
   * number of engines claim concurrently without taking the same job twice.
   */
  async claimNext(workerId: string): Promise<JobRow | undefined> {
    const claimed = await this.db
      .update(jobs)
      .set({
        status: 'PROCESSING',
        started_at: new Date(),
        attempts: sql`${jobs.attempts} + 1`,
        worker_id: workerId,
      })
      .where(
        eq(
          jobs.id,
          sql`(SELECT id FROM jobs WHERE status = 'PENDING' AND run_after <= now()
               ORDER BY priority DESC, created_at ASC, id ASC LIMIT 1 FOR UPDATE SKIP LOCKED)`,
        ),
      )
      .returning();
    const row = claimed[0];
    if (row) this.publish('status', row);
    return row;
  }

  private readonly claims = new Batcher<{ id: string; workerId: string }, JobRow | undefined>(
    (batch) => this.claimJobs(batch),
  );

  /** Claims one given job if it is still PENDING (engines that are told which job to run). */
  async claim(id: string, workerId: string): Promise<JobRow | undefined> {
    const row = await this.claims.push({ id, workerId });
    if (row) this.publish('status', row);
    return row;
  }

  /** One statement for the claims of a batch; a job is claimed once. */
  private async claimJobs(
    batch: Array<{ id: string; workerId: string }>,
  ): Promise<Array<JobRow | undefined>> {
    const raw = await queryFixed<Record<string, unknown>>(this.db, CLAIM_JOBS, [
      JSON.stringify(batch.map(({ id, workerId }) => ({ id, worker_id: workerId }))),
    ]);
    const claimed = new Map<string, JobRow>();
    for (const row of raw) {
      const job = rowOf(jobs, row);
      claimed.set(job.id, job);
    }
    // The same id twice in a batch: only the first caller gets the job.
    return batch.map(({ id }) => {
      const row = claimed.get(id);
      claimed.delete(id);
      return row;
    });
  }

  private readonly finishes = new Batcher<
    {
      id: string;
      status: 'COMPLETED' | 'CANCELLED' | 'FAILED';
      outcome: { result?: Partial<JobResult> & { success: boolean }; errorMessage?: string };
    },
    JobRow | undefined
  >((batch) => this.finishJobs(batch));

  /** Ends a PROCESSING job: COMPLETED, CANCELLED (with what it had done) or FAILED. */
  async finish(
    id: string,
    status: 'COMPLETED' | 'CANCELLED' | 'FAILED',
    outcome: { result?: Partial<JobResult> & { success: boolean }; errorMessage?: string },
  ): Promise<JobResponse> {
    const row = await this.finishes.push({ id, status, outcome });
    if (!row) return this.getJob(id);
    return this.publish('status', row);
  }

  /** One statement for a batch of endings, each job's values read from one JSON parameter. */
  private async finishJobs(
    batch: Array<{
      id: string;
      status: 'COMPLETED' | 'CANCELLED' | 'FAILED';
      outcome: { result?: Partial<JobResult> & { success: boolean }; errorMessage?: string };
    }>,
  ): Promise<Array<JobRow | undefined>> {
    const now = new Date();
    // The same id twice in a batch: only the first ending counts, as one after another would.
    const seen = new Set<string>();
    const values = batch
      .filter(({ id }) => !seen.has(id) && Boolean(seen.add(id)))
      .map(({ id, status, outcome }) => ({
        id,
        status,
        error_message: outcome.errorMessage ?? null,
        result: outcome.result ? normaliseResult(outcome.result) : null,
        has_result: Boolean(outcome.result),
      }));
    const raw = await queryFixed<Record<string, unknown>>(this.db, FINISH_JOBS, [
      JSON.stringify(values),
      now.toISOString(),
      this.expiry(now).toISOString(),
    ]);
    const rows = raw.map((row) => rowOf(jobs, row));
    const ended = new Map(rows.map((row) => [row.id, row]));
    return batch.map(({ id }) => {
      const row = ended.get(id);
      ended.delete(id);
      return row;
    });
  }

  /** Puts a job back in the queue: a failed attempt with attempts left, or a job a shutdown interrupted. */
  async requeue(
    id: string,
    options: { retryAt: Date; errorMessage?: string },
  ): Promise<JobResponse> {
    const [row] = await this.db
      .update(jobs)
      .set({
        status: 'PENDING',
        run_after: options.retryAt,
        worker_id: null,
        error_message: options.errorMessage ?? null,
      })
      .where(and(eq(jobs.id, id), eq(jobs.status, 'PROCESSING')))
      .returning();
    if (!row) return this.getJob(id);
    return this.publish('status', row);
  }

  /**
   * Jobs left PROCESSING by a process that died go back to PENDING (the attempt they used
   * still counts). `workerId` limits this to one worker's jobs.
   */
  async requeueOrphans(workerId?: string): Promise<number> {
    const rows = await this.db
      .update(jobs)
      .set({ status: 'PENDING', worker_id: null, run_after: new Date() })
      .where(
        and(eq(jobs.status, 'PROCESSING'), workerId ? eq(jobs.worker_id, workerId) : undefined),
      )
      .returning({ id: jobs.id });
    return rows.length;
  }

  /** When a job that ended now may be removed by the cleanup job. */
  expiry(endedAt: Date): Date {
    return new Date(endedAt.getTime() + this.limits.retentionHours * 3_600_000);
  }

  /** Ids of unfinished jobs in the given states, oldest first (engines resume these). */
  async idsInState(states: JobStatus[]): Promise<string[]> {
    const rows = await this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(inArray(jobs.status, states))
      .orderBy(asc(jobs.created_at));
    return rows.map((row) => row.id);
  }
  /** PENDING jobs with what a queue needs to schedule them (distributed engine's re-enqueue sweep). */
  async pendingSchedule(): Promise<Array<{ id: string; priority: number; run_after: Date }>> {
    return this.db
      .select({ id: jobs.id, priority: jobs.priority, run_after: jobs.run_after })
      .from(jobs)
      .where(eq(jobs.status, 'PENDING'))
      .orderBy(desc(jobs.priority), asc(jobs.created_at), asc(jobs.id));
  }

  /** Workers that hold PROCESSING jobs now (the distributed engine checks they are alive). */
  async processingWorkerIds(): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ worker_id: jobs.worker_id })
      .from(jobs)
      .where(eq(jobs.status, 'PROCESSING'));
    return rows.flatMap((row) => (row.worker_id ? [row.worker_id] : []));
  }
}

export function normaliseResult(result: Partial<JobResult> & { success: boolean }): JobResult {
  return {
    success: result.success,
    message: result.message ?? null,
    data: result.data ?? null,
    errors: result.errors ?? [],
    warnings: result.warnings ?? [],
    statistics: result.statistics ?? null,
  };
}
