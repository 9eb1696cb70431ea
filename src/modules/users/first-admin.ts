import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/db/client.ts';
import { hashPassword } from '../../platform/security/passwords.ts';
import { users } from './users.table.ts';

export const DEFAULT_ADMIN_EMAIL = 'admin@registrar.local';

export interface FirstAdmin {
  email: string;
  /** Set only when Registrar generated the password: show it once, never store it elsewhere. */
  generatedPassword?: string;
}

/**
 * Creates the first admin when the database has no user at all. Without ADMIN_PASSWORD a
 * password is generated, and the admin must replace it at first sign-in.
 */
export async function ensureFirstAdmin(
  db: Database,
  config: Pick<Config, 'adminEmail' | 'adminPassword'>,
): Promise<FirstAdmin | undefined> {
  const [existing] = await db.select({ count: sql<number>`count(*)`.mapWith(Number) }).from(users);
  if ((existing?.count ?? 0) > 0) return undefined;
  const email = (config.adminEmail ?? DEFAULT_ADMIN_EMAIL).toLowerCase();
  const generatedPassword = config.adminPassword
    ? undefined
    : randomBytes(12).toString('base64url');
  const password = config.adminPassword ?? generatedPassword!;
  await db
    .insert(users)
    .values({
      email,
      full_name: 'Administrator',
      role: 'admin',
      password_hash: await hashPassword(password),
      must_change_password: generatedPassword !== undefined,
    })
    .onConflictDoNothing();
  return generatedPassword ? { email, generatedPassword } : { email };
}
