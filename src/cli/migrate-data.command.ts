import type { ConnectOptions } from './client.ts';
import { type CliIo, EXIT, UsageError, writeLine } from './io.ts';
import { isFinished, type JobResponse, watchJob } from './job-watch.ts';
import { formatTable } from './jobs.command.ts';
import { reportError, withClient } from './run.ts';

export interface MigrateDataOptions extends ConnectOptions {
  /** postgres://user:password@host:5432/database of a new, empty database. */
  to: string;
}

interface MigrationReport {
  target: string;
  tables: Record<string, { source: number; target: number }>;
  audit_chain: { valid: boolean; checked: number };
  seconds: number;
}

/**
 * The target URL to send. A password left out of --to (so that it stays out of the shell
 * history and the process list) is taken from PGPASSWORD, as psql does.
 */
function targetUrl(text: string, env: CliIo['env']): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `--to must be a URL such as postgres://user:password@host:5432/database, not "${text}".`,
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new UsageError('--to must start with postgres:// or postgresql://.');
  }
  if (!url.password && env.PGPASSWORD) url.password = encodeURIComponent(env.PGPASSWORD);
  return url.toString();
}

function printReport(report: MigrationReport, io: CliIo): void {
  const rows = Object.entries(report.tables).map(([name, n]) => [
    name,
    String(n.source),
    String(n.target),
    n.source === n.target ? 'ok' : 'DIFFERENT',
  ]);
  writeLine(io.stdout, formatTable(['TABLE', 'SOURCE', 'TARGET', ''], rows));
  writeLine(
    io.stdout,
    `Audit chain on the target: ${report.audit_chain.valid ? 'valid' : 'BROKEN'} (${report.audit_chain.checked} entries checked)`,
  );
  writeLine(io.stdout, `Target: ${report.target}, ${report.seconds} s`);
}

/**
 * registrar migrate-data --to postgres://…: starts a data_migration job on the server, shows
 * its progress until it ends and prints the report. The server refuses a target that is
 * unreachable or not empty before anything is written.
 */
export async function migrateDataCommand(options: MigrateDataOptions, io: CliIo): Promise<number> {
  let url: string;
  try {
    url = targetUrl(options.to, io.env);
  } catch (error) {
    return reportError(error, io);
  }
  return withClient(options, io, async (client) => {
    const started = await client.json<JobResponse>('POST', '/system/migrate-data', {
      json: { target_url: url },
    });
    writeLine(io.stderr, `Data migration job ${started.id} started.`);
    // One target transaction: stopping the watch (Ctrl-C) does not stop the job.
    const job = isFinished(started.status)
      ? started
      : await watchJob(client, started.id, io, { label: 'Copying' });
    const report = job.result?.data as MigrationReport | null | undefined;
    if (job.status === 'COMPLETED' && report) {
      printReport(report, io);
      writeLine(io.stdout, job.result?.message ?? '');
      return EXIT.ok;
    }
    writeLine(io.stderr, `${job.status}: ${job.result?.message ?? job.error_message ?? ''}`);
    return EXIT.failure;
  });
}
