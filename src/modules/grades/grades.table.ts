import { date, doublePrecision, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, deletedAt, id, updatedAt } from '../../platform/db/columns.ts';
import { courses } from '../courses/courses.table.ts';
import { students } from '../students/students.table.ts';

export const grades = pgTable(
  'grades',
  {
    id: id(),
    student_id: integer('student_id')
      .notNull()
      .references(() => students.id),
    course_id: integer('course_id')
      .notNull()
      .references(() => courses.id),
    assignment_name: text('assignment_name').notNull(),
    category: text('category'),
    grade: doublePrecision('grade').notNull(),
    max_grade: doublePrecision('max_grade').notNull().default(100),
    weight: doublePrecision('weight').notNull().default(1),
    date_assigned: date('date_assigned', { mode: 'string' }),
    date_submitted: date('date_submitted', { mode: 'string' }),
    notes: text('notes'),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
  },
  (table) => [
    index('idx_grades_student_course').on(table.student_id, table.course_id),
    index('idx_grades_course').on(table.course_id),
    index('idx_grades_category').on(table.category),
    index('idx_grades_date_assigned').on(table.date_assigned),
  ],
);

export type GradeRow = typeof grades.$inferSelect;
