import { date, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, deletedAt, id, updatedAt } from '../../platform/db/columns.ts';
import { courses } from '../courses/courses.table.ts';
import { students } from '../students/students.table.ts';

export const ATTENDANCE_STATUSES = ['Present', 'Absent', 'Late', 'Excused'] as const;
export type AttendanceStatus = (typeof ATTENDANCE_STATUSES)[number];

export const attendance = pgTable(
  'attendance',
  {
    id: id(),
    student_id: integer('student_id')
      .notNull()
      .references(() => students.id),
    course_id: integer('course_id')
      .notNull()
      .references(() => courses.id),
    date: date('date', { mode: 'string' }).notNull(),
    status: text('status').$type<AttendanceStatus>().notNull(),
    period_number: integer('period_number').notNull().default(1),
    notes: text('notes'),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
  },
  (table) => [
    // One mark per student, course, day and period: the natural key imports upsert on.
    uniqueIndex('attendance_student_course_date_period_unique').on(
      table.student_id,
      table.course_id,
      table.date,
      table.period_number,
    ),
    index('idx_attendance_course_date').on(table.course_id, table.date),
    index('idx_attendance_status').on(table.status),
  ],
);

export type AttendanceRow = typeof attendance.$inferSelect;
