import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ExportResource } from '../modules/exports/exports.resources.ts';
import type { ExportFormat, ExportLanguage } from '../modules/exports/exports.writers.ts';
import { ApiError, type ConnectOptions, type RegistrarClient } from './client.ts';
import { type CliIo, EXIT, type Output, UsageError, writeLine } from './io.ts';
import { watchJob } from './job-watch.ts';
import { reportError, withClient } from './run.ts';

export const EXPORT_RESOURCE_NAMES = [
  'students',
  'courses',
  'enrollments',
  'grades',
  'attendance',
  'daily_performances',
  'highlights',
  'users',
] as const satisfies readonly ExportResource[];
const FORMATS = ['csv', 'xlsx', 'json'] as const satisfies readonly ExportFormat[];
const LANGUAGES = ['en', 'el'] as const satisfies readonly ExportLanguage[];

export interface ExportCommandOptions extends ConnectOptions {
  format?: string;
  lang?: string;
  /** A file name, or "-" for stdout; default: the name the server suggests, here. */
  output?: string;
  /** key=value list filters, as in the list's query string. */
  filter?: string[];
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${name} must be one of ${allowed.join(', ')} (got "${value}").`);
  }
  return value as T;
}

function parseFilters(pairs: string[] = []): Record<string, string> {
  const filters: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new UsageError(`--filter takes key=value (got "${pair}").`);
    filters[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return filters;
}

/** The file name from Content-Disposition, stripped of any directory. */
function suggestedName(response: Response, fallback: string): string {
  const header = response.headers.get('content-disposition') ?? '';
  const name = /filename="?([^";]+)"?/.exec(header)?.[1];
  return path.basename(name ?? fallback);
}

async function writeChunk(stream: Output, chunk: Uint8Array): Promise<void> {
  if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

async function* chunksOf(response: Response): AsyncGenerator<Uint8Array> {
  if (!response.body) return;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Writes a download to stdout or a file. A file is written next to its final name and
 * renamed at the end, so an export cut short leaves no half file behind.
 */
async function save(response: Response, target: string, io: CliIo): Promise<string> {
  if (target === '-') {
    for await (const chunk of chunksOf(response)) await writeChunk(io.stdout, chunk);
    return 'stdout';
  }
  const file = path.resolve(io.cwd ?? process.cwd(), target);
  const partial = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(4).toString('hex')}.part`,
  );
  const handle = await open(partial, 'wx');
  try {
    for await (const chunk of chunksOf(response)) await handle.write(chunk);
    await handle.close();
    await rename(partial, file);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(partial, { force: true });
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`The download stopped before the end (${reason}); ${target} was not written.`);
  }
  return file;
}

const isTooLarge = (error: unknown) =>
  error instanceof ApiError &&
  error.status === 422 &&
  (error.problem.type ?? '').endsWith('export-too-large');

/** More rows than the server streams at once: an export_large job, then its file. */
async function exportAsJob(
  client: RegistrarClient,
  body: { resource: string; format: string; lang: string; filters: Record<string, string> },
  io: CliIo,
): Promise<Response | undefined> {
  writeLine(io.stderr, 'Too many rows to stream at once; exporting in the background.');
  const started = await client.json<{ id: string }>('POST', '/exports', { json: body });
  const job = await watchJob(client, started.id, io, {
    label: 'Exporting',
    cancelOnInterrupt: true,
  });
  if (job.status !== 'COMPLETED') {
    writeLine(io.stderr, `Export ${job.status}: ${job.error_message ?? job.result?.message ?? ''}`);
    return undefined;
  }
  return client.send('GET', `/exports/${job.id}/download`);
}

/** registrar export RESOURCE: the whole list as CSV, XLSX or JSON, however large. */
export async function exportCommand(
  resource: string,
  options: ExportCommandOptions,
  io: CliIo,
): Promise<number> {
  let name: ExportResource;
  let format: ExportFormat;
  let lang: ExportLanguage;
  let filters: Record<string, string>;
  try {
    name = oneOf('RESOURCE', resource, EXPORT_RESOURCE_NAMES);
    format = oneOf('--format', options.format ?? 'csv', FORMATS);
    lang = oneOf('--lang', options.lang ?? 'en', LANGUAGES);
    filters = parseFilters(options.filter);
    if (options.output === '-' && format === 'xlsx' && io.stdout.isTTY) {
      throw new UsageError('An XLSX file is binary: write it with -o FILE, not to the terminal.');
    }
  } catch (error) {
    return reportError(error, io);
  }
  return withClient(options, io, async (client) => {
    let response: Response | undefined;
    try {
      response = await client.send('GET', `/exports/${name}`, {
        query: { ...filters, format, lang },
      });
    } catch (error) {
      if (!isTooLarge(error)) throw error;
      response = await exportAsJob(client, { resource: name, format, lang, filters }, io);
      if (!response) return EXIT.failure;
    }
    const target = options.output ?? suggestedName(response, `${name}.${format}`);
    const written = await save(response, target, io);
    if (written !== 'stdout') writeLine(io.stderr, `Saved ${written}`);
    return EXIT.ok;
  });
}
