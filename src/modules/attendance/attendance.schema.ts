import { z } from 'zod';
import { dateRangeConditions, dateRangeQuery, equalsFilter } from '../../platform/crud/filters.ts';
import { recordChecks } from '../../platform/crud/references.ts';
import type { ResourceDefinition } from '../../platform/crud/resource.service.ts';
import { isoDate, optionalText, queryId, recordId, toIso } from '../../platform/http/fields.ts';
import { pageQuerySchema, sortSchema } from '../../platform/http/pagination.ts';
import { courses } from '../courses/courses.table.ts';
import { students } from '../students/students.table.ts';
import { ATTENDANCE_STATUSES, type AttendanceRow, attendance } from './attendance.table.ts';

export const attendanceResponseSchema = z
  .object({
    id: z.number().int(),
    student_id: z.number().int(),
    course_id: z.number().int(),
    date: z.string(),
    status: z.enum(ATTENDANCE_STATUSES),
    period_number: z.number().int(),
    notes: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .meta({ id: 'Attendance' });

export type AttendanceResponse = z.infer<typeof attendanceResponseSchema>;

export function toAttendanceResponse(row: AttendanceRow): AttendanceResponse {
  return {
    id: row.id,
    student_id: row.student_id,
    course_id: row.course_id,
    date: row.date,
    status: row.status,
    period_number: row.period_number,
    notes: row.notes,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    deleted_at: toIso(row.deleted_at),
  };
}

const attendanceFields = {
  student_id: recordId,
  course_id: recordId,
  date: isoDate,
  status: z.enum(ATTENDANCE_STATUSES),
  period_number: z.number().int().min(1).max(20).optional().describe('1 when left out'),
  notes: optionalText(2000),
};

export const attendanceCreateSchema = z
  .strictObject(attendanceFields)
  .meta({ id: 'AttendanceCreate' });
export const attendanceUpdateSchema = z
  .strictObject(attendanceFields)
  .partial()
  .meta({ id: 'AttendanceUpdate' });

export const attendanceListQuerySchema = pageQuerySchema.extend({
  sort: sortSchema(['date', 'period_number', 'status', 'created_at'], '-date'),
  student_id: queryId,
  course_id: queryId,
  status: z.enum(ATTENDANCE_STATUSES).optional(),
  ...dateRangeQuery,
});

type AttendanceValues = AttendanceRow | typeof attendance.$inferInsert;

export const attendanceDefinition: ResourceDefinition<typeof attendance, AttendanceResponse> = {
  resource: 'ATTENDANCE',
  label: 'Attendance',
  table: attendance,
  toResponse: toAttendanceResponse,
  sortColumns: {
    date: attendance.date,
    period_number: attendance.period_number,
    status: attendance.status,
    created_at: attendance.created_at,
  },
  filters: (query) => [
    equalsFilter(attendance.student_id, query.student_id),
    equalsFilter(attendance.course_id, query.course_id),
    equalsFilter(attendance.status, query.status),
    ...dateRangeConditions(attendance.date, query),
  ],
  checkWrite: recordChecks<AttendanceValues>({
    references: [
      { field: 'student_id', table: students, label: 'Student' },
      { field: 'course_id', table: courses, label: 'Course' },
    ],
  }),
};
