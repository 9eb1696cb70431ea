import { integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Runtime settings an admin changes without a restart; unset keys fall back to the environment. */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updated_at: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  updated_by: integer('updated_by'),
});
