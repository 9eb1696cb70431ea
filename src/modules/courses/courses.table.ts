import { sql } from 'drizzle-orm';
import {
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { createdAt, deletedAt, id, updatedAt } from '../../platform/db/columns.ts';

export interface EvaluationRule {
  category: string;
  weight: number;
}

export interface TeachingSlot {
  day: string;
  start_time: string;
  end_time: string;
  room?: string | undefined;
}

export const courses = pgTable(
  'courses',
  {
    id: id(),
    course_code: text('course_code').notNull(),
    course_name: text('course_name').notNull(),
    /** Semester label, e.g. "Fall 2025"; all courses sharing it form one session. */
    semester: text('semester').notNull(),
    credits: integer('credits').notNull().default(0),
    description: text('description'),
    evaluation_rules: jsonb('evaluation_rules').$type<EvaluationRule[]>().notNull().default([]),
    absence_penalty: doublePrecision('absence_penalty').notNull().default(0),
    hours_per_week: doublePrecision('hours_per_week').notNull().default(0),
    teaching_schedule: jsonb('teaching_schedule').$type<TeachingSlot[]>().notNull().default([]),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
  },
  (table) => [
    uniqueIndex('courses_course_code_unique').on(table.course_code),
    index('idx_courses_semester').on(table.semester),
    index('idx_courses_search_trgm').using(
      'gin',
      sql`(${table.course_code} || ' ' || ${table.course_name}) gin_trgm_ops`,
    ),
  ],
);

export type CourseRow = typeof courses.$inferSelect;
