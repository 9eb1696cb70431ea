import { asc, eq, isNull, lt } from 'drizzle-orm';
import type { Database } from '../../platform/db/client.ts';
import { forbidden, notFound, unprocessable } from '../../platform/http/problems.ts';
import type { ChangeContext } from '../../platform/http/request-context.ts';
import { courses } from '../courses/courses.table.ts';
import type { ImportServices } from '../imports/import-targets.ts';
import { jobOriginFrom } from '../jobs/job-origin.ts';
import type { JobManager, JobResponse } from '../jobs/jobs.manager.ts';
import { grants, type Permission } from '../roles/permissions.ts';
import { readBundle, SESSION_ENTITIES, type SessionEntity } from './session-bundle.ts';
import { exportSession, type SessionExport } from './session-export.ts';
import type { SessionImportPayload } from './session-import.job.ts';
import { type EntityCounts, type MergeStrategy, planSessionImport } from './session-plan.ts';
import { sessionImports } from './sessions.table.ts';

/** A session bundle holds every kind of school record: reading or writing it needs them all. */
export const SESSION_READ_PERMISSIONS: Permission[] = [
  'courses:read',
  'students:read',
  'enrollments:read',
  'grades:read',
  'attendance:read',
  'performance:read',
  'highlights:read',
];
export const SESSION_WRITE_PERMISSIONS: Permission[] = [
  'courses:write',
  'students:write',
  'enrollments:write',
  'grades:write',
  'attendance:write',
  'performance:write',
  'highlights:write',
  'jobs:create',
];

/** Bundles whose job never ran (a crash, a refused job) are removed after a week. */
const STALE_BUNDLE_MS = 7 * 24 * 60 * 60 * 1000;

export interface SessionCheck {
  semester: string | null;
  merge_strategy: MergeStrategy;
  valid: boolean;
  counts: Record<SessionEntity, EntityCounts>;
  problems: Array<{ field: string; message: string }>;
  warnings: Array<{ field: string; message: string }>;
}

function assertGranted(context: ChangeContext, needed: Permission[], what: string) {
  const missing = needed.filter(
    (permission) => !context.actor || !grants(context.actor.permissions, permission),
  );
  if (missing.length > 0) {
    throw forbidden(`${what} needs the permissions ${missing.join(', ')}.`);
  }
}

const zeroCounts = () =>
  Object.fromEntries(
    SESSION_ENTITIES.map((name) => [name, { create: 0, update: 0, skip: 0 }]),
  ) as Record<SessionEntity, EntityCounts>;

/** Semesters (sessions) as whole: list, export as one bundle, check and import a bundle. */
export class SessionsService {
  constructor(
    private readonly db: Database,
    private readonly services: ImportServices,
    private readonly jobs: JobManager,
  ) {}

  async semesters(): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ semester: courses.semester })
      .from(courses)
      .where(isNull(courses.deleted_at))
      .orderBy(asc(courses.semester));
    return rows.map((row) => row.semester);
  }

  async export(semester: string, context: ChangeContext): Promise<SessionExport> {
    assertGranted(context, SESSION_READ_PERMISSIONS, 'Exporting a semester');
    const bundle = await exportSession(this.db, semester, context.actor?.email ?? 'system');
    if (!bundle) throw notFound('Semester', `"${semester}" (it has no courses)`);
    return bundle;
  }

  /** What importing the bundle would do, and every problem; changes nothing. */
  async check(
    raw: unknown,
    strategy: MergeStrategy,
    context: ChangeContext,
  ): Promise<SessionCheck> {
    assertGranted(context, SESSION_WRITE_PERMISSIONS, 'Importing a semester');
    const { bundle, problems } = readBundle(raw);
    if (!bundle) {
      return {
        semester: null,
        merge_strategy: strategy,
        valid: false,
        counts: zeroCounts(),
        problems,
        warnings: [],
      };
    }
    const plan = await planSessionImport(this.db, this.services, bundle, strategy);
    const all = [...problems, ...plan.problems];
    return {
      semester: bundle.semester,
      merge_strategy: strategy,
      valid: all.length === 0,
      counts: plan.counts,
      problems: all,
      warnings: plan.warnings,
    };
  }

  /**
   * Checks the bundle, refuses it (422, every problem named) unless it is clean, and
   * otherwise keeps it for a bulk_import job that imports it all or nothing.
   */
  async import(
    raw: unknown,
    strategy: MergeStrategy,
    context: ChangeContext,
  ): Promise<JobResponse> {
    const checked = await this.check(raw, strategy, context);
    if (!checked.valid || checked.semester === null) {
      throw unprocessable(
        `The bundle cannot be imported: ${checked.problems.length} problem(s); nothing was written.`,
        checked.problems,
      );
    }
    await this.db
      .delete(sessionImports)
      .where(lt(sessionImports.created_at, new Date(Date.now() - STALE_BUNDLE_MS)));
    const [stored] = await this.db
      .insert(sessionImports)
      .values({
        user_id: context.actor?.id ?? 0,
        semester: checked.semester,
        bundle: raw as Record<string, unknown>,
        merge_strategy: strategy,
      })
      .returning({ id: sessionImports.id });
    if (!stored) throw new Error('insert into session_imports returned no row');
    const toWrite = SESSION_ENTITIES.reduce(
      (sum, name) => sum + checked.counts[name].create + checked.counts[name].update,
      0,
    );
    const payload: SessionImportPayload = {
      kind: 'session',
      session_import_id: stored.id,
      semester: checked.semester,
      merge_strategy: strategy,
      origin: jobOriginFrom(context),
    };
    const job = await this.jobs.createJob(
      {
        jobType: 'bulk_import',
        userId: context.actor?.id ?? null,
        totalItems: toWrite,
        metadata: payload,
      },
      context,
    );
    await this.db
      .update(sessionImports)
      .set({ job_id: job.id })
      .where(eq(sessionImports.id, stored.id));
    return job;
  }
}
