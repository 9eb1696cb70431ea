import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { createdAt } from '../../platform/db/columns.ts';
import { users } from '../users/users.table.ts';

/**
 * Refresh tokens are stored as SHA-256 hashes. Each sign-in starts a family; every refresh
 * rotates the token inside its family, and presenting an already-rotated token revokes the
 * whole family (it was stolen or replayed).
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    user_id: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    family_id: uuid('family_id').notNull(),
    token_hash: text('token_hash').notNull().unique(),
    expires_at: timestamp('expires_at', { withTimezone: true }).notNull(),
    revoked_at: timestamp('revoked_at', { withTimezone: true }),
    created_at: createdAt(),
    ip_address: text('ip_address'),
    user_agent: text('user_agent'),
  },
  (table) => [
    index('idx_refresh_tokens_user').on(table.user_id),
    index('idx_refresh_tokens_family').on(table.family_id),
  ],
);

/**
 * Failed sign-ins counted per e-mail address, whether or not an account exists, so that the
 * lockout answer never reveals which addresses are registered.
 */
export const signInFailures = pgTable('sign_in_failures', {
  email: text('email').primaryKey(),
  failure_count: integer('failure_count').notNull().default(0),
  window_started_at: timestamp('window_started_at', { withTimezone: true }).notNull(),
  locked_until: timestamp('locked_until', { withTimezone: true }),
});
