import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { Database, Executor } from '../../platform/db/client.ts';
import { HttpProblem } from '../../platform/http/problems.ts';
import type { AuditLogger } from '../audit/audit.logger.ts';
import { jobOwner } from '../jobs/job-owner.ts';
import type { HandlerResult, JobHandler } from '../jobs/jobs.registry.ts';
import { jobs } from '../jobs/jobs.table.ts';
import { grants } from '../roles/permissions.ts';
import { EXPORT_RESOURCES, EXPORT_SPECS } from './exports.resources.ts';
import { ExportService, filtersBody, parseFilters } from './exports.service.ts';
import {
  EXPORT_FORMATS,
  EXPORT_LANGUAGES,
  type ExportFormat,
  writeExport,
} from './exports.writers.ts';

/** Where finished exports wait for their download: DATA_DIR/exports/{job_id}.{format}. */
export function exportsDir(dataDir: string): string {
  return path.join(dataDir, 'exports');
}

export function exportFilePath(dataDir: string, jobId: string, format: ExportFormat): string {
  return path.join(exportsDir(dataDir), `${jobId}.${format}`);
}

export const exportLargePayload = z
  .strictObject({
    resource: z.enum(EXPORT_RESOURCES),
    format: z.enum(EXPORT_FORMATS).default('xlsx'),
    lang: z.enum(EXPORT_LANGUAGES).default('en'),
    /** The resource's list filters, written as in the query string (search, study_year, …). */
    filters: filtersBody.default({}),
  })
  .superRefine((value, ctx) => {
    // A bad filter is refused when the job is created, not found by the worker later.
    try {
      parseFilters(EXPORT_SPECS[value.resource], value.filters, 'filters');
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      for (const issue of error.extras.errors ?? []) {
        ctx.addIssue({ code: 'custom', path: issue.field.split('.'), message: issue.message });
      }
    }
  });

export type ExportLargePayload = z.infer<typeof exportLargePayload>;

/**
 * export_large: writes the matching rows of a resource to DATA_DIR/exports/{job_id}.{format},
 * one keyset batch at a time with progress per batch. The file is written under a .part name
 * and renamed when complete, so a download never sees half a file; a cancelled or failed
 * export removes its partial file. The owner's read permission is checked when the job runs,
 * because POST /api/v1/jobs can start this job type too (it only checks jobs:create).
 */
export function exportLargeHandler(deps: {
  db: Database;
  dataDir: string;
  audit: AuditLogger;
  /** Rows per batch (tests make it small to cancel between batches). */
  batchSize?: number;
}): JobHandler<ExportLargePayload> {
  const service = new ExportService(deps.db);
  return {
    payload: exportLargePayload,
    permission: 'jobs:create',
    async run({ job, payload, signal, progress }): Promise<HandlerResult> {
      const spec = EXPORT_SPECS[payload.resource];
      const owner = job.user_id === null ? null : await jobOwner(deps.db, job.user_id);
      if (job.user_id !== null && (!owner || !grants(owner.permissions, spec.permission))) {
        return {
          success: false,
          message: `Exporting ${spec.name} needs the permission ${spec.permission}, which the job's owner does not hold.`,
        };
      }
      const filters = parseFilters(spec, payload.filters, 'metadata.filters');
      const maxId = await service.maxId(spec);
      const total = await service.count(spec, filters, { maxId });
      await progress({ current: 0, total, message: `Exporting ${total} rows` });

      const fileName = path.basename(exportFilePath(deps.dataDir, job.id, payload.format));
      const target = exportFilePath(deps.dataDir, job.id, payload.format);
      const partial = `${target}.part`;
      await mkdir(exportsDir(deps.dataDir), { recursive: true });
      let rows = 0;
      const sheet = await service.sheet(payload.resource, filters, payload.lang, {
        maxId,
        signal,
        ...(deps.batchSize ? { batchSize: deps.batchSize } : {}),
        onBatch: async (read) => {
          rows = read.rows;
          await progress({
            current: rows,
            total: Math.max(total, rows),
            processed_items: rows,
            message: `Exported ${rows} of ${total} rows`,
          });
        },
      });
      try {
        await pipeline(
          Readable.from(writeExport(payload.format, [sheet]), { objectMode: false }),
          createWriteStream(partial),
        );
      } catch (error) {
        await rm(partial, { force: true });
        if (signal.aborted) {
          return {
            success: false,
            message: `Cancelled after ${rows} rows; the partial file was removed.`,
            statistics: { rows },
          };
        }
        throw error;
      }
      await rename(partial, target);
      const { size: bytes } = await stat(target);
      await deps.audit.logAction(
        {
          action: 'EXPORT',
          resource: spec.auditResource,
          details: {
            format: payload.format,
            lang: payload.lang,
            filters: payload.filters,
            rows,
            job_id: job.id,
            complete: true,
          },
        },
        { userId: job.user_id, userEmail: owner?.email ?? null },
      );
      await progress({ current: rows, total: rows, processed_items: rows, message: 'Done' });
      return {
        success: true,
        message: `Exported ${rows} rows`,
        data: { file: fileName, rows, bytes, format: payload.format, resource: spec.name },
        statistics: { rows, bytes },
      };
    },
  };
}

/**
 * Removes export files whose job no longer exists (the cleanup job removed it when it
 * expired, or an admin deleted it) and .part files left by a crash. Returns how many.
 */
export async function removeOrphanExports(db: Executor, dataDir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(exportsDir(dataDir));
  } catch {
    return 0;
  }
  const idOf = (name: string) => name.split('.')[0] ?? '';
  const uuids = [...new Set(names.map(idOf))].filter((id) =>
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id),
  );
  const live =
    uuids.length === 0
      ? []
      : await db
          .select({ id: jobs.id, status: jobs.status })
          .from(jobs)
          .where(inArray(jobs.id, uuids));
  const running = new Set(live.filter((job) => job.status === 'PROCESSING').map((job) => job.id));
  const existing = new Set(live.map((job) => job.id));
  let removed = 0;
  for (const name of names) {
    const id = idOf(name);
    const orphan = !existing.has(id) || (name.endsWith('.part') && !running.has(id));
    if (orphan) {
      await rm(path.join(exportsDir(dataDir), name), { force: true });
      removed++;
    }
  }
  return removed;
}
