import { JOB_STATUSES, JOB_TYPES } from '../modules/jobs/jobs.constants.ts';
import type { ConnectOptions } from './client.ts';
import { type CliIo, EXIT, UsageError, writeLine } from './io.ts';
import { type JobResponse, watchJob } from './job-watch.ts';
import { reportError, withClient } from './run.ts';

export interface JobsListOptions extends ConnectOptions {
  status?: string;
  type?: string;
  /** Only my jobs (admins otherwise see everyone's). */
  mine?: boolean;
  json?: boolean;
  limit?: string;
}

function checkChoice(name: string, value: string | undefined, allowed: readonly string[]) {
  if (value !== undefined && !allowed.includes(value)) {
    throw new UsageError(`${name} must be one of ${allowed.join(', ')} (got "${value}").`);
  }
}

/** Columns padded to their widest cell; the last one is left ragged. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) =>
          column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function jobRow(job: JobResponse): string[] {
  const message = job.error_message ?? job.result?.message ?? job.progress.message ?? '';
  return [
    job.id,
    job.job_type,
    job.status,
    `${Math.floor(job.progress.percentage)}%`,
    job.created_at.slice(0, 19).replace('T', ' '),
    message.length > 60 ? `${message.slice(0, 59)}…` : message,
  ];
}

/** registrar jobs list: newest first, your own (admins: everyone's unless --mine). */
export async function jobsListCommand(options: JobsListOptions, io: CliIo): Promise<number> {
  const limit = Number(options.limit ?? 20);
  try {
    checkChoice('--status', options.status, JOB_STATUSES);
    checkChoice('--type', options.type, JOB_TYPES);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new UsageError('--limit must be a whole number from 1 to 100.');
    }
  } catch (error) {
    return reportError(error, io);
  }
  return withClient(options, io, async (client) => {
    const me = options.mine ? await client.json<{ id: number }>('GET', '/auth/me') : undefined;
    const page = await client.json<{ jobs: JobResponse[]; total: number }>('GET', '/jobs', {
      query: { status: options.status, job_type: options.type, user_id: me?.id, page_size: limit },
    });
    if (options.json) {
      writeLine(io.stdout, JSON.stringify(page.jobs, null, 2));
      return EXIT.ok;
    }
    if (page.jobs.length === 0) {
      writeLine(io.stdout, 'No jobs.');
      return EXIT.ok;
    }
    writeLine(
      io.stdout,
      formatTable(
        ['ID', 'TYPE', 'STATUS', 'DONE', 'CREATED (UTC)', 'MESSAGE'],
        page.jobs.map(jobRow),
      ),
    );
    if (page.total > page.jobs.length) {
      writeLine(io.stdout, `(${page.jobs.length} of ${page.total}; --limit shows more)`);
    }
    return EXIT.ok;
  });
}

/** registrar jobs watch ID: progress until the job ends; exit 0 only if it COMPLETED. */
export async function jobsWatchCommand(
  id: string,
  options: ConnectOptions,
  io: CliIo,
): Promise<number> {
  return withClient(options, io, async (client) => {
    // Ctrl-C only stops watching: this may be someone else's job, or one started elsewhere.
    const job = await watchJob(client, id, io, { cancelOnInterrupt: false });
    const message = job.error_message ?? job.result?.message;
    writeLine(io.stdout, `Job ${job.id} ${job.status}${message ? `: ${message}` : ''}`);
    return job.status === 'COMPLETED' ? EXIT.ok : EXIT.failure;
  });
}

/** registrar jobs cancel ID: a PENDING job ends at once, a running one at its next batch. */
export async function jobsCancelCommand(
  id: string,
  options: ConnectOptions,
  io: CliIo,
): Promise<number> {
  return withClient(options, io, async (client) => {
    const job = await client.json<JobResponse>('POST', `/jobs/${encodeURIComponent(id)}/cancel`);
    writeLine(
      io.stdout,
      job.status === 'CANCELLED'
        ? `Job ${job.id} CANCELLED.`
        : `Cancel requested: job ${job.id} stops at its next batch.`,
    );
    return EXIT.ok;
  });
}
