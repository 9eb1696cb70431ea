import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DATE_ORDERS, ENCODINGS, IMPORT_TYPES } from '../modules/imports/parsing/types.ts';
import type { ConnectOptions, RegistrarClient } from './client.ts';
import { type CliIo, EXIT, UsageError, writeLine } from './io.ts';
import { isFinished, type JobResponse, watchJob } from './job-watch.ts';
import { reportError, withClient } from './run.ts';

export interface ImportCommandOptions extends ConnectOptions {
  type: string;
  allowUpdates?: boolean;
  skipDuplicates?: boolean;
  encoding?: string;
  delimiter?: string;
  dateOrder?: string;
  sheet?: string;
  /** JSON object: file header → field, or null to ignore the column. */
  mapping?: string;
  /** Commit without asking. */
  yes?: boolean;
}

interface RowIssue {
  field: string;
  message: string;
}

interface PreviewRow {
  row_number: number;
  validation_status: 'valid' | 'warning' | 'error';
  issues: RowIssue[];
}

interface Preview {
  preview_id: string;
  file_name: string;
  total_rows: number;
  valid_rows: number;
  rows_with_warnings: number;
  rows_with_errors: number;
  create: number;
  update: number;
  skip: number;
  can_proceed: boolean;
  estimated_duration_seconds: number;
  detected: {
    format?: string;
    encoding?: string | null;
    delimiter?: string | null;
    sheet?: string | null;
    mapping?: Array<{ header: string; field: string | null }>;
    unknown_headers?: string[];
  };
}

/** Error rows listed before asking; the rest are in errors.csv. */
const SHOWN_ERROR_ROWS = 5;

const DELIMITER_NAMES: Record<string, string> = { '\t': 'tab', ',': 'comma', ';': 'semicolon' };

function checkOptions(options: ImportCommandOptions): void {
  const oneOf = (name: string, value: string | undefined, allowed: readonly string[]) => {
    if (value !== undefined && !allowed.includes(value)) {
      throw new UsageError(`${name} must be one of ${allowed.join(', ')} (got "${value}").`);
    }
  };
  oneOf('--type', options.type, IMPORT_TYPES);
  oneOf('--encoding', options.encoding, ENCODINGS);
  oneOf('--delimiter', options.delimiter, [',', ';', '|', 'tab', '\t']);
  oneOf('--date-order', options.dateOrder?.toUpperCase(), DATE_ORDERS);
}

/** The multipart form of POST /imports/preview. */
async function previewForm(file: string, options: ImportCommandOptions): Promise<FormData> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `No such file: ${file}` : `Cannot read ${file}: ${String(error)}`,
    );
  }
  const form = new FormData();
  form.set('import_type', options.type);
  form.set('allow_updates', String(options.allowUpdates === true));
  form.set('skip_duplicates', String(options.skipDuplicates === true));
  if (options.encoding) form.set('encoding', options.encoding);
  if (options.delimiter)
    form.set('delimiter', options.delimiter === '\t' ? 'tab' : options.delimiter);
  if (options.dateOrder) form.set('date_order', options.dateOrder.toUpperCase());
  if (options.sheet) form.set('sheet', options.sheet);
  if (options.mapping) form.set('mapping', options.mapping);
  form.set('file', new Blob([bytes]), path.basename(file));
  return form;
}

function printPreview(preview: Preview, errorRows: PreviewRow[], io: CliIo): void {
  const out = (text = '') => writeLine(io.stdout, text);
  const { detected } = preview;
  const format = [
    detected.format,
    detected.encoding,
    detected.delimiter
      ? `delimiter ${DELIMITER_NAMES[detected.delimiter] ?? detected.delimiter}`
      : null,
    detected.sheet ? `sheet "${detected.sheet}"` : null,
  ].filter(Boolean);
  out(`File: ${preview.file_name} (${format.join(', ')})`);
  const mapped = (detected.mapping ?? []).filter((entry) => entry.field !== null);
  if (mapped.length > 0) {
    out(
      `Columns: ${mapped.map((entry) => (entry.header === entry.field ? entry.header : `${entry.header} → ${entry.field}`)).join(', ')}`,
    );
  }
  if (detected.unknown_headers?.length) {
    out(`Ignored columns: ${detected.unknown_headers.join(', ')}`);
  }
  out(
    `Rows: ${preview.total_rows}  valid: ${preview.valid_rows}  warnings: ${preview.rows_with_warnings}  errors: ${preview.rows_with_errors}`,
  );
  out(`Would create ${preview.create}, update ${preview.update}, skip ${preview.skip}.`);
  if (errorRows.length > 0) {
    const more = preview.rows_with_errors > errorRows.length ? ` (first ${errorRows.length})` : '';
    out(`Rows with errors${more}:`);
    for (const row of errorRows) {
      const issues = row.issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
      out(`  row ${row.row_number}: ${issues}`);
    }
  }
}

function printResult(job: JobResponse, client: RegistrarClient, previewId: string, io: CliIo) {
  const out = (text: string) => writeLine(io.stdout, text);
  const stats = job.result?.statistics ?? {};
  const count = (name: string) => stats[name] ?? 0;
  out(
    `${job.status}: created ${count('created')}, updated ${count('updated')}, skipped ${count('skipped')}, errors ${count('errors')}.`,
  );
  const message = job.result?.message ?? job.error_message;
  if (message) out(message);
  if (count('errors') > 0) {
    out(`Rows with errors, as CSV: ${client.url(`/imports/${previewId}/errors.csv`).href}`);
  }
}

async function firstErrorRows(client: RegistrarClient, preview: Preview): Promise<PreviewRow[]> {
  if (preview.rows_with_errors === 0) return [];
  const page = await client.json<{ items: PreviewRow[] }>(
    'GET',
    `/imports/${preview.preview_id}/rows`,
    { query: { status: 'error', page_size: SHOWN_ERROR_ROWS } },
  );
  return page.items;
}

async function confirm(options: ImportCommandOptions, io: CliIo): Promise<boolean | 'no-terminal'> {
  if (options.yes) return true;
  if (!io.prompt) return 'no-terminal';
  const answer = await io.prompt.ask('Commit? [y/N] ');
  return /^y(es)?$/i.test(answer.trim());
}

/**
 * registrar import FILE --type T: preview, show what would change, ask, commit, and show
 * the job's progress until it ends. Exit 0 only when the job COMPLETED.
 */
export async function importCommand(
  file: string,
  options: ImportCommandOptions,
  io: CliIo,
): Promise<number> {
  // Arguments and the file first, so a typo does not cost a password prompt.
  let form: FormData;
  try {
    checkOptions(options);
    form = await previewForm(file, options);
  } catch (error) {
    return reportError(error, io);
  }
  return withClient(options, io, async (client) => {
    const preview = await client.json<Preview>('POST', '/imports/preview', { form });
    const errorRows = await firstErrorRows(client, preview);
    printPreview(preview, errorRows, io);

    if (!preview.can_proceed) {
      writeLine(io.stderr, 'Nothing to import: no row would be created or updated.');
      return EXIT.failure;
    }
    const confirmed = await confirm(options, io);
    if (confirmed === 'no-terminal') {
      writeLine(
        io.stderr,
        'Not committed: there is no terminal to ask for confirmation. Add --yes to commit without asking.',
      );
      return EXIT.usage;
    }
    if (!confirmed) {
      writeLine(io.stderr, 'Not committed; nothing was imported.');
      return EXIT.failure;
    }

    const job = await client.json<JobResponse>('POST', `/imports/${preview.preview_id}/commit`);
    writeLine(io.stderr, `Import job ${job.id} started.`);
    const final = isFinished(job.status)
      ? job
      : await watchJob(client, job.id, io, { label: 'Importing', cancelOnInterrupt: true });
    printResult(final, client, preview.preview_id, io);
    return final.status === 'COMPLETED' ? EXIT.ok : EXIT.failure;
  });
}
