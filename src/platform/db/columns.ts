import { integer, timestamp } from 'drizzle-orm/pg-core';

/** Surrogate key shared by every table: a plain integer, as audit_logs.user_id expects. */
export const id = () => integer('id').primaryKey().generatedAlwaysAsIdentity();

export const createdAt = () =>
  timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const updatedAt = () =>
  timestamp('updated_at', { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

/** Soft delete marker: rows with a value are hidden from every list and get unless asked for. */
export const deletedAt = () => timestamp('deleted_at', { withTimezone: true });
