import {
  doublePrecision,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { id } from '../../platform/db/columns.ts';
import { courses } from '../courses/courses.table.ts';
import { students } from '../students/students.table.ts';

/**
 * A student's standing in one course, derived by the recompute job from grades, attendance,
 * daily performances and the course's rules. Never edited by hand: a recompute replaces it.
 */
export const courseResults = pgTable(
  'course_results',
  {
    id: id(),
    student_id: integer('student_id')
      .notNull()
      .references(() => students.id, { onDelete: 'cascade' }),
    course_id: integer('course_id')
      .notNull()
      .references(() => courses.id, { onDelete: 'cascade' }),
    /** Weighted percentage of the graded work before the absence penalty; null without grades. */
    weighted_percentage: doublePrecision('weighted_percentage'),
    /** Points taken off: course.absence_penalty per unexcused absence. */
    absence_penalty: doublePrecision('absence_penalty').notNull().default(0),
    /** weighted_percentage minus the penalty, floored at 0; null without grades. */
    final_percentage: doublePrecision('final_percentage'),
    letter_grade: text('letter_grade'),
    grade_count: integer('grade_count').notNull().default(0),
    present_count: integer('present_count').notNull().default(0),
    late_count: integer('late_count').notNull().default(0),
    absent_count: integer('absent_count').notNull().default(0),
    excused_count: integer('excused_count').notNull().default(0),
    /** (present + late) / every recorded period; null when no attendance is recorded. */
    attendance_rate: doublePrecision('attendance_rate'),
    /** excused / every recorded period, shown beside the rate. */
    excused_rate: doublePrecision('excused_rate'),
    /** Mean of score / max_score over the daily performances, as a percentage. */
    average_performance: doublePrecision('average_performance'),
    computed_at: timestamp('computed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('course_results_student_course_unique').on(table.student_id, table.course_id),
    index('idx_course_results_course').on(table.course_id),
  ],
);

export type CourseResultRow = typeof courseResults.$inferSelect;
