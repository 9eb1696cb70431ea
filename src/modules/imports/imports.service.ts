import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { and, asc, count, eq, lt, sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/client.ts';
import { insertJsonRows } from '../../platform/db/json-rows.ts';
import { conflict, forbidden, notFound } from '../../platform/http/problems.ts';
import type { ChangeContext } from '../../platform/http/request-context.ts';
import { csvCell } from '../exports/exports.writers.ts';
import { jobOriginFrom } from '../jobs/job-origin.ts';
import type { JobManager, JobResponse } from '../jobs/jobs.manager.ts';
import { grants, type Permission } from '../roles/permissions.ts';
import {
  type AnalyzedRow,
  analyzeRow,
  checkAgainstDatabase,
  countRow,
  DateOrderTally,
  DuplicateFinder,
  emptySummary,
  fileProblem,
  type ImportOptions,
  type ImportSummary,
  openImport,
  type RowStatus,
} from './import-analysis.ts';
import type { ImportServices } from './import-targets.ts';
import { importPreviewRows, importPreviews } from './imports.table.ts';
import { ImportFileError, type ImportType } from './parsing/index.ts';

/** An uploaded file waiting on disk for its preview. */
export interface Upload {
  path: string;
  size: number;
  remove(): Promise<void>;
}

/** Which permission writes each kind of record (an import needs it as well as jobs:create). */
export const IMPORT_PERMISSIONS: Record<ImportType, Permission> = {
  students: 'students:write',
  courses: 'courses:write',
  enrollments: 'enrollments:write',
  grades: 'grades:write',
  attendance: 'attendance:write',
  daily_performances: 'performance:write',
  highlights: 'highlights:write',
};

const PREVIEW_TTL_MS = 60 * 60 * 1000;
/** Expired previews are kept a day longer, for a commit job still waiting in the queue. */
const PREVIEW_GRACE_MS = 24 * 60 * 60 * 1000;
/** Rows the preview answer shows; the rest are paged through GET /imports/{id}/rows. */
const PREVIEW_ITEMS = 50;
/** Rough rows per second of a commit, for the estimate shown before it starts. */
const ESTIMATED_ROWS_PER_SECOND = 2000;

export interface PreviewRowResponse {
  row_number: number;
  action: 'create' | 'update' | 'skip';
  data: Record<string, unknown>;
  validation_status: RowStatus;
  issues: Array<{ field: string; message: string }>;
}

export interface PreviewResponse extends ImportSummary {
  preview_id: string;
  import_type: ImportType;
  file_name: string;
  can_proceed: boolean;
  summary: { create: number; update: number; skip: number };
  detected: Record<string, unknown>;
  estimated_duration_seconds: number;
  expires_at: string;
  items: PreviewRowResponse[];
}

const toRowResponse = (row: {
  row_number: number;
  action: 'create' | 'update' | 'skip';
  status: RowStatus;
  data: Record<string, unknown>;
  issues: Array<{ field: string; message: string }>;
}): PreviewRowResponse => ({
  row_number: row.row_number,
  action: row.action,
  data: row.data,
  validation_status: row.status,
  issues: row.issues.map(({ field, message }) => ({ field, message })),
});

const storedRow = (previewId: string, row: AnalyzedRow) => ({
  preview_id: previewId,
  row_number: row.rowNumber,
  action: row.action,
  status: row.status,
  data: row.shown,
  issues: row.issues.map(({ field, message, severity }) => ({ field, message, severity })),
  duplicate_of: row.duplicateOf,
});

/**
 * Import previews: an uploaded file is analysed without touching school data, kept for an
 * hour for its owner to page through, and committed as a bulk_import job.
 */
export class ImportsService {
  constructor(
    private readonly db: Database,
    private readonly services: ImportServices,
    private readonly jobs: JobManager,
    private readonly limits: { maxRows: number; uploadDir: string },
  ) {}

  /** Throws 403 unless the caller may write the records this import would write. */
  assertMayImport(context: ChangeContext, importType: ImportType) {
    const needed = IMPORT_PERMISSIONS[importType];
    if (!context.actor || !grants(context.actor.permissions, needed)) {
      throw forbidden(`Importing ${importType} needs the permission ${needed}.`);
    }
  }

  /**
   * Writes an upload to a file of its own under the upload folder, so a large file is
   * analysed from disk a part at a time rather than held in memory. Remove it once previewed.
   */
  async saveUpload(stream: Readable): Promise<Upload> {
    await mkdir(this.limits.uploadDir, { recursive: true });
    const filePath = path.join(this.limits.uploadDir, `${randomUUID()}.upload`);
    const remove = () => rm(filePath, { force: true });
    try {
      await pipeline(stream, createWriteStream(filePath, { flags: 'wx', mode: 0o600 }));
      return { path: filePath, size: (await stat(filePath)).size, remove };
    } catch (error) {
      await remove();
      throw error;
    }
  }

  async preview(
    file: Pick<Upload, 'path' | 'size'>,
    fileName: string,
    options: ImportOptions,
    context: ChangeContext,
  ): Promise<PreviewResponse> {
    this.assertMayImport(context, options.importType);
    const opened = await openImport(file.path, fileName, options, this.limits);
    const expiresAt = new Date(Date.now() + PREVIEW_TTL_MS);
    const summary = emptySummary();
    const items: AnalyzedRow[] = [];
    // The preview is made expired and comes to life with its summary once every row is
    // stored: each chunk has a transaction of its own (an embedded database answers other
    // requests between them) and a preview that fails half way is deleted, never shown.
    const [preview] = await this.db
      .insert(importPreviews)
      .values({
        user_id: context.actor?.id ?? 0,
        import_type: options.importType,
        file_name: fileName,
        file_size: file.size,
        options: { ...options },
        detected: { ...opened.detected },
        summary: {},
        expires_at: new Date(0),
      })
      .returning({ id: importPreviews.id });
    if (!preview) throw new Error('insert into import_previews returned no row');
    // One chunk is checked and stored while the next is read and analysed.
    let storing: Promise<void> = Promise.resolve();
    try {
      const duplicates = new DuplicateFinder(options);
      const dates = new DateOrderTally(options, opened.mapping);
      const store = async (chunk: AnalyzedRow[]) => {
        await this.db.transaction(async (tx) => {
          await checkAgainstDatabase(tx, this.services, options, chunk);
          await insertJsonRows(
            tx,
            importPreviewRows,
            chunk.map((row) => storedRow(preview.id, row)),
          );
        });
        for (const row of chunk) countRow(summary, row);
        items.push(...chunk.slice(0, PREVIEW_ITEMS - items.length));
      };
      for await (const sourceRows of opened.rows.chunks()) {
        dates.add(sourceRows);
        const chunk: AnalyzedRow[] = [];
        for (const sourceRow of sourceRows) {
          const row = analyzeRow(options, opened.mapping, sourceRow);
          duplicates.check(row);
          chunk.push(row);
          if (chunk.length % 200 === 0) await nextTurn();
        }
        await storing;
        storing = store(chunk);
        // Awaited with the next chunk; a failure meanwhile must not count as unhandled.
        storing.catch(() => {});
      }
      await storing;
      opened.detected.date_order = dates.report();
      await this.db
        .update(importPreviews)
        .set({ summary: { ...summary }, detected: { ...opened.detected }, expires_at: expiresAt })
        .where(eq(importPreviews.id, preview.id));
    } catch (error) {
      await storing.catch(() => {});
      await this.db.delete(importPreviews).where(eq(importPreviews.id, preview.id));
      throw error instanceof ImportFileError ? fileProblem(error) : error;
    }
    // Previews expired long ago (and any a crash left half made) are removed now and then.
    await this.db
      .delete(importPreviews)
      .where(lt(importPreviews.expires_at, new Date(Date.now() - PREVIEW_GRACE_MS)));
    const previewId = preview.id;
    const toWrite = summary.create + summary.update;
    return {
      preview_id: previewId,
      import_type: options.importType,
      file_name: fileName,
      ...summary,
      can_proceed: toWrite > 0,
      summary: { create: summary.create, update: summary.update, skip: summary.skip },
      detected: { ...opened.detected },
      estimated_duration_seconds: Math.max(1, Math.ceil(toWrite / ESTIMATED_ROWS_PER_SECOND)),
      expires_at: expiresAt.toISOString(),
      items: items.map((row) =>
        toRowResponse({
          row_number: row.rowNumber,
          action: row.action,
          status: row.status,
          data: row.shown,
          issues: row.issues,
        }),
      ),
    };
  }

  /** The caller's own preview, while it has not expired; anyone else's is 404. */
  private async ownPreview(previewId: string, context: ChangeContext) {
    const [preview] = await this.db
      .select({
        id: importPreviews.id,
        user_id: importPreviews.user_id,
        import_type: importPreviews.import_type,
        file_name: importPreviews.file_name,
        summary: importPreviews.summary,
        expires_at: importPreviews.expires_at,
        job_id: importPreviews.job_id,
      })
      .from(importPreviews)
      .where(eq(importPreviews.id, previewId));
    if (!preview || preview.user_id !== context.actor?.id || preview.expires_at < new Date()) {
      throw notFound('Import preview', previewId);
    }
    return preview;
  }

  async rows(
    previewId: string,
    query: { status?: RowStatus | undefined; page: number; page_size: number },
    context: ChangeContext,
  ) {
    await this.ownPreview(previewId, context);
    const where = and(
      eq(importPreviewRows.preview_id, previewId),
      query.status ? eq(importPreviewRows.status, query.status) : undefined,
    );
    const [counted] = await this.db.select({ total: count() }).from(importPreviewRows).where(where);
    const rows = await this.db
      .select()
      .from(importPreviewRows)
      .where(where)
      .orderBy(asc(importPreviewRows.row_number))
      .limit(query.page_size)
      .offset((query.page - 1) * query.page_size);
    const total = counted?.total ?? 0;
    return {
      items: rows.map(toRowResponse),
      total,
      page: query.page,
      page_size: query.page_size,
      has_next: query.page * query.page_size < total,
    };
  }

  /** Every problem of the preview as CSV (UTF-8 with BOM, so Excel shows Greek). */
  async errorsCsv(
    previewId: string,
    context: ChangeContext,
  ): Promise<{ fileName: string; csv: string }> {
    const preview = await this.ownPreview(previewId, context);
    const rows = await this.db
      .select()
      .from(importPreviewRows)
      .where(
        and(
          eq(importPreviewRows.preview_id, previewId),
          sql`${importPreviewRows.status} <> 'valid'`,
        ),
      )
      .orderBy(asc(importPreviewRows.row_number));
    const lines = ['row_number,status,field,message'];
    for (const row of rows) {
      for (const issue of row.issues) {
        lines.push(
          [row.row_number, row.status, issue.field, issue.message]
            .map((value) => csvCell(value, 'text'))
            .join(','),
        );
      }
    }
    const base = preview.file_name.replace(/\.[^.]*$/, '').replace(/[^\p{L}\p{N}_-]+/gu, '_');
    return { fileName: `${base || 'import'}-problems.csv`, csv: `\uFEFF${lines.join('\r\n')}\r\n` };
  }

  /**
   * Starts the import of a preview (once). Rows with errors are never written; `skipErrors: false`
   * (the web UI's unticked "skip rows with errors") refuses a preview that has any, so nobody
   * imports part of a file without choosing to. Without the option the rows are skipped, as
   * the CLI and earlier API clients expect.
   */
  async commit(
    previewId: string,
    context: ChangeContext,
    options: { skipErrors?: boolean } = {},
  ): Promise<JobResponse> {
    const preview = await this.ownPreview(previewId, context);
    this.assertMayImport(context, preview.import_type as ImportType);
    if (preview.job_id) {
      throw conflict(`This preview was committed already, as job ${preview.job_id}.`);
    }
    const summary = preview.summary as Record<string, number>;
    const withErrors = summary.rows_with_errors ?? 0;
    if (options.skipErrors === false && withErrors > 0) {
      throw conflict(
        `${withErrors} row${withErrors === 1 ? ' has' : 's have'} errors; fix the file and check it again, or commit with skip_errors true to import the other rows.`,
      );
    }
    const job = await this.jobs.createJob(
      {
        jobType: 'bulk_import',
        userId: context.actor?.id ?? null,
        totalItems: (summary.create ?? 0) + (summary.update ?? 0),
        metadata: {
          preview_id: previewId,
          import_type: preview.import_type,
          file_name: preview.file_name,
          origin: jobOriginFrom(context),
        },
      },
      context,
    );
    // Two commits racing: the second one's job is cancelled and it answers 409.
    const claimed = await this.db
      .update(importPreviews)
      .set({ job_id: job.id })
      .where(and(eq(importPreviews.id, previewId), sql`${importPreviews.job_id} IS NULL`))
      .returning({ id: importPreviews.id });
    if (claimed.length === 0) {
      await this.jobs.cancelJob(job.id).catch(() => undefined);
      throw conflict('This preview was committed already.');
    }
    return job;
  }
}
