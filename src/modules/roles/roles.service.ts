import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/client.ts';
import { conflict, forbidden, notFound } from '../../platform/http/problems.ts';
import { type ChangeContext, SYSTEM_CONTEXT } from '../../platform/http/request-context.ts';
import { type AuditLogger, originFromContext } from '../audit/audit.logger.ts';
import { users } from '../users/users.table.ts';
import { BUILTIN_ROLES } from './permissions.ts';
import { type RoleRow, roles } from './roles.table.ts';

export interface RoleResponse {
  name: string;
  description: string;
  permissions: string[];
  is_builtin: boolean;
  created_at: string;
  updated_at: string;
}

export function toRoleResponse(row: RoleRow): RoleResponse {
  return {
    name: row.name,
    description: row.description,
    permissions: row.permissions,
    is_builtin: row.is_builtin,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** How long a process trusts its cached copy of a role's grants (other processes may change them). */
const CACHE_TTL_MS = 5_000;

export class RolesService {
  private readonly cache = new Map<string, { permissions: string[] | undefined; at: number }>();

  constructor(
    private readonly db: Database,
    private readonly audit?: AuditLogger,
  ) {}

  /** Writes the built-in roles' grants as this version of Registrar defines them. */
  async ensureBuiltinRoles(): Promise<void> {
    for (const [name, role] of Object.entries(BUILTIN_ROLES)) {
      await this.db
        .insert(roles)
        .values({
          name,
          description: role.description,
          permissions: [...role.permissions],
          is_builtin: true,
        })
        .onConflictDoUpdate({
          target: roles.name,
          set: {
            description: role.description,
            permissions: [...role.permissions],
            is_builtin: true,
          },
        });
    }
    this.cache.clear();
  }

  async permissionsFor(role: string): Promise<string[] | undefined> {
    const cached = this.cache.get(role);
    if (cached && Date.now() - cached.at < CACHE_TTL_MS) return cached.permissions;
    const [row] = await this.db
      .select({ permissions: roles.permissions })
      .from(roles)
      .where(eq(roles.name, role));
    const permissions = row?.permissions;
    this.cache.set(role, { permissions, at: Date.now() });
    return permissions;
  }

  async list(): Promise<RoleResponse[]> {
    const rows = await this.db.select().from(roles).orderBy(roles.name);
    return rows.map(toRoleResponse);
  }

  async get(name: string): Promise<RoleResponse> {
    const [row] = await this.db.select().from(roles).where(eq(roles.name, name));
    if (!row) throw notFound('Role', name);
    return toRoleResponse(row);
  }

  /** Creates a custom role or replaces its description and grants. */
  async put(
    name: string,
    input: { description: string; permissions: string[] },
    context: ChangeContext = SYSTEM_CONTEXT,
  ): Promise<RoleResponse> {
    if (name in BUILTIN_ROLES) {
      throw forbidden(`The built-in role ${name} cannot be changed; create a custom role instead.`);
    }
    const role = await this.db.transaction(async (tx) => {
      const [previous] = await tx.select().from(roles).where(eq(roles.name, name)).for('update');
      const [row] = await tx
        .insert(roles)
        .values({ name, ...input, is_builtin: false })
        .onConflictDoUpdate({ target: roles.name, set: input })
        .returning();
      if (!row) throw notFound('Role', name);
      await this.audit?.append(tx, originFromContext(context), [
        {
          action: 'PERMISSION_CHANGE',
          resource: 'SYSTEM',
          resourceId: name,
          details: { role: name, operation: previous ? 'update' : 'create' },
          oldValues: previous
            ? { description: previous.description, permissions: previous.permissions }
            : null,
          newValues: { description: row.description, permissions: row.permissions },
        },
      ]);
      return toRoleResponse(row);
    });
    this.cache.delete(name);
    return role;
  }

  async remove(name: string, context: ChangeContext = SYSTEM_CONTEXT): Promise<void> {
    if (name in BUILTIN_ROLES) throw forbidden(`The built-in role ${name} cannot be deleted.`);
    const [inUse] = await this.db
      .select({ count: sql<number>`count(*)`.mapWith(Number) })
      .from(users)
      .where(eq(users.role, name));
    if ((inUse?.count ?? 0) > 0) {
      throw conflict(
        `Role ${name} is held by ${inUse?.count} user(s); move them to another role first.`,
      );
    }
    await this.db.transaction(async (tx) => {
      const [deleted] = await tx.delete(roles).where(eq(roles.name, name)).returning();
      if (!deleted) throw notFound('Role', name);
      await this.audit?.append(tx, originFromContext(context), [
        {
          action: 'PERMISSION_CHANGE',
          resource: 'SYSTEM',
          resourceId: name,
          details: { role: name, operation: 'delete' },
          oldValues: { description: deleted.description, permissions: deleted.permissions },
        },
      ]);
    });
    this.cache.delete(name);
  }
}
