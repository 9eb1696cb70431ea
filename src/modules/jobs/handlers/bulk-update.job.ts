import {
  type AnyResourceService,
  BULK_BATCH_SIZE,
  BULK_JOB_PERMISSION,
  type BulkChangePayload,
  type BulkChangeService,
  type BulkTarget,
  bulkChangePayload,
  emptyCounts,
  type RefusedRecord,
} from '../../../platform/crud/bulk-change.ts';
import type { Database } from '../../../platform/db/client.ts';
import { HttpProblem } from '../../../platform/http/problems.ts';
import { attendanceUpdateSchema } from '../../attendance/attendance.schema.ts';
import type { AttendanceService } from '../../attendance/attendance.service.ts';
import { courseUpdateSchema } from '../../courses/courses.schema.ts';
import type { CoursesService } from '../../courses/courses.service.ts';
import { enrollmentUpdateSchema } from '../../enrollments/enrollments.schema.ts';
import type { EnrollmentsService } from '../../enrollments/enrollments.service.ts';
import { gradeUpdateSchema } from '../../grades/grades.schema.ts';
import type { GradesService } from '../../grades/grades.service.ts';
import { highlightUpdateSchema } from '../../highlights/highlights.schema.ts';
import type { HighlightsService } from '../../highlights/highlights.service.ts';
import { performanceUpdateSchema } from '../../performances/performances.schema.ts';
import type { PerformancesService } from '../../performances/performances.service.ts';
import { grants } from '../../roles/permissions.ts';
import { studentUpdateSchema } from '../../students/students.schema.ts';
import type { StudentsService } from '../../students/students.service.ts';
import { auditOriginOf } from '../job-origin.ts';
import { jobOwner } from '../job-owner.ts';
import type { JobHandler } from '../jobs.registry.ts';

export interface BulkServices {
  students: StudentsService;
  courses: CoursesService;
  enrollments: EnrollmentsService;
  grades: GradesService;
  attendance: AttendanceService;
  performances: PerformancesService;
  highlights: HighlightsService;
}

/** Refused and unknown ids listed in a job's result (the counts cover them all). */
const RESULT_IDS_LIMIT = 1000;

/**
 * The resources bulk changes may write, by the name jobs use. The write permission and update
 * schema are the ones the resource's routes use; they are named here because a worker process
 * runs jobs without registering routes.
 */
export function bulkTargets(services: BulkServices): Record<keyof BulkServices, BulkTarget> {
  const target = (
    service: unknown,
    write: BulkTarget['write'],
    update: BulkTarget['update'],
  ): BulkTarget => ({ service: service as AnyResourceService, write, update });
  return {
    students: target(services.students, 'students:write', studentUpdateSchema),
    courses: target(services.courses, 'courses:write', courseUpdateSchema),
    enrollments: target(services.enrollments, 'enrollments:write', enrollmentUpdateSchema),
    grades: target(services.grades, 'grades:write', gradeUpdateSchema),
    attendance: target(services.attendance, 'attendance:write', attendanceUpdateSchema),
    performances: target(services.performances, 'performance:write', performanceUpdateSchema),
    highlights: target(services.highlights, 'highlights:write', highlightUpdateSchema),
  };
}

/**
 * bulk_update: updates, soft-deletes or restores the records the request resolved, in
 * batches of one transaction each (see BulkChangeService.applyBatch), reporting progress per
 * batch and stopping between batches when cancelled; what was committed stays. The owner's
 * write permission is checked when the job runs, because POST /api/v1/jobs can start this
 * job type too. Ends with one BULK_UPDATE or BULK_DELETE summary entry.
 */
export function bulkUpdateHandler(
  db: Database,
  bulk: BulkChangeService,
  options: { batchSize?: number } = {},
): JobHandler<BulkChangePayload> {
  const batchSize = options.batchSize ?? BULK_BATCH_SIZE;
  return {
    payload: bulkChangePayload,
    permission: BULK_JOB_PERMISSION,
    async run({ job, payload, signal, progress }) {
      const { resource: name, operation, ids } = payload;
      const target = bulk.targets[name];
      if (!target) return { success: false, message: `Bulk changes cannot write ${name}.` };
      if (
        job.user_id !== null &&
        !grants((await jobOwner(db, job.user_id))?.permissions ?? [], target.write)
      ) {
        return {
          success: false,
          message: `Changing ${name} needs the permission ${target.write}, which the job's owner does not hold.`,
        };
      }
      let changes: Record<string, unknown>;
      try {
        changes = bulk.validChanges(name, operation, payload.changes);
      } catch (error) {
        if (!(error instanceof HttpProblem)) throw error;
        return { success: false, message: error.detail, errors: error.extras.errors ?? [] };
      }
      const origin = auditOriginOf(job.user_id, payload.origin);

      const counts = emptyCounts();
      const refused: RefusedRecord[] = [];
      const notFound: number[] = [];
      let done = 0;
      await progress({ current: 0, total: ids.length, message: `Changing ${ids.length} records` });
      for (let start = 0; start < ids.length; start += batchSize) {
        if (signal.aborted) break;
        const batch = ids.slice(start, start + batchSize);
        const report = await bulk.applyBatch(name, operation, batch, changes, origin, job.id);
        for (const outcome of Object.keys(counts) as Array<keyof typeof counts>) {
          counts[outcome] += report.counts[outcome];
        }
        refused.push(...report.refused);
        notFound.push(...report.notFound);
        done += batch.length;
        await progress({
          current: done,
          total: ids.length,
          message: `Processed ${done} of ${ids.length} records`,
          processed_items: counts.change,
          failed_items: counts.refused,
          skipped_items: done - counts.change - counts.refused,
        });
      }
      const cancelled = done < ids.length;

      const statistics = {
        requested: ids.length,
        changed: counts.change,
        unchanged: counts.unchanged,
        deleted: counts.deleted,
        not_deleted: counts.not_deleted,
        not_found: counts.not_found,
        refused: counts.refused,
        not_processed: ids.length - done,
      };
      await bulk.recordSummary(
        name,
        operation,
        origin,
        {
          job_id: job.id,
          ...(payload.filter ? { filter: payload.filter } : {}),
          ...(operation === 'update' ? { changes } : {}),
          ...statistics,
          refused_ids: refused.slice(0, RESULT_IDS_LIMIT).map((record) => record.id),
          ...(cancelled ? { cancelled: true } : {}),
        },
        cancelled,
      );
      const verb = { update: 'Updated', delete: 'Deleted', restore: 'Restored' }[operation];
      const skipped = done - counts.change - counts.refused;
      const message = cancelled
        ? `Cancelled after ${done} of ${ids.length} records; the ${counts.change} changes already committed stay.`
        : `${verb} ${counts.change} of ${ids.length} ${name}: ${skipped} skipped, ${counts.refused} refused.`;
      return {
        success: !cancelled,
        message,
        data: {
          resource: name,
          operation,
          ...statistics,
          cancelled,
          refused_ids: refused.slice(0, RESULT_IDS_LIMIT).map((record) => record.id),
          not_found_ids: notFound.slice(0, RESULT_IDS_LIMIT),
        },
        statistics,
        errors: refused.slice(0, RESULT_IDS_LIMIT),
        warnings: notFound
          .slice(0, RESULT_IDS_LIMIT)
          .map((id) => ({ id, message: `${target.service.label} ${id} does not exist.` })),
      };
    },
  };
}
