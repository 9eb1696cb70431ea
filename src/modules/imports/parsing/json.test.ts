import { describe, expect, it } from 'vitest';
import { ImportFileError } from './errors.ts';
import { mapHeaders, normalizeRow, readTable } from './index.ts';

function read(text: string | Buffer, fileName = 'students.json') {
  return readTable(Buffer.isBuffer(text) ? text : Buffer.from(text), fileName, 'courses');
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

describe('readTable for JSON', () => {
  it('reads an array of objects: keys are headers, nested values become JSON text', () => {
    const table = read(
      JSON.stringify([
        {
          course_code: 'CS101',
          course_name: 'Intro',
          semester: 'Fall',
          credits: 6,
          evaluation_rules: [{ category: 'Final', weight: 100 }],
        },
        {
          course_code: 'CS102',
          course_name: 'Data',
          semester: 'Fall',
          description: null,
          hours_per_week: 4,
        },
        {},
      ]),
    );
    expect(table).toMatchObject({
      format: 'json',
      encoding: 'utf-8',
      delimiter: null,
      sheet: null,
      headerRowNumber: 0,
    });
    expect(table.headers).toEqual([
      'course_code',
      'course_name',
      'semester',
      'credits',
      'evaluation_rules',
      'description',
      'hours_per_week',
    ]);
    expect(table.rows).toEqual([
      {
        rowNumber: 1,
        cells: ['CS101', 'Intro', 'Fall', 6, '[{"category":"Final","weight":100}]', null, null],
      },
      { rowNumber: 2, cells: ['CS102', 'Data', 'Fall', null, null, null, 4] },
    ]);
    const mapping = mapHeaders('courses', table.headers);
    const row = normalizeRow('courses', mapping, table.rows[0]!.cells, { dateOrder: 'DMY' });
    expect(row.issues).toEqual([]);
    expect(row.data.evaluation_rules).toEqual([{ category: 'Final', weight: 100 }]);
  });

  it('is recognised by its content when the name says nothing, and read in UTF-16 too', () => {
    expect(read('  [{"course_code":"X"}]', 'upload').format).toBe('json');
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('[{"course_code":"Χ"}]', 'utf16le'),
    ]);
    expect(read(utf16).rows[0]?.cells).toEqual(['Χ']);
    expect(read(utf16, 'upload').format).toBe('json');
  });

  it('refuses anything but an array of objects', () => {
    expect(fileError(() => read('{"course_code":"X"}')).code).toBe('bad-json');
    expect(fileError(() => read('[{"course_code":"X"}, 3]')).message).toContain('Item 2');
    expect(fileError(() => read('[{"course_code":')).code).toBe('bad-json');
    expect(fileError(() => read('[[1,2]]')).code).toBe('bad-json');
    expect(fileError(() => read('[]')).code).toBe('empty');
    expect(fileError(() => read('[{}, {"a": null}]')).code).toBe('empty');
  });
});
