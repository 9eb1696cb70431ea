import { isUtf8 } from 'node:buffer';
import { ImportFileError } from './errors.ts';
import type { Encoding } from './types.ts';

/**
 * Bytes to text. A byte-order mark wins; then UTF-16 without a mark (every other byte zero);
 * then strict UTF-8; then, since any byte string "decodes" as a single-byte encoding, a guess
 * between Windows-1253 (Greek) and Windows-1252 (Western) from the shape of the words.
 */
export function decodeText(
  bytes: Uint8Array,
  override?: Encoding,
): { text: string; encoding: Encoding } {
  const bom = byteOrderMark(bytes);
  if (override) {
    const skip = bom && bom.encoding === override ? bom.length : 0;
    return { text: decodeAs(bytes.subarray(skip), override), encoding: override };
  }
  if (bom)
    return { text: decodeAs(bytes.subarray(bom.length), bom.encoding), encoding: bom.encoding };

  const utf16 = sniffUtf16(bytes);
  if (utf16) return { text: decodeAs(bytes, utf16), encoding: utf16 };

  const utf8 = tryUtf8(bytes);
  if (utf8 !== null) return { text: utf8, encoding: 'utf-8' };

  if (looksBinary(bytes)) {
    throw new ImportFileError(
      'undecodable',
      'The file is not text: it holds control bytes no CSV has. Upload a CSV, XLSX or JSON file.',
    );
  }
  const encoding = guessSingleByte(bytes);
  return { text: decodeAs(bytes, encoding), encoding };
}

function byteOrderMark(bytes: Uint8Array): { encoding: Encoding; length: number } | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { encoding: 'utf-8', length: 3 };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return null;
}

/** UTF-16 text of mostly ASCII/Greek has a zero in every other byte. */
function sniffUtf16(bytes: Uint8Array): Encoding | null {
  const n = Math.min(bytes.length, 4096) & ~1;
  if (n < 4) return null;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenZeros++;
    if (bytes[i + 1] === 0) oddZeros++;
  }
  const pairs = n / 2;
  if (oddZeros > pairs * 0.4 && evenZeros < pairs * 0.05) return 'utf-16le';
  if (evenZeros > pairs * 0.4 && oddZeros < pairs * 0.05) return 'utf-16be';
  return null;
}

/** Strict UTF-8: validated first (simdutf, fast), then decoded. */
function tryUtf8(bytes: Uint8Array): string | null {
  if (!isUtf8(bytes)) return null;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** Control bytes other than tab, line feed, form feed and carriage return. */
function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 65536);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0) return true;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d) control++;
  }
  return control > n * 0.01;
}

/** Bytes with no character in each code page (WHATWG indexes). */
const UNDEFINED_1253 = new Set([
  0x81, 0x88, 0x8a, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x98, 0x9a, 0x9c, 0x9d, 0x9e, 0x9f, 0xaa, 0xd2,
  0xff,
]);
const UNDEFINED_1252 = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

/** A letter in Windows-1253: Greek letters, and the accented capitals Ά Έ Ή Ί Ό Ύ Ώ. */
function isHighLetter(b: number): boolean {
  return (
    (b >= 0xc0 && b <= 0xfe && b !== 0xd7 && b !== 0xf7) ||
    b === 0xa2 ||
    (b >= 0xb8 && b <= 0xbf && b !== 0xbb && b !== 0xbd)
  );
}

function isAsciiLetter(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/**
 * Greek words are written entirely in bytes above 0x7F, while Western European words are ASCII
 * letters with an accented letter here and there ("café", "Müller"). Counting words of each
 * shape tells the two code pages apart; bytes a code page does not define rule it out.
 */
export function guessSingleByte(bytes: Uint8Array): 'windows-1253' | 'windows-1252' {
  let greekWords = 0;
  let latinWords = 0;
  let high = 0;
  let ascii = 0;
  let has1253Hole = false;
  let has1252Hole = false;
  const n = bytes.length;
  for (let i = 0; i <= n; i++) {
    const b = i < n ? bytes[i]! : 0x20;
    if (b >= 0x80) {
      if (UNDEFINED_1253.has(b)) has1253Hole = true;
      if (UNDEFINED_1252.has(b)) has1252Hole = true;
    }
    if (isHighLetter(b)) high++;
    else if (isAsciiLetter(b)) ascii++;
    else {
      if (high >= 2 && ascii === 0) greekWords++;
      else if (high >= 1 && ascii >= 1) latinWords++;
      high = 0;
      ascii = 0;
    }
  }
  if (has1253Hole && !has1252Hole) return 'windows-1252';
  if (has1252Hole && !has1253Hole) return 'windows-1253';
  if (has1253Hole && has1252Hole) {
    throw new ImportFileError(
      'undecodable',
      'The file is neither UTF-8 nor a Windows code page this service reads (1253, 1252). Save it as CSV UTF-8.',
    );
  }
  return greekWords > latinWords ? 'windows-1253' : 'windows-1252';
}

/** Windows-1252 0x80-0x9F (the rest is Latin-1). Node 20's TextDecoder maps these to C1 controls. */
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

function decodeWindows1252(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return latin1.replace(/[\u0080-\u009f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);
}

/** Strict decoding: bytes that are not valid in the encoding are a file error, not U+FFFD. */
export function decodeAs(bytes: Uint8Array, encoding: Encoding): string {
  if (encoding === 'windows-1252') return decodeWindows1252(bytes);
  if (encoding === 'utf-8') {
    const text = tryUtf8(bytes);
    if (text !== null) return text;
  }
  try {
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new ImportFileError(
      'undecodable',
      `The file is not valid ${encoding.toUpperCase()} text${badByteHint(bytes, encoding)}. Choose the file's encoding, or save it as CSV UTF-8.`,
    );
  }
}

/** Where the first invalid UTF-8 sequence is, as a line number, to help find it. */
function badByteHint(bytes: Uint8Array, encoding: Encoding): string {
  if (encoding !== 'utf-8') return '';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        return ` (line ${line})`;
      }
      line++;
      start = i + 1;
    }
  }
  return ` (line ${line})`;
}

/**
 * The encoding of a file too large to hold, from its first bytes; the same rules as
 * decodeText. The rest of the file is checked as it is decoded (streamDecoder).
 */
export function detectEncoding(
  sample: Uint8Array,
  override?: Encoding,
): { encoding: Encoding; bomLength: number } {
  const bom = byteOrderMark(sample);
  if (override)
    return { encoding: override, bomLength: bom?.encoding === override ? bom.length : 0 };
  if (bom) return { encoding: bom.encoding, bomLength: bom.length };
  const utf16 = sniffUtf16(sample);
  if (utf16) return { encoding: utf16, bomLength: 0 };
  if (isUtf8(withoutCutCharacter(sample))) return { encoding: 'utf-8', bomLength: 0 };
  if (looksBinary(sample)) {
    throw new ImportFileError(
      'undecodable',
      'The file is not text: it holds control bytes no CSV has. Upload a CSV, XLSX or JSON file.',
    );
  }
  return { encoding: guessSingleByte(sample), bomLength: 0 };
}

/** The sample without a UTF-8 sequence its end may have cut in two. */
function withoutCutCharacter(sample: Uint8Array): Uint8Array {
  for (let back = 1; back <= 3 && back <= sample.length; back++) {
    const b = sample[sample.length - back]!;
    if ((b & 0xc0) === 0x80) continue;
    return b >= 0xc0 ? sample.subarray(0, sample.length - back) : sample;
  }
  return sample;
}

/**
 * Decodes a file a part at a time (`final` for the last call), strictly: bytes that are not
 * valid in the encoding are a file error, as in decodeAs.
 */
export function streamDecoder(encoding: Encoding): (bytes: Uint8Array, final: boolean) => string {
  if (encoding === 'windows-1252') return (bytes) => decodeWindows1252(bytes);
  const decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: true });
  return (bytes, final) => {
    try {
      return decoder.decode(bytes, { stream: !final });
    } catch {
      throw new ImportFileError(
        'undecodable',
        `The file is not valid ${encoding.toUpperCase()} text. Choose the file's encoding, or save it as CSV UTF-8.`,
      );
    }
  };
}
