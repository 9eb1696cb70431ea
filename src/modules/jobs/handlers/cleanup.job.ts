import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { and, isNotNull, isNull, lt, or } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../../../platform/db/client.ts';
import { refreshTokens, signInFailures } from '../../auth/auth.table.ts';
import { removeOrphanExports } from '../../exports/export-large.job.ts';
import type { JobHandler } from '../jobs.registry.ts';
import { jobs } from '../jobs.table.ts';

export const cleanupPayload = z
  .strictObject({
    /** Files in DATA_DIR/uploads and DATA_DIR/tmp older than this are removed. */
    stale_file_hours: z.number().int().min(1).max(8760).default(24),
  })
  .default({ stale_file_hours: 24 });

async function removeStaleFiles(dir: string, olderThan: Date): Promise<number> {
  let removed = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info && info.mtime < olderThan) {
      await rm(file, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

/**
 * Removes what has outlived its use: finished jobs past their expiry, expired or revoked
 * refresh tokens, stale sign-in failure counters, and old uploads and temporary files.
 */
export function cleanupHandler(
  db: Database,
  dataDir: string,
): JobHandler<z.infer<typeof cleanupPayload>> {
  return {
    payload: cleanupPayload,
    permission: 'jobs:manage',
    async run({ payload, progress, signal }) {
      const now = new Date();
      const steps = 4;
      const expiredJobs = await db
        .delete(jobs)
        .where(and(isNotNull(jobs.expires_at), lt(jobs.expires_at, now)))
        .returning({ id: jobs.id });
      await progress({ current: 1, total: steps, message: 'Removed expired jobs' });
      if (signal.aborted) return { success: false, message: 'Cancelled' };

      const tokens = await db
        .delete(refreshTokens)
        .where(
          or(
            lt(refreshTokens.expires_at, now),
            lt(refreshTokens.revoked_at, new Date(now.getTime() - 86_400_000)),
          ),
        )
        .returning({ id: refreshTokens.id });
      const failures = await db
        .delete(signInFailures)
        .where(
          and(
            lt(signInFailures.window_started_at, new Date(now.getTime() - 86_400_000)),
            or(isNull(signInFailures.locked_until), lt(signInFailures.locked_until, now)),
          ),
        )
        .returning({ email: signInFailures.email });
      await progress({ current: 2, total: steps, message: 'Removed expired sessions' });
      if (signal.aborted) return { success: false, message: 'Cancelled' };

      const cutoff = new Date(now.getTime() - payload.stale_file_hours * 3_600_000);
      const uploads = await removeStaleFiles(path.join(dataDir, 'uploads'), cutoff);
      await progress({ current: 3, total: steps, message: 'Removed stale uploads' });
      const temporary = await removeStaleFiles(path.join(dataDir, 'tmp'), cutoff);
      // Export files whose job was removed above (or deleted by an admin).
      const exportFiles = await removeOrphanExports(db, dataDir);
      await progress({ current: 4, total: steps, message: 'Done' });

      const statistics = {
        jobs: expiredJobs.length,
        refresh_tokens: tokens.length,
        sign_in_failures: failures.length,
        uploads,
        temporary_files: temporary,
        export_files: exportFiles,
      };
      return { success: true, message: 'Cleanup finished', statistics, data: statistics };
    },
  };
}
