import { z } from 'zod';
import { dateRangeConditions, dateRangeQuery, equalsFilter } from '../../platform/crud/filters.ts';
import { notAbove, recordChecks } from '../../platform/crud/references.ts';
import type { ResourceDefinition } from '../../platform/crud/resource.service.ts';
import {
  isoDate,
  optionalText,
  queryId,
  recordId,
  requiredText,
  toIso,
} from '../../platform/http/fields.ts';
import { pageQuerySchema, sortSchema } from '../../platform/http/pagination.ts';
import type { FieldIssue } from '../../platform/http/problems.ts';
import { courses } from '../courses/courses.table.ts';
import { students } from '../students/students.table.ts';
import { dailyPerformances, type PerformanceRow } from './performances.table.ts';

/** The database default of daily_performances.max_score, used when a new record names none. */
export const DEFAULT_MAX_SCORE = 10;

export const performanceResponseSchema = z
  .object({
    id: z.number().int(),
    student_id: z.number().int(),
    course_id: z.number().int(),
    date: z.string(),
    category: z.string(),
    score: z.number(),
    max_score: z.number(),
    notes: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .meta({ id: 'DailyPerformance' });

export type PerformanceResponse = z.infer<typeof performanceResponseSchema>;

export function toPerformanceResponse(row: PerformanceRow): PerformanceResponse {
  return {
    id: row.id,
    student_id: row.student_id,
    course_id: row.course_id,
    date: row.date,
    category: row.category,
    score: row.score,
    max_score: row.max_score,
    notes: row.notes,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    deleted_at: toIso(row.deleted_at),
  };
}

const performanceFields = {
  student_id: recordId,
  course_id: recordId,
  date: isoDate,
  category: requiredText(100),
  score: z.number().min(0).describe('Between 0 and max_score'),
  max_score: z
    .number()
    .positive()
    .optional()
    .describe(`Greater than 0; ${DEFAULT_MAX_SCORE} when left out`),
  notes: optionalText(2000),
};

export const performanceCreateSchema = z
  .strictObject(performanceFields)
  .meta({ id: 'DailyPerformanceCreate' });
export const performanceUpdateSchema = z
  .strictObject(performanceFields)
  .partial()
  .meta({ id: 'DailyPerformanceUpdate' });

export const performanceListQuerySchema = pageQuerySchema.extend({
  sort: sortSchema(['date', 'score', 'category', 'created_at'], '-date'),
  student_id: queryId,
  course_id: queryId,
  category: z.string().trim().max(100).optional(),
  ...dateRangeQuery,
});

type PerformanceValues = PerformanceRow | typeof dailyPerformances.$inferInsert;

/** A score lies between 0 and max_score; on an update the message names the side that changed. */
function performanceRules(
  next: PerformanceValues,
  existing: PerformanceValues | null,
): FieldIssue[] {
  return notAbove(
    { field: 'score', value: next.score },
    { field: 'max_score', value: next.max_score ?? DEFAULT_MAX_SCORE },
    existing?.score === next.score ? 'high' : 'low',
  );
}

export const performanceDefinition: ResourceDefinition<
  typeof dailyPerformances,
  PerformanceResponse
> = {
  resource: 'PERFORMANCE',
  label: 'Daily performance',
  table: dailyPerformances,
  toResponse: toPerformanceResponse,
  sortColumns: {
    date: dailyPerformances.date,
    score: dailyPerformances.score,
    category: dailyPerformances.category,
    created_at: dailyPerformances.created_at,
  },
  filters: (query) => [
    equalsFilter(dailyPerformances.student_id, query.student_id),
    equalsFilter(dailyPerformances.course_id, query.course_id),
    equalsFilter(dailyPerformances.category, query.category),
    ...dateRangeConditions(dailyPerformances.date, query),
  ],
  checkWrite: recordChecks<PerformanceValues>({
    references: [
      { field: 'student_id', table: students, label: 'Student' },
      { field: 'course_id', table: courses, label: 'Course' },
    ],
    rules: performanceRules,
  }),
};
