import { boolean, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, updatedAt } from '../../platform/db/columns.ts';

export const roles = pgTable('roles', {
  name: text('name').primaryKey(),
  description: text('description').notNull().default(''),
  /** Permission keys such as "students:read", "grades:*" or "*". */
  permissions: jsonb('permissions').$type<string[]>().notNull().default([]),
  is_builtin: boolean('is_builtin').notNull().default(false),
  created_at: createdAt(),
  updated_at: updatedAt(),
});

export type RoleRow = typeof roles.$inferSelect;
