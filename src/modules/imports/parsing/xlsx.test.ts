import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Deflate, strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../../../../test/support/fixtures.ts';
import { ImportFileError } from './errors.ts';
import { mapHeaders, normalizeRow, type ReadOptions, readTable } from './index.ts';
import { isDateFormat, serialToDate } from './xlsx.ts';
import {
  buildXlsx,
  concatBytes,
  patchDeclaredSize,
  unzipAll,
  type WorkbookSpec,
  withDeflatedPart,
} from './xlsx-builder.test-support.ts';

const FIXTURES = FIXTURES_DIR;
const HEADER = ['student_id', 'first_name', 'last_name', 'enrollment_date'];

function read(spec: WorkbookSpec | Uint8Array, options?: ReadOptions) {
  const bytes = spec instanceof Uint8Array ? spec : buildXlsx(spec);
  return readTable(Buffer.from(bytes), 'students.xlsx', 'students', options);
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

const utc = (y: number, m: number, d: number, h = 0, min = 0) =>
  new Date(Date.UTC(y, m - 1, d, h, min));

describe('XLSX cells', () => {
  it('reads shared strings, inline strings, numbers, booleans and errors', () => {
    const table = read({
      sheets: [
        {
          name: 'Students',
          rows: [
            ['student_id', 'first_name', 'last_name', 'study_year', 'is_active', 'note'],
            [
              'S1',
              { t: 'inlineStr', is: '<is><t>Ann</t></is>' },
              {
                t: 'inlineStr',
                is: '<is><r><t>Le</t></r><r><rPr><b/></rPr><t xml:space="preserve">e</t></r></is>',
              },
              2,
              true,
              { t: 'e', v: '#N/A' },
            ],
          ],
        },
      ],
    });
    expect(table.format).toBe('xlsx');
    expect(table.sheet).toBe('Students');
    expect(table.rows).toEqual([{ rowNumber: 2, cells: ['S1', 'Ann', 'Lee', 2, true, '#N/A'] }]);
  });

  it('decodes XML entities, character references and Excel _xHHHH_ escapes', () => {
    const table = read({
      sheets: [
        {
          name: 'S',
          rows: [
            ['student_id', 'first_name', 'last_name'],
            [
              'S&1',
              { t: 'inlineStr', is: '<is><t>&lt;Ann&gt; &#933;&#x3b1; &quot;x&quot;</t></is>' },
              'Line_x000D_Two',
            ],
          ],
        },
      ],
    });
    expect(table.rows[0]?.cells).toEqual(['S&1', '<Ann> Υα "x"', 'Line\rTwo']);
  });

  it('uses the cached value of a formula and never evaluates it', () => {
    const table = read({
      sheets: [
        {
          name: 'S',
          rows: [
            ['student_id', 'first_name', 'last_name', 'study_year'],
            [
              'S1',
              { t: 'str', f: 'UPPER("ann")', v: 'ANN' },
              { t: 'str', f: 'HYPERLINK("http://evil.example","Lee")', v: 'Lee' },
              { f: '1+1', v: '2' },
            ],
            ['S2', { t: 'str', f: 'A1' }, 'Ray', { f: 'NOW()' }],
          ],
        },
      ],
    });
    expect(table.rows[0]?.cells).toEqual(['S1', 'ANN', 'Lee', 2]);
    // No cached value: the cell is empty, not a formula's text.
    expect(table.rows[1]?.cells).toEqual(['S2', null, 'Ray']);
  });

  it('keeps a formula-looking text value as text', () => {
    const table = read({
      sheets: [
        {
          name: 'S',
          rows: [
            ['student_id', 'first_name', 'last_name'],
            ['S1', '=HYPERLINK("http://evil.example","Ann")', 'Lee'],
          ],
        },
      ],
    });
    const mapping = mapHeaders('students', table.headers);
    const row = normalizeRow('students', mapping, table.rows[0]!.cells, { dateOrder: 'DMY' });
    expect(row.issues).toEqual([]);
    expect(row.data.first_name).toBe('=HYPERLINK("http://evil.example","Ann")');
  });

  it('turns numbers with a date format into dates: built-in, custom, not time-only', () => {
    const table = read({
      numFmts: {
        164: 'dd/mm/yyyy;@',
        165: '[$-408]d\\ mmmm\\ yyyy',
        166: 'h:mm:ss',
        167: '"Day" 0',
      },
      cellXfs: [0, 14, 164, 165, 166, 22, 167],
      sheets: [
        {
          name: 'S',
          rows: [
            ['a', 'b', 'c', 'd', 'e', 'f'],
            [
              { s: 1, v: '45902' },
              { s: 2, v: '45902' },
              { s: 3, v: '45902' },
              { s: 4, v: '0.5' },
              { s: 5, v: '45902.75' },
              { s: 6, v: '12' },
            ],
          ],
        },
      ],
    });
    expect(table.rows[0]?.cells).toEqual([
      utc(2025, 9, 2),
      utc(2025, 9, 2),
      utc(2025, 9, 2),
      0.5,
      utc(2025, 9, 2, 18),
      12,
    ]);
  });

  it('classifies number formats', () => {
    expect(isDateFormat('yyyy-mm-dd')).toBe(true);
    expect(isDateFormat('[$-F800]dddd, mmmm dd, yyyy')).toBe(true);
    expect(isDateFormat('[h]:mm')).toBe(false);
    expect(isDateFormat('0.00E+00')).toBe(false);
    expect(isDateFormat('"days: "0')).toBe(false);
    expect(isDateFormat('[Red]#,##0')).toBe(false);
  });

  it('converts serials in the 1900 system (with the Lotus leap-year bug) and the 1904 system', () => {
    expect(serialToDate(1, false)).toEqual(utc(1900, 1, 1));
    expect(serialToDate(59, false)).toEqual(utc(1900, 2, 28));
    expect(serialToDate(60, false)).toBe('1900-02-29'); // the day that never was
    expect(serialToDate(61, false)).toEqual(utc(1900, 3, 1));
    expect(serialToDate(44927, false)).toEqual(utc(2023, 1, 1));
    expect(serialToDate(0, false)).toBe(0);
    expect(serialToDate(0, true)).toBe(0);
    expect(serialToDate(1, true)).toEqual(utc(1904, 1, 2));
    expect(serialToDate(44927 - 1462, true)).toEqual(utc(2023, 1, 1));
    const table = read({
      date1904: true,
      cellXfs: [0, 14],
      sheets: [{ name: 'S', rows: [HEADER, ['S1', 'A', 'B', { s: 1, v: String(45902 - 1462) }]] }],
    });
    expect(table.rows[0]?.cells[3]).toEqual(utc(2025, 9, 2));
  });

  it('places cells by their reference, leaving gaps empty', () => {
    const table = read({
      sheets: [
        {
          name: 'S',
          sheetData:
            '<row r="1"><c r="A1" t="inlineStr"><is><t>student_id</t></is></c><c r="C1" t="inlineStr"><is><t>last_name</t></is></c></row>' +
            '<row r="3"><c r="C3"><v>7</v></c><c r="A3" t="inlineStr"><is><t>S1</t></is></c></row>',
        },
      ],
    });
    expect(table.headers).toEqual(['student_id', '', 'last_name']);
    expect(table.rows).toEqual([{ rowNumber: 3, cells: ['S1', null, 7] }]);
  });

  it('reads parts with namespace prefixes', () => {
    const bytes = buildXlsx({ sheets: [{ name: 'S', sheetData: '' }] });
    const files = unzipAll(bytes);
    files['xl/worksheets/sheet1.xml'] = strToU8(
      '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>' +
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>student_id</x:t></x:is></x:c><x:c r="B1" t="inlineStr"><x:is><x:t>first_name</x:t></x:is></x:c></x:row>' +
        '<x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>S1</x:t></x:is></x:c><x:c r="B2"><x:v>5</x:v></x:c></x:row>' +
        '</x:sheetData></x:worksheet>',
    );
    const table = read(zipSync(files));
    expect(table.rows).toEqual([{ rowNumber: 2, cells: ['S1', 5] }]);
  });
});

describe('choosing the sheet and the header row', () => {
  const cover = { name: 'Cover', rows: [['Student register'], ['Prepared by the secretary']] };
  const notes = { name: 'Notes', rows: [['Read me first'], ['Ids are ID card numbers']] };
  const students = {
    name: 'Μαθητές',
    firstRow: 3,
    rows: [
      ['Register 2025-26'],
      [],
      ['Αριθμός Δελτίου Ταυτότητας:', 'Όνομα:', 'Επώνυμο:'],
      ['0800037', 'Ann', 'Lee'],
    ],
  };

  it('skips cover and notes sheets and finds the header below title rows', () => {
    const table = read({ sheets: [cover, notes, students] });
    expect(table.sheet).toBe('Μαθητές');
    expect(table.headerRowNumber).toBe(5);
    expect(table.headers).toEqual(['Αριθμός Δελτίου Ταυτότητας:', 'Όνομα:', 'Επώνυμο:']);
    expect(table.rows).toEqual([{ rowNumber: 6, cells: ['0800037', 'Ann', 'Lee'] }]);
  });

  it('skips hidden sheets', () => {
    const hidden = {
      ...students,
      name: 'Old',
      hidden: true,
      rows: [
        ['student_id', 'first_name', 'last_name'],
        ['X', 'Y', 'Z'],
      ],
      firstRow: 1,
    };
    expect(read({ sheets: [hidden, students] }).sheet).toBe('Μαθητές');
  });

  it('reads the sheet named by `sheet`, and says which sheets exist when it is not there', () => {
    const table = read({ sheets: [cover, students] }, { sheet: 'cover' });
    expect(table.sheet).toBe('Cover');
    const error = fileError(() => read({ sheets: [cover, students] }, { sheet: 'Grades' }));
    expect(error.code).toBe('no-matching-sheet');
    expect(error.message).toContain('Cover, Μαθητές');
  });

  it('refuses a workbook where no sheet looks like the import', () => {
    const error = fileError(() => read({ sheets: [cover, notes] }));
    expect(error.code).toBe('no-matching-sheet');
  });

  it('refuses an empty sheet and a sheet with a header only', () => {
    expect(fileError(() => read({ sheets: [{ name: 'S', rows: [] }] })).code).toBe('empty');
    expect(fileError(() => read({ sheets: [{ name: 'S', rows: [HEADER] }] })).code).toBe(
      'header-only',
    );
  });
});

describe('XLSX limits and broken files', () => {
  const header =
    '<row r="1"><c r="A1" t="inlineStr"><is><t>student_id</t></is></c><c r="B1" t="inlineStr"><is><t>first_name</t></is></c><c r="C1" t="inlineStr"><is><t>last_name</t></is></c></row>';
  /** Rows without references: each one is the next row, its cells the next columns. */
  const row =
    '<row><c t="inlineStr"><is><t>S</t></is></c><c t="inlineStr"><is><t>A</t></is></c><c t="inlineStr"><is><t>B</t></is></c></row>';
  const rows = (count: number) => row.repeat(count);

  it('refuses a workbook whose declared size is over the limit before inflating anything', () => {
    const bytes = buildXlsx({ sheets: [{ name: 'S', rows: [HEADER, ['S1', 'A', 'B']] }] });
    const bomb = patchDeclaredSize(bytes, 'xl/worksheets/sheet1.xml', 300 * 1024 * 1024);
    const error = fileError(() => read(bomb));
    expect(error.code).toBe('too-large');
    expect(error.message).toContain('200 MB');
  });

  it('stops a zip bomb that declares a small size by counting the inflated bytes', () => {
    // About 4 MB of rows that compress to a few KB, declared as 1 KB.
    const sheet = header + rows(30_000);
    const bytes = buildXlsx({ sheets: [{ name: 'S', sheetData: sheet }] });
    expect(bytes.length).toBeLessThan(sheet.length / 100);
    const lying = patchDeclaredSize(bytes, 'xl/worksheets/sheet1.xml', 1024);
    const error = fileError(() => read(lying));
    expect(error.code).toBe('too-large');
    expect(error.message).toContain('more than');
  });

  it('stops at the uncompressed-size limit even when the sizes are declared honestly', () => {
    const bytes = buildXlsx({ sheets: [{ name: 'S', sheetData: header + rows(16_000) }] });
    const error = fileError(() => read(bytes, { limits: { maxUncompressedBytes: 1024 * 1024 } }));
    expect(error.code).toBe('too-large');
  });

  it('streams a tiny archive of a huge, highly compressible sheet without holding it whole', () => {
    // A deflate stream of 16 MB of the same row, built in pieces: under 100 KB compressed.
    const prefix = `<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${header}`;
    const chunk = strToU8(row.repeat(Math.floor((1024 * 1024) / row.length)));
    const parts: Uint8Array[] = [];
    const deflate = new Deflate({ level: 6 }, (data) => parts.push(data));
    deflate.push(strToU8(prefix));
    for (let i = 0; i < 16; i++) deflate.push(chunk);
    deflate.push(strToU8('</sheetData></worksheet>'), true);
    const compressed = concatBytes(parts);
    expect(compressed.length).toBeLessThan(100 * 1024);
    const base = buildXlsx({ sheets: [{ name: 'S', sheetData: '' }] });
    const bomb = withDeflatedPart(base, 'xl/worksheets/sheet1.xml', compressed, 16 * 1024 * 1024);
    // 16 MB holds about 130,000 rows; reading stops once it has seen more than the limit.
    const error = fileError(() => read(bomb, { limits: { maxRows: 20_000 } }));
    expect(error.code).toBe('too-many-rows');
  });

  it('refuses more rows than the row limit', () => {
    const bytes = buildXlsx({ sheets: [{ name: 'S', sheetData: header + rows(30) }] });
    expect(read(bytes, { limits: { maxRows: 30 } }).rows).toHaveLength(30);
    expect(fileError(() => read(bytes, { limits: { maxRows: 29 } })).code).toBe('too-many-rows');
  });

  it('refuses files that are not workbooks', () => {
    expect(
      fileError(() => readTable(Buffer.from('student_id\nS1\n'), 'x.xlsx', 'students')).code,
    ).toBe('not-xlsx');
    const xls = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0]);
    expect(fileError(() => readTable(xls, 'old.xls', 'students')).message).toContain('97-2003');
    const notWorkbook = zipSync({ 'hello.txt': strToU8('hi') });
    expect(fileError(() => readTable(Buffer.from(notWorkbook), 'x.xlsx', 'students')).code).toBe(
      'not-xlsx',
    );
    const truncated = buildXlsx({ sheets: [{ name: 'S', rows: [HEADER] }] }).subarray(0, 200);
    expect(fileError(() => readTable(Buffer.from(truncated), 'x.xlsx', 'students')).code).toBe(
      'not-xlsx',
    );
  });

  it('refuses a part with a document type declaration (no entity expansion)', () => {
    const bytes = buildXlsx({ sheets: [{ name: 'S', sheetData: '' }] });
    const files = unzipAll(bytes);
    files['xl/worksheets/sheet1.xml'] = strToU8(
      '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa">]><worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>&a;</t></is></c></row></sheetData></worksheet>',
    );
    expect(fileError(() => read(zipSync(files))).code).toBe('not-xlsx');
  });
});

describe('the students.xlsx fixture', () => {
  it('reads 50 rows with real dates', () => {
    const table = readTable(
      readFileSync(path.join(FIXTURES, 'students.xlsx')),
      'students.xlsx',
      'students',
    );
    expect(table.format).toBe('xlsx');
    expect(table.sheet).toBe('Students');
    expect(table.headerRowNumber).toBe(1);
    expect(table.rows).toHaveLength(50);
    expect(table.rows[0]?.rowNumber).toBe(2);
    const mapping = mapHeaders('students', table.headers);
    expect(mapping.missingRequired).toEqual([]);
    expect(mapping.unknownHeaders).toEqual([]);
    const dateColumn = table.headers.indexOf('enrollment_date');
    for (const row of table.rows) {
      expect(row.cells[dateColumn]).toBeInstanceOf(Date);
      const normalized = normalizeRow('students', mapping, row.cells, { dateOrder: 'DMY' });
      expect(normalized.issues).toEqual([]);
      expect(normalized.data.enrollment_date).toMatch(/^2025-09-\d\d$/);
    }
    // Serial 45901 is 2025-09-01 in Excel's 1900 date system.
    expect(table.rows[0]?.cells[dateColumn]).toEqual(utc(2025, 9, 1));
  });
});
