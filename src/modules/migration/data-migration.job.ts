import { z } from 'zod';
import type { Database } from '../../platform/db/client.ts';
import { HttpProblem } from '../../platform/http/problems.ts';
import type { AuditOrigin } from '../audit/audit.logger.ts';
import { BACKUP_PERMISSION, progressQueue } from '../backups/backup-restore.job.ts';
import { describeError } from '../backups/backups.service.ts';
import { jobOwner } from '../jobs/job-owner.ts';
import type { HandlerResult, JobHandler } from '../jobs/jobs.registry.ts';
import { grants } from '../roles/permissions.ts';
import type { DataMigrationService } from './data-migration.service.ts';
import { openPassword, parseTargetUrl, type TargetUrl } from './target-url.ts';

/** Moving the data copies every user's data elsewhere: admins only, like backups. */
export const MIGRATION_PERMISSION = BACKUP_PERMISSION;

/**
 * Job metadata: the target URL without its password, and the password sealed under
 * JWT_SECRET (target-url.ts), so no job listing or log shows it.
 */
export const dataMigrationPayload = z.strictObject({
  target_url: z
    .string()
    .max(2000)
    .refine((text) => !URL.canParse(text) || new URL(text).password === '', {
      message: 'must not hold the password: start the move with POST /api/v1/system/migrate-data',
    }),
  target_password: z.string().max(2000).optional(),
});

export type DataMigrationPayload = z.infer<typeof dataMigrationPayload>;

/** data_migration: copies this install's data into an empty PostgreSQL database. */
export function dataMigrationHandler(deps: {
  db: Database;
  migration: DataMigrationService;
  jwtSecret: string;
}): JobHandler<DataMigrationPayload> {
  return {
    payload: dataMigrationPayload,
    permission: 'jobs:manage',
    async run({ job, payload, signal, progress }): Promise<HandlerResult> {
      const owner = job.user_id === null ? null : await jobOwner(deps.db, job.user_id);
      if (job.user_id !== null && (!owner || !grants(owner.permissions, MIGRATION_PERMISSION))) {
        return {
          success: false,
          message: `Moving the data needs the permission ${MIGRATION_PERMISSION}, which the job's owner does not hold.`,
        };
      }
      const origin: AuditOrigin = { userId: job.user_id, userEmail: owner?.email ?? null };
      const queue = progressQueue(progress);
      try {
        const target: TargetUrl = {
          ...parseTargetUrl(payload.target_url),
          password: payload.target_password
            ? openPassword(payload.target_password, deps.jwtSecret)
            : '',
        };
        const report = await deps.migration.migrate(target, origin, queue.push, signal);
        await queue.settled();
        const rows = Object.values(report.tables).reduce((sum, n) => sum + n.target, 0);
        return {
          success: true,
          message: `Copied ${rows} rows to ${report.target} in ${report.seconds} s; counts match and the audit chain verifies (${report.audit_chain.checked} entries). Restart Registrar with DATABASE_URL set to that database.`,
          data: { ...report },
          statistics: Object.fromEntries(
            Object.entries(report.tables).map(([name, n]) => [name, n.target]),
          ),
        };
      } catch (error) {
        await queue.settled();
        // Refusals and failures leave the target without data: no retry.
        const message = error instanceof HttpProblem ? error.detail : describeError(error);
        return { success: false, message, errors: [message] };
      }
    },
  };
}
