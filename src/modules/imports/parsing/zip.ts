import { Inflate } from 'fflate';
import { ImportFileError } from './errors.ts';

/**
 * A minimal ZIP reader for XLSX packages, built for hostile input: the central directory is
 * read first and the declared sizes are checked against the limit before anything is inflated;
 * then each part is inflated in small steps, counting the bytes that really come out, so a
 * part that lies about its size is stopped as soon as it passes what it declared.
 */
export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function notXlsx(message: string): ImportFileError {
  return new ImportFileError('not-xlsx', message);
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;
  /** Bytes inflated so far, across every part read. */
  private inflated = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly maxUncompressedBytes: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.readCentralDirectory();
    let declared = 0;
    for (const entry of this.entries.values()) declared += entry.uncompressedSize;
    if (declared > maxUncompressedBytes) {
      throw new ImportFileError(
        'too-large',
        `The workbook unpacks to ${formatBytes(declared)}, more than the ${formatBytes(maxUncompressedBytes)} allowed.`,
      );
    }
  }

  private u16(offset: number): number {
    return this.view.getUint16(offset, true);
  }

  private u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }

  private u64(offset: number): number {
    const value = this.view.getBigUint64(offset, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      throw notXlsx('The workbook is damaged (a size is out of range).');
    return Number(value);
  }

  private readCentralDirectory(): void {
    const n = this.bytes.length;
    if (n < 22) throw notXlsx('The file is not a complete XLSX workbook (it is cut short).');
    let eocd = -1;
    for (let i = n - 22; i >= Math.max(0, n - 22 - 65535); i--) {
      if (this.u32(i) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0)
      throw notXlsx('The file is not a complete XLSX workbook (its directory is missing).');
    let count = this.u16(eocd + 10);
    let size = this.u32(eocd + 12);
    let offset = this.u32(eocd + 16);
    if (
      (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) &&
      eocd >= 20 &&
      this.u32(eocd - 20) === ZIP64_LOCATOR
    ) {
      const record = this.u64(eocd - 12);
      if (record + 56 > n || this.u32(record) !== ZIP64_EOCD)
        throw notXlsx('The workbook is damaged.');
      count = this.u64(record + 32);
      size = this.u64(record + 40);
      offset = this.u64(record + 48);
    }
    if (offset + size > n)
      throw notXlsx('The workbook is damaged (its directory points past the end).');
    let p = offset;
    for (let k = 0; k < count; k++) {
      if (p + 46 > n || this.u32(p) !== CENTRAL)
        throw notXlsx('The workbook is damaged (bad directory entry).');
      const flags = this.u16(p + 8);
      const method = this.u16(p + 10);
      let compressedSize = this.u32(p + 20);
      let uncompressedSize = this.u32(p + 24);
      const nameLength = this.u16(p + 28);
      const extraLength = this.u16(p + 30);
      const commentLength = this.u16(p + 32);
      let localHeaderOffset = this.u32(p + 42);
      const name = new TextDecoder().decode(this.bytes.subarray(p + 46, p + 46 + nameLength));
      // Zip64: the real values follow in the extra field, in this order, for each one marked.
      let e = p + 46 + nameLength;
      const extraEnd = e + extraLength;
      while (e + 4 <= extraEnd) {
        const id = this.u16(e);
        const length = this.u16(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (uncompressedSize === 0xffffffff) {
            uncompressedSize = this.u64(q);
            q += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = this.u64(q);
            q += 8;
          }
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = this.u64(q);
        }
        e += 4 + length;
      }
      if (flags & 1) {
        throw notXlsx('The workbook is encrypted (password-protected); save an unprotected copy.');
      }
      this.entries.set(name.replace(/^\//, ''), {
        name,
        method,
        flags,
        compressedSize,
        uncompressedSize,
        localHeaderOffset,
      });
      p = extraEnd + commentLength;
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /**
   * Streams a part's bytes to `onChunk` (return false to stop early). Inflation goes in small
   * steps of compressed input, so no step can produce more than a few megabytes.
   */
  read(name: string, onChunk: (chunk: Uint8Array) => boolean | undefined): void {
    const entry = this.entries.get(name);
    if (!entry) throw notXlsx(`The workbook is damaged (the part ${name} is missing).`);
    const p = entry.localHeaderOffset;
    if (p + 30 > this.bytes.length || this.u32(p) !== LOCAL) {
      throw notXlsx(`The workbook is damaged (the part ${name} is unreadable).`);
    }
    const start = p + 30 + this.u16(p + 26) + this.u16(p + 28);
    const end = start + entry.compressedSize;
    if (end > this.bytes.length)
      throw notXlsx(`The workbook is damaged (the part ${name} is cut short).`);
    const data = this.bytes.subarray(start, end);

    let produced = 0;
    const count = (chunk: Uint8Array): boolean => {
      produced += chunk.length;
      this.inflated += chunk.length;
      if (produced > entry.uncompressedSize || this.inflated > this.maxUncompressedBytes) {
        throw new ImportFileError(
          'too-large',
          produced > entry.uncompressedSize
            ? `The workbook's part ${name} holds more than the ${formatBytes(entry.uncompressedSize)} it declares: the file is damaged or built to exhaust memory.`
            : `The workbook unpacks to more than the ${formatBytes(this.maxUncompressedBytes)} allowed.`,
        );
      }
      return onChunk(chunk) !== false;
    };

    if (entry.method === 0) {
      for (let i = 0; i < data.length; i += 65536) {
        if (!count(data.subarray(i, Math.min(i + 65536, data.length)))) return;
      }
      return;
    }
    if (entry.method !== 8) {
      throw notXlsx(
        `The workbook uses a compression method (${entry.method}) XLSX files do not use.`,
      );
    }
    const stop = Symbol('stop');
    const inflate = new Inflate((chunk) => {
      if (chunk.length > 0 && !count(chunk)) throw stop;
    });
    const step = 16384;
    try {
      for (let i = 0; i < data.length; i += step) {
        const last = i + step >= data.length;
        inflate.push(data.subarray(i, Math.min(i + step, data.length)), last);
      }
      if (data.length === 0) inflate.push(new Uint8Array(0), true);
    } catch (error) {
      if (error === stop) return;
      if (error instanceof ImportFileError) throw error;
      throw notXlsx(`The workbook is damaged (the part ${name} does not unpack).`);
    }
    if (produced !== entry.uncompressedSize) {
      throw notXlsx(`The workbook is damaged (the part ${name} is shorter than it declares).`);
    }
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 102.4) / 10} KB`;
  return `${bytes} bytes`;
}
