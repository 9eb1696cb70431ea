import { describe, expect, it } from 'vitest';
import {
  dateOrderEvidence,
  Invalid,
  toBoolean,
  toInteger,
  toIsoDate,
  toJson,
  toNumber,
  toStudyYear,
  toText,
} from './values.ts';

const message = (value: unknown) =>
  value instanceof Invalid ? value.message : `no error (${String(value)})`;

describe('dates', () => {
  it('reads ISO dates, with a time too', () => {
    expect(toIsoDate('2025-09-01', 'DMY')).toBe('2025-09-01');
    expect(toIsoDate('2025-9-1', 'MDY')).toBe('2025-09-01');
    expect(toIsoDate('2025-09-01T08:30:00Z', 'DMY')).toBe('2025-09-01');
    expect(toIsoDate(' 2025-09-01 23:59 ', 'DMY')).toBe('2025-09-01');
    expect(toIsoDate('2025/09/01', 'MDY')).toBe('2025-09-01');
  });

  it('reads day-first and month-first dates with / - . and 2- or 4-digit years', () => {
    for (const text of ['02/09/2025', '2-9-2025', '02.09.2025', '02/09/25', '2/9/25 00:00']) {
      expect(toIsoDate(text, 'DMY'), text).toBe('2025-09-02');
    }
    for (const text of ['09/02/2025', '9-2-2025', '09.02.25', '9/2/2025 12:00 PM']) {
      expect(toIsoDate(text, 'MDY'), text).toBe('2025-09-02');
    }
    expect(toIsoDate('01/01/70', 'DMY')).toBe('1970-01-01');
    expect(toIsoDate('01/01/69', 'DMY')).toBe('2069-01-01');
  });

  it('takes real spreadsheet dates as they are', () => {
    expect(toIsoDate(new Date(Date.UTC(2025, 8, 2)), 'MDY')).toBe('2025-09-02');
    expect(toIsoDate(new Date(Date.UTC(2025, 8, 2, 18, 0)), 'DMY')).toBe('2025-09-02');
  });

  it('refuses impossible dates and says why', () => {
    expect(message(toIsoDate('31/02/2025', 'DMY'))).toBe(
      '"31/02/2025" is not a date: February 2025 has 28 days',
    );
    expect(message(toIsoDate('29/02/2024', 'DMY'))).toBe('no error (2024-02-29)');
    expect(message(toIsoDate('2025-13-01', 'DMY'))).toContain('there is no month 13');
    expect(message(toIsoDate('00/01/2025', 'DMY'))).toContain('January 2025 has 31 days');
    expect(message(toIsoDate('1900-02-29', 'DMY'))).toContain('February 1900 has 28 days');
    expect(message(toIsoDate('01/01/1850', 'DMY'))).toContain('year 1850');
  });

  it('never swaps day and month silently: it says which date order would make sense', () => {
    expect(message(toIsoDate('12/31/2025', 'DMY'))).toContain('import it with date order MDY');
    expect(message(toIsoDate('31/12/2025', 'MDY'))).toContain('import it with date order DMY');
  });

  it('refuses text and numbers that are not dates', () => {
    expect(message(toIsoDate('next monday', 'DMY'))).toContain(
      'must be a date such as 2025-09-01 or 01/09/2025',
    );
    expect(message(toIsoDate(45902, 'DMY'))).toContain('not the number 45902');
    expect(message(toIsoDate('02/09-2025', 'DMY'))).toContain('must be a date');
  });

  it('counts the evidence a column gives for its date order', () => {
    expect(dateOrderEvidence(['13/01/2025', '01/02/2025', '2025-01-01', null])).toEqual({
      dayFirst: 1,
      monthFirst: 0,
    });
    expect(dateOrderEvidence(['01/13/2025', '12/31/2025'])).toEqual({ dayFirst: 0, monthFirst: 2 });
  });
});

describe('numbers', () => {
  it('reads a decimal point and a decimal comma', () => {
    expect(toNumber('12.5')).toBe(12.5);
    expect(toNumber('12,5')).toBe(12.5);
    expect(toNumber(' -3 ')).toBe(-3);
    expect(toNumber(',5')).toBe(0.5);
    expect(toNumber(7)).toBe(7);
  });

  it('refuses text in a number field', () => {
    expect(message(toNumber('abc'))).toBe('must be a number, not "abc"');
    expect(message(toNumber('1.234,5'))).toContain('must be a number');
    expect(message(toNumber('12 points'))).toContain('must be a number');
    expect(message(toNumber(true))).toContain('must be a number');
    expect(message(toInteger('2.5'))).toBe('must be a whole number, not "2.5"');
    expect(toInteger('3')).toBe(3);
  });
});

describe('study years, booleans, text, JSON', () => {
  it("reads 1-12 and the Greek numerals Α'-Δ' with any kind of keraia", () => {
    expect(toStudyYear("Α'")).toBe(1);
    expect(toStudyYear('Β΄')).toBe(2);
    expect(toStudyYear('Γ’')).toBe(3);
    expect(toStudyYear('Δ')).toBe(4);
    expect(toStudyYear("δ'")).toBe(4);
    expect(toStudyYear("B'")).toBe(2); // Latin B typed for Greek Β
    expect(toStudyYear('2')).toBe(2);
    expect(toStudyYear(3)).toBe(3);
    expect(toStudyYear('2nd')).toBe(2);
    expect(toStudyYear('1ο έτος')).toBe(1);
    expect(message(toStudyYear('x'))).toContain('must be a study year');
    expect(message(toStudyYear('B'))).toContain('must be a study year');
  });

  it('reads yes/no words in English and Greek', () => {
    expect(toBoolean('Ναι')).toBe(true);
    expect(toBoolean('όχι')).toBe(false);
    expect(toBoolean('TRUE')).toBe(true);
    expect(toBoolean(0)).toBe(false);
    expect(message(toBoolean('maybe'))).toContain('must be yes or no');
  });

  it('writes numbers, dates and booleans out as text', () => {
    expect(toText(35797015183)).toBe('35797015183');
    expect(toText(12.5)).toBe('12.5');
    expect(toText(new Date(Date.UTC(2025, 8, 2)))).toBe('2025-09-02');
    expect(toText('  =HYPERLINK("x")  ')).toBe('=HYPERLINK("x")');
  });

  it('parses JSON text, and evaluation rules written as pairs', () => {
    expect(toJson('[{"category":"Final","weight":70}]', 'evaluation_rules')).toEqual([
      { category: 'Final', weight: 70 },
    ]);
    expect(toJson('Midterm: 30; Final = 70%', 'evaluation_rules')).toEqual([
      { category: 'Midterm', weight: 30 },
      { category: 'Final', weight: 70 },
    ]);
    expect(message(toJson('[{"category":', 'evaluation_rules'))).toContain('is not valid JSON');
    expect(message(toJson('Mondays', 'teaching_schedule'))).toContain('must be JSON');
  });
});
