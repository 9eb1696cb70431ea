import { type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { equalsFilter } from '../../platform/crud/filters.ts';
import type { ResourceDefinition } from '../../platform/crud/resource.service.ts';
import { emailAddress, requiredText, toIso } from '../../platform/http/fields.ts';
import { pageQuerySchema, queryBoolean, sortSchema } from '../../platform/http/pagination.ts';
import { PASSWORD_MIN_LENGTH } from '../../platform/security/passwords.ts';
import { type UserRow, users } from './users.table.ts';

export const userResponseSchema = z
  .object({
    id: z.number().int(),
    email: z.string(),
    full_name: z.string(),
    role: z.string(),
    is_active: z.boolean(),
    must_change_password: z.boolean(),
    last_login_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .meta({ id: 'User' });

export type UserResponse = z.infer<typeof userResponseSchema>;

/** Never includes the password hash. */
export function toUserResponse(row: UserRow): UserResponse {
  return {
    id: row.id,
    email: row.email,
    full_name: row.full_name,
    role: row.role,
    is_active: row.is_active,
    must_change_password: row.must_change_password,
    last_login_at: toIso(row.last_login_at),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    deleted_at: toIso(row.deleted_at),
  };
}

export const newPassword = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(256, 'must be at most 256 characters');

const roleName = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9_-]{1,39}$/, 'must be a role name such as admin, teacher or viewer');

export const userCreateSchema = z
  .strictObject({
    email: emailAddress,
    full_name: requiredText(200),
    role: roleName,
    password: newPassword,
    is_active: z.boolean().optional(),
    must_change_password: z.boolean().default(true),
  })
  .meta({ id: 'UserCreate' });

export const userUpdateSchema = z
  .strictObject({
    email: emailAddress,
    full_name: requiredText(200),
    role: roleName,
    /** An admin's password reset; the user must choose a new one at next sign-in unless told otherwise. */
    password: newPassword,
    is_active: z.boolean(),
    must_change_password: z.boolean(),
  })
  .partial()
  .meta({ id: 'UserUpdate' });

export const userListQuerySchema = pageQuerySchema.extend({
  sort: sortSchema(['email', 'full_name', 'role', 'created_at', 'last_login_at'], 'email'),
  role: z.string().max(40).optional(),
  is_active: queryBoolean.optional(),
});

const userSearchDocument: SQL = sql`(${users.email} || ' ' || ${users.full_name})`;

export const userDefinition: ResourceDefinition<typeof users, UserResponse> = {
  resource: 'USER',
  label: 'User',
  table: users,
  toResponse: toUserResponse,
  sortColumns: {
    email: users.email,
    full_name: users.full_name,
    role: users.role,
    created_at: users.created_at,
    last_login_at: users.last_login_at,
  },
  searchDocument: userSearchDocument,
  filters: (query) => [
    equalsFilter(users.role, query.role),
    equalsFilter(users.is_active, query.is_active),
  ],
};
