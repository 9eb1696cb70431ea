import { sql } from 'drizzle-orm';
import {
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt } from '../../platform/db/columns.ts';

/**
 * What the preview of an uploaded file found. Its analysed rows (below) are what the import
 * job writes, on any worker machine, so the file itself is not kept; previews expire after
 * an hour.
 */
export const importPreviews = pgTable(
  'import_previews',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    user_id: integer('user_id').notNull(),
    import_type: text('import_type').notNull(),
    file_name: text('file_name').notNull(),
    file_size: integer('file_size').notNull(),
    /** The options the preview was made with (and the commit will use). */
    options: jsonb('options').$type<Record<string, unknown>>().notNull(),
    /** What was detected: encoding, delimiter, sheet, header mapping. */
    detected: jsonb('detected').$type<Record<string, unknown>>().notNull(),
    /** Counts: total, valid, warnings, errors, create, update, skip. */
    summary: jsonb('summary').$type<Record<string, number>>().notNull(),
    created_at: createdAt(),
    expires_at: timestamp('expires_at', { withTimezone: true }).notNull(),
    /** The bulk_import job that committed it, once committed. */
    job_id: uuid('job_id'),
  },
  (table) => [index('idx_import_previews_expires').on(table.expires_at)],
);

/** Every row of a preview, for paging through them and for the errors download. */
export const importPreviewRows = pgTable(
  'import_preview_rows',
  {
    preview_id: uuid('preview_id')
      .notNull()
      .references(() => importPreviews.id, { onDelete: 'cascade' }),
    row_number: integer('row_number').notNull(),
    action: text('action').$type<'create' | 'update' | 'skip'>().notNull(),
    status: text('status').$type<'valid' | 'warning' | 'error'>().notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    issues: jsonb('issues')
      .$type<Array<{ field: string; message: string }>>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    /** The earlier row with the same key; a repeated row is never written. */
    duplicate_of: integer('duplicate_of'),
  },
  (table) => [
    primaryKey({ columns: [table.preview_id, table.row_number] }),
    index('idx_import_preview_rows_status').on(table.preview_id, table.status, table.row_number),
  ],
);
