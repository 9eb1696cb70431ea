import { date, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, deletedAt, id, updatedAt } from '../../platform/db/columns.ts';
import { courses } from '../courses/courses.table.ts';
import { students } from '../students/students.table.ts';

export const ENROLLMENT_STATUSES = ['active', 'completed', 'dropped'] as const;
export type EnrollmentStatus = (typeof ENROLLMENT_STATUSES)[number];

export const courseEnrollments = pgTable(
  'course_enrollments',
  {
    id: id(),
    student_id: integer('student_id')
      .notNull()
      .references(() => students.id),
    course_id: integer('course_id')
      .notNull()
      .references(() => courses.id),
    enrollment_date: date('enrollment_date', { mode: 'string' }),
    status: text('status').$type<EnrollmentStatus>().notNull().default('active'),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
  },
  (table) => [
    uniqueIndex('course_enrollments_student_course_unique').on(table.student_id, table.course_id),
    index('idx_course_enrollments_course').on(table.course_id),
    index('idx_course_enrollments_status').on(table.status),
  ],
);

export type EnrollmentRow = typeof courseEnrollments.$inferSelect;
