import { and, asc, eq, sql } from 'drizzle-orm';
import { type Database, queryRows } from '../../platform/db/client.ts';
import type { ChangeFeed } from '../../platform/events/change-feed.ts';
import type { JobManager } from '../jobs/jobs.manager.ts';
import { jobs } from '../jobs/jobs.table.ts';
import type { RecomputeScope } from './results.service.ts';

/** Records of these resources name a student and a course: their table, to find which. */
const PAIR_TABLES: Readonly<Record<string, string>> = {
  GRADE: 'grades',
  ATTENDANCE: 'attendance',
  PERFORMANCE: 'daily_performances',
  ENROLLMENT: 'course_enrollments',
};

/** The resources whose changes move results. */
export const RECOMPUTE_SOURCES = [...Object.keys(PAIR_TABLES), 'COURSE', 'STUDENT'] as const;

/** More scopes than this in one window are one recompute of everything. */
const MAX_SCOPES = 20;
/** A steady trickle of changes still gets a recompute after this many debounce periods. */
const MAX_WAIT_PERIODS = 10;
/** Automatic recomputes yield to the jobs people start (priority 5). */
const AUTOMATIC_PRIORITY = 3;

export interface RecomputeSchedulerOptions {
  /** Quiet time after the last change before the jobs are created; 0 turns scheduling off. */
  debounceMs: number;
  /** Where failures to create a job are reported (they are retried after the next period). */
  onError?: (error: unknown) => void;
  /**
   * PostgreSQL, where schedulers of several processes run at once: each decision (look for a
   * pending job, create one) holds an advisory lock, so two processes never both create one.
   */
  lockAcrossProcesses?: boolean;
}

/** The advisory lock key of scheduling decisions (any constant shared by every process). */
const SCHEDULE_LOCK = 7_301_001;

interface Window {
  all: boolean;
  records: Map<string, Set<number>>;
}

const emptyWindow = (): Window => ({ all: false, records: new Map() });

/**
 * Schedules recompute jobs after the records results derive from change. Changes are
 * gathered for debounceMs of quiet (at most MAX_WAIT_PERIODS of them), turned into the
 * narrowest scopes (a student, a course with several changed students, or everything), and
 * a job is created per scope unless one for it (or for everything) is still PENDING in the
 * database: a pending job has not read anything yet, so it will see these changes too.
 */
export class RecomputeScheduler {
  private window = emptyWindow();
  private timer: NodeJS.Timeout | undefined;
  private firstChangeAt = 0;
  private flushing: Promise<RecomputeScope[]> = Promise.resolve([]);
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly jobs: Pick<JobManager, 'createJob' | 'cancelJob'>,
    private readonly options: RecomputeSchedulerOptions,
  ) {}

  get enabled(): boolean {
    return this.options.debounceMs > 0;
  }

  /** Listens to this process's change announcements; returns the function that stops it. */
  watch(changes: ChangeFeed): () => void {
    const stops = RECOMPUTE_SOURCES.map((resource) =>
      changes.onChange(resource, ({ ids, local }) => {
        // The process that wrote schedules; the others only hear of it.
        if (local) this.note(resource, ids);
      }),
    );
    return () => {
      for (const stop of stops) stop();
    };
  }

  /** Records that `resource` changed: these ids, or (undefined) any of them. */
  note(resource: string, ids: readonly number[] | undefined): void {
    if (!this.enabled || this.closed) return;
    if (ids === undefined) this.window.all = true;
    else if (ids.length > 0) {
      const known = this.window.records.get(resource) ?? new Set<number>();
      for (const id of ids) known.add(id);
      this.window.records.set(resource, known);
    } else return;
    this.arm();
  }

  /** A change that moves every result (the letter scale). */
  requestAll(): void {
    this.note('ALL', undefined);
  }

  private arm(): void {
    const now = Date.now();
    if (!this.timer) this.firstChangeAt = now;
    clearTimeout(this.timer);
    const { debounceMs } = this.options;
    const latest = this.firstChangeAt + debounceMs * MAX_WAIT_PERIODS;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.flush();
      },
      Math.max(0, Math.min(debounceMs, latest - now)),
    );
    // A pending recompute never keeps a process alive; close() flushes it.
    this.timer.unref();
  }

  /** Creates the jobs for the changes gathered so far; answers the scopes it created jobs for. */
  flush(): Promise<RecomputeScope[]> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const window = this.window;
    this.window = emptyWindow();
    // One flush at a time, so this process never races itself.
    this.flushing = this.flushing.then(async () => {
      if (!window.all && window.records.size === 0) return [];
      try {
        const created: RecomputeScope[] = [];
        for (const scope of await this.scopesOf(window)) {
          if (await this.schedule(scope)) created.push(scope);
        }
        return created;
      } catch (error) {
        this.options.onError?.(error);
        // Nothing is lost: the changes wait for the next attempt.
        if (!this.closed) {
          this.window.all ||= window.all;
          for (const [resource, ids] of window.records) this.note(resource, [...ids]);
          if (window.all) this.arm();
        }
        return [];
      }
    });
    return this.flushing;
  }

  /** Flushes what is gathered (the jobs wait in the database for the next start) and stops. */
  async close(): Promise<void> {
    const flushed = this.flush();
    // Set before the flush runs: a failure then is reported, not retried after shutdown.
    this.closed = true;
    await flushed;
  }

  /** The narrowest scopes that cover the window's changes. */
  async scopesOf(window: Window): Promise<RecomputeScope[]> {
    if (window.all) return [{ scope: 'all' }];
    const courseIds = new Set(window.records.get('COURSE') ?? []);
    const studentIds = new Set(window.records.get('STUDENT') ?? []);
    const pairs: Array<{ student_id: number; course_id: number }> = [];
    for (const [resource, table] of Object.entries(PAIR_TABLES)) {
      const changed = window.records.get(resource);
      if (!changed || changed.size === 0) continue;
      // Deleted records too: removing a grade moves the result as much as adding one.
      const rows = await queryRows<{ student_id: number; course_id: number }>(
        this.db,
        sql`SELECT DISTINCT student_id, course_id FROM ${sql.identifier(table)}
            WHERE id = ANY(${sql.param([...changed])}::int[])`,
      );
      pairs.push(
        ...rows.map((row) => ({
          student_id: Number(row.student_id),
          course_id: Number(row.course_id),
        })),
      );
    }
    // A course with changes for several students is one job; a lone change is its student's.
    const studentsByCourse = new Map<number, Set<number>>();
    for (const pair of pairs) {
      const set = studentsByCourse.get(pair.course_id) ?? new Set<number>();
      set.add(pair.student_id);
      studentsByCourse.set(pair.course_id, set);
    }
    for (const [courseId, set] of studentsByCourse) if (set.size > 1) courseIds.add(courseId);
    for (const pair of pairs) if (!courseIds.has(pair.course_id)) studentIds.add(pair.student_id);
    const scopes: RecomputeScope[] = [
      ...[...courseIds]
        .sort((a, b) => a - b)
        .map((id) => ({ scope: 'course' as const, course_id: id })),
      ...[...studentIds]
        .sort((a, b) => a - b)
        .map((id) => ({ scope: 'student' as const, student_id: id })),
    ];
    return scopes.length > MAX_SCOPES ? [{ scope: 'all' }] : scopes;
  }

  /** Creates the scope's job unless it (or everything) is already waiting. */
  private async schedule(scope: RecomputeScope): Promise<boolean> {
    if (!this.options.lockAcrossProcesses) return this.scheduleUnlocked(scope);
    // The lock lives in a transaction of its own; the look-up and the create use other
    // connections of the pool, and the lock is released when this transaction ends.
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${SCHEDULE_LOCK})`);
      return this.scheduleUnlocked(scope);
    });
  }

  private async scheduleUnlocked(scope: RecomputeScope): Promise<boolean> {
    if (await this.pendingFor(scope)) return false;
    const job = await this.jobs.createJob({
      jobType: 'recompute',
      userId: null,
      metadata: scope,
      priority: AUTOMATIC_PRIORITY,
    });
    // Another scheduler may have checked at the same moment (two in one process, or without
    // the lock): the newer of two twins gives way.
    const first = await this.pendingFor(scope);
    if (first && first !== job.id) {
      await this.jobs.cancelJob(job.id).catch(() => undefined);
      return false;
    }
    return true;
  }

  /** The oldest PENDING recompute that covers the scope, if any. */
  private async pendingFor(scope: RecomputeScope): Promise<string | undefined> {
    const covering =
      scope.scope === 'all'
        ? sql`${jobs.metadata} @> ${JSON.stringify(scope)}::jsonb`
        : sql`(${jobs.metadata} @> ${JSON.stringify(scope)}::jsonb OR ${jobs.metadata} @> '{"scope":"all"}'::jsonb)`;
    const [row] = await this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.job_type, 'recompute'), eq(jobs.status, 'PENDING'), covering))
      .orderBy(asc(jobs.created_at), asc(jobs.id))
      .limit(1);
    return row?.id;
  }
}
