import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConnectOptions } from './client.ts';
import { type CliIo, EXIT, UsageError, writeLine } from './io.ts';
import { isFinished, type JobResponse, watchJob } from './job-watch.ts';
import { reportError, withClient } from './run.ts';

export interface SessionsExportOptions extends ConnectOptions {
  semester: string;
  /** A file name, or "-" for stdout; default: the name the server suggests, here. */
  output?: string;
}

export interface SessionsImportOptions extends ConnectOptions {
  mergeStrategy?: string;
  /** Check only: show what would change and every problem. */
  dryRun?: boolean;
  /** Import without asking. */
  yes?: boolean;
}

interface Issue {
  field: string;
  message: string;
}

interface SessionCheck {
  semester: string | null;
  valid: boolean;
  counts: Record<string, { create: number; update: number; skip: number }>;
  problems: Issue[];
  warnings: Issue[];
}

/** Problems listed before giving up; the dry run's JSON answer has them all. */
const SHOWN_PROBLEMS = 20;

/** registrar sessions export --semester X -o FILE: the semester's bundle, written whole. */
export async function sessionsExportCommand(
  options: SessionsExportOptions,
  io: CliIo,
): Promise<number> {
  return withClient(options, io, async (client) => {
    const response = await client.send('GET', '/sessions/export', {
      query: { semester: options.semester },
    });
    const text = await response.text();
    if (options.output === '-') {
      io.stdout.write(text);
      return EXIT.ok;
    }
    const suggested = /filename="?([^";]+)"?/.exec(
      response.headers.get('content-disposition') ?? '',
    )?.[1];
    const target = path.resolve(
      io.cwd ?? process.cwd(),
      options.output ?? path.basename(suggested ?? 'session.json'),
    );
    // Written next to its name and renamed, so a failed write leaves no half bundle.
    const partial = `${target}.${randomBytes(4).toString('hex')}.part`;
    try {
      await writeFile(partial, text, { flag: 'wx' });
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    const counts = (JSON.parse(text) as { metadata?: { counts?: Record<string, number> } }).metadata
      ?.counts;
    if (counts) {
      writeLine(
        io.stderr,
        Object.entries(counts)
          .map(([name, n]) => `${name} ${n}`)
          .join(', '),
      );
    }
    writeLine(io.stderr, `Saved ${target}`);
    return EXIT.ok;
  });
}

async function readBundleFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `No such file: ${file}` : `Cannot read ${file}: ${String(error)}`,
    );
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
}

function printCheck(check: SessionCheck, io: CliIo): void {
  const out = (text: string) => writeLine(io.stdout, text);
  if (check.semester) out(`Semester: ${check.semester}`);
  for (const [name, counts] of Object.entries(check.counts)) {
    out(
      `  ${name.padEnd(18)} create ${counts.create}, update ${counts.update}, skip ${counts.skip}`,
    );
  }
  for (const warning of check.warnings) out(`Warning: ${warning.field}: ${warning.message}`);
  if (check.problems.length > 0) {
    out(`Problems (${check.problems.length}; nothing will be imported):`);
    for (const problem of check.problems.slice(0, SHOWN_PROBLEMS)) {
      out(`  ${problem.field}: ${problem.message}`);
    }
    if (check.problems.length > SHOWN_PROBLEMS) {
      out(`  … and ${check.problems.length - SHOWN_PROBLEMS} more`);
    }
  }
}

async function confirm(
  options: SessionsImportOptions,
  io: CliIo,
): Promise<boolean | 'no-terminal'> {
  if (options.yes) return true;
  if (!io.prompt) return 'no-terminal';
  const answer = await io.prompt.ask('Import? [y/N] ');
  return /^y(es)?$/i.test(answer.trim());
}

/**
 * registrar sessions import FILE: check the bundle (a dry run), show what it would do,
 * ask, then import it as a job and show its progress until it ends. Exit 0 only when the
 * job COMPLETED (or a dry run found no problem).
 */
export async function sessionsImportCommand(
  file: string,
  options: SessionsImportOptions,
  io: CliIo,
): Promise<number> {
  const strategy = options.mergeStrategy ?? 'update';
  let bundle: unknown;
  try {
    if (strategy !== 'update' && strategy !== 'skip') {
      throw new UsageError(`--merge-strategy must be update or skip (got "${strategy}").`);
    }
    bundle = await readBundleFile(file);
  } catch (error) {
    return reportError(error, io);
  }
  return withClient(options, io, async (client) => {
    const check = await client.json<SessionCheck>('POST', '/sessions/import', {
      json: bundle,
      query: { merge_strategy: strategy, dry_run: true },
    });
    printCheck(check, io);
    if (!check.valid) return EXIT.failure;
    if (options.dryRun) return EXIT.ok;
    const confirmed = await confirm(options, io);
    if (confirmed === 'no-terminal') {
      writeLine(
        io.stderr,
        'Not imported: there is no terminal to ask for confirmation. Add --yes to import without asking.',
      );
      return EXIT.usage;
    }
    if (!confirmed) {
      writeLine(io.stderr, 'Not imported; nothing was changed.');
      return EXIT.failure;
    }
    const job = await client.json<JobResponse>('POST', '/sessions/import', {
      json: bundle,
      query: { merge_strategy: strategy },
    });
    writeLine(io.stderr, `Session import job ${job.id} started.`);
    const final = isFinished(job.status)
      ? job
      : await watchJob(client, job.id, io, { label: 'Importing', cancelOnInterrupt: true });
    const stats = final.result?.statistics ?? {};
    writeLine(
      io.stdout,
      `${final.status}: created ${stats.created ?? 0}, updated ${stats.updated ?? 0}, skipped ${stats.skipped ?? 0}.`,
    );
    const message = final.result?.message ?? final.error_message;
    if (message) writeLine(io.stdout, message);
    return final.status === 'COMPLETED' ? EXIT.ok : EXIT.failure;
  });
}
