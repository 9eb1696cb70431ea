import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../../platform/db/client.ts';
import type { AuditLogger, AuditOrigin } from '../audit/audit.logger.ts';
import type { JobHandler } from '../jobs/jobs.registry.ts';
import { analyzeImport, type ImportOptions } from './import-analysis.ts';
import { applyBatch } from './import-apply.ts';
import { IMPORT_TARGETS, type ImportServices } from './import-targets.ts';
import { importPreviews } from './imports.table.ts';
import type { ImportType } from './parsing/index.ts';

export const bulkImportPayload = z.object({
  preview_id: z.uuid(),
  import_type: z.string(),
  file_name: z.string(),
  /** Who committed it, for the audit entries the job writes. */
  origin: z
    .object({
      user_email: z.string().nullable(),
      ip_address: z.string().nullable(),
      user_agent: z.string().nullable(),
      request_id: z.string().nullable(),
    })
    .partial()
    .default({}),
});

/** Rows written per transaction; progress is reported and cancellation honoured between them. */
export const IMPORT_BATCH_SIZE = 500;
/** Problem rows listed in the job's result (all of them stay in the preview). */
const RESULT_ERRORS_LIMIT = 1000;

/**
 * The bulk_import job: analyses the preview's file again against the database of this
 * moment, then creates and updates in batches, each batch one transaction with its audit
 * entries. A retry after a crash finds the batches already written unchanged and skips them,
 * so every row is applied once; a cancelled import keeps the batches it committed.
 */
export function bulkImportHandler(
  db: Database,
  services: ImportServices,
  audit: AuditLogger,
  limits: { maxRows: number },
): JobHandler<z.infer<typeof bulkImportPayload>> {
  return {
    payload: bulkImportPayload,
    permission: 'jobs:create',
    async run({ job, payload, signal, progress }) {
      const [preview] = await db
        .select()
        .from(importPreviews)
        .where(eq(importPreviews.id, payload.preview_id));
      // Started through POST /jobs, a job could name someone else's preview.
      if (!preview || preview.user_id !== job.user_id) {
        return {
          success: false,
          message: `Import preview ${payload.preview_id} no longer exists.`,
        };
      }
      const options = preview.options as unknown as ImportOptions;
      const importType = options.importType as ImportType;
      const target = IMPORT_TARGETS[importType];
      const origin: AuditOrigin = {
        userId: job.user_id,
        userEmail: payload.origin.user_email ?? null,
        ipAddress: payload.origin.ip_address ?? null,
        userAgent: payload.origin.user_agent ?? null,
        requestId: payload.origin.request_id ?? null,
      };

      await progress({ current: 0, message: 'Checking the file against the database' });
      const analysis = await analyzeImport(
        db,
        services,
        preview.file,
        preview.file_name,
        options,
        limits,
      );
      const toWrite = analysis.rows.filter(
        (row) => row.status !== 'error' && (row.action === 'create' || row.action === 'update'),
      );
      const errors = analysis.rows.filter((row) => row.status === 'error');
      const skipped = analysis.rows.length - toWrite.length - errors.length;
      const totals = { created: 0, updated: 0, unchanged: 0 };
      let done = 0;
      let cancelled = false;
      for (let start = 0; start < toWrite.length; start += IMPORT_BATCH_SIZE) {
        if (signal.aborted) {
          cancelled = true;
          break;
        }
        const batch = toWrite.slice(start, start + IMPORT_BATCH_SIZE);
        const outcome = await applyBatch(db, services, audit, target, batch, origin);
        totals.created += outcome.created;
        totals.updated += outcome.updated;
        totals.unchanged += outcome.unchanged;
        done += batch.length;
        await progress({
          current: done,
          total: toWrite.length,
          message: `Imported ${done} of ${toWrite.length} rows`,
          processed_items: done,
          failed_items: errors.length,
          skipped_items: skipped + totals.unchanged,
        });
      }
      cancelled ||= signal.aborted && done < toWrite.length;

      const statistics = {
        total_rows: analysis.rows.length,
        created: totals.created,
        updated: totals.updated,
        skipped: skipped + totals.unchanged,
        errors: errors.length,
        not_written: toWrite.length - done,
      };
      const resource = services[target.service].resource;
      const summaryEntries = [
        ...(totals.created > 0 ? [{ action: 'BULK_CREATE' as const, count: totals.created }] : []),
        ...(totals.updated > 0 ? [{ action: 'BULK_UPDATE' as const, count: totals.updated }] : []),
      ];
      await db.transaction((tx) =>
        audit.append(tx, origin, [
          ...summaryEntries.map(({ action, count }) => ({
            action,
            resource,
            details: { job_id: job.id, import_type: importType, count },
          })),
          {
            action: 'IMPORT',
            resource,
            details: {
              job_id: job.id,
              import_type: importType,
              file_name: preview.file_name,
              ...statistics,
              ...(cancelled ? { cancelled: true } : {}),
            },
            success: !cancelled,
            errorMessage: cancelled ? 'Cancelled; the batches already committed stay.' : null,
          },
        ]),
      );

      const message = cancelled
        ? `Cancelled after ${done} of ${toWrite.length} rows; the ${done} rows already committed stay.`
        : `Imported ${analysis.rows.length} rows: ${totals.created} created, ${totals.updated} updated, ${statistics.skipped} skipped, ${errors.length} with errors.`;
      return {
        success: !cancelled,
        message,
        data: { preview_id: preview.id, import_type: importType, ...statistics },
        statistics,
        errors: errors.slice(0, RESULT_ERRORS_LIMIT).map((row) => ({
          row_number: row.rowNumber,
          issues: row.issues.map(({ field, message: text }) => ({ field, message: text })),
        })),
        warnings: analysis.rows
          .filter((row) => row.status === 'warning')
          .slice(0, RESULT_ERRORS_LIMIT)
          .map((row) => ({
            row_number: row.rowNumber,
            issues: row.issues.map(({ field, message: text }) => ({ field, message: text })),
          })),
      };
    },
  };
}
