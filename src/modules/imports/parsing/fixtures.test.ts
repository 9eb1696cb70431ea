import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../../../../test/support/fixtures.ts';
import { type ImportType, mapHeaders, naturalKeys, normalizeRow, readTable } from './index.ts';

/** The shared sample files; CI has them at the same place beside the repository. */
const FIXTURES = FIXTURES_DIR;

function load(file: string, type: ImportType) {
  const table = readTable(readFileSync(path.join(FIXTURES, file)), file, type);
  const mapping = mapHeaders(type, table.headers);
  const rows = table.rows.map((row) => ({
    rowNumber: row.rowNumber,
    ...normalizeRow(type, mapping, row.cells, { dateOrder: 'DMY' }),
  }));
  const errors = Object.fromEntries(
    rows
      .filter((row) => row.issues.some((issue) => issue.severity === 'error'))
      .map((row) => [row.rowNumber, row.issues.map((issue) => `${issue.field}: ${issue.message}`)]),
  );
  /** Rows whose natural key an earlier row already has: row → the earlier row. */
  const duplicates: Record<number, number> = {};
  const firstWith = new Map<string, number>();
  for (const row of rows) {
    for (const key of naturalKeys(type, row.data, row.keys)) {
      const first = firstWith.get(key);
      if (first === undefined) firstWith.set(key, row.rowNumber);
      else duplicates[row.rowNumber] = first;
    }
  }
  return { table, mapping, rows, errors, duplicates };
}

describe('the sample files in test/fixtures (from ../shared/fixtures)', () => {
  it('students.csv: 120 rows; rows 11, 31, 41, 51 are errors; row 21 repeats row 6', () => {
    const { table, mapping, errors, duplicates } = load('students.csv', 'students');
    expect(table).toMatchObject({
      format: 'csv',
      encoding: 'utf-8',
      delimiter: ',',
      headerRowNumber: 1,
    });
    expect(table.rows).toHaveLength(120);
    expect(mapping.missingRequired).toEqual([]);
    expect(mapping.unknownHeaders).toEqual([]);
    expect(errors).toEqual({
      11: ['email: must be an e-mail address'],
      31: ['last_name: is required; the cell is empty'],
      41: [expect.stringMatching(/^study_year: must be a study year/)],
      51: ['enrollment_date: "31/02/2025" is not a date: February 2025 has 28 days'],
    });
    expect(duplicates).toEqual({ 21: 6 });
  });

  it('students-greek.csv: BOM, semicolons, CRLF, Greek headers all mapped; row 13 an error; row 26 repeats row 5', () => {
    const { table, mapping, rows, errors, duplicates } = load('students-greek.csv', 'students');
    expect(table).toMatchObject({
      format: 'csv',
      encoding: 'utf-8',
      delimiter: ';',
      headerRowNumber: 1,
    });
    expect(table.rows).toHaveLength(40);
    expect(table.headers[0]).toBe('Επώνυμο:'); // no BOM left on the first header
    expect(mapping.mapping.map((entry) => entry.field)).toEqual([
      'last_name',
      'first_name',
      'father_name',
      'email',
      'mobile_phone',
      'phone',
      'study_year',
      'student_id',
      'health_issue',
    ]);
    expect(mapping.unknownHeaders).toEqual([]);
    expect(errors).toEqual({ 13: ['email: must be an e-mail address'] });
    expect(duplicates).toEqual({ 26: 5 });
    expect(rows[0]?.data).toMatchObject({
      student_id: '0800037',
      study_year: 2,
      health_issue: 'Όχι',
    });
    expect(new Set(rows.map((row) => row.data.study_year))).toEqual(new Set([1, 2, 3, 4]));
  });

  it('students.xlsx: 50 rows, real dates, no errors', () => {
    const { table, rows, errors, duplicates } = load('students.xlsx', 'students');
    expect(table.format).toBe('xlsx');
    expect(rows).toHaveLength(50);
    expect(errors).toEqual({});
    expect(duplicates).toEqual({});
    expect(rows.every((row) => /^2025-09-\d\d$/.test(String(row.data.enrollment_date)))).toBe(true);
  });

  it('courses.csv: 10 courses, evaluation rules parsed from JSON text', () => {
    const { rows, errors } = load('courses.csv', 'courses');
    expect(rows).toHaveLength(10);
    expect(errors).toEqual({});
    expect(rows[0]?.data).toMatchObject({
      course_code: 'CS101',
      semester: "Α' Εξάμηνο",
      credits: 6,
      absence_penalty: 0.5,
      evaluation_rules: [
        { category: 'Midterm Exam', weight: 30 },
        { category: 'Final Exam', weight: 50 },
        { category: 'Homework', weight: 20 },
      ],
    });
  });

  it('enrollments.csv: 240 rows with student and course keys, enrolled_at as the date', () => {
    const { rows, errors, duplicates } = load('enrollments.csv', 'enrollments');
    expect(rows).toHaveLength(240);
    expect(errors).toEqual({});
    expect(duplicates).toEqual({});
    expect(rows[0]).toMatchObject({
      keys: { student_id: 'S2025001', course_code: 'CS101' },
      data: { enrollment_date: '2025-09-15' },
    });
  });

  it('grades.csv: 300 rows; only row 9 ("abc") is an error here (row 17\'s unknown course is resolved later)', () => {
    const { rows, errors } = load('grades.csv', 'grades');
    expect(rows).toHaveLength(300);
    expect(errors).toEqual({ 9: ['grade: must be a number, not "abc"'] });
    expect(rows.find((row) => row.rowNumber === 17)?.keys).toEqual({
      student_id: 'S2025002',
      course_code: 'XX999',
    });
    expect(rows[0]?.data).toMatchObject({ date_assigned: '2025-11-10' });
  });

  it('attendance.csv: 180 rows, no errors, no repeated keys', () => {
    const { rows, errors, duplicates } = load('attendance.csv', 'attendance');
    expect(rows).toHaveLength(180);
    expect(errors).toEqual({});
    expect(duplicates).toEqual({});
  });
});
