import { date, doublePrecision, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, deletedAt, id, updatedAt } from '../../platform/db/columns.ts';
import { courses } from '../courses/courses.table.ts';
import { students } from '../students/students.table.ts';

export const dailyPerformances = pgTable(
  'daily_performances',
  {
    id: id(),
    student_id: integer('student_id')
      .notNull()
      .references(() => students.id),
    course_id: integer('course_id')
      .notNull()
      .references(() => courses.id),
    date: date('date', { mode: 'string' }).notNull(),
    category: text('category').notNull(),
    score: doublePrecision('score').notNull(),
    max_score: doublePrecision('max_score').notNull().default(10),
    notes: text('notes'),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
  },
  (table) => [
    index('idx_daily_performances_student_course').on(table.student_id, table.course_id),
    index('idx_daily_performances_course_date').on(table.course_id, table.date),
    index('idx_daily_performances_category').on(table.category),
  ],
);

export type PerformanceRow = typeof dailyPerformances.$inferSelect;
