import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import {
  type Database,
  type Executor,
  MIGRATIONS_DIR,
  queryRows,
} from '../../platform/db/client.ts';
import { badRequest, HttpProblem, notFound } from '../../platform/http/problems.ts';
import type { AuditEntryInput, AuditLogger, AuditOrigin } from '../audit/audit.logger.ts';
import {
  BACKUP_FORMAT,
  BACKUP_NAME_PATTERN,
  type BackupHeader,
  type BackupManifest,
  BackupReadError,
  backupFilePath,
  fileSha256,
  headerSchema,
  manifestFilePath,
  manifestSchema,
  readBackupFile,
  writeBackupFile,
} from './backup.format.ts';
import { BACKUP_TABLES, type BackupTable } from './backup.tables.ts';
import {
  clearTables,
  countRows,
  insertJsonLines,
  PAGE_ROWS,
  resetSequences,
  tablePages,
} from './table-copy.ts';

export interface SchemaVersion {
  version: number;
  tag: string;
}

interface JournalEntry {
  idx: number;
  when: number;
  tag: string;
}

const journal = (
  JSON.parse(readFileSync(path.join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as {
    entries: JournalEntry[];
  }
).entries;

/** The schema this code migrates to: the newest entry of drizzle's journal. */
export const CODE_SCHEMA: SchemaVersion = (() => {
  const last = journal.at(-1);
  if (!last) throw new Error('drizzle/meta/_journal.json lists no migration');
  return { version: last.idx, tag: last.tag };
})();

/** The newest migration applied to the database (drizzle records each one's journal time). */
async function databaseSchema(db: Executor): Promise<SchemaVersion> {
  const rows = await queryRows<{ created_at: string | number; n: string | number }>(
    db,
    sql`SELECT max(created_at) AS created_at, count(*) AS n FROM drizzle.__drizzle_migrations`,
  );
  const applied = rows[0];
  const entry = journal.find((item) => item.when === Number(applied?.created_at));
  if (entry) return { version: entry.idx, tag: entry.tag };
  return { version: Number(applied?.n ?? 0) - 1, tag: 'unknown' };
}

async function databaseMode(db: Executor): Promise<'pglite' | 'postgres'> {
  const [row] = await queryRows<{ version: string }>(db, sql`SELECT version() AS version`);
  return row?.version.includes('PGlite') ? 'pglite' : 'postgres';
}

export interface BackupProgress {
  current: number;
  total: number;
  message: string;
}

/**
 * Not awaited by the backup and restore: inside their transaction an embedded database
 * (PGlite, one connection) would make a progress write wait for the transaction to end.
 */
export type ProgressSink = (update: BackupProgress) => void;

export interface BackupListItem {
  name: string;
  created_at: string;
  kind: BackupManifest['kind'];
  size_bytes: number;
  encrypted: boolean;
  schema_version: number;
  mode: BackupManifest['mode'];
  counts: Record<string, number>;
}

export interface RestoreReport {
  name: string;
  safety_backup: string;
  counts: Record<string, number>;
}

/** A failure in one line: a database error's own message rather than drizzle's "Failed query". */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.cause instanceof Error) return error.cause.message;
  return error.message.split('\n')[0] ?? error.message;
}

const problem = (slug: string, detail: string) =>
  new HttpProblem(422, slug, 'Unprocessable Content', detail);

const utcStamp = (at: Date) => at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');

/**
 * Backups of all Registrar data to DATA_DIR/backups, and restores from them. A backup reads
 * every table in one REPEATABLE READ snapshot; a restore checks the whole file first, takes
 * a safety backup, then replaces every data table in one transaction.
 */
export class BackupService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLogger,
    private readonly options: { dataDir: string; encryptionKey: Buffer | undefined },
  ) {}

  get dir(): string {
    return path.join(this.options.dataDir, 'backups');
  }

  /** Backups with a readable manifest, newest first. */
  async list(): Promise<BackupListItem[]> {
    let files: string[];
    try {
      files = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const items: BackupListItem[] = [];
    for (const file of files) {
      const name = file.replace(/\.manifest\.json$/, '');
      if (name === file || !BACKUP_NAME_PATTERN.test(name)) continue;
      const manifest = await this.readManifest(name).catch(() => null);
      if (!manifest) continue;
      items.push({
        name,
        created_at: manifest.created_at,
        kind: manifest.kind,
        size_bytes: manifest.size_bytes,
        encrypted: manifest.encrypted,
        schema_version: manifest.schema_version,
        mode: manifest.mode,
        counts: manifest.counts,
      });
    }
    return items.sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  }

  /** The file of a backup with a readable manifest (404 otherwise), for downloading it. */
  async file(name: string): Promise<{ path: string; size: number }> {
    await this.readManifest(name);
    const file = backupFilePath(this.dir, name);
    const info = await stat(file).catch(() => undefined);
    if (!info) throw notFound('Backup', name);
    return { path: file, size: info.size };
  }

  /** Writes a backup and its manifest; a manual one is audited BACKUP_CREATE. */
  async create(
    kind: BackupManifest['kind'],
    origin: AuditOrigin,
    onProgress: ProgressSink = () => {},
    signal?: AbortSignal,
  ): Promise<BackupManifest> {
    // Sealed entries are smaller and verifiable; what is still pending is backed up too.
    await this.audit.flush();
    await mkdir(this.dir, { recursive: true });
    const name = await this.freshName(kind);
    const target = backupFilePath(this.dir, name);
    const partial = `${target}.part`;
    const key = this.options.encryptionKey;
    try {
      const { header, counts, written } = await this.db.transaction(
        async (tx) => {
          const header: BackupHeader = {
            format: BACKUP_FORMAT,
            name,
            created_at: new Date().toISOString(),
            ...schemaFields(await databaseSchema(tx)),
            mode: await databaseMode(tx),
            tables: BACKUP_TABLES.map((table) => ({ name: table.name, columns: table.columns })),
          };
          const counts: Record<string, number> = {};
          const total = await countRows(tx);
          onProgress({ current: 0, total, message: `Backing up ${total} rows` });
          const written = await writeBackupFile(
            partial,
            backupLines(tx, header, counts, total, onProgress, signal),
            key,
          );
          return { header, counts, written };
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      );
      await rename(partial, target);
      const manifest: BackupManifest = {
        format: BACKUP_FORMAT,
        name,
        file: path.basename(target),
        created_at: header.created_at,
        kind,
        mode: header.mode,
        schema_version: header.schema_version,
        schema_tag: header.schema_tag,
        encrypted: key !== undefined,
        ...written,
        counts,
      };
      const manifestFile = manifestFilePath(this.dir, name);
      await writeFile(`${manifestFile}.part`, `${JSON.stringify(manifest, null, 2)}\n`, {
        mode: 0o600,
      });
      await rename(`${manifestFile}.part`, manifestFile);
      // A restore records its safety backup in its own transaction.
      if (kind === 'manual') await this.audit.logAction(createdEntry(manifest), origin);
      return manifest;
    } catch (error) {
      await rm(partial, { force: true });
      await rm(target, { force: true });
      if (kind === 'manual') {
        await this.audit
          .logAction(
            {
              action: 'BACKUP_CREATE',
              resource: 'SYSTEM',
              resourceId: name,
              success: false,
              errorMessage: describeError(error),
            },
            origin,
          )
          .catch(() => undefined);
      }
      throw error;
    }
  }

  /**
   * Checks a backup completely without writing anything: the manifest, the schema version,
   * the size and SHA-256 of the file, the key (the GCM tag covers the whole file), and the
   * decompressed content line by line against the counts. Throws a 4xx problem.
   */
  async validate(name: string): Promise<{ manifest: BackupManifest; header: BackupHeader }> {
    if (!BACKUP_NAME_PATTERN.test(name)) {
      throw badRequest('A backup name has only letters, digits, - and _.', [
        { field: 'name', message: 'must match [A-Za-z0-9][A-Za-z0-9_-]*' },
      ]);
    }
    const manifest = await this.readManifest(name);
    if (manifest.schema_version > CODE_SCHEMA.version) {
      throw problem(
        'backup-newer-schema',
        `Backup ${name} comes from a newer Registrar (schema ${manifest.schema_version} ${manifest.schema_tag}; this one is at ${CODE_SCHEMA.version} ${CODE_SCHEMA.tag}). Upgrade Registrar, then restore it.`,
      );
    }
    const key = this.options.encryptionKey;
    if (manifest.encrypted && !key) {
      throw problem(
        'backup-key-required',
        `Backup ${name} is encrypted; set BACKUP_ENCRYPTION_KEY to the key it was made with.`,
      );
    }
    const file = backupFilePath(this.dir, name);
    const size = await stat(file).then(
      (info) => info.size,
      () => null,
    );
    if (size === null) throw problem('backup-file-missing', `The file ${name}.backup is missing.`);
    if (size < manifest.size_bytes) {
      throw problem(
        'backup-truncated',
        `Backup ${name} is truncated: the file has ${size} bytes, the manifest says ${manifest.size_bytes}.`,
      );
    }
    if (size !== manifest.size_bytes || (await fileSha256(file)) !== manifest.sha256) {
      throw problem(
        'backup-checksum-mismatch',
        `Backup ${name} does not match its manifest's SHA-256 checksum: the file was altered or damaged.`,
      );
    }
    const checker = new ContentChecker();
    try {
      const { content_sha256 } = await readBackupFile(
        file,
        manifest.encrypted ? key : undefined,
        (line) => checker.line(line),
      );
      checker.finish();
      if (content_sha256 !== manifest.content_sha256) {
        throw new BackupReadError('corrupt', 'The content does not match its checksum.');
      }
    } catch (error) {
      if (!(error instanceof BackupReadError)) throw error;
      throw problem(
        error.reason === 'wrong-key' ? 'backup-wrong-key' : 'backup-corrupt',
        `Backup ${name}: ${error.message}`,
      );
    }
    const header = checker.header as BackupHeader;
    checkCompatible(name, manifest, header, checker.counts);
    return { manifest, header };
  }

  /**
   * Validates the backup, takes a safety backup, then in one transaction deletes every data
   * table and inserts the backup's rows; any failure rolls the whole restore back.
   */
  async restore(
    name: string,
    origin: AuditOrigin,
    onProgress: ProgressSink = () => {},
    signal?: AbortSignal,
  ): Promise<RestoreReport> {
    const { manifest, header } = await this.validate(name);
    onProgress({ current: 0, total: 0, message: 'Taking a safety backup' });
    const safety = await this.create('safety', origin, () => {}, signal);
    const total = Object.values(manifest.counts).reduce((sum, n) => sum + n, 0);
    const entries: AuditEntryInput[] = [
      createdEntry(safety),
      {
        action: 'BACKUP_RESTORE',
        resource: 'SYSTEM',
        resourceId: name,
        details: {
          safety_backup: safety.name,
          backup_created_at: manifest.created_at,
          backup_mode: manifest.mode,
          schema_version: manifest.schema_version,
          counts: manifest.counts,
        },
      },
    ];
    try {
      await this.db.transaction(async (tx) => {
        await clearTables(tx);
        // Cancelling (between pages) rolls the whole restore back.
        const inserter = new RowInserter(tx, header, total, onProgress, signal);
        await readBackupFile(
          backupFilePath(this.dir, name),
          manifest.encrypted ? this.options.encryptionKey : undefined,
          (line) => inserter.line(line),
        );
        await resetSequences(tx);
        // In the restored trail, so the chain goes on from the backup's last entry.
        await this.audit.append(tx, origin, entries);
      });
    } catch (error) {
      await this.audit
        .logAction(
          {
            ...(entries[1] as AuditEntryInput),
            success: false,
            errorMessage: describeError(error),
          },
          origin,
        )
        .catch(() => undefined);
      await this.audit.logAction(entries[0] as AuditEntryInput, origin).catch(() => undefined);
      throw error;
    }
    return { name, safety_backup: safety.name, counts: manifest.counts };
  }

  private async readManifest(name: string): Promise<BackupManifest> {
    let text: string;
    try {
      text = await readFile(manifestFilePath(this.dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notFound('Backup', name);
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw problem('backup-manifest-invalid', `The manifest of backup ${name} is not JSON.`);
    }
    const result = manifestSchema.safeParse(parsed);
    if (!result.success) {
      throw problem(
        'backup-manifest-invalid',
        `The manifest of backup ${name} is not a Registrar backup manifest (${BACKUP_FORMAT}).`,
      );
    }
    return result.data;
  }

  /** registrar-YYYYMMDD-HHMMSS[-safety], with -2, -3… when that second is taken. */
  private async freshName(kind: BackupManifest['kind']): Promise<string> {
    const base = `registrar-${utcStamp(new Date())}${kind === 'safety' ? '-safety' : ''}`;
    const taken = new Set(await readdir(this.dir));
    for (let n = 1; ; n++) {
      const name = n === 1 ? base : `${base}-${n}`;
      const file = `${name}.backup`;
      if (!taken.has(file) && !taken.has(`${file}.part`) && !taken.has(`${name}.manifest.json`)) {
        return name;
      }
    }
  }
}

function schemaFields(schema: SchemaVersion) {
  return { schema_version: schema.version, schema_tag: schema.tag };
}

function createdEntry(manifest: BackupManifest): AuditEntryInput {
  return {
    action: 'BACKUP_CREATE',
    resource: 'SYSTEM',
    resourceId: manifest.name,
    details: {
      kind: manifest.kind,
      encrypted: manifest.encrypted,
      size_bytes: manifest.size_bytes,
      sha256: manifest.sha256,
      schema_version: manifest.schema_version,
      counts: manifest.counts,
    },
  };
}

/** The backup's lines, a keyset page per chunk: memory stays flat however large a table is. */
async function* backupLines(
  tx: Executor,
  header: BackupHeader,
  counts: Record<string, number>,
  total: number,
  onProgress: ProgressSink,
  signal: AbortSignal | undefined,
): AsyncGenerator<string> {
  yield `${JSON.stringify(header)}\n`;
  let done = 0;
  for (const table of BACKUP_TABLES) {
    yield `${JSON.stringify(['table', table.name])}\n`;
    let rows = 0;
    onProgress({ current: done, total, message: `Backed up ${table.name}: 0 rows` });
    for await (const page of tablePages(tx, table, signal)) {
      yield `${page.join('\n')}\n`;
      rows += page.length;
      done += page.length;
      onProgress({ current: done, total, message: `Backed up ${table.name}: ${rows} rows` });
    }
    counts[table.name] = rows;
    yield `${JSON.stringify(['end', table.name, rows])}\n`;
  }
  yield `${JSON.stringify(['end_backup', BACKUP_TABLES.length])}\n`;
}

const corrupt = (message: string) => new BackupReadError('corrupt', message);

/** Reads a backup's lines in order and checks their structure and counts. */
class ContentChecker {
  header: BackupHeader | null = null;
  readonly counts: Record<string, number> = {};
  private table: string | null = null;
  private rows = 0;
  private ended = false;

  line(line: string): void {
    if (this.ended) throw corrupt('There is data after the end of the backup.');
    if (!this.header) {
      const parsed = headerSchema.safeParse(parseJson(line));
      if (!parsed.success) throw corrupt('The first line is not a Registrar backup header.');
      this.header = parsed.data;
      return;
    }
    const value = parseJson(line);
    if (!Array.isArray(value)) {
      if (this.table === null || typeof value !== 'object' || value === null) {
        throw corrupt('A row appears outside of a table.');
      }
      this.rows++;
      return;
    }
    const [marker, name, count] = value as [unknown, unknown, unknown];
    if (marker === 'table' && this.table === null && typeof name === 'string') {
      if (!this.header.tables.some((table) => table.name === name) || name in this.counts) {
        throw corrupt(`Unexpected table ${name}.`);
      }
      this.table = name;
      this.rows = 0;
    } else if (marker === 'end' && name === this.table && this.table !== null) {
      if (count !== this.rows) {
        throw corrupt(`Table ${this.table} has ${this.rows} rows, its end line says ${count}.`);
      }
      this.counts[this.table] = this.rows;
      this.table = null;
    } else if (marker === 'end_backup' && this.table === null) {
      this.ended = true;
    } else {
      throw corrupt(`Unexpected line: ${line.slice(0, 80)}`);
    }
  }

  finish(): void {
    if (!this.ended) throw corrupt('The backup is truncated: its end marker is missing.');
  }
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw corrupt(`A line is not JSON: ${line.slice(0, 80)}`);
  }
}

/** The backup against its manifest and against the tables of this version of Registrar. */
function checkCompatible(
  name: string,
  manifest: BackupManifest,
  header: BackupHeader,
  counts: Record<string, number>,
): void {
  if (
    header.schema_version !== manifest.schema_version ||
    header.tables.length !== Object.keys(counts).length
  ) {
    throw problem('backup-corrupt', `Backup ${name}: its content does not match its manifest.`);
  }
  for (const [table, count] of Object.entries(counts)) {
    if (manifest.counts[table] !== count) {
      throw problem(
        'backup-corrupt',
        `Backup ${name}: table ${table} has ${count} rows, the manifest says ${manifest.counts[table]}.`,
      );
    }
  }
  // An older backup restores when every column it holds still exists (new ones get defaults).
  for (const saved of header.tables) {
    const current = BACKUP_TABLES.find((table) => table.name === saved.name);
    const gone = saved.columns.filter((column) => !current?.columns.includes(column));
    if (!current || gone.length > 0) {
      throw problem(
        'backup-incompatible',
        `Backup ${name} holds ${current ? `columns ${gone.join(', ')} of ${saved.name}` : `table ${saved.name}`}, which this version of Registrar no longer has; restore it with the version that made it (schema ${manifest.schema_tag}).`,
      );
    }
  }
}

/** Collects each table's rows from the backup and inserts them, a page per statement. */
class RowInserter {
  private started = false;
  private table: BackupTable | null = null;
  private columns: string[] = [];
  private batch: string[] = [];
  private done = 0;

  constructor(
    private readonly tx: Executor,
    private readonly header: BackupHeader,
    private readonly total: number,
    private readonly onProgress: ProgressSink,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async line(line: string): Promise<void> {
    if (!this.started) {
      this.started = true;
      return;
    }
    if (line.startsWith('[')) {
      const [marker, name] = JSON.parse(line) as [string, string];
      if (marker === 'table') {
        this.table = BACKUP_TABLES.find((table) => table.name === name) ?? null;
        this.columns = this.header.tables.find((table) => table.name === name)?.columns ?? [];
        if (!this.table) throw new Error(`Unknown table ${name} in the backup`);
      } else if (marker === 'end') {
        await this.flush();
        this.table = null;
      }
      return;
    }
    this.batch.push(line);
    if (this.batch.length >= PAGE_ROWS) await this.flush();
  }

  private async flush(): Promise<void> {
    const table = this.table;
    if (!table || this.batch.length === 0) return;
    this.signal?.throwIfAborted();
    await insertJsonLines(this.tx, table, this.columns, this.batch);
    this.done += this.batch.length;
    this.batch = [];
    this.onProgress({
      current: this.done,
      total: this.total,
      message: `Restored ${table.name}`,
    });
  }
}
