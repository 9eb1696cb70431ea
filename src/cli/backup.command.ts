import type { ConnectOptions, RegistrarClient } from './client.ts';
import { type CliIo, EXIT, UsageError, writeLine } from './io.ts';
import { isFinished, type JobResponse, watchJob } from './job-watch.ts';
import { formatTable } from './jobs.command.ts';
import { reportError, withClient } from './run.ts';

export interface BackupCommandOptions extends ConnectOptions {
  /** List the backups instead of making one. */
  list?: boolean;
}

export interface RestoreCommandOptions extends ConnectOptions {
  /** Restore without asking. */
  yes?: boolean;
}

interface BackupItem {
  name: string;
  created_at: string;
  kind: string;
  size_bytes: number;
  encrypted: boolean;
  counts: Record<string, number>;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

async function runJob(
  client: RegistrarClient,
  job: JobResponse,
  label: string,
  io: CliIo,
): Promise<JobResponse> {
  // A restore is one transaction: stopping the watch (Ctrl-C) does not stop the job.
  return isFinished(job.status) ? job : watchJob(client, job.id, io, { label });
}

function printOutcome(job: JobResponse, io: CliIo): number {
  const message = job.result?.message ?? job.error_message;
  writeLine(job.status === 'COMPLETED' ? io.stdout : io.stderr, `${job.status}: ${message ?? ''}`);
  return job.status === 'COMPLETED' ? EXIT.ok : EXIT.failure;
}

async function listBackups(client: RegistrarClient, io: CliIo): Promise<number> {
  const page = await client.json<{ items: BackupItem[]; total: number }>('GET', '/backups', {
    query: { page_size: 500 },
  });
  if (page.items.length === 0) {
    writeLine(io.stdout, 'No backups yet. Make one with: registrar backup');
    return EXIT.ok;
  }
  const rows = page.items.map((item) => [
    item.name,
    item.created_at.slice(0, 19).replace('T', ' '),
    item.kind,
    item.encrypted ? 'yes' : 'no',
    `${(item.size_bytes / 1024).toFixed(1)} KiB`,
    String(Object.values(item.counts).reduce((sum, n) => sum + n, 0)),
  ]);
  writeLine(
    io.stdout,
    formatTable(['NAME', 'CREATED (UTC)', 'KIND', 'ENCRYPTED', 'SIZE', 'ROWS'], rows),
  );
  return EXIT.ok;
}

/** registrar backup: starts a backup job and shows its progress until it ends (--list lists). */
export async function backupCommand(options: BackupCommandOptions, io: CliIo): Promise<number> {
  return withClient(options, io, async (client) => {
    if (options.list) return listBackups(client, io);
    const job = await client.json<JobResponse>('POST', '/backups');
    writeLine(io.stderr, `Backup job ${job.id} started.`);
    return printOutcome(await runJob(client, job, 'Backing up', io), io);
  });
}

/**
 * registrar restore NAME: asks (unless --yes), then starts the restore job and shows its
 * progress. The server checks the whole backup first and takes a safety backup.
 */
export async function restoreCommand(
  name: string,
  options: RestoreCommandOptions,
  io: CliIo,
): Promise<number> {
  try {
    if (!NAME_PATTERN.test(name)) {
      throw new UsageError(
        `"${name}" is not a backup name (see: registrar backup --list); names have only letters, digits, - and _.`,
      );
    }
  } catch (error) {
    return reportError(error, io);
  }
  return withClient(options, io, async (client) => {
    if (!options.yes) {
      if (!io.prompt) {
        writeLine(
          io.stderr,
          'Not restored: there is no terminal to ask for confirmation. Add --yes to restore without asking.',
        );
        return EXIT.usage;
      }
      const answer = await io.prompt.ask(
        `Replace ALL data with backup ${name}? A safety backup is taken first. [y/N] `,
      );
      if (!/^y(es)?$/i.test(answer.trim())) {
        writeLine(io.stderr, 'Not restored; nothing was changed.');
        return EXIT.failure;
      }
    }
    const job = await client.json<JobResponse>(
      'POST',
      `/backups/${encodeURIComponent(name)}/restore`,
    );
    writeLine(io.stderr, `Restore job ${job.id} started.`);
    return printOutcome(await runJob(client, job, 'Restoring', io), io);
  });
}
