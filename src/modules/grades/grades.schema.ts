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
import { type GradeRow, grades } from './grades.table.ts';

/** The database default of grades.max_grade, used when a new grade names none. */
export const DEFAULT_MAX_GRADE = 100;

export const gradeResponseSchema = z
  .object({
    id: z.number().int(),
    student_id: z.number().int(),
    course_id: z.number().int(),
    assignment_name: z.string(),
    category: z.string().nullable(),
    grade: z.number(),
    max_grade: z.number(),
    weight: z.number(),
    date_assigned: z.string().nullable(),
    date_submitted: z.string().nullable(),
    notes: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .meta({ id: 'Grade' });

export type GradeResponse = z.infer<typeof gradeResponseSchema>;

export function toGradeResponse(row: GradeRow): GradeResponse {
  return {
    id: row.id,
    student_id: row.student_id,
    course_id: row.course_id,
    assignment_name: row.assignment_name,
    category: row.category,
    grade: row.grade,
    max_grade: row.max_grade,
    weight: row.weight,
    date_assigned: row.date_assigned,
    date_submitted: row.date_submitted,
    notes: row.notes,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    deleted_at: toIso(row.deleted_at),
  };
}

const gradeFields = {
  student_id: recordId,
  course_id: recordId,
  assignment_name: requiredText(200),
  category: optionalText(100),
  grade: z.number().min(0).describe('Between 0 and max_grade'),
  max_grade: z
    .number()
    .positive()
    .optional()
    .describe(`Greater than 0; ${DEFAULT_MAX_GRADE} when left out`),
  weight: z.number().positive().optional().describe('Greater than 0; 1 when left out'),
  date_assigned: isoDate.nullable().optional(),
  date_submitted: isoDate.nullable().optional().describe('Not before date_assigned'),
  notes: optionalText(4000),
};

export const gradeCreateSchema = z.strictObject(gradeFields).meta({ id: 'GradeCreate' });
export const gradeUpdateSchema = z.strictObject(gradeFields).partial().meta({ id: 'GradeUpdate' });

export const gradeListQuerySchema = pageQuerySchema.extend({
  sort: sortSchema(['date_assigned', 'grade', 'assignment_name', 'created_at'], '-date_assigned'),
  student_id: queryId,
  course_id: queryId,
  category: z.string().trim().max(100).optional(),
  ...dateRangeQuery,
});

type GradeValues = GradeRow | typeof grades.$inferInsert;

/**
 * A grade lies between 0 and its max_grade, and is not submitted before it was assigned. On an
 * update the message names the field that changed, since either side of a rule may have.
 */
function gradeRules(next: GradeValues, existing: GradeValues | null): FieldIssue[] {
  return [
    ...notAbove(
      { field: 'grade', value: next.grade },
      { field: 'max_grade', value: next.max_grade ?? DEFAULT_MAX_GRADE },
      existing?.grade === next.grade ? 'high' : 'low',
    ),
    ...notAbove(
      { field: 'date_assigned', value: next.date_assigned },
      { field: 'date_submitted', value: next.date_submitted },
      existing?.date_submitted === next.date_submitted ? 'low' : 'high',
      { above: 'after', below: 'before' },
    ),
  ];
}

export const gradeDefinition: ResourceDefinition<typeof grades, GradeResponse> = {
  resource: 'GRADE',
  label: 'Grade',
  table: grades,
  toResponse: toGradeResponse,
  sortColumns: {
    date_assigned: grades.date_assigned,
    grade: grades.grade,
    assignment_name: grades.assignment_name,
    created_at: grades.created_at,
  },
  filters: (query) => [
    equalsFilter(grades.student_id, query.student_id),
    equalsFilter(grades.course_id, query.course_id),
    equalsFilter(grades.category, query.category),
    ...dateRangeConditions(grades.date_assigned, query),
  ],
  checkWrite: recordChecks<GradeValues>({
    references: [
      { field: 'student_id', table: students, label: 'Student' },
      { field: 'course_id', table: courses, label: 'Course' },
    ],
    rules: gradeRules,
  }),
};
