import { randomUUID } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Config } from '../../config.ts';
import type { Database, Executor } from '../../platform/db/client.ts';
import { HttpProblem, unauthorized } from '../../platform/http/problems.ts';
import type { Actor, ChangeContext } from '../../platform/http/request-context.ts';
import {
  hashPassword,
  verifyAgainstDummy,
  verifyPassword,
} from '../../platform/security/passwords.ts';
import {
  hashRefreshToken,
  newRefreshToken,
  type TokenSigner,
} from '../../platform/security/tokens.ts';
import { type AuditLogger, originFromContext } from '../audit/audit.logger.ts';
import { type UserRow, users } from '../users/users.table.ts';
import { refreshTokens, signInFailures } from './auth.table.ts';

export interface TokenPair {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
  must_change_password: boolean;
}

/** The same answer for an unknown e-mail and a wrong password. */
const BAD_CREDENTIALS = 'The e-mail or password is not correct.';

export class AuthService {
  constructor(
    private readonly db: Database,
    private readonly signer: TokenSigner,
    private readonly config: Pick<
      Config,
      'login' | 'refreshTokenTtlDays' | 'accessTokenTtlSeconds'
    >,
    private readonly audit: AuditLogger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Refuses while the address is locked, whether or not an account has it. */
  private async assertNotLocked(email: string): Promise<void> {
    const [row] = await this.db
      .select()
      .from(signInFailures)
      .where(eq(signInFailures.email, email));
    const now = this.now();
    if (row?.locked_until && row.locked_until > now) {
      const seconds = Math.ceil((row.locked_until.getTime() - now.getTime()) / 1000);
      throw new HttpProblem(
        423,
        'account-locked',
        'Locked',
        `Too many failed sign-ins for this address. Try again in ${Math.ceil(seconds / 60)} minute(s).`,
        { headers: { 'retry-after': String(seconds) } },
      );
    }
  }

  private async recordFailure(email: string): Promise<void> {
    const { maxFailures, failureWindowSeconds, lockoutSeconds } = this.config.login;
    const now = this.now();
    await this.db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(signInFailures)
        .where(eq(signInFailures.email, email))
        .for('update');
      const windowOpen =
        row && now.getTime() - row.window_started_at.getTime() < failureWindowSeconds * 1000;
      const count = windowOpen ? row.failure_count + 1 : 1;
      const lock = count >= maxFailures;
      const values = {
        failure_count: lock ? 0 : count,
        window_started_at: windowOpen && !lock ? row.window_started_at : now,
        locked_until: lock ? new Date(now.getTime() + lockoutSeconds * 1000) : null,
      };
      await tx
        .insert(signInFailures)
        .values({ email, ...values })
        .onConflictDoUpdate({ target: signInFailures.email, set: values });
    });
  }

  /**
   * Checks the credentials and opens a session. Throws 401 for any bad credential and 423
   * while the address is locked; `user` is returned for the audit trail on success.
   */
  async login(
    emailInput: string,
    password: string,
    context: ChangeContext,
  ): Promise<{ tokens: TokenPair; user: UserRow }> {
    const email = emailInput.trim().toLowerCase();
    await this.assertNotLocked(email);
    const [user] = await this.db
      .select()
      .from(users)
      .where(and(eq(users.email, email), isNull(users.deleted_at)));
    const valid = user
      ? await verifyPassword(user.password_hash, password)
      : await verifyAgainstDummy(password);
    if (!user || !valid || !user.is_active) {
      await this.recordFailure(email);
      throw unauthorized(BAD_CREDENTIALS);
    }
    const tokens = await this.db.transaction(async (tx) => {
      await tx.delete(signInFailures).where(eq(signInFailures.email, email));
      await tx.update(users).set({ last_login_at: this.now() }).where(eq(users.id, user.id));
      await this.audit.append(
        tx,
        { ...originFromContext(context), userId: user.id, userEmail: user.email },
        [
          {
            action: 'LOGIN',
            resource: 'SESSION',
            resourceId: user.id,
            details: { method: 'password' },
          },
        ],
      );
      return this.issueTokens(tx, user, randomUUID(), context);
    });
    return { tokens, user };
  }

  private async issueTokens(
    executor: Executor,
    user: UserRow,
    familyId: string,
    context: ChangeContext,
  ): Promise<TokenPair> {
    const refresh = newRefreshToken();
    const refreshSeconds = this.config.refreshTokenTtlDays * 86_400;
    await executor.insert(refreshTokens).values({
      user_id: user.id,
      family_id: familyId,
      token_hash: refresh.hash,
      expires_at: new Date(this.now().getTime() + refreshSeconds * 1000),
      ip_address: context.ipAddress,
      user_agent: context.userAgent?.slice(0, 500) ?? null,
    });
    return {
      access_token: await this.signer.sign({
        userId: user.id,
        email: user.email,
        role: user.role,
        passwordChangeRequired: user.must_change_password,
      }),
      token_type: 'bearer',
      expires_in: this.config.accessTokenTtlSeconds,
      refresh_token: refresh.token,
      refresh_expires_in: refreshSeconds,
      must_change_password: user.must_change_password,
    };
  }

  /** Rotates a refresh token. Presenting one that was already rotated ends its whole family. */
  async refresh(token: string, context: ChangeContext): Promise<TokenPair> {
    const now = this.now();
    const [stored] = await this.db
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.token_hash, hashRefreshToken(token)));
    if (!stored) throw unauthorized('The refresh token is not valid.');
    if (stored.revoked_at) {
      await this.revokeFamily(stored.family_id);
      throw unauthorized('The refresh token was already used; sign in again.');
    }
    if (stored.expires_at <= now)
      throw unauthorized('The refresh token has expired; sign in again.');

    const revoked = await this.db
      .update(refreshTokens)
      .set({ revoked_at: now })
      .where(and(eq(refreshTokens.id, stored.id), isNull(refreshTokens.revoked_at)))
      .returning({ id: refreshTokens.id });
    // Two concurrent refreshes with the same token: only one wins.
    if (revoked.length === 0) {
      await this.revokeFamily(stored.family_id);
      throw unauthorized('The refresh token was already used; sign in again.');
    }
    const [user] = await this.db
      .select()
      .from(users)
      .where(and(eq(users.id, stored.user_id), isNull(users.deleted_at)));
    if (!user?.is_active) throw unauthorized('This account is no longer active.');
    return this.db.transaction(async (tx) => {
      await this.audit.append(
        tx,
        { ...originFromContext(context), userId: user.id, userEmail: user.email },
        [
          {
            action: 'LOGIN',
            resource: 'SESSION',
            resourceId: user.id,
            details: { method: 'refresh' },
          },
        ],
      );
      return this.issueTokens(tx, user, stored.family_id, context);
    });
  }

  private async revokeFamily(familyId: string): Promise<void> {
    await this.db
      .update(refreshTokens)
      .set({ revoked_at: this.now() })
      .where(and(eq(refreshTokens.family_id, familyId), isNull(refreshTokens.revoked_at)));
  }

  /** Ends the session the refresh token belongs to, or every session of the user. */
  async logout(
    actor: Actor,
    refreshToken: string | undefined,
    everywhere: boolean,
    context: ChangeContext,
  ): Promise<void> {
    await this.audit.logAction(
      { action: 'LOGOUT', resource: 'SESSION', resourceId: actor.id, details: { everywhere } },
      originFromContext(context),
    );
    if (everywhere || !refreshToken) {
      await this.db
        .update(refreshTokens)
        .set({ revoked_at: this.now() })
        .where(and(eq(refreshTokens.user_id, actor.id), isNull(refreshTokens.revoked_at)));
      return;
    }
    const [stored] = await this.db
      .select()
      .from(refreshTokens)
      .where(
        and(
          eq(refreshTokens.token_hash, hashRefreshToken(refreshToken)),
          eq(refreshTokens.user_id, actor.id),
        ),
      );
    if (stored) await this.revokeFamily(stored.family_id);
  }

  async currentUser(actor: Actor): Promise<UserRow> {
    const [user] = await this.db
      .select()
      .from(users)
      .where(and(eq(users.id, actor.id), isNull(users.deleted_at)));
    if (!user?.is_active) throw unauthorized('This account is no longer active.');
    return user;
  }

  /** Replaces the password, ends every other session and returns a fresh one. */
  async changePassword(
    actor: Actor,
    currentPassword: string,
    nextPassword: string,
    context: ChangeContext,
  ): Promise<TokenPair> {
    const user = await this.currentUser(actor);
    if (!(await verifyPassword(user.password_hash, currentPassword))) {
      throw new HttpProblem(
        400,
        'validation-error',
        'Bad Request',
        'The current password is not correct.',
        {
          errors: [{ field: 'body.current_password', message: 'is not correct' }],
        },
      );
    }
    if (currentPassword === nextPassword) {
      throw new HttpProblem(
        400,
        'validation-error',
        'Bad Request',
        'Choose a password you have not used now.',
        {
          errors: [
            { field: 'body.new_password', message: 'must differ from the current password' },
          ],
        },
      );
    }
    const now = this.now();
    const passwordHash = await hashPassword(nextPassword);
    return this.db.transaction(async (tx) => {
      const [updated] = await tx
        .update(users)
        .set({ password_hash: passwordHash, must_change_password: false, password_changed_at: now })
        .where(eq(users.id, user.id))
        .returning();
      if (!updated) throw unauthorized('This account is no longer active.');
      await tx
        .update(refreshTokens)
        .set({ revoked_at: now })
        .where(and(eq(refreshTokens.user_id, user.id), isNull(refreshTokens.revoked_at)));
      await this.audit.append(tx, originFromContext(context), [
        {
          action: 'PASSWORD_CHANGE',
          resource: 'USER',
          resourceId: user.id,
          details: { forced: user.must_change_password },
        },
      ]);
      return this.issueTokens(tx, updated, randomUUID(), context);
    });
  }
}
