import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ImportFileError } from './errors.ts';
import { readTableFile } from './read-file.ts';
import { readTable } from './read-table.ts';
import type { ReadOptions, SourceRow } from './types.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'registrar-read-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function write(bytes: Buffer): string {
  files += 1;
  const file = path.join(dir, `${files}.csv`);
  writeFileSync(file, bytes);
  return file;
}

async function allRows(chunks: AsyncGenerator<SourceRow[]>): Promise<SourceRow[]> {
  const rows: SourceRow[] = [];
  for await (const chunk of chunks) rows.push(...chunk);
  return rows;
}

/**
 * A students file well over the 1 MB read size: Greek names, quoted values holding the
 * delimiter, quotes and line breaks (so some line breaks fall inside a quoted value at a
 * part's end), blank lines, title rows above the header.
 */
function largeCsv(rows: number, delimiter = ';', newline = '\r\n'): string {
  const lines = [
    'Κατάλογος μαθητών 2025',
    '',
    ['student_id', 'first_name', 'last_name', 'email', 'note'].join(delimiter),
  ];
  for (let i = 0; i < rows; i++) {
    const note =
      i % 7 === 0
        ? `"Γραμμή ένα${newline}γραμμή δύο ${delimiter} με ""εισαγωγικά"""`
        : i % 11 === 0
          ? ''
          : `Σημείωση ${i}`;
    lines.push(
      [
        `S${String(i).padStart(7, '0')}`,
        'Αικατερίνη',
        `Παπαδοπούλου ${i}`,
        `s${i}@school.test`,
        note,
      ].join(delimiter),
    );
    if (i % 997 === 0) lines.push('');
  }
  return `${lines.join(newline)}${newline}`;
}

/** Windows-1253 bytes for Greek text (Node encodes only UTF-8 and UTF-16). */
function windows1253(text: string): Buffer {
  const decoder = new TextDecoder('windows-1253');
  const byChar = new Map<string, number>();
  for (let b = 0; b < 256; b++) byChar.set(decoder.decode(Uint8Array.of(b)), b);
  return Buffer.from([...text].map((char) => byChar.get(char) ?? 0x3f));
}

async function expectSameAsWhole(bytes: Buffer, options: ReadOptions = {}) {
  expect(bytes.length).toBeGreaterThan(1 << 21);
  const whole = readTable(bytes, 'students.csv', 'students', options);
  const streamed = await readTableFile(write(bytes), 'students.csv', 'students', options);
  expect({
    headers: streamed.headers,
    headerRowNumber: streamed.headerRowNumber,
    delimiter: streamed.delimiter,
    encoding: streamed.encoding,
  }).toEqual({
    headers: whole.headers,
    headerRowNumber: whole.headerRowNumber,
    delimiter: whole.delimiter,
    encoding: whole.encoding,
  });
  const rows = await allRows(streamed.chunks());
  expect(rows.length).toBe(whole.rows.length);
  expect(rows).toEqual(whole.rows);
  return rows;
}

describe('reading a large CSV from disk a part at a time', () => {
  it('gives the same header and rows as reading it whole (UTF-8 with a BOM, CRLF, multi-line values)', async () => {
    const rows = await expectSameAsWhole(Buffer.from(`\uFEFF${largeCsv(30_000)}`, 'utf8'));
    expect(rows[0]).toMatchObject({ rowNumber: 4 });
    expect(rows.find((row) => row.cells[0] === 'S0000007')?.cells[4]).toBe(
      'Γραμμή ένα\r\nγραμμή δύο ; με "εισαγωγικά"',
    );
  });

  it('detects Windows-1253 and UTF-16 the same way', async () => {
    const text = largeCsv(40_000, ',', '\n');
    const greek = await expectSameAsWhole(windows1253(text));
    expect(greek[1]?.cells[1]).toBe('Αικατερίνη');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    await expectSameAsWhole(utf16);
  });

  it('takes the delimiter and encoding the user chose', async () => {
    const text = largeCsv(40_000, '|', '\n');
    const table = await expectSameAsWhole(windows1253(text), {
      delimiter: '|',
      encoding: 'windows-1253',
    });
    expect(table.at(-1)?.cells[0]).toBe('S0039999');
  });

  it('stops with a file error past the row limit, on bytes the encoding does not allow, and on an unclosed quote', async () => {
    const text = largeCsv(30_000);
    const limited = await readTableFile(
      write(Buffer.from(text, 'utf8')),
      'students.csv',
      'students',
      { limits: { maxRows: 10_000 } },
    );
    await expect(allRows(limited.chunks())).rejects.toMatchObject({ code: 'too-many-rows' });

    const badByte = Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0xff, 0x0a])]);
    const undecodable = await readTableFile(write(badByte), 'students.csv', 'students', {
      encoding: 'utf-8',
    });
    await expect(allRows(undecodable.chunks())).rejects.toMatchObject({ code: 'undecodable' });

    const unclosed = await readTableFile(
      write(Buffer.from(`${text}S9;"never closed\n`, 'utf8')),
      'students.csv',
      'students',
    );
    const error = await allRows(unclosed.chunks()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImportFileError);
    expect(error).toMatchObject({ code: 'unclosed-quote' });
  });
});
