import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import type { z } from 'zod';
import { type ListCaching, ResourceService } from '../../platform/crud/resource.service.ts';
import type { Database, Transaction } from '../../platform/db/client.ts';
import { conflict, unprocessable } from '../../platform/http/problems.ts';
import type { ChangeContext, ChangeRecorder } from '../../platform/http/request-context.ts';
import { hashPassword } from '../../platform/security/passwords.ts';
import { refreshTokens } from '../auth/auth.table.ts';
import { roles } from '../roles/roles.table.ts';
import {
  type UserResponse,
  type userCreateSchema,
  userDefinition,
  type userUpdateSchema,
} from './users.schema.ts';
import { type UserRow, users } from './users.table.ts';

type UserCreate = z.infer<typeof userCreateSchema>;
type UserUpdate = z.infer<typeof userUpdateSchema>;

async function assertRoleExists(tx: Transaction, role: string) {
  const [row] = await tx.select({ name: roles.name }).from(roles).where(eq(roles.name, role));
  if (!row) {
    throw unprocessable(`Role ${role} does not exist.`, [
      { field: 'body.role', message: 'is not a known role' },
    ]);
  }
}

/** Keeps at least one active admin, so nobody can lock the school out of its own system. */
async function assertAnotherActiveAdmin(tx: Transaction, exceptUserId: number) {
  const [row] = await tx
    .select({ count: sql<number>`count(*)`.mapWith(Number) })
    .from(users)
    .where(
      and(
        eq(users.role, 'admin'),
        eq(users.is_active, true),
        isNull(users.deleted_at),
        ne(users.id, exceptUserId),
      ),
    );
  if ((row?.count ?? 0) === 0) {
    throw conflict('This is the last active admin; make another user admin first.');
  }
}

export class UsersService extends ResourceService<typeof users, UserResponse> {
  constructor(db: Database, recorder: ChangeRecorder, caching: ListCaching) {
    super(
      db,
      {
        ...userDefinition,
        async checkWrite(tx, next, existing) {
          const role = next.role as string;
          if (!existing || existing.role !== role) await assertRoleExists(tx, role);
          const losesAdmin =
            existing?.role === 'admin' &&
            existing.is_active &&
            (role !== 'admin' || !next.is_active);
          if (existing && losesAdmin) await assertAnotherActiveAdmin(tx, existing.id);
        },
        async checkDelete(tx, existing) {
          if (existing.role === 'admin' && existing.is_active) {
            await assertAnotherActiveAdmin(tx, existing.id);
          }
        },
      },
      recorder,
      caching,
    );
  }

  async createUser(input: UserCreate, context: ChangeContext): Promise<UserResponse> {
    const { password, ...fields } = input;
    return this.create({ ...fields, password_hash: await hashPassword(password) }, context);
  }

  async updateUser(id: number, input: UserUpdate, context: ChangeContext): Promise<UserResponse> {
    const { password, ...fields } = input;
    const patch: Partial<UserRow> = { ...fields };
    if (password !== undefined) {
      patch.password_hash = await hashPassword(password);
      patch.password_changed_at = new Date();
      patch.must_change_password = fields.must_change_password ?? true;
    }
    const updated = await this.update(id, patch, context);
    // A reset password or a deactivated account ends every session at once.
    if (password !== undefined || fields.is_active === false) await this.revokeSessions(id);
    return updated;
  }

  override async remove(id: number, context: ChangeContext): Promise<void> {
    await super.remove(id, context);
    await this.revokeSessions(id);
  }

  async revokeSessions(userId: number): Promise<void> {
    await this.db
      .update(refreshTokens)
      .set({ revoked_at: new Date() })
      .where(and(eq(refreshTokens.user_id, userId), isNull(refreshTokens.revoked_at)));
  }
}
