import { detectDelimiter, isBlankRecord, MAX_COLUMNS, parseCsv } from './csv.ts';
import { decodeText } from './decode.ts';
import { ImportFileError } from './errors.ts';
import { IMPORT_FIELDS } from './fields.ts';
import { fieldForHeader, headerScore } from './headers.ts';
import type { Cell, Delimiter, ImportType, ReadOptions, SourceRow, SourceTable } from './types.ts';
import { toText } from './values.ts';
import { type SheetInfo, XlsxWorkbook } from './xlsx.ts';
import { isZip } from './zip.ts';

export const DEFAULT_MAX_ROWS = 1_000_000;
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024;
/** The header may sit below title rows; it is looked for among this many non-blank rows. */
export const HEADER_SEARCH_ROWS = 20;

/**
 * Reads a CSV, XLSX or JSON file into a header and rows of cells, or throws ImportFileError
 * when the file cannot be read at all. Nothing here knows the database.
 */
export function readTable(
  bytes: Buffer,
  fileName: string,
  importType: ImportType,
  options: ReadOptions = {},
): SourceTable {
  if (bytes.length === 0) throw new ImportFileError('empty', 'The file is empty.');
  const format = detectFormat(bytes, fileName);
  if (format === 'xlsx') return readXlsx(bytes, importType, options);
  const { text, encoding } = decodeText(bytes, options.encoding);
  if (text.trim() === '') throw new ImportFileError('empty', 'The file is empty.');
  if (format === 'json') return readJson(text, encoding, options);
  return readCsv(text, encoding, importType, options);
}

export function detectFormat(bytes: Uint8Array, fileName: string): SourceTable['format'] {
  const extension = /\.([^./\\]+)$/.exec(fileName.toLowerCase())?.[1] ?? '';
  if (isZip(bytes)) return 'xlsx';
  if (bytes[0] === 0xd0 && bytes[1] === 0xcf && bytes[2] === 0x11 && bytes[3] === 0xe0) {
    throw new ImportFileError(
      'not-xlsx',
      'This is an Excel 97-2003 (.xls) or a password-protected workbook. Save it as .xlsx (unprotected) or as CSV UTF-8.',
    );
  }
  if (extension === 'xlsx' || extension === 'xlsm' || extension === 'xls') {
    throw new ImportFileError(
      'not-xlsx',
      `The file is named .${extension} but is not an Excel workbook. Upload a .xlsx, CSV or JSON file.`,
    );
  }
  if (extension === 'json') return 'json';
  if (extension === 'csv' || extension === 'tsv' || extension === 'txt') return 'csv';
  // Sniff: the first character that is not whitespace, a BOM or a UTF-16 zero byte.
  const skip = new Set([0x20, 0x09, 0x0a, 0x0d, 0xef, 0xbb, 0xbf, 0xff, 0xfe, 0x00]);
  for (const b of bytes.subarray(0, 64)) {
    if (skip.has(b)) continue;
    return b === 0x5b || b === 0x7b ? 'json' : 'csv';
  }
  return 'csv';
}

export function maxRowsOf(options: ReadOptions): number {
  return options.limits?.maxRows ?? DEFAULT_MAX_ROWS;
}

export function tooManyRows(maxRows: number): ImportFileError {
  return new ImportFileError(
    'too-many-rows',
    `The file has more than ${maxRows.toLocaleString('en-US')} rows; split it into smaller files.`,
  );
}

/** Header cells as text, without the empty cells at the end of the row. */
export function headerTexts(cells: readonly Cell[]): string[] {
  const headers = cells.map((cell) =>
    cell === null ? '' : typeof cell === 'string' ? cell : toText(cell),
  );
  while (headers.length > 0 && headers[headers.length - 1]!.trim() === '') headers.pop();
  return headers;
}

/** The index of the header among `rows`: forced by options, else the row that maps best. */
export function findHeader(
  rows: readonly SourceRow[],
  importType: ImportType,
  options: ReadOptions,
): number {
  if (options.headerRow !== undefined) {
    const index = rows.findIndex((row) => row.rowNumber === options.headerRow);
    if (index === -1) {
      throw new ImportFileError(
        'empty',
        `Row ${options.headerRow}, chosen as the header, is blank or not in the file.`,
      );
    }
    return index;
  }
  let best = 0;
  let bestScore = -1;
  const n = Math.min(rows.length, HEADER_SEARCH_ROWS);
  for (let i = 0; i < n; i++) {
    const { mapped, complete } = headerScore(
      importType,
      headerTexts(rows[i]!.cells),
      options.mapping,
    );
    const score = (complete ? 10_000 : 0) + mapped;
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}

function tableFrom(
  rows: SourceRow[],
  importType: ImportType,
  options: ReadOptions,
  base: Pick<SourceTable, 'format' | 'encoding' | 'delimiter' | 'sheet'>,
  complete: boolean,
): SourceTable {
  if (rows.length === 0) throw new ImportFileError('empty', 'The file has no rows.');
  const headerIndex = findHeader(rows, importType, options);
  const header = rows[headerIndex]!;
  const data = rows.slice(headerIndex + 1);
  const maxRows = maxRowsOf(options);
  if (!complete || data.length > maxRows) throw tooManyRows(maxRows);
  if (data.length === 0) {
    throw new ImportFileError('header-only', 'The file has a header row but no data rows.');
  }
  return {
    ...base,
    headers: headerTexts(header.cells),
    headerRowNumber: header.rowNumber,
    rows: data,
  };
}

/**
 * The delimiter: the option, else the one detected in the text (its start is enough). With none
 * detected, a one-column file is fine if its header names a field (a list of student ids, say);
 * anything else uses a separator this service cannot tell.
 */
export function chooseDelimiter(
  text: string,
  importType: ImportType,
  options: ReadOptions,
): Delimiter {
  const detected = options.delimiter ?? detectDelimiter(text);
  if (detected) return detected;
  let first = '';
  parseCsv(
    text,
    ',',
    (cells) => {
      if (isBlankRecord(cells)) return true;
      first = cells[0] ?? '';
      return false;
    },
    true,
  );
  const named = fieldForHeader(importType, first) ?? options.mapping?.[first];
  if (!named) {
    throw new ImportFileError(
      'no-delimiter',
      `Could not tell how the columns are separated: use a comma, semicolon, tab or | between them. The file needs the columns ${IMPORT_FIELDS[importType].required.join(', ')}.`,
    );
  }
  return ',';
}

function readCsv(
  text: string,
  encoding: SourceTable['encoding'],
  importType: ImportType,
  options: ReadOptions,
): SourceTable {
  const delimiter = chooseDelimiter(text, importType, options);
  const limit = maxRowsOf(options) + HEADER_SEARCH_ROWS + 1;
  const rows: SourceRow[] = [];
  let complete = true;
  parseCsv(text, delimiter, (cells, recordNumber) => {
    if (isBlankRecord(cells)) return true;
    if (rows.length >= limit) {
      complete = false;
      return false;
    }
    rows.push({ rowNumber: recordNumber, cells });
    return true;
  });
  return tableFrom(
    rows,
    importType,
    options,
    { format: 'csv', encoding, delimiter, sheet: null },
    complete,
  );
}

function readJson(
  text: string,
  encoding: SourceTable['encoding'],
  options: ReadOptions,
): SourceTable {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ImportFileError(
      'bad-json',
      `The file is not valid JSON: ${(error as Error).message}.`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new ImportFileError(
      'bad-json',
      'The JSON file must hold an array of objects, one per record: [{"student_id": "S-001", ...}, ...].',
    );
  }
  if (parsed.length === 0) throw new ImportFileError('empty', 'The JSON array is empty.');
  const maxRows = maxRowsOf(options);
  if (parsed.length > maxRows) throw tooManyRows(maxRows);
  const columns = new Map<string, number>();
  parsed.forEach((item, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new ImportFileError(
        'bad-json',
        `Item ${index + 1} of the JSON array is not an object; every item must be {"field": value, ...}.`,
      );
    }
    for (const key of Object.keys(item)) {
      if (!columns.has(key)) {
        if (columns.size >= MAX_COLUMNS) {
          throw new ImportFileError(
            'too-many-columns',
            `The records have more than ${MAX_COLUMNS} different fields.`,
          );
        }
        columns.set(key, columns.size);
      }
    }
  });
  const headers = [...columns.keys()];
  const rows: SourceRow[] = [];
  parsed.forEach((item: Record<string, unknown>, index) => {
    const cells: Cell[] = new Array(headers.length).fill(null);
    let blank = true;
    for (const [key, value] of Object.entries(item)) {
      const cell = jsonCell(value);
      if (cell !== null && cell !== '') blank = false;
      cells[columns.get(key)!] = cell;
    }
    if (!blank) rows.push({ rowNumber: index + 1, cells });
  });
  if (rows.length === 0) throw new ImportFileError('empty', 'The JSON records hold no values.');
  return {
    format: 'json',
    encoding,
    delimiter: null,
    sheet: null,
    headers,
    headerRowNumber: 0,
    rows,
  };
}

/** JSON values as cells; nested arrays and objects as JSON text (evaluation rules, say). */
function jsonCell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return value;
  return JSON.stringify(value);
}

function readXlsx(bytes: Buffer, importType: ImportType, options: ReadOptions): SourceTable {
  const workbook = new XlsxWorkbook(
    bytes,
    options.limits?.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES,
  );
  const names = workbook.sheets.map((sheet) => sheet.name);
  if (names.length === 0) throw new ImportFileError('not-xlsx', 'The workbook has no worksheets.');
  let chosen: SheetInfo | undefined;
  if (options.sheet !== undefined) {
    const wanted = options.sheet.trim().toLowerCase();
    chosen =
      workbook.sheets.find((sheet) => sheet.name === options.sheet) ??
      workbook.sheets.find((sheet) => sheet.name.trim().toLowerCase() === wanted);
    if (!chosen) {
      throw new ImportFileError(
        'no-matching-sheet',
        `The workbook has no sheet named "${options.sheet}"; its sheets are: ${names.join(', ')}.`,
      );
    }
  } else {
    chosen = chooseSheet(workbook, importType, options);
  }
  const limit = maxRowsOf(options) + HEADER_SEARCH_ROWS + 1;
  const { rows, truncated } = workbook.readRows(chosen, limit + 1);
  if (rows.length === 0) throw new ImportFileError('empty', `The sheet "${chosen.name}" is empty.`);
  return tableFrom(
    rows,
    importType,
    options,
    { format: 'xlsx', encoding: null, delimiter: null, sheet: chosen.name },
    !(truncated && rows.length > limit),
  );
}

/**
 * The first visible sheet whose header row (within its top rows) has every required column;
 * else the sheet that maps the most columns; a single non-empty sheet is taken as it is (its
 * mapping can still be overridden).
 */
function chooseSheet(
  workbook: XlsxWorkbook,
  importType: ImportType,
  options: ReadOptions,
): SheetInfo {
  const visible = workbook.sheets.filter((sheet) => !sheet.hidden);
  const candidates = visible.length > 0 ? visible : workbook.sheets;
  if (candidates.length === 1) return candidates[0]!;
  let best: { sheet: SheetInfo; mapped: number } | null = null;
  const nonEmpty: SheetInfo[] = [];
  for (const sheet of candidates) {
    const { rows } = workbook.readRows(sheet, HEADER_SEARCH_ROWS);
    if (rows.length === 0) continue;
    nonEmpty.push(sheet);
    let mapped = 0;
    for (const row of rows) {
      const score = headerScore(importType, headerTexts(row.cells), options.mapping);
      if (score.complete) return sheet;
      mapped = Math.max(mapped, score.mapped);
    }
    if (mapped > 0 && (!best || mapped > best.mapped)) best = { sheet, mapped };
  }
  if (best) return best.sheet;
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  if (nonEmpty.length === 0)
    throw new ImportFileError('empty', 'Every sheet of the workbook is empty.');
  throw new ImportFileError(
    'no-matching-sheet',
    `No sheet has a header row with the columns of ${importType} (${IMPORT_FIELDS[importType].required.join(', ')}); choose the sheet. The sheets are: ${candidates.map((s) => s.name).join(', ')}.`,
  );
}
