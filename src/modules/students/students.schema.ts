import { inArray, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { equalsFilter } from '../../platform/crud/filters.ts';
import type { ResourceDefinition } from '../../platform/crud/resource.service.ts';
import {
  emailAddress,
  isoDate,
  optionalText,
  phoneNumber,
  recordId,
  requiredText,
  toIso,
} from '../../platform/http/fields.ts';
import { pageQuerySchema, queryBoolean, sortSchema } from '../../platform/http/pagination.ts';
import { type StudentRow, students } from './students.table.ts';

export const studentResponseSchema = z
  .object({
    id: z.number().int(),
    student_id: z.string(),
    first_name: z.string(),
    last_name: z.string(),
    email: z.string().nullable(),
    father_name: z.string().nullable(),
    mobile_phone: z.string().nullable(),
    phone: z.string().nullable(),
    study_year: z.number().int().nullable(),
    enrollment_date: z.string().nullable(),
    is_active: z.boolean(),
    academic_year: z.string().nullable(),
    class_division: z.string().nullable(),
    health_issue: z.string().nullable(),
    note: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .meta({ id: 'Student' });

export type StudentResponse = z.infer<typeof studentResponseSchema>;

export function toStudentResponse(row: StudentRow): StudentResponse {
  return {
    id: row.id,
    student_id: row.student_id,
    first_name: row.first_name,
    last_name: row.last_name,
    email: row.email,
    father_name: row.father_name,
    mobile_phone: row.mobile_phone,
    phone: row.phone,
    study_year: row.study_year,
    enrollment_date: row.enrollment_date,
    is_active: row.is_active,
    academic_year: row.academic_year,
    class_division: row.class_division,
    health_issue: row.health_issue,
    note: row.note,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    deleted_at: toIso(row.deleted_at),
  };
}

const studentFields = {
  student_id: requiredText(64).regex(
    /^[\p{L}\p{N}_./-]+$/u,
    'may contain only letters, digits and _ . / -',
  ),
  first_name: requiredText(100),
  last_name: requiredText(100),
  email: emailAddress.nullable().optional(),
  father_name: optionalText(100),
  mobile_phone: phoneNumber,
  phone: phoneNumber,
  study_year: z.number().int().min(1).max(12).nullable().optional(),
  enrollment_date: isoDate.nullable().optional(),
  is_active: z.boolean().optional(),
  academic_year: optionalText(20),
  class_division: optionalText(50),
  health_issue: optionalText(2000),
  note: optionalText(4000),
};

export const studentCreateSchema = z.strictObject(studentFields).meta({ id: 'StudentCreate' });
export const studentUpdateSchema = z
  .strictObject(studentFields)
  .partial()
  .meta({ id: 'StudentUpdate' });

export const studentListQuerySchema = pageQuerySchema.extend({
  sort: sortSchema(
    ['last_name', 'first_name', 'student_id', 'study_year', 'created_at', 'enrollment_date'],
    'last_name',
  ),
  study_year: z.coerce.number().int().min(1).max(12).optional(),
  is_active: queryBoolean.optional(),
  academic_year: z.string().max(20).optional(),
  class_division: z.string().max(50).optional(),
  ids: z
    .string()
    .regex(/^\d{1,10}(,\d{1,10}){0,499}$/, 'must be up to 500 student ids separated by commas')
    .refine(
      (list) => list.split(',').every((id) => recordId.safeParse(Number(id)).success),
      'each id must be a record id (1 to 2147483647)',
    )
    .optional()
    .describe('Only these students: ids separated by commas (at most 500), e.g. 11,12,15'),
});

/** The text search covers names, e-mail and student id; the trigram index uses the same expression. */
export const studentSearchDocument: SQL = sql`(${students.first_name} || ' ' || ${students.last_name} || ' ' || coalesce(${students.email}, '') || ' ' || ${students.student_id})`;

export const studentDefinition: ResourceDefinition<typeof students, StudentResponse> = {
  resource: 'STUDENT',
  label: 'Student',
  table: students,
  toResponse: toStudentResponse,
  sortColumns: {
    last_name: students.last_name,
    first_name: students.first_name,
    student_id: students.student_id,
    study_year: students.study_year,
    created_at: students.created_at,
    enrollment_date: students.enrollment_date,
  },
  searchDocument: studentSearchDocument,
  filters: (query) => [
    equalsFilter(students.study_year, query.study_year),
    equalsFilter(students.is_active, query.is_active),
    equalsFilter(students.academic_year, query.academic_year),
    equalsFilter(students.class_division, query.class_division),
    typeof query.ids === 'string'
      ? inArray(students.id, query.ids.split(',').map(Number))
      : undefined,
  ],
};
