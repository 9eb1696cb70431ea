import type { Cell, DateOrder } from './types.ts';

/** A cell that cannot become the field's value; the message completes "<field> …". */
export class Invalid {
  constructor(readonly message: string) {}
}

export type Converted<T> = T | Invalid;

export function isBlank(cell: Cell | undefined): boolean {
  if (cell === null || cell === undefined) return true;
  if (typeof cell !== 'string') return false;
  // Most cells start with a visible character: no trimmed copy needed to know.
  const n = cell.length;
  if (n === 0) return true;
  const first = cell.charCodeAt(0);
  if (first > 32 && first !== 160) return false;
  return cell.trim() === '';
}

/** Case-, accent- and spacing-insensitive form of a short value ("Όχι" → "οχι"). */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/ς/g, 'σ')
    .replace(/\s+/g, ' ')
    .trim();
}

function quoted(cell: Cell): string {
  const text = cell instanceof Date ? cell.toISOString() : String(cell);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** Whole numbers without an exponent or ".0": 35797015183, not 3.5797015183e10. */
export function numberToText(value: number): string {
  return Number.isInteger(value) && Math.abs(value) < 1e21 ? value.toFixed(0) : String(value);
}

const TWO_DIGITS = Array.from({ length: 32 }, (_, n) => (n < 10 ? `0${n}` : String(n)));

function isoFromParts(year: number, month: number, day: number): string {
  const y = year >= 1000 ? String(year) : String(year).padStart(4, '0');
  return `${y}-${TWO_DIGITS[month] ?? month}-${TWO_DIGITS[day] ?? day}`;
}

/** Text as stored: trimmed; numbers written out in full; dates as YYYY-MM-DD. */
export function toText(cell: Cell): string {
  if (typeof cell === 'string') return cell.trim();
  if (typeof cell === 'number') return numberToText(cell);
  if (typeof cell === 'boolean') return cell ? 'true' : 'false';
  if (cell instanceof Date) return dateCellToIso(cell) ?? '';
  return '';
}

const NUMBER = /^[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)$/;

/** "12.5", "12,5" (decimal comma), "-3", ".5"; spreadsheet numbers as they are. */
export function toNumber(cell: Cell): Converted<number> {
  if (typeof cell === 'number') {
    return Number.isFinite(cell) ? cell : new Invalid(`must be a number, not ${quoted(cell)}`);
  }
  if (typeof cell === 'string') {
    const text = cell.trim().replace(/\u00a0/g, '');
    if (NUMBER.test(text)) {
      const value = Number(text.replace(',', '.'));
      if (Number.isFinite(value)) return value;
    }
  }
  return new Invalid(`must be a number, not ${quoted(cell)}`);
}

export function toInteger(cell: Cell): Converted<number> {
  const value = toNumber(cell);
  if (value instanceof Invalid) return new Invalid(`must be a whole number, not ${quoted(cell)}`);
  return Number.isInteger(value)
    ? value
    : new Invalid(`must be a whole number, not ${quoted(cell)}`);
}

const TRUE_WORDS = new Set(['true', 'yes', 'y', '1', 'on', 'ναι', 'ν', 'αληθεσ', 'αληθησ']);
const FALSE_WORDS = new Set(['false', 'no', 'n', '0', 'off', 'οχι', 'ο', 'ψευδεσ', 'ψευδησ']);

export function toBoolean(cell: Cell): Converted<boolean> {
  if (typeof cell === 'boolean') return cell;
  if (cell === 1 || cell === 0) return cell === 1;
  if (typeof cell === 'string') {
    const word = fold(cell);
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  return new Invalid(`must be yes or no (true/false, 1/0, ναι/όχι), not ${quoted(cell)}`);
}

const GREEK_NUMERALS: Record<string, number> = {
  Α: 1,
  Β: 2,
  Γ: 3,
  Δ: 4,
  Ε: 5,
  ΣΤ: 6,
  Ϛ: 6,
  Ζ: 7,
  Η: 8,
  Θ: 9,
  Ι: 10,
  ΙΑ: 11,
  ΙΒ: 12,
};
/** Latin capitals typed for their Greek twins on an English keyboard (only with a keraia). */
const LATIN_TWINS: Record<string, string> = { A: 'Α', B: 'Β', E: 'Ε', Z: 'Ζ', H: 'Η', I: 'Ι' };
const KERAIA = /^(.+?)\s*['`\u2019\u2018\u0384\u0374\u02b9\u00b4]$/u;
const PLAIN_DIGITS = /^\d{1,2}$/;
const STUDY_YEAR_DIGITS = /^(\d{1,2})\s*(?:ο|η|st|nd|rd|th)?(?:\s+(?:ετοσ|year|ταξη))?$/u;

/** 1-12, "2nd", "2ο", or the Greek numerals Α' Β' Γ' Δ' … (with or without the keraia). */
function invalidStudyYear(cell: Cell): Invalid {
  return new Invalid(
    `must be a study year: a number from 1 to 12 or Α', Β', Γ', Δ'; not ${quoted(cell)}`,
  );
}

// Hot paths create no closures: under tsx every function expression is wrapped to keep its name.
export function toStudyYear(cell: Cell): Converted<number> {
  if (typeof cell === 'number') return Number.isInteger(cell) ? cell : invalidStudyYear(cell);
  if (typeof cell !== 'string') return invalidStudyYear(cell);
  let text = cell.trim();
  if (PLAIN_DIGITS.test(text)) return Number(text);
  const digits = STUDY_YEAR_DIGITS.exec(fold(text));
  if (digits) return Number(digits[1]);
  text = text.replace(/\s+(?:έτος|ετος|year|τάξη|ταξη)$/iu, '');
  const marked = KERAIA.exec(text);
  let letters = (marked ? marked[1]! : text).toUpperCase();
  if (marked) letters = [...letters].map((c) => LATIN_TWINS[c] ?? c).join('');
  const value = GREEK_NUMERALS[letters];
  return value === undefined ? invalidStudyYear(cell) : value;
}

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return MONTH_DAYS[month - 1]!;
}

const MIN_YEAR = 1900;
const MAX_YEAR = 2199;

function checkedDate(
  year: number,
  month: number,
  day: number,
  cell: Cell,
  order: DateOrder | null,
): Converted<string> {
  if (year < MIN_YEAR || year > MAX_YEAR) {
    return new Invalid(
      `has the year ${year} in ${quoted(cell)}; dates must lie between ${MIN_YEAR} and ${MAX_YEAR}`,
    );
  }
  if (month < 1 || month > 12) {
    if (order === 'DMY' && day >= 1 && day <= 12 && month <= 31) {
      return new Invalid(
        `${quoted(cell)} is not a day-first date (there is no month ${month}); if the file writes the month first, import it with date order MDY`,
      );
    }
    if (order === 'MDY' && day >= 1 && day <= 12 && month <= 31) {
      return new Invalid(
        `${quoted(cell)} is not a month-first date (there is no month ${month}); if the file writes the day first, import it with date order DMY`,
      );
    }
    return new Invalid(`${quoted(cell)} is not a date: there is no month ${month}`);
  }
  const last = daysInMonth(year, month);
  if (day < 1 || day > last) {
    return new Invalid(
      `${quoted(cell)} is not a date: ${MONTH_NAMES[month - 1]} ${year} has ${last} days`,
    );
  }
  return isoFromParts(year, month, day);
}

const ISO_DATE =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const YEAR_FIRST = /^(\d{4})([/.])(\d{1,2})\2(\d{1,2})$/;
const DAY_OR_MONTH_FIRST =
  /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T]+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?|π\.?μ\.?|μ\.?μ\.?)?)?$/iu;

/**
 * A date as YYYY-MM-DD. Accepts ISO dates (a time after them is dropped: the date is the one
 * written), YYYY/MM/DD, and D/M/Y or M/D/Y (per `order`) with / - or . between and a 2- or
 * 4-digit year (00-69 → 2000s, 70-99 → 1900s). An impossible date is an error that says why,
 * and when swapping day and month would make it valid, says which date order to choose.
 */
export function toIsoDate(cell: Cell, order: DateOrder): Converted<string> {
  if (cell instanceof Date) {
    const iso = dateCellToIso(cell);
    return iso ?? new Invalid('is not a valid date');
  }
  if (typeof cell === 'number') {
    return new Invalid(
      `must be a date such as 2025-09-01 or 01/09/2025, not the number ${numberToText(cell)} (in a spreadsheet, format the column as a date)`,
    );
  }
  if (typeof cell !== 'string') return new Invalid(`must be a date, not ${quoted(cell)}`);
  const text = cell.trim();
  const plain = plainDate(text, order, cell);
  if (plain !== undefined) return plain;
  let match = ISO_DATE.exec(text);
  if (match) return checkedDate(Number(match[1]), Number(match[2]), Number(match[3]), cell, null);
  match = YEAR_FIRST.exec(text);
  if (match) return checkedDate(Number(match[1]), Number(match[3]), Number(match[4]), cell, null);
  match = DAY_OR_MONTH_FIRST.exec(text);
  if (match) {
    const first = Number(match[1]);
    const second = Number(match[3]);
    const yearText = match[4]!;
    let year = Number(yearText);
    if (yearText.length === 2) year += year < 70 ? 2000 : 1900;
    return order === 'DMY'
      ? checkedDate(year, second, first, cell, order)
      : checkedDate(year, first, second, cell, order);
  }
  const example = order === 'DMY' ? '01/09/2025 (day first)' : '09/01/2025 (month first)';
  return new Invalid(`must be a date such as 2025-09-01 or ${example}, not ${quoted(cell)}`);
}

/**
 * The common shapes without a regular expression: Y-M-D (any of - / .) and D/M/Y or M/D/Y
 * with a 2- or 4-digit year, nothing else around them. Undefined for anything else.
 */
function plainDate(text: string, order: DateOrder, cell: Cell): Converted<string> | undefined {
  const n = text.length;
  if (n < 6 || n > 10) return undefined;
  let i = 0;
  let a = 0;
  while (i < n && i < 4) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    a = a * 10 + c;
    i++;
  }
  const aDigits = i;
  if (aDigits === 0 || aDigits === 3 || i >= n) return undefined;
  const separator = text.charCodeAt(i);
  if (separator !== 47 && separator !== 45 && separator !== 46) return undefined;
  i++;
  let b = 0;
  const bStart = i;
  while (i < n && i - bStart < 2) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    b = b * 10 + c;
    i++;
  }
  if (i === bStart || i >= n || text.charCodeAt(i) !== separator) return undefined;
  i++;
  let y = 0;
  const cStart = i;
  while (i < n) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    y = y * 10 + c;
    i++;
  }
  const cDigits = i - cStart;
  if (aDigits === 4)
    return cDigits >= 1 && cDigits <= 2 ? checkedDate(a, b, y, cell, null) : undefined;
  if (cDigits === 2) y += y < 70 ? 2000 : 1900;
  else if (cDigits !== 4) return undefined;
  return order === 'DMY' ? checkedDate(y, b, a, cell, order) : checkedDate(y, a, b, cell, order);
}

/** A spreadsheet date (a calendar date at UTC midnight, maybe with a time) as YYYY-MM-DD. */
export function dateCellToIso(date: Date): string | null {
  if (Number.isNaN(date.getTime())) return null;
  return isoFromParts(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
}

/**
 * Which date order the D/M/Y-style dates of a column prove: a first part above 12 proves
 * day-first, a second part above 12 proves month-first. For the preview to warn when the
 * chosen order contradicts the file; never used to reinterpret a date silently.
 */
export function dateOrderEvidence(cells: Iterable<Cell>): { dayFirst: number; monthFirst: number } {
  let dayFirst = 0;
  let monthFirst = 0;
  for (const cell of cells) {
    if (typeof cell !== 'string') continue;
    const match = DAY_OR_MONTH_FIRST.exec(cell.trim());
    if (!match) continue;
    const first = Number(match[1]);
    const second = Number(match[3]);
    if (first > 12 && second <= 12) dayFirst++;
    else if (second > 12 && first <= 12) monthFirst++;
  }
  return { dayFirst, monthFirst };
}

/** A value among `values`, by folded spelling or a synonym. */
export function enumMatcher(
  values: readonly string[],
  synonyms: Record<string, string> = {},
): (cell: Cell) => Converted<string> {
  const lookup = new Map<string, string>();
  for (const value of values) lookup.set(fold(value), value);
  for (const [word, value] of Object.entries(synonyms)) lookup.set(fold(word), value);
  const list = values.join(', ');
  return (cell) => {
    const found = typeof cell === 'string' ? lookup.get(fold(cell)) : undefined;
    return found ?? new Invalid(`must be one of ${list}, not ${quoted(cell)}`);
  };
}

const RULE_PAIR = /^\s*([^:=]+?)\s*[:=]\s*(\d+(?:[.,]\d+)?)\s*%?\s*$/;

/**
 * JSON written in a cell. For evaluation rules, "Midterm: 30; Final: 70" is accepted too
 * (category: weight pairs separated by ; | or line breaks).
 */
export function toJson(cell: Cell, field: string): Converted<unknown> {
  if (typeof cell !== 'string') return new Invalid(`must be JSON text, not ${quoted(cell)}`);
  const text = cell.trim();
  if (text.startsWith('[') || text.startsWith('{')) {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      return new Invalid(`is not valid JSON (${(error as Error).message})`);
    }
  }
  if (field === 'evaluation_rules') {
    const rules: Array<{ category: string; weight: number }> = [];
    for (const part of text.split(/[;|\n]/)) {
      if (part.trim() === '') continue;
      const pair = RULE_PAIR.exec(part);
      if (!pair) {
        return new Invalid(
          'must be JSON such as [{"category":"Final Exam","weight":50}] or pairs such as "Midterm: 30; Final: 70"',
        );
      }
      rules.push({ category: pair[1]!, weight: Number(pair[2]!.replace(',', '.')) });
    }
    return rules;
  }
  return new Invalid(`must be JSON text, such as [...], not ${quoted(cell)}`);
}
