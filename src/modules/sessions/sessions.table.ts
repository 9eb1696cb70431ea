import { index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt } from '../../platform/db/columns.ts';

/**
 * A validated session bundle waiting for its bulk_import job. The bundle (up to
 * IMPORT_MAX_BYTES) is too large for the job's metadata, which travels through Redis and
 * every job listing; kept here, any worker machine can read it. The job deletes it once
 * the import has committed or failed for good.
 */
export const sessionImports = pgTable(
  'session_imports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    user_id: integer('user_id').notNull(),
    semester: text('semester').notNull(),
    /** The bundle as it was sent (the job normalises and checks it again). */
    bundle: jsonb('bundle').$type<Record<string, unknown>>().notNull(),
    merge_strategy: text('merge_strategy').$type<'update' | 'skip'>().notNull(),
    created_at: createdAt(),
    job_id: uuid('job_id'),
  },
  (table) => [index('idx_session_imports_created').on(table.created_at)],
);
