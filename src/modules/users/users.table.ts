import { sql } from 'drizzle-orm';
import { boolean, index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, deletedAt, id, updatedAt } from '../../platform/db/columns.ts';
import { roles } from '../roles/roles.table.ts';

export const users = pgTable(
  'users',
  {
    id: id(),
    /** Stored lower-cased so sign-in is case-insensitive. */
    email: text('email').notNull(),
    full_name: text('full_name').notNull(),
    password_hash: text('password_hash').notNull(),
    role: text('role')
      .notNull()
      .references(() => roles.name, { onUpdate: 'cascade' }),
    is_active: boolean('is_active').notNull().default(true),
    must_change_password: boolean('must_change_password').notNull().default(false),
    password_changed_at: timestamp('password_changed_at', { withTimezone: true }),
    last_login_at: timestamp('last_login_at', { withTimezone: true }),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
  },
  (table) => [
    uniqueIndex('users_email_unique').on(table.email),
    index('idx_users_role').on(table.role),
    index('idx_users_full_name').on(sql`lower(${table.full_name})`),
  ],
);

export type UserRow = typeof users.$inferSelect;
