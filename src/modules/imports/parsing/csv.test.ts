import { describe, expect, it } from 'vitest';
import { detectDelimiter, parseCsv } from './csv.ts';
import { ImportFileError } from './errors.ts';
import { type ImportType, type ReadOptions, readTable } from './index.ts';

function records(text: string, delimiter: ',' | ';' | '\t' | '|' = ','): Array<[number, string[]]> {
  const out: Array<[number, string[]]> = [];
  parseCsv(text, delimiter, (cells, n) => {
    out.push([n, cells]);
    return true;
  });
  return out;
}

function read(text: string, type: ImportType = 'students', options?: ReadOptions) {
  return readTable(Buffer.from(text), 'file.csv', type, options);
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

describe('parseCsv (RFC 4180)', () => {
  it('splits fields and records on CRLF, LF and CR', () => {
    expect(records('a,b\r\nc,d\ne,f\rg,h')).toEqual([
      [1, ['a', 'b']],
      [2, ['c', 'd']],
      [3, ['e', 'f']],
      [4, ['g', 'h']],
    ]);
    expect(records('a,b\n')).toEqual([[1, ['a', 'b']]]);
    expect(records('a,,\n')).toEqual([[1, ['a', '', '']]]);
  });

  it('reads quoted fields with doubled quotes, delimiters and line breaks inside', () => {
    expect(records('"x, ""y""","line1\r\nline2",z\nnext,"",end')).toEqual([
      [1, ['x, "y"', 'line1\r\nline2', 'z']],
      [2, ['next', '', 'end']],
    ]);
  });

  it('numbers records, not lines, and keeps blank records in the count', () => {
    expect(records('h\n"a\nb"\n\nc\n')).toEqual([
      [1, ['h']],
      [2, ['a\nb']],
      [3, ['']],
      [4, ['c']],
    ]);
  });

  it('keeps a quote inside an unquoted field, and text after a closing quote', () => {
    expect(records('Ο\'Brien,5" screen,"a"b')).toEqual([[1, ["Ο'Brien", '5" screen', 'ab']]]);
  });

  it('refuses a quote that is never closed', () => {
    const error = fileError(() => records('a,b\n"open,c\n'));
    expect(error.code).toBe('unclosed-quote');
    expect(error.message).toContain('Row 2');
  });
});

describe('delimiter detection', () => {
  it.each([
    [',', 'student_id,first_name,last_name\nS1,Ann,Lee\nS2,Bob,"Ray, Jr"\n'],
    [';', 'student_id;first_name;last_name\nS1;Ann;Lee\nS2;Bob;"Ray; Jr"\n'],
    ['\t', 'student_id\tfirst_name\tlast_name\nS1\tAnn, Mrs\tLee\n'],
    ['|', 'student_id|first_name|last_name\nS1|Ann|Lee\n'],
  ])('finds %j', (delimiter, text) => {
    expect(detectDelimiter(text)).toBe(delimiter);
    const table = read(text);
    expect(table.delimiter).toBe(delimiter);
    expect(table.headers).toEqual(['student_id', 'first_name', 'last_name']);
    expect(table.rows[0]?.cells).toEqual(['S1', delimiter === '\t' ? 'Ann, Mrs' : 'Ann', 'Lee']);
  });

  it('prefers the delimiter that gives the same column count on every line', () => {
    // Commas inside the values would give 2-4 columns; semicolons give 3 on every line.
    const text = 'student_id;first_name;last_name\nS1;Ann, Mary;Lee\nS2;Bob;Ray, Jr, III\nS3;C;D\n';
    expect(read(text).delimiter).toBe(';');
  });

  it('follows the delimiter override', () => {
    const table = read('student_id,first_name;last_name\nS1,Ann;Lee\n', 'students', {
      delimiter: ';',
    });
    expect(table.headers).toEqual(['student_id,first_name', 'last_name']);
  });

  it('accepts a one-column file whose header names a field', () => {
    const table = read('student_id\nS1\nS2\n');
    expect(table.headers).toEqual(['student_id']);
    expect(table.rows).toHaveLength(2);
  });

  it('refuses a file whose separator it cannot tell', () => {
    const error = fileError(() => read('student_id:first_name:last_name\nS1:Ann:Lee\n'));
    expect(error.code).toBe('no-delimiter');
    expect(error.message).toContain('comma, semicolon, tab or |');
  });
});

describe('readTable for CSV', () => {
  it('numbers rows physically (header = 1) and skips blank rows', () => {
    const table = read(
      'student_id,first_name,last_name\r\nS1,Ann,Lee\r\n,,\r\n\r\nS2,"Bob\nBy",Ray\r\nS3,C,D\r\n',
    );
    expect(table.headerRowNumber).toBe(1);
    expect(table.rows.map((row) => row.rowNumber)).toEqual([2, 5, 6]);
  });

  it('finds the header below title rows', () => {
    const text =
      'Student list 2025-26\nExported by the secretary\n\nStudent ID,First name,Last name\nS1,Ann,Lee\n';
    const table = read(text);
    expect(table.headerRowNumber).toBe(4);
    expect(table.headers).toEqual(['Student ID', 'First name', 'Last name']);
    expect(table.rows).toEqual([{ rowNumber: 5, cells: ['S1', 'Ann', 'Lee'] }]);
  });

  it('refuses an empty file and a file with a header only', () => {
    expect(fileError(() => read('')).code).toBe('empty');
    expect(fileError(() => read('\uFEFF\r\n \r\n')).code).toBe('empty');
    expect(fileError(() => read('student_id,first_name,last_name\r\n\r\n')).code).toBe(
      'header-only',
    );
  });

  it('refuses more rows than the limit', () => {
    const text = `student_id,first_name\n${Array.from({ length: 11 }, (_, i) => `S${i},A`).join('\n')}`;
    expect(read(text, 'students', { limits: { maxRows: 11 } }).rows).toHaveLength(11);
    const error = fileError(() => read(text, 'students', { limits: { maxRows: 10 } }));
    expect(error.code).toBe('too-many-rows');
  });

  it("keeps cells as written (trimming is the normaliser's job)", () => {
    const table = read('student_id,first_name\n S1 , Ann \n');
    expect(table.rows[0]?.cells).toEqual([' S1 ', ' Ann ']);
    const quoted = read('student_id,first_name\nS1,"=HYPERLINK(""http://x"",""y"")"\n');
    expect(quoted.rows[0]?.cells[1]).toBe('=HYPERLINK("http://x","y")');
  });
});
