import { boolean, date, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, deletedAt, id, updatedAt } from '../../platform/db/columns.ts';
import { students } from '../students/students.table.ts';

export const highlights = pgTable(
  'highlights',
  {
    id: id(),
    student_id: integer('student_id')
      .notNull()
      .references(() => students.id),
    semester: text('semester').notNull(),
    rating: integer('rating'),
    category: text('category'),
    highlight_text: text('highlight_text').notNull(),
    is_positive: boolean('is_positive').notNull().default(true),
    date_created: date('date_created', { mode: 'string' }),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
  },
  (table) => [
    index('idx_highlights_student').on(table.student_id),
    index('idx_highlights_semester').on(table.semester),
    index('idx_highlights_category').on(table.category),
  ],
);

export type HighlightRow = typeof highlights.$inferSelect;
