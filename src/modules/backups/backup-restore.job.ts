import { z } from 'zod';
import type { Database } from '../../platform/db/client.ts';
import { HttpProblem } from '../../platform/http/problems.ts';
import type { AuditOrigin } from '../audit/audit.logger.ts';
import { jobOwner } from '../jobs/job-owner.ts';
import type { HandlerResult, JobHandler, ProgressUpdate } from '../jobs/jobs.registry.ts';
import { grants, type Permission } from '../roles/permissions.ts';
import { BACKUP_NAME_PATTERN } from './backup.format.ts';
import { type BackupProgress, type BackupService, describeError } from './backups.service.ts';

/** Backups hold every user's data, and a restore replaces it: admins only. */
export const BACKUP_PERMISSION: Permission = 'settings:write';

export const backupRestorePayload = z.discriminatedUnion('operation', [
  z.strictObject({ operation: z.literal('backup') }),
  z.strictObject({
    operation: z.literal('restore'),
    name: z.string().regex(BACKUP_NAME_PATTERN, 'must be the name of a backup'),
  }),
]);

export type BackupRestorePayload = z.infer<typeof backupRestorePayload>;

/**
 * Progress updates in order without waiting for them: inside the backup's or restore's
 * transaction an embedded database holds every other query until it ends (see ProgressSink).
 * At most one update is queued; newer ones replace it.
 */
export function progressQueue(progress: (update: ProgressUpdate) => Promise<void>) {
  let running: Promise<void> = Promise.resolve();
  let queued: BackupProgress | null = null;
  const drain = async () => {
    while (queued) {
      const update = queued;
      queued = null;
      await progress({ ...update, processed_items: update.current }).catch(() => undefined);
    }
  };
  return {
    push(update: BackupProgress) {
      const idle = queued === null;
      queued = update;
      if (idle) running = running.then(drain);
    },
    settled: () => running,
  };
}

/**
 * backup_restore: makes a backup, or restores one (after a safety backup). The owner's
 * permission is checked when the job runs, because POST /api/v1/jobs can start it too.
 */
export function backupRestoreHandler(deps: {
  db: Database;
  backups: BackupService;
  /** After a restore has committed: drop caches that still hold the old data. */
  onRestored: () => Promise<void>;
}): JobHandler<BackupRestorePayload> {
  return {
    payload: backupRestorePayload,
    permission: 'jobs:manage',
    async run({ job, payload, signal, progress }): Promise<HandlerResult> {
      const owner = job.user_id === null ? null : await jobOwner(deps.db, job.user_id);
      if (job.user_id !== null && (!owner || !grants(owner.permissions, BACKUP_PERMISSION))) {
        return {
          success: false,
          message: `Backups and restores need the permission ${BACKUP_PERMISSION}, which the job's owner does not hold.`,
        };
      }
      const origin: AuditOrigin = { userId: job.user_id, userEmail: owner?.email ?? null };
      const queue = progressQueue(progress);
      try {
        if (payload.operation === 'backup') {
          const manifest = await deps.backups.create('manual', origin, queue.push, signal);
          await queue.settled();
          return {
            success: true,
            message: `Backup ${manifest.name} written (${manifest.size_bytes} bytes).`,
            data: { name: manifest.name, manifest },
            statistics: manifest.counts,
          };
        }
        const report = await deps.backups.restore(payload.name, origin, queue.push, signal);
        await queue.settled();
        // The restore has committed; a cache that fails to clear expires on its own.
        await deps.onRestored().catch(() => undefined);
        return {
          success: true,
          message: `Restored backup ${report.name}; the data before it is in safety backup ${report.safety_backup}.`,
          data: { ...report },
          statistics: report.counts,
        };
      } catch (error) {
        await queue.settled();
        // Refusals and failed restores are final (nothing was written): no retry.
        const message = error instanceof HttpProblem ? error.detail : describeError(error);
        return { success: false, message, errors: [message] };
      }
    },
  };
}
