import { writeXlsx } from './xlsx.writer.ts';

export const EXPORT_FORMATS = ['csv', 'xlsx', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_LANGUAGES = ['en', 'el'] as const;
export type ExportLanguage = (typeof EXPORT_LANGUAGES)[number];

/**
 * How a column's values are written: numbers and booleans stay typed, dates become real
 * spreadsheet dates, json values are written as JSON text in CSV and XLSX.
 */
export type CellType = 'text' | 'number' | 'boolean' | 'date' | 'datetime' | 'json';

export interface SheetColumn {
  /** The JSON key; also the canonical English name. */
  key: string;
  /** The header CSV and XLSX show (in the requested language). */
  header: string;
  type: CellType;
}

/**
 * One row as read from the database, keyed by column key: text, numbers, booleans, dates
 * (YYYY-MM-DD text), timestamps (Date) and JSON values.
 */
export type ExportRecord = Record<string, unknown>;

/** One table of an export: a sheet in XLSX, a section in a multi-part CSV or JSON. */
export interface SheetSource {
  /** The sheet's (and CSV section's) title. */
  name: string;
  /** The property name of this part in a multi-part JSON export. */
  key: string;
  columns: SheetColumn[];
  /** Rows in batches, so no writer ever holds more than one batch. */
  batches: AsyncIterable<ExportRecord[]>;
}

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  json: 'application/json; charset=utf-8',
};

/**
 * Characters a spreadsheet may read as the start of a formula (OWASP "CSV injection"):
 * = + - @, and tab or carriage return, which some programs skip before looking for them.
 */
export const FORMULA_START = /^[=+\-@\t\r]/;

/** Text as a spreadsheet should show it; a would-be formula gets a leading single quote. */
export function neutralise(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** A timestamp as ISO 8601 text (UTC), whether the driver gave a Date or text. */
export function isoTimestamp(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

// ---------------------------------------------------------------------------------------
// CSV: UTF-8 with a byte order mark, RFC 4180 quoting, CRLF line ends
// ---------------------------------------------------------------------------------------

/** Excel reads a CSV as the local ANSI code page unless it starts with a UTF-8 BOM. */
export const UTF8_BOM = '\uFEFF';

function quoteCsv(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * One CSV cell. Only text is neutralised: a number column's -5 is a number, not a formula,
 * and stays -5 so that it sorts and sums as one.
 */
export function csvCell(value: unknown, type: CellType): string {
  if (value === null || value === undefined) return '';
  switch (type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'datetime':
      return isoTimestamp(value);
    case 'json':
      return quoteCsv(neutralise(JSON.stringify(value)));
    default:
      return quoteCsv(neutralise(String(value)));
  }
}

function csvHeader(columns: SheetColumn[]): string {
  return `${columns.map((column) => quoteCsv(neutralise(column.header))).join(',')}\r\n`;
}

/**
 * Characters per chunk a writer hands on. Chunks stay small on purpose: V8 puts a string
 * over about 128 kB in the large-object space, which only a full collection frees, so
 * one big string per batch made the heap climb for a long time before it was collected
 * (peak RSS +50 MB on a million rows). 16k characters stay in the young generation.
 */
export const CHUNK_CHARS = 16_384;

function csvLine(columns: SheetColumn[], record: ExportRecord): string {
  let line = '';
  for (const [index, column] of columns.entries()) {
    line += `${index > 0 ? ',' : ''}${csvCell(record[column.key], column.type)}`;
  }
  return `${line}\r\n`;
}

function* csvRows(columns: SheetColumn[], batch: ExportRecord[]): Generator<string> {
  let text = '';
  for (const record of batch) {
    text += csvLine(columns, record);
    if (text.length >= CHUNK_CHARS) {
      yield text;
      text = '';
    }
  }
  if (text) yield text;
}

/**
 * One table: BOM, header, rows. Several (the per-student report): each part is a title
 * line, its header and its rows, with an empty line between parts — for people opening it
 * in a spreadsheet; programs should ask for JSON.
 */
export async function* writeCsv(sheets: SheetSource[]): AsyncGenerator<string> {
  yield UTF8_BOM;
  const titled = sheets.length > 1;
  for (const [index, sheet] of sheets.entries()) {
    if (titled) yield `${index > 0 ? '\r\n' : ''}${quoteCsv(neutralise(sheet.name))}\r\n`;
    yield csvHeader(sheet.columns);
    for await (const batch of sheet.batches) yield* csvRows(sheet.columns, batch);
  }
}

// ---------------------------------------------------------------------------------------
// JSON: one streamed array (or one object of arrays for several parts)
// ---------------------------------------------------------------------------------------

/** The record with the export's columns only, in column order; values exact (no neutralising: JSON is for programs). */
function jsonRecord(columns: SheetColumn[], record: ExportRecord): string {
  const picked: Record<string, unknown> = {};
  for (const column of columns) {
    const value = record[column.key];
    picked[column.key] =
      value === undefined || value === null
        ? null
        : column.type === 'datetime'
          ? isoTimestamp(value)
          : value;
  }
  return JSON.stringify(picked);
}

async function* jsonArray(sheet: SheetSource, indent: string): AsyncGenerator<string> {
  yield '[';
  let first = true;
  for await (const batch of sheet.batches) {
    let text = '';
    for (const record of batch) {
      text += `${first ? '\n' : ',\n'}${indent}${jsonRecord(sheet.columns, record)}`;
      first = false;
      if (text.length >= CHUNK_CHARS) {
        yield text;
        text = '';
      }
    }
    if (text) yield text;
  }
  yield first ? ']' : `\n${indent.slice(2)}]`;
}

/** One table: a JSON array of objects. Several: {"<key>": [...], ...}. */
export async function* writeJson(sheets: SheetSource[]): AsyncGenerator<string> {
  if (sheets.length === 1 && sheets[0]) {
    yield* jsonArray(sheets[0], '');
    yield '\n';
    return;
  }
  yield '{';
  for (const [index, sheet] of sheets.entries()) {
    yield `${index > 0 ? ',' : ''}\n  ${JSON.stringify(sheet.key)}: `;
    yield* jsonArray(sheet, '    ');
  }
  yield '\n}\n';
}

/** The file's bytes, chunk by chunk, in the given format. */
export function writeExport(
  format: ExportFormat,
  sheets: SheetSource[],
): AsyncGenerator<string | Uint8Array> {
  switch (format) {
    case 'csv':
      return writeCsv(sheets);
    case 'json':
      return writeJson(sheets);
    case 'xlsx':
      return writeXlsx(sheets);
  }
}
