import { z } from 'zod';
import { recordId } from '../../platform/http/fields.ts';
import type { JobHandler } from '../jobs/jobs.registry.ts';
import type { SettingsService } from '../settings/settings.service.ts';
import type { RecomputeScope, ResultsService } from './results.service.ts';

export const recomputePayload: z.ZodType<RecomputeScope> = z
  .discriminatedUnion('scope', [
    z.strictObject({ scope: z.literal('all') }),
    z.strictObject({ scope: z.literal('course'), course_id: recordId }),
    z.strictObject({ scope: z.literal('student'), student_id: recordId }),
  ])
  .describe(
    '{"scope":"all"}, {"scope":"course","course_id":…} or {"scope":"student","student_id":…}',
  );

export const describeScope = (scope: RecomputeScope) =>
  scope.scope === 'all'
    ? 'every student'
    : scope.scope === 'course'
      ? `course ${scope.course_id}`
      : `student ${scope.student_id}`;

/**
 * recompute: rebuilds the derived results of everyone, one course or one student, a batch of
 * students per transaction, reporting progress per batch and stopping between batches when
 * cancelled (what was committed stays: every row it wrote is correct). Anyone who may start
 * jobs may start it: it writes only derived data and reveals nothing in its result.
 */
export function recomputeHandler(deps: {
  results: ResultsService;
  settings: SettingsService;
  batchSize?: number;
}): JobHandler<RecomputeScope> {
  return {
    payload: recomputePayload,
    permission: 'jobs:create',
    async run({ payload, signal, progress }) {
      const { grade_scale } = await deps.settings.get();
      const report = await deps.results.recompute(payload, {
        scale: grade_scale,
        signal,
        ...(deps.batchSize ? { batchSize: deps.batchSize } : {}),
        onBatch: async ({ students, total, results }) => {
          await progress({
            current: students,
            total,
            processed_items: results,
            message: `Recomputed ${students} of ${total} students`,
          });
        },
      });
      const statistics = {
        students: report.students,
        total_students: report.total_students,
        results: report.results,
        removed: report.removed,
      };
      return {
        success: !report.cancelled,
        message: report.cancelled
          ? `Cancelled after ${report.students} of ${report.total_students} students; their results are up to date.`
          : `Recomputed ${report.results} results of ${describeScope(payload)} (${report.removed} removed).`,
        data: { scope: payload, ...statistics, cancelled: report.cancelled },
        statistics,
      };
    },
  };
}
