import { describe, expect, it } from 'vitest';
import { decodeText, guessSingleByte } from './decode.ts';
import { ImportFileError } from './errors.ts';
import { readTable } from './index.ts';

const GREEK_CSV = 'Επώνυμο:;Όνομα:\nΧριστοδούλου;Αικατερίνη\nΛοΐζου;Σταύρος\n';
const WESTERN_CSV = 'last_name,first_name\nMüller,José\nGarçon,Renée\n';

/** Encodes text as a Windows code page, through the characters Node's decoder knows. */
function encodeSingleByte(text: string, encoding: 'windows-1253' | 'windows-1252'): Buffer {
  const decoder = new TextDecoder(encoding);
  const table = new Map<string, number>();
  for (let b = 0; b < 256; b++) table.set(decoder.decode(Uint8Array.of(b)), b);
  if (encoding === 'windows-1252') table.set('€', 0x80).set('’', 0x92);
  return Buffer.from([...text].map((c) => table.get(c) ?? 0x3f));
}

function utf16(text: string, order: 'le' | 'be', bom = true): Buffer {
  const le = Buffer.from(text, 'utf16le');
  const bytes = order === 'le' ? le : Buffer.from(le).swap16();
  const mark = order === 'le' ? [0xff, 0xfe] : [0xfe, 0xff];
  return bom ? Buffer.concat([Buffer.from(mark), bytes]) : bytes;
}

function fileError(run: () => unknown): ImportFileError {
  try {
    run();
  } catch (error) {
    if (error instanceof ImportFileError) return error;
    throw error;
  }
  throw new Error('expected an ImportFileError');
}

describe('Node TextDecoder and the Windows code pages', () => {
  it('decodes Windows-1253 Greek letters', () => {
    const decoder = new TextDecoder('windows-1253');
    expect(decoder.encoding).toBe('windows-1253');
    expect(decoder.decode(Uint8Array.of(0xc1, 0xe2, 0xe3, 0xa2, 0xf2))).toBe('ΑβγΆς');
  });

  it('maps Windows-1252 0x80-0x9F like Latin-1 in Node 20, so our decoder fixes them', () => {
    // Node 20's TextDecoder('windows-1252') gives U+0080 for 0x80, not the euro sign.
    const bytes = Uint8Array.of(0x80, 0x92, 0xe9);
    expect(decodeText(bytes, 'windows-1252').text).toBe('€’é');
  });
});

describe('decodeText', () => {
  it('reads UTF-8 with and without a BOM', () => {
    expect(decodeText(Buffer.from(`\uFEFF${GREEK_CSV}`))).toEqual({
      text: GREEK_CSV,
      encoding: 'utf-8',
    });
    expect(decodeText(Buffer.from(GREEK_CSV))).toEqual({ text: GREEK_CSV, encoding: 'utf-8' });
  });

  it('reads UTF-16 LE and BE with a BOM, and without one by their zero bytes', () => {
    expect(decodeText(utf16(GREEK_CSV, 'le'))).toEqual({ text: GREEK_CSV, encoding: 'utf-16le' });
    expect(decodeText(utf16(GREEK_CSV, 'be'))).toEqual({ text: GREEK_CSV, encoding: 'utf-16be' });
    expect(decodeText(utf16(WESTERN_CSV, 'le', false)).encoding).toBe('utf-16le');
  });

  it('tells Windows-1253 Greek from Windows-1252 Western text when the bytes are not UTF-8', () => {
    const greek = encodeSingleByte(GREEK_CSV, 'windows-1253');
    expect(decodeText(greek)).toEqual({ text: GREEK_CSV, encoding: 'windows-1253' });
    const western = encodeSingleByte(WESTERN_CSV, 'windows-1252');
    expect(decodeText(western)).toEqual({ text: WESTERN_CSV, encoding: 'windows-1252' });
    expect(
      guessSingleByte(encodeSingleByte('Καλημέρα σας, κύριε Παπαδόπουλε', 'windows-1253')),
    ).toBe('windows-1253');
    expect(guessSingleByte(encodeSingleByte('Café crème, São Paulo, Zürich', 'windows-1252'))).toBe(
      'windows-1252',
    );
  });

  it('follows the encoding override, and strips its BOM', () => {
    const western = encodeSingleByte('Müller', 'windows-1252');
    expect(decodeText(western, 'windows-1253').text).not.toBe('Müller');
    expect(decodeText(western, 'windows-1252').text).toBe('Müller');
    expect(decodeText(Buffer.from('\uFEFFabc'), 'utf-8').text).toBe('abc');
  });

  it('refuses bytes that are not text, and text that is not valid in the chosen encoding', () => {
    const binary = Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
    ]);
    expect(fileError(() => decodeText(binary)).code).toBe('undecodable');
    const latin = encodeSingleByte('name\nMüller\n', 'windows-1252');
    const error = fileError(() => decodeText(latin, 'utf-8'));
    expect(error.code).toBe('undecodable');
    expect(error.message).toContain('line 2');
  });

  it('reads a Windows-1253 CSV end to end', () => {
    const bytes = encodeSingleByte(
      'Επώνυμο:;Όνομα:;Αριθμός Δελτίου Ταυτότητας:\nΛοΐζου;Σταύρος;0800222\n',
      'windows-1253',
    );
    const table = readTable(bytes, 'old.csv', 'students');
    expect(table.encoding).toBe('windows-1253');
    expect(table.delimiter).toBe(';');
    expect(table.headers).toEqual(['Επώνυμο:', 'Όνομα:', 'Αριθμός Δελτίου Ταυτότητας:']);
    expect(table.rows[0]?.cells).toEqual(['Λοΐζου', 'Σταύρος', '0800222']);
  });
});
