import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { and, asc, eq, gt, lt, lte, sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Database, queryRows } from '../../platform/db/client.ts';
import type { SettingsService } from '../settings/settings.service.ts';
import { ChainVerifier, canonicalJson } from './audit.chain.ts';
import { AUDIT_ACTIONS, AUDIT_RESOURCES } from './audit.constants.ts';
import type { AuditEntryInput, AuditLogger } from './audit.logger.ts';
import { type AuditRow, auditChainHead, auditLogs } from './audit.table.ts';

const DAY_MS = 86_400_000;

/** What DATA_DIR/archive/audit-YYYY-MM[.partN].manifest.json says about its archive. */
export const archiveManifestSchema = z.object({
  format: z.literal('registrar-audit-archive/1'),
  /** The archive's file name, in the same directory as the manifest. */
  file: z.string().min(1),
  /** SHA-256 of the .jsonl.gz file as written. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  rows: z.number().int().min(1),
  first_id: z.number().int(),
  last_id: z.number().int(),
  /** The hash the first archived entry links to: verification is anchored at first_id - 1. */
  first_prev_hash: z.string(),
  /** The hash of the last archived entry: where the chain in the database now starts. */
  last_hash: z.string(),
  first_timestamp: z.string(),
  last_timestamp: z.string(),
  created_at: z.string(),
});

export type ArchiveManifest = z.infer<typeof archiveManifestSchema>;

/** Any JSON value, passed through untouched so the entry hashes exactly as it did. */
const jsonColumn = z.custom<Record<string, unknown> | null>((value) => typeof value === 'object');
const text = z.string().nullable();

/** One line of an archive: an audit_logs row as canonical JSON. */
const archivedRowSchema = z.object({
  id: z.number().int(),
  action: z.enum(AUDIT_ACTIONS),
  resource: z.enum(AUDIT_RESOURCES),
  resource_id: text,
  user_id: z.number().int().nullable(),
  user_email: text,
  ip_address: text,
  user_agent: text,
  details: jsonColumn,
  success: z.boolean(),
  error_message: text,
  timestamp: z.iso.datetime().transform((value) => new Date(value)),
  request_id: text,
  old_values: jsonColumn,
  new_values: jsonColumn,
  prev_hash: z.string(),
  hash: z.string(),
});

export interface ArchiveVerification {
  file: string;
  manifest: string;
  valid: boolean;
  rows: number;
  first_id: number | null;
  last_id: number | null;
  /** Empty when valid; at most 100. */
  problems: string[];
}

/** The result of partition upkeep, when scripts/audit-partitioning.sql is installed. */
export interface PartitionMaintenance {
  created: string[];
  dropped: string[];
  error?: string;
}

export type RetentionStatus = 'disabled' | 'nothing_to_archive' | 'archived' | 'aborted' | 'busy';

export interface RetentionReport {
  status: RetentionStatus;
  message: string;
  retention_days: number | null;
  /** Entries with a timestamp before this were due for the archive. */
  cutoff: string | null;
  archived: number;
  deleted: number;
  /** Archive file names written by this run, in DATA_DIR/archive. */
  files: string[];
  archive_dir: string;
  first_id: number | null;
  last_id: number | null;
  /** Null unless audit_logs is partitioned with scripts/audit-partitioning.sql. */
  partitions: PartitionMaintenance | null;
  duration_ms: number;
}

export interface AuditRetentionOptions {
  dataDir: string;
  now?: () => Date;
  /** Rows per page read, and per deleting transaction. */
  batchSize?: number;
}

/** Refusals that leave the audit trail as it was (or, after deleting began, consistent). */
export class AuditRetentionError extends Error {
  override name = 'AuditRetentionError';
}

const utcMonth = (date: Date) =>
  `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

/** Makes a written file (or a directory entry) durable before anything depends on it. */
async function fsync(target: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(target, 'r');
    await handle.sync();
  } catch (error) {
    // Directories cannot be opened for fsync on every platform (Windows); the file itself was.
    if (!isErrno(error, 'EISDIR') && !isErrno(error, 'EPERM') && !isErrno(error, 'EINVAL')) {
      throw error;
    }
  } finally {
    await handle?.close();
  }
}

/** Passes bytes through and hashes them on the way. */
function hashingTap(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

/**
 * One archive file being written: rows of one calendar month (UTC) that are contiguous in
 * the chain, gzip-compressed as they stream, with the SHA-256 of the compressed bytes.
 * The name is claimed with an exclusive create, so an existing archive is never rewritten.
 */
class ArchiveFile {
  rows = 0;
  private first: AuditRow | null = null;
  private last: AuditRow | null = null;
  private readonly gzip = createGzip();
  private readonly hash = createHash('sha256');
  private readonly written: Promise<void>;

  private constructor(
    readonly dir: string,
    readonly name: string,
    readonly manifestName: string,
    handle: FileHandle,
  ) {
    this.written = pipeline(this.gzip, hashingTap(this.hash), handle.createWriteStream());
    // Observed in close() or destroy(); never an unhandled rejection meanwhile.
    this.written.catch(() => {});
  }

  get path() {
    return path.join(this.dir, this.name);
  }

  get manifestPath() {
    return path.join(this.dir, this.manifestName);
  }

  /** audit-YYYY-MM.jsonl.gz, or the first free audit-YYYY-MM.partN.jsonl.gz after it. */
  static async create(dir: string, month: string): Promise<ArchiveFile> {
    for (let part = 1; ; part++) {
      const base = part === 1 ? `audit-${month}` : `audit-${month}.part${part}`;
      const name = `${base}.jsonl.gz`;
      const manifestName = `${base}.manifest.json`;
      if (await exists(path.join(dir, manifestName))) continue;
      try {
        const handle = await open(path.join(dir, name), 'wx', 0o640);
        return new ArchiveFile(dir, name, manifestName, handle);
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error;
      }
    }
  }

  async write(rows: AuditRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.first ??= rows[0] ?? null;
    this.last = rows.at(-1) ?? this.last;
    this.rows += rows.length;
    const lines = rows.map((row) => `${canonicalJson(row)}\n`).join('');
    if (!this.gzip.write(lines)) await once(this.gzip, 'drain');
  }

  /** Finishes the file, makes it durable and writes its manifest next to it. */
  async close(createdAt: Date): Promise<ArchiveManifest> {
    this.gzip.end();
    await this.written;
    await fsync(this.path);
    const { first, last } = this;
    if (!first || !last) throw new Error(`${this.name} has no rows`);
    const manifest: ArchiveManifest = {
      format: 'registrar-audit-archive/1',
      file: this.name,
      sha256: this.hash.digest('hex'),
      rows: this.rows,
      first_id: first.id,
      last_id: last.id,
      first_prev_hash: first.prev_hash,
      last_hash: last.hash,
      first_timestamp: first.timestamp.toISOString(),
      last_timestamp: last.timestamp.toISOString(),
      created_at: createdAt.toISOString(),
    };
    const handle = await open(this.manifestPath, 'wx', 0o640);
    try {
      await handle.writeFile(`${JSON.stringify(manifest, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return manifest;
  }

  /** Stops writing and removes what this run wrote (only before anything was deleted). */
  async discard(): Promise<void> {
    this.gzip.destroy();
    await this.written.catch(() => {});
    await rm(this.path, { force: true });
    await rm(this.manifestPath, { force: true });
  }
}

/**
 * Re-reads an archive and its manifest: the SHA-256 of the file, the row count, and the hash
 * chain from first_prev_hash (anchored at first_id - 1) to last_hash. Takes the .jsonl.gz
 * file or its .manifest.json.
 */
export async function verifyAuditArchive(file: string): Promise<ArchiveVerification> {
  const isManifest = file.endsWith('.manifest.json');
  const manifestPath = isManifest ? file : file.replace(/\.jsonl\.gz$/, '.manifest.json');
  let archivePath = isManifest ? '' : file;
  const problems: string[] = [];
  let rows = 0;
  let firstId: number | null = null;
  let lastId: number | null = null;
  const result = (): ArchiveVerification => ({
    file: archivePath,
    manifest: manifestPath,
    valid: problems.length === 0,
    rows,
    first_id: firstId,
    last_id: lastId,
    problems: problems.slice(0, 100),
  });

  if (!isManifest && !file.endsWith('.jsonl.gz')) {
    problems.push(`${file} is neither an archive (.jsonl.gz) nor a manifest (.manifest.json)`);
    return result();
  }
  let manifest: ArchiveManifest;
  try {
    const parsed = archiveManifestSchema.safeParse(
      JSON.parse(await readFile(manifestPath, 'utf8')),
    );
    if (!parsed.success) {
      problems.push(`the manifest ${manifestPath} is malformed: ${z.prettifyError(parsed.error)}`);
      return result();
    }
    manifest = parsed.data;
  } catch (error) {
    problems.push(`the manifest ${manifestPath} cannot be read: ${errorMessage(error)}`);
    return result();
  }
  archivePath ||= path.join(path.dirname(manifestPath), manifest.file);
  if (path.basename(archivePath) !== manifest.file) {
    problems.push(`the manifest describes ${manifest.file}, not ${path.basename(archivePath)}`);
  }

  const hash = createHash('sha256');
  const verifier = new ChainVerifier(manifest.first_id - 1, manifest.first_prev_hash);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending = '';
  const addLine = (line: string) => {
    if (line === '') return;
    rows++;
    let row: AuditRow;
    try {
      const parsed = archivedRowSchema.safeParse(JSON.parse(line));
      if (!parsed.success) {
        problems.push(`line ${rows} is not an audit entry: ${z.prettifyError(parsed.error)}`);
        return;
      }
      row = parsed.data;
    } catch (error) {
      problems.push(`line ${rows} is not JSON: ${errorMessage(error)}`);
      return;
    }
    firstId ??= row.id;
    lastId = row.id;
    verifier.add(row);
  };
  try {
    await pipeline(
      createReadStream(archivePath),
      hashingTap(hash),
      createGunzip(),
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) {
          pending += decoder.decode(chunk, { stream: true });
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) addLine(line);
        }
        pending += decoder.decode();
        addLine(pending);
      },
    );
  } catch (error) {
    problems.push(`the archive ${archivePath} cannot be read in full: ${errorMessage(error)}`);
    return result();
  }
  const sha256 = hash.digest('hex');
  if (sha256 !== manifest.sha256) {
    problems.push(`SHA-256 of ${manifest.file} is ${sha256}, the manifest says ${manifest.sha256}`);
  }
  if (rows !== manifest.rows) {
    problems.push(`${manifest.file} holds ${rows} entries, the manifest says ${manifest.rows}`);
  }
  verifier.finish(manifest.last_id, manifest.last_hash);
  for (const problem of verifier.problems) problems.push(problem.message);
  return result();
}

/**
 * Audit retention: archives entries older than `audit_retention_days` to
 * DATA_DIR/archive/audit-YYYY-MM.jsonl.gz (one canonical JSON entry per line, a SHA-256
 * manifest beside each file), checks the archives by reading them back, and only then
 * deletes the entries in batches — each batch in a transaction that also moves the chain's
 * anchor past it, so the trail in the database always verifies. Entries leave in chain
 * order only: the run takes the oldest entries up to the first one that is not yet due.
 */
export class AuditRetention {
  private running = false;
  private readonly batchSize: number;

  constructor(
    private readonly db: Database,
    private readonly audit: Pick<AuditLogger, 'logAction' | 'flush'>,
    private readonly settings: Pick<SettingsService, 'get'>,
    private readonly options: AuditRetentionOptions,
  ) {
    this.batchSize = options.batchSize ?? 5000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new RangeError('batchSize must be a positive whole number');
    }
  }

  get archiveDir(): string {
    return path.join(this.options.dataDir, 'archive');
  }

  static verifyArchive(file: string): Promise<ArchiveVerification> {
    return verifyAuditArchive(file);
  }

  async run(options: { signal?: AbortSignal } = {}): Promise<RetentionReport> {
    const started = performance.now();
    const base = {
      retention_days: null,
      cutoff: null,
      archived: 0,
      deleted: 0,
      files: [],
      archive_dir: this.archiveDir,
      first_id: null,
      last_id: null,
      partitions: null,
    };
    if (this.running) {
      return {
        ...base,
        status: 'busy',
        message: 'Audit retention is already running in this process.',
        duration_ms: 0,
      };
    }
    this.running = true;
    try {
      const { status, message, ...report } = await this.archiveAndDelete(options.signal);
      const partitions = options.signal?.aborted ? null : await this.maintainPartitions();
      return {
        status,
        message,
        ...report,
        partitions,
        duration_ms: Math.round(performance.now() - started),
      };
    } finally {
      this.running = false;
    }
  }

  private async archiveAndDelete(
    signal: AbortSignal | undefined,
  ): Promise<Omit<RetentionReport, 'partitions' | 'duration_ms'>> {
    const { audit_retention_days: days } = await this.settings.get();
    const report = {
      retention_days: days,
      cutoff: null as string | null,
      archived: 0,
      deleted: 0,
      files: [] as string[],
      archive_dir: this.archiveDir,
      first_id: null as number | null,
      last_id: null as number | null,
    };
    if (days === null) {
      return {
        ...report,
        status: 'disabled',
        message: 'audit_retention_days is not set: the audit trail is kept forever.',
      };
    }
    const now = this.options.now?.() ?? new Date();
    const cutoff = new Date(now.getTime() - days * DAY_MS);
    report.cutoff = cutoff.toISOString();

    // Entries still pending would be left out of this run's view of the chain.
    await this.audit.flush();
    const [head] = await this.db.select().from(auditChainHead).where(eq(auditChainHead.id, 1));
    if (!head) throw new AuditRetentionError('audit_chain_head is missing; run the migrations');

    // 1. Archive the due prefix of the chain, checking every link on the way.
    const verifier = new ChainVerifier(head.anchor_id, head.anchor_hash);
    const boundaries: Array<{ id: number; hash: string }> = [];
    const archives: ArchiveFile[] = [];
    let current: ArchiveFile | null = null;
    let month = '';
    let count = 0;
    let lastRow: AuditRow | null = null;
    const manifests: ArchiveManifest[] = [];
    try {
      let after = head.anchor_id > 0 ? head.anchor_id : -1;
      for (;;) {
        if (signal?.aborted) break;
        const page = await this.db
          .select()
          .from(auditLogs)
          .where(and(gt(auditLogs.id, after), lte(auditLogs.id, head.last_id)))
          .orderBy(asc(auditLogs.id))
          .limit(this.batchSize);
        let pending: AuditRow[] = [];
        let reachedRecent = false;
        for (const row of page) {
          if (row.timestamp.getTime() >= cutoff.getTime()) {
            reachedRecent = true;
            break;
          }
          verifier.add(row);
          const problem = verifier.problems[0];
          if (problem) {
            throw new AuditRetentionError(
              `the audit chain is broken at entry ${problem.id} (${problem.message}); nothing was archived or deleted — check GET /api/v1/audit/verify`,
            );
          }
          const rowMonth = utcMonth(row.timestamp);
          if (!current || rowMonth !== month) {
            await current?.write(pending);
            pending = [];
            if (current) manifests.push(await current.close(now));
            await mkdir(this.archiveDir, { recursive: true });
            current = await ArchiveFile.create(this.archiveDir, rowMonth);
            archives.push(current);
            month = rowMonth;
          }
          pending.push(row);
          lastRow = row;
          if (++count % this.batchSize === 0) boundaries.push({ id: row.id, hash: row.hash });
        }
        await current?.write(pending);
        const last = page.at(-1);
        if (reachedRecent || !last || page.length < this.batchSize) break;
        after = last.id;
      }
      if (current) manifests.push(await current.close(now));
      if (signal?.aborted) throw new AbortedRun();
      if (!lastRow) {
        return {
          ...report,
          status: 'nothing_to_archive',
          message: `No audit entries older than ${report.cutoff} are left in the database.`,
        };
      }
      if (boundaries.at(-1)?.id !== lastRow.id) {
        boundaries.push({ id: lastRow.id, hash: lastRow.hash });
      }
      await fsync(this.archiveDir);

      // 2. Read every archive back before a single row goes.
      for (const manifest of manifests) {
        const check = await verifyAuditArchive(path.join(this.archiveDir, manifest.file));
        if (!check.valid || check.rows !== manifest.rows) {
          throw new AuditRetentionError(
            `the archive ${manifest.file} did not read back intact (${check.problems[0] ?? 'row count differs'}); nothing was deleted`,
          );
        }
      }
      if (signal?.aborted) throw new AbortedRun();
    } catch (error) {
      // Nothing was deleted yet: the entries are all still in the database, so the partial
      // archives of this run are removed (earlier runs' files are never touched).
      for (const archive of archives) await archive.discard();
      if (error instanceof AbortedRun) {
        return { ...report, status: 'aborted', message: 'Stopped before anything was deleted.' };
      }
      await this.recordFailure(error, report);
      throw error;
    }

    report.archived = count;
    report.files = manifests.map((manifest) => manifest.file);
    report.first_id = head.anchor_id + 1;
    report.last_id = lastRow.id;

    // 3. Delete in batches; each batch moves the anchor with it. From here on the archives
    //    are kept whatever happens: some of their entries may already be gone.
    let from = { id: head.anchor_id, hash: head.anchor_hash };
    try {
      for (const [index, to] of boundaries.entries()) {
        if (index > 0 && signal?.aborted) {
          await this.audit.logAction(this.entry(report, { aborted: true }));
          return {
            ...report,
            status: 'aborted',
            message: `Stopped after deleting ${report.deleted} of ${count} archived entries; the next run continues.`,
          };
        }
        const isLast = index === boundaries.length - 1;
        await this.db.transaction(async (tx) => {
          await tx.execute(sql`SET LOCAL registrar.audit_retention = 'on'`);
          const deleted = await tx
            .delete(auditLogs)
            .where(
              and(
                gt(auditLogs.id, from.id),
                lte(auditLogs.id, to.id),
                // Always true for these rows; lets a partitioned table skip newer partitions.
                lt(auditLogs.timestamp, cutoff),
              ),
            )
            .returning({ id: auditLogs.id });
          if (deleted.length !== to.id - from.id) {
            throw new AuditRetentionError(
              `expected to delete entries ${from.id + 1} to ${to.id} but found ${deleted.length}; another retention run may be at work`,
            );
          }
          const moved = await tx
            .update(auditChainHead)
            .set({ anchor_id: to.id, anchor_hash: to.hash })
            .where(and(eq(auditChainHead.id, 1), eq(auditChainHead.anchor_id, from.id)))
            .returning({ id: auditChainHead.id });
          if (moved.length !== 1) {
            throw new AuditRetentionError(
              'the chain anchor moved while deleting; another retention run is at work',
            );
          }
          // The routine's own record commits with its last deletion.
          if (isLast) await this.audit.logAction(this.entry({ ...report, deleted: count }), {}, tx);
        });
        report.deleted += to.id - from.id;
        from = to;
      }
    } catch (error) {
      await this.recordFailure(error, report);
      throw error;
    }
    return {
      ...report,
      status: 'archived',
      message: `Archived and deleted ${count} audit entries older than ${report.cutoff} (ids ${report.first_id} to ${report.last_id}).`,
    };
  }

  private entry(
    report: Pick<RetentionReport, 'archived' | 'deleted' | 'files' | 'cutoff'>,
    extra: Record<string, unknown> = {},
  ): AuditEntryInput {
    return {
      action: 'OTHER',
      resource: 'SYSTEM',
      details: {
        operation: 'audit_retention',
        archived: report.archived,
        deleted: report.deleted,
        files: report.files,
        cutoff: report.cutoff,
        ...extra,
      },
    };
  }

  /** A failed run is recorded too (success=false), in its own transaction; best effort. */
  private async recordFailure(
    error: unknown,
    report: Pick<RetentionReport, 'archived' | 'deleted' | 'files' | 'cutoff'>,
  ): Promise<void> {
    await this.audit
      .logAction({ ...this.entry(report), success: false, errorMessage: errorMessage(error) })
      .catch(() => {});
  }

  /**
   * When audit_logs is partitioned (scripts/audit-partitioning.sql), creates the coming
   * months' partitions and drops past ones that retention has emptied.
   */
  private async maintainPartitions(): Promise<PartitionMaintenance | null> {
    const [installed] = await queryRows<{ fn: string | null }>(
      this.db,
      sql`SELECT to_regproc('audit_logs_maintain_partitions')::text AS fn`,
    );
    if (!installed?.fn) return null;
    try {
      const [row] = await queryRows<{ result: PartitionMaintenance }>(
        this.db,
        sql`SELECT audit_logs_maintain_partitions() AS result`,
      );
      return { created: row?.result.created ?? [], dropped: row?.result.dropped ?? [] };
    } catch (error) {
      return { created: [], dropped: [], error: errorMessage(error) };
    }
  }
}

class AbortedRun extends Error {}

/** What the scheduler logs through (Fastify's pino logger fits). */
export interface RetentionLog {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

/**
 * Runs retention once a day (first shortly after start). A failure is logged and the next
 * day's run tries again; it never takes the process down. The returned stop() cancels the
 * timers, asks a run in progress to stop between batches, and resolves when it has.
 */
export function scheduleAuditRetention(
  retention: Pick<AuditRetention, 'run'>,
  log: RetentionLog,
  {
    intervalMs = DAY_MS,
    firstRunDelayMs = 60_000,
  }: { intervalMs?: number; firstRunDelayMs?: number } = {},
): () => Promise<void> {
  const controller = new AbortController();
  let inFlight: Promise<void> | null = null;
  let interval: NodeJS.Timeout | undefined;

  const tick = () => {
    if (inFlight || controller.signal.aborted) return;
    inFlight = Promise.resolve()
      .then(() => retention.run({ signal: controller.signal }))
      .then(
        (report) => {
          if (report.status !== 'disabled' || report.partitions) {
            log.info({ auditRetention: report }, report.message);
          }
        },
        (error: unknown) => {
          log.error({ err: error }, 'audit retention failed; it will be tried again');
        },
      )
      .finally(() => {
        inFlight = null;
      });
  };

  const first = setTimeout(() => {
    tick();
    interval = setInterval(tick, intervalMs);
    interval.unref();
  }, firstRunDelayMs);
  first.unref();

  return async () => {
    controller.abort();
    clearTimeout(first);
    clearInterval(interval);
    await inFlight;
  };
}
