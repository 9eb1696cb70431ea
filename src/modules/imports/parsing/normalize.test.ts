import { describe, expect, it } from 'vitest';
import { type Cell, type ImportType, mapHeaders, naturalKeys, normalizeRow } from './index.ts';

function normalize(
  type: ImportType,
  headers: string[],
  cells: Cell[],
  dateOrder: 'DMY' | 'MDY' = 'DMY',
) {
  return normalizeRow(type, mapHeaders(type, headers), cells, { dateOrder });
}

describe('normalizeRow', () => {
  it('gives students the values their create schema takes, trimmed, blanks left out', () => {
    const row = normalize(
      'students',
      [
        'Αριθμός Δελτίου Ταυτότητας:',
        'Όνομα:',
        'Επώνυμο:',
        'Ηλ. Ταχυδρομείο:',
        'Έτος Σπουδών:',
        'Αρ. Σταθερού Τηλεφώνου:',
        'Active',
        'enrollment_date',
      ],
      [
        ' 0800037 ',
        'Αικατερίνη ',
        'Χριστοδούλου',
        'Aikaterini@Mail.Example.cy',
        "Β'",
        '',
        'ναι',
        '02/09/2025',
      ],
    );
    expect(row.issues).toEqual([]);
    expect(row.data).toEqual({
      student_id: '0800037',
      first_name: 'Αικατερίνη',
      last_name: 'Χριστοδούλου',
      email: 'aikaterini@mail.example.cy',
      study_year: 2,
      is_active: true,
      enrollment_date: '2025-09-02',
    });
    expect(row.keys).toEqual({ student_id: '0800037', email: 'aikaterini@mail.example.cy' });
  });

  it('keeps references as keys and validates the rest without the id fields', () => {
    const row = normalize(
      'grades',
      ['student_id', 'course_code', 'assignment_name', 'grade', 'max_grade', 'date_assigned'],
      ['S-001', 'MATH101', 'Midterm', '12,5', '20', '10/11/2025'],
    );
    expect(row.issues).toEqual([]);
    expect(row.keys).toEqual({ student_id: 'S-001', course_code: 'MATH101' });
    expect(row.data).toEqual({
      assignment_name: 'Midterm',
      grade: 12.5,
      max_grade: 20,
      date_assigned: '2025-11-10',
    });
    expect(row.data).not.toHaveProperty('student_id');
    expect(row.data).not.toHaveProperty('course_id');
  });

  it('names the field of text in a number, a missing value, and a schema rule', () => {
    const row = normalize(
      'grades',
      ['student_id', 'course_code', 'assignment_name', 'grade', 'weight'],
      ['S-001', '', 'Midterm', 'abc', '-1'],
    );
    expect(row.issues).toEqual([
      { field: 'grade', message: 'must be a number, not "abc"', severity: 'error' },
      { field: 'course_code', message: 'is required; the cell is empty', severity: 'error' },
      { field: 'weight', message: expect.stringContaining('>0'), severity: 'error' },
    ]);
  });

  it('checks rules across fields: a grade above its maximum, a submission before the assignment', () => {
    const row = normalize(
      'grades',
      [
        'student_id',
        'course_code',
        'assignment_name',
        'grade',
        'max_grade',
        'date_assigned',
        'date_submitted',
      ],
      ['S1', 'C1', 'HW', '25', '20', '2025-10-10', '2025-10-01'],
    );
    expect(row.issues.map((issue) => issue.field)).toEqual(['grade', 'date_submitted']);
    const score = normalize(
      'daily_performances',
      ['student_id', 'course_code', 'date', 'category', 'score'],
      ['S1', 'C1', '2025-10-10', 'Oral', '11'],
    );
    expect(score.issues).toEqual([
      { field: 'score', message: 'must not be more than max_score (10)', severity: 'error' },
    ]);
  });

  it('reads enums without regard to case, and Greek words for them', () => {
    const row = normalize(
      'attendance',
      ['student_id', 'course_code', 'date', 'status'],
      ['S1', 'C1', '2025-10-06', 'απών'],
    );
    expect(row.data).toEqual({ date: '2025-10-06', status: 'Absent' });
    const bad = normalize(
      'attendance',
      ['student_id', 'course_code', 'date', 'status'],
      ['S1', 'C1', '2025-10-06', 'Sick'],
    );
    expect(bad.issues[0]?.message).toBe(
      'must be one of Present, Absent, Late, Excused, not "Sick"',
    );
    expect(
      normalize('enrollments', ['student_id', 'course_code', 'status'], ['S1', 'C1', 'Dropped'])
        .data,
    ).toEqual({
      status: 'dropped',
    });
  });

  it('parses evaluation rules written as JSON, and reports the schema rules inside them', () => {
    const headers = ['course_code', 'course_name', 'semester', 'evaluation_rules'];
    const row = normalize('courses', headers, [
      'CS101',
      'Intro',
      "Α' Εξάμηνο",
      '[{"category":"Final","weight":60},{"category":"Lab","weight":40}]',
    ]);
    expect(row.issues).toEqual([]);
    expect(row.data.evaluation_rules).toEqual([
      { category: 'Final', weight: 60 },
      { category: 'Lab', weight: 40 },
    ]);
    expect(row.keys).toEqual({ course_code: 'CS101' });
    const over = normalize('courses', headers, ['CS101', 'Intro', 'Fall', 'Final: 80; Lab: 40']);
    expect(over.issues).toEqual([
      {
        field: 'evaluation_rules',
        message: expect.stringContaining('add up to 120'),
        severity: 'error',
      },
    ]);
  });

  it('keeps a formula-looking name as text', () => {
    const row = normalize(
      'students',
      ['student_id', 'first_name', 'last_name'],
      ['S1', '=HYPERLINK("http://evil","x")', '@SUM(A1)'],
    );
    expect(row.issues).toEqual([]);
    expect(row.data.first_name).toBe('=HYPERLINK("http://evil","x")');
    expect(row.data.last_name).toBe('@SUM(A1)');
  });

  it('warns about values to the right of the last header, and ignores unmapped columns', () => {
    const row = normalize(
      'students',
      ['student_id', 'first_name', 'last_name', 'Shoe size'],
      ['S1', 'Ann', 'Lee', '42', 'extra'],
    );
    expect(row.data).toEqual({ student_id: 'S1', first_name: 'Ann', last_name: 'Lee' });
    expect(row.issues).toEqual([
      { field: '', message: expect.stringContaining('1 value to the right'), severity: 'warning' },
    ]);
  });

  it('reports a required field the file has no column for', () => {
    const row = normalize('students', ['student_id', 'first_name'], ['S1', 'Ann']);
    expect(row.issues).toEqual([
      {
        field: 'last_name',
        message: 'is required; the file has no column for it',
        severity: 'error',
      },
    ]);
  });
});

describe('naturalKeys', () => {
  it('gives students two keys, by student_id and by e-mail', () => {
    const row = normalize(
      'students',
      ['student_id', 'first_name', 'last_name', 'email'],
      ['S1', 'A', 'B', 'A@X.CY'],
    );
    expect(naturalKeys('students', row.data, row.keys)).toEqual([
      'student_id:["S1"]',
      'email:["a@x.cy"]',
    ]);
    const noEmail = normalize(
      'students',
      ['student_id', 'first_name', 'last_name'],
      ['S1', 'A', 'B'],
    );
    expect(naturalKeys('students', noEmail.data, noEmail.keys)).toEqual(['student_id:["S1"]']);
  });

  it('keys the other types by their natural key, attendance with period 1 by default', () => {
    const keysOf = (type: ImportType, headers: string[], cells: Cell[]) => {
      const row = normalize(type, headers, cells);
      return naturalKeys(type, row.data, row.keys);
    };
    expect(
      keysOf('courses', ['course_code', 'course_name', 'semester'], ['CS101', 'Intro', 'Fall']),
    ).toEqual(['course_code:["CS101"]']);
    expect(keysOf('enrollments', ['student_id', 'course_code'], ['S1', 'CS101'])).toEqual([
      'enrollment:["S1","CS101"]',
    ]);
    expect(
      keysOf(
        'grades',
        ['student_id', 'course_code', 'assignment_name', 'grade'],
        ['S1', 'CS101', 'Midterm', '5'],
      ),
    ).toEqual(['grade:["S1","CS101","Midterm"]']);
    const attendance = ['student_id', 'course_code', 'date', 'status', 'period_number'];
    expect(keysOf('attendance', attendance, ['S1', 'CS101', '06/10/2025', 'Present', ''])).toEqual(
      keysOf('attendance', attendance, ['S1', 'CS101', '2025-10-06', 'Absent', '1']),
    );
    expect(keysOf('attendance', attendance, ['S1', 'CS101', '2025-10-06', 'Present', '2'])).toEqual(
      ['attendance:["S1","CS101","2025-10-06",2]'],
    );
    expect(
      keysOf(
        'daily_performances',
        ['student_id', 'course_code', 'date', 'category', 'score'],
        ['S1', 'C', '2025-10-06', 'Oral', '8'],
      ),
    ).toEqual(['daily_performance:["S1","C","2025-10-06","Oral"]']);
    expect(
      keysOf(
        'highlights',
        ['student_id', 'semester', 'highlight_text'],
        ['S1', 'Fall', 'Great work'],
      ),
    ).toEqual(['highlight:["S1","Fall","Great work"]']);
  });

  it('leaves out a key that lacks a part, and cannot be fooled by separators in values', () => {
    expect(naturalKeys('enrollments', {}, { student_id: 'S1' })).toEqual([]);
    expect(naturalKeys('enrollments', {}, { student_id: 'a","b', course_code: 'c' })).not.toEqual(
      naturalKeys('enrollments', {}, { student_id: 'a', course_code: 'b","c' }),
    );
  });
});
