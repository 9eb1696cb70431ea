import { index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id } from '../../platform/db/columns.ts';
import { jobs } from '../jobs/jobs.table.ts';

/**
 * SENDING is written just before a message is handed to the server: a run that dies before
 * it can record the answer leaves it, and a retry then does not send that message again.
 */
export const EMAIL_DELIVERY_STATUSES = ['SENDING', 'SENT', 'FAILED', 'INVALID'] as const;
export type EmailDeliveryStatus = (typeof EMAIL_DELIVERY_STATUSES)[number];

/**
 * One row per recipient of an email_batch job, written as soon as its message is accepted
 * (or refused for good): a retry of the job skips every recipient already SENT, so nobody
 * gets a message twice. Holds the outcome, not the message body.
 */
export const emailDeliveries = pgTable(
  'email_deliveries',
  {
    id: id(),
    job_id: uuid('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    /** The students row the message was about (no foreign key: the outcome outlives a purge). */
    student_id: integer('student_id').notNull(),
    address: text('address'),
    status: text('status').$type<EmailDeliveryStatus>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** The Message-ID header, fixed per job and student so a resend would be recognisable. */
    message_id: text('message_id'),
    error_message: text('error_message'),
    updated_at: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('email_deliveries_job_student_unique').on(table.job_id, table.student_id),
    index('idx_email_deliveries_job').on(table.job_id),
  ],
);

export type EmailDeliveryRow = typeof emailDeliveries.$inferSelect;
