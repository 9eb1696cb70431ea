import { and, eq, isNull } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.ts';
import { roles } from '../roles/roles.table.ts';
import { users } from '../users/users.table.ts';

/**
 * A job owner's e-mail and permissions as they are now, or undefined for an account deleted
 * or deactivated since. Handlers check it when they run, because POST /api/v1/jobs can start
 * any job type with jobs:create alone.
 */
export async function jobOwner(
  db: Executor,
  userId: number,
): Promise<{ email: string; permissions: string[] } | undefined> {
  const [owner] = await db
    .select({ email: users.email, permissions: roles.permissions })
    .from(users)
    .innerJoin(roles, eq(roles.name, users.role))
    .where(and(eq(users.id, userId), eq(users.is_active, true), isNull(users.deleted_at)));
  return owner;
}
