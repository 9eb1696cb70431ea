import { desc, sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { createdAt } from '../../platform/db/columns.ts';
import {
  EMPTY_PROGRESS,
  type JobProgress,
  type JobResult,
  type JobStatus,
  type JobType,
} from './jobs.constants.ts';

/** Jobs are recorded here in both modes; Redis, when used, is only a transport. */
export const jobs = pgTable(
  'jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    job_type: text('job_type').$type<JobType>().notNull(),
    status: text('status').$type<JobStatus>().notNull().default('PENDING'),
    /** 1-10, higher runs first. */
    priority: integer('priority').notNull().default(5),
    user_id: integer('user_id'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    progress: jsonb('progress').$type<JobProgress>().notNull().default(EMPTY_PROGRESS),
    result: jsonb('result').$type<JobResult>(),
    error_message: text('error_message'),
    attempts: integer('attempts').notNull().default(0),
    max_attempts: integer('max_attempts').notNull().default(3),
    created_at: createdAt(),
    started_at: timestamp('started_at', { withTimezone: true }),
    completed_at: timestamp('completed_at', { withTimezone: true }),
    expires_at: timestamp('expires_at', { withTimezone: true }),
    cancel_requested_at: timestamp('cancel_requested_at', { withTimezone: true }),
    /** A retry waits until then (exponential backoff). */
    run_after: timestamp('run_after', { withTimezone: true }).notNull().defaultNow(),
    /** The process running it, while PROCESSING. */
    worker_id: text('worker_id'),
  },
  (table) => [
    index('idx_jobs_pickup')
      .on(table.priority.desc(), table.created_at)
      .where(sql`${table.status} = 'PENDING'`),
    index('idx_jobs_user_created').on(table.user_id, desc(table.created_at)),
    index('idx_jobs_status_created').on(table.status, desc(table.created_at)),
    index('idx_jobs_type').on(table.job_type),
    index('idx_jobs_expires').on(table.expires_at),
  ],
);

export type JobRow = typeof jobs.$inferSelect;
