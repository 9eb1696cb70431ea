import { sql } from 'drizzle-orm';
import { boolean, date, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, deletedAt, id, updatedAt } from '../../platform/db/columns.ts';

export const students = pgTable(
  'students',
  {
    id: id(),
    /** The school's own identifier (the ID card number in the original system). */
    student_id: text('student_id').notNull(),
    first_name: text('first_name').notNull(),
    last_name: text('last_name').notNull(),
    email: text('email'),
    father_name: text('father_name'),
    mobile_phone: text('mobile_phone'),
    phone: text('phone'),
    study_year: integer('study_year'),
    enrollment_date: date('enrollment_date', { mode: 'string' }),
    is_active: boolean('is_active').notNull().default(true),
    academic_year: text('academic_year'),
    class_division: text('class_division'),
    health_issue: text('health_issue'),
    note: text('note'),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
  },
  (table) => [
    uniqueIndex('students_student_id_unique').on(table.student_id),
    uniqueIndex('students_email_unique').on(table.email),
    // Matches the default order (last_name, then id) so a page stops after its rows.
    index('idx_students_last_name_id').on(table.last_name, table.id),
    index('idx_students_study_year').on(table.study_year),
    index('idx_students_academic_year').on(table.academic_year),
    index('idx_students_class_division').on(table.class_division),
    index('idx_students_is_active').on(table.is_active),
    // One trigram index serves the text search over names, e-mail and student id.
    index('idx_students_search_trgm').using(
      'gin',
      sql`(${table.first_name} || ' ' || ${table.last_name} || ' ' || coalesce(${table.email}, '') || ' ' || ${table.student_id}) gin_trgm_ops`,
    ),
  ],
);

export type StudentRow = typeof students.$inferSelect;
