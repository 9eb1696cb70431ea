import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { appendFile, open } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, createGzip } from 'node:zlib';
import { z } from 'zod';

/**
 * A backup is two files in DATA_DIR/backups: NAME.backup, gzip of JSON lines (encrypted
 * with AES-256-GCM when a key is set), and NAME.manifest.json, written last. The lines:
 *
 *   {"format": "registrar-backup/1", "schema_version": …, "tables": [{name, columns}], …}
 *   ["table", "students"]          then one line per row: the row as to_jsonb() wrote it
 *   ["end", "students", 1234]      the table's row count
 *   ["end_backup", 12]             the number of tables: a file without it is truncated
 */
export const BACKUP_FORMAT = 'registrar-backup/1';

/** Letters, digits, - and _ only: a name can never leave the backups folder. */
export const BACKUP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** Encrypted files start with this, then the 12-byte IV; the 16-byte GCM tag ends them. */
const ENCRYPTED_MAGIC = Buffer.from('RGBKENC1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const manifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  name: z.string().regex(BACKUP_NAME_PATTERN),
  file: z.string(),
  created_at: z.string(),
  /** manual: asked for; safety: taken by a restore just before it replaced the data. */
  kind: z.enum(['manual', 'safety']),
  mode: z.enum(['pglite', 'postgres']),
  /** The index of the newest applied migration (drizzle/meta/_journal.json) and its tag. */
  schema_version: z.number().int().min(0),
  schema_tag: z.string(),
  encrypted: z.boolean(),
  size_bytes: z.number().int().min(0),
  /** SHA-256 of NAME.backup as stored (after compression and encryption). */
  sha256: sha256Hex,
  /** SHA-256 of the JSON lines before compression. */
  content_sha256: sha256Hex,
  counts: z.record(z.string(), z.number().int().min(0)),
});

export type BackupManifest = z.infer<typeof manifestSchema>;

export const headerSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  name: z.string(),
  created_at: z.string(),
  schema_version: z.number().int().min(0),
  schema_tag: z.string(),
  mode: z.enum(['pglite', 'postgres']),
  tables: z.array(z.object({ name: z.string(), columns: z.array(z.string()).min(1) })),
});

export type BackupHeader = z.infer<typeof headerSchema>;

export const backupFilePath = (dir: string, name: string) => path.join(dir, `${name}.backup`);
export const manifestFilePath = (dir: string, name: string) =>
  path.join(dir, `${name}.manifest.json`);

export interface WrittenFile {
  size_bytes: number;
  sha256: string;
  content_sha256: string;
}

/** Writes chunks of JSON lines compressed (and encrypted) to `target`, hashing both sides. */
export async function writeBackupFile(
  target: string,
  chunks: AsyncIterable<string>,
  key: Buffer | undefined,
): Promise<WrittenFile> {
  const content = createHash('sha256');
  const stored = createHash('sha256');
  let size = 0;
  async function* text() {
    for await (const chunk of chunks) {
      const bytes = Buffer.from(chunk, 'utf8');
      content.update(bytes);
      yield bytes;
    }
  }
  const iv = randomBytes(IV_BYTES);
  const cipher = key ? createCipheriv('aes-256-gcm', key, iv) : null;
  async function* tap(source: AsyncIterable<Buffer>) {
    if (cipher) {
      const prefix = Buffer.concat([ENCRYPTED_MAGIC, iv]);
      stored.update(prefix);
      size += prefix.length;
      yield prefix;
    }
    for await (const chunk of source) {
      stored.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  const output = createWriteStream(target, { mode: 0o600 });
  if (cipher) {
    await pipeline(Readable.from(text()), createGzip(), cipher, tap, output);
    const tag = cipher.getAuthTag();
    await appendFile(target, tag);
    stored.update(tag);
    size += tag.length;
  } else {
    await pipeline(Readable.from(text()), createGzip(), tap, output);
  }
  return { size_bytes: size, sha256: stored.digest('hex'), content_sha256: content.digest('hex') };
}

export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Why reading a backup file failed, so that the caller can name it. */
export class BackupReadError extends Error {
  constructor(
    readonly reason: 'not-encrypted-as-said' | 'wrong-key' | 'corrupt',
    message: string,
  ) {
    super(message);
    this.name = 'BackupReadError';
  }
}

/**
 * Decrypts (when `key` is given) and decompresses the file, calling `onLine` for each line
 * in order and awaiting it. The GCM tag is checked at the end of the file: a caller that
 * must not act on unauthenticated data reads the whole file once first.
 */
export async function readBackupFile(
  file: string,
  key: Buffer | undefined,
  onLine: (line: string) => Promise<void> | void,
): Promise<{ content_sha256: string }> {
  const content = createHash('sha256');
  const decoder = new StringDecoder('utf8');
  let pending = '';
  // What onLine threw: the pipeline may report the streams' AbortError instead.
  let failure: { error: unknown } | null = null;
  const deliver = async (line: string) => {
    try {
      await onLine(line);
    } catch (error) {
      failure = { error };
      throw error;
    }
  };
  async function consume(source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      content.update(chunk);
      pending += decoder.write(chunk);
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        await deliver(line);
        newline = pending.indexOf('\n');
      }
    }
    pending += decoder.end();
    if (pending !== '') await deliver(pending);
  }
  try {
    if (!key) {
      await pipeline(createReadStream(file), createGunzip(), consume);
    } else {
      const { iv, tag, size } = await encryptionFrame(file);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(tag);
      const body = createReadStream(file, {
        start: ENCRYPTED_MAGIC.length + IV_BYTES,
        end: size - TAG_BYTES - 1,
      });
      await pipeline(body, decipher, createGunzip(), consume);
    }
  } catch (error) {
    if (failure) throw (failure as { error: unknown }).error;
    if (error instanceof BackupReadError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (key && /unable to authenticate|bad decrypt/i.test(message)) {
      throw new BackupReadError(
        'wrong-key',
        'The backup cannot be decrypted with BACKUP_ENCRYPTION_KEY: wrong key (or the file was altered).',
      );
    }
    if ((error as { code?: string }).code?.startsWith('Z_')) {
      throw new BackupReadError('corrupt', `The backup is truncated or corrupt: ${message}.`);
    }
    throw error;
  }
  return { content_sha256: content.digest('hex') };
}

async function encryptionFrame(file: string): Promise<{ iv: Buffer; tag: Buffer; size: number }> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(ENCRYPTED_MAGIC.length + IV_BYTES);
    const tag = Buffer.alloc(TAG_BYTES);
    if (size < head.length + TAG_BYTES) {
      throw new BackupReadError('corrupt', 'The backup is truncated: too short to be encrypted.');
    }
    await handle.read(head, 0, head.length, 0);
    await handle.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
    if (!head.subarray(0, ENCRYPTED_MAGIC.length).equals(ENCRYPTED_MAGIC)) {
      throw new BackupReadError(
        'not-encrypted-as-said',
        'The manifest says the backup is encrypted, but the file is not.',
      );
    }
    return { iv: head.subarray(ENCRYPTED_MAGIC.length), tag, size };
  } finally {
    await handle.close();
  }
}
