import { type Api, ApiError, type Problem } from '../../api/client.ts';
import { baseUrl } from '../../api/session.ts';
import type { ResponseBody } from '../../api/types.ts';
import type { Job } from '../../live/types.ts';
import type { ImportType } from './fields.ts';

export type ImportPreviewData = ResponseBody<'/api/v1/imports/preview', 'post'>;
export type PreviewRow = ImportPreviewData['items'][number];
export type RowStatus = PreviewRow['validation_status'];

/** What the user chose for a check of the file; the overrides replace what was detected. */
export interface PreviewOptions {
  importType: ImportType;
  allowUpdates: boolean;
  skipDuplicates: boolean;
  dateOrder: 'DMY' | 'MDY';
  mapping?: Record<string, string | null>;
  encoding?: string;
  /** ',', ';', 'tab' or '|' */
  delimiter?: string;
  sheet?: string;
}

/** The header → field mapping the server used, as it reports it in `detected`. */
export function detectedMapping(
  preview: ImportPreviewData,
): { header: string; field: string | null }[] {
  const mapping = preview.detected.mapping;
  if (!Array.isArray(mapping)) return [];
  return mapping.filter(
    (entry): entry is { header: string; field: string | null } =>
      typeof entry === 'object' && entry !== null && typeof entry.header === 'string',
  );
}

async function answer<T>(response: Response): Promise<T> {
  const body: unknown = await response.json().catch(() => null);
  if (response.ok) return body as T;
  const problem: Problem =
    body && typeof body === 'object' && 'title' in body
      ? { ...(body as Problem), status: response.status }
      : { title: `Request failed (${response.status})`, status: response.status };
  throw new ApiError(problem);
}

/**
 * Sends the file for a check (POST /imports/preview, multipart): nothing is written, the answer
 * says what committing would do, row by row. The browser sets the multipart boundary.
 */
export async function requestPreview(
  api: Api,
  file: File,
  options: PreviewOptions,
): Promise<ImportPreviewData> {
  const form = new FormData();
  form.append('import_type', options.importType);
  form.append('allow_updates', String(options.allowUpdates));
  form.append('skip_duplicates', String(options.skipDuplicates));
  form.append('date_order', options.dateOrder);
  if (options.mapping) form.append('mapping', JSON.stringify(options.mapping));
  if (options.encoding) form.append('encoding', options.encoding);
  if (options.delimiter) form.append('delimiter', options.delimiter);
  if (options.sheet) form.append('sheet', options.sheet);
  form.append('file', file, file.name);
  const response = await api.fetch(
    new Request(new URL('/api/v1/imports/preview', baseUrl()), { method: 'POST', body: form }),
  );
  return answer<ImportPreviewData>(response);
}

/**
 * Starts the import of a checked file (a bulk_import job). Rows with errors are never written;
 * with `skip_errors` false the server refuses (409) a preview that has any, so the user's
 * choice to go on without them is checked there too, not only by the disabled button.
 */
export async function commitPreview(
  api: Api,
  previewId: string,
  skipErrors: boolean,
): Promise<Job> {
  const response = await api.fetch(
    new Request(new URL(`/api/v1/imports/${encodeURIComponent(previewId)}/commit`, baseUrl()), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ skip_errors: skipErrors }),
    }),
  );
  return answer<Job>(response);
}
