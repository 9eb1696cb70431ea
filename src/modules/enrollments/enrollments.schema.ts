import { z } from 'zod';
import { equalsFilter } from '../../platform/crud/filters.ts';
import { recordChecks } from '../../platform/crud/references.ts';
import type { ResourceDefinition } from '../../platform/crud/resource.service.ts';
import { isoDate, queryId, recordId, toIso } from '../../platform/http/fields.ts';
import { pageQuerySchema, sortSchema } from '../../platform/http/pagination.ts';
import { courses } from '../courses/courses.table.ts';
import { students } from '../students/students.table.ts';
import { courseEnrollments, ENROLLMENT_STATUSES, type EnrollmentRow } from './enrollments.table.ts';

export const enrollmentResponseSchema = z
  .object({
    id: z.number().int(),
    student_id: z.number().int(),
    course_id: z.number().int(),
    enrollment_date: z.string().nullable(),
    status: z.enum(ENROLLMENT_STATUSES),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .meta({ id: 'Enrollment' });

export type EnrollmentResponse = z.infer<typeof enrollmentResponseSchema>;

export function toEnrollmentResponse(row: EnrollmentRow): EnrollmentResponse {
  return {
    id: row.id,
    student_id: row.student_id,
    course_id: row.course_id,
    enrollment_date: row.enrollment_date,
    status: row.status,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    deleted_at: toIso(row.deleted_at),
  };
}

const enrollmentFields = {
  student_id: recordId,
  course_id: recordId,
  enrollment_date: isoDate.nullable().optional(),
  status: z.enum(ENROLLMENT_STATUSES).optional(),
};

export const enrollmentCreateSchema = z
  .strictObject(enrollmentFields)
  .meta({ id: 'EnrollmentCreate' });
export const enrollmentUpdateSchema = z
  .strictObject(enrollmentFields)
  .partial()
  .meta({ id: 'EnrollmentUpdate' });

export const enrollmentListQuerySchema = pageQuerySchema.extend({
  sort: sortSchema(['enrollment_date', 'status', 'created_at'], 'created_at'),
  student_id: queryId,
  course_id: queryId,
  status: z.enum(ENROLLMENT_STATUSES).optional(),
});

type EnrollmentValues = EnrollmentRow | typeof courseEnrollments.$inferInsert;

export const enrollmentDefinition: ResourceDefinition<
  typeof courseEnrollments,
  EnrollmentResponse
> = {
  resource: 'ENROLLMENT',
  label: 'Enrollment',
  table: courseEnrollments,
  toResponse: toEnrollmentResponse,
  sortColumns: {
    enrollment_date: courseEnrollments.enrollment_date,
    status: courseEnrollments.status,
    created_at: courseEnrollments.created_at,
  },
  filters: (query) => [
    equalsFilter(courseEnrollments.student_id, query.student_id),
    equalsFilter(courseEnrollments.course_id, query.course_id),
    equalsFilter(courseEnrollments.status, query.status),
  ],
  checkWrite: recordChecks<EnrollmentValues>({
    references: [
      { field: 'student_id', table: students, label: 'Student' },
      { field: 'course_id', table: courses, label: 'Course' },
    ],
  }),
};
