import { Zip, ZipDeflate } from 'fflate';
import {
  type CellType,
  CHUNK_CHARS,
  type ExportRecord,
  FORMULA_START,
  type SheetColumn,
  type SheetSource,
} from './exports.writers.ts';

/**
 * A streaming XLSX writer: the OOXML parts are written by hand and zipped with fflate as
 * the rows arrive, so memory holds one batch of rows and the compressor's window, whatever
 * the row count. Text goes in as inline strings: a shared strings table would have to be
 * kept in memory until the end (and written after every sheet).
 *
 * Limits: no ZIP64, so each part must stay under 4 GB uncompressed (about 5 million rows of
 * students); Excel itself stops at 1,048,576 rows per sheet.
 */

const MAIN_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/** Deflate level: 1 is several times faster than 6 and compresses repetitive XML nearly as well. */
const COMPRESSION_LEVEL = 1;
/** Excel refuses a cell longer than this. */
const MAX_CELL_CHARS = 32_767;
/** Rows looked at to size the columns (the first batch holds them, before the sheet starts). */
const WIDTH_SAMPLE_ROWS = 200;
const MIN_WIDTH = 6;
const MAX_WIDTH = 60;

/** The cell styles of styles.xml, by index. */
const STYLE = { header: 1, date: 2, datetime: 3, quoted: 4 } as const;

// Characters XML 1.0 cannot carry at all (control characters, U+FFFE/FFFF and unpaired
// surrogates): dropped, since no escape makes them legal.
const XML_FORBIDDEN =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to drop
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const XML_SPECIAL = /[&<>"]/g;
const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
};

export function xmlEscape(text: string): string {
  return text.replace(XML_FORBIDDEN, '').replace(XML_SPECIAL, (char) => XML_ENTITIES[char] ?? '');
}

/** A, B, …, Z, AA, AB, … for a 0-based column index. */
export function columnLetter(index: number): string {
  let letters = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  }
  return letters;
}

/** Days since 1899-12-30, Excel's date serial (the 1900 leap-year bug is behind 1900-03-01). */
const EXCEL_EPOCH_MS = Date.UTC(1899, 11, 30);
const DAY_MS = 86_400_000;

function dateSerial(value: unknown): number | undefined {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const ms = Date.parse(`${value}T00:00:00Z`);
    return Number.isNaN(ms) ? undefined : (ms - EXCEL_EPOCH_MS) / DAY_MS;
  }
  return undefined;
}

/** A timestamp as an Excel serial in UTC (spreadsheets have no time zones; the header says UTC). */
function datetimeSerial(value: unknown): number | undefined {
  const ms = value instanceof Date ? value.getTime() : Date.parse(String(value));
  return Number.isNaN(ms) ? undefined : (ms - EXCEL_EPOCH_MS) / DAY_MS;
}

function inlineString(ref: string, text: string, style?: number): string {
  const clean = xmlEscape(text.length > MAX_CELL_CHARS ? text.slice(0, MAX_CELL_CHARS) : text);
  const space = /^\s|\s$/.test(clean) ? ' xml:space="preserve"' : '';
  return `<c r="${ref}" t="inlineStr"${style ? ` s="${style}"` : ''}><is><t${space}>${clean}</t></is></c>`;
}

/**
 * One cell, or '' for an empty one. Text that starts like a formula is neutralised by the
 * cell style's quotePrefix, which is what Excel itself stores when someone types '=…: the
 * value stays exactly as recorded (no visible apostrophe, unlike the CSV export where the
 * quote is the only way), it is an inline string so it is never evaluated, and quotePrefix
 * keeps it text even when someone edits the cell and presses Enter.
 */
function cellXml(ref: string, value: unknown, type: CellType): string {
  if (value === null || value === undefined) return '';
  switch (type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
        ? `<c r="${ref}"><v>${value}</v></c>`
        : '';
    case 'boolean':
      return `<c r="${ref}" t="b"><v>${value ? 1 : 0}</v></c>`;
    case 'date': {
      const serial = dateSerial(value);
      return serial === undefined
        ? inlineString(ref, String(value))
        : `<c r="${ref}" s="${STYLE.date}"><v>${serial}</v></c>`;
    }
    case 'datetime': {
      const serial = datetimeSerial(value);
      return serial === undefined
        ? inlineString(ref, String(value))
        : `<c r="${ref}" s="${STYLE.datetime}"><v>${serial}</v></c>`;
    }
    default: {
      const text = type === 'json' ? JSON.stringify(value) : String(value);
      if (text === '') return '';
      return inlineString(ref, text, FORMULA_START.test(text) ? STYLE.quoted : undefined);
    }
  }
}

/** How wide a column should be: its header and the sample's longest value, within bounds. */
function columnWidths(columns: SheetColumn[], sample: ExportRecord[]): number[] {
  return columns.map((column) => {
    let longest = column.header.length * 1.15 + 2; // bold header text is wider
    if (column.type === 'date') longest = Math.max(longest, 11);
    else if (column.type === 'datetime') longest = Math.max(longest, 20);
    else if (column.type === 'boolean') longest = Math.max(longest, 7);
    else {
      for (const record of sample.slice(0, WIDTH_SAMPLE_ROWS)) {
        const value = record[column.key];
        if (value === null || value === undefined) continue;
        const text = column.type === 'json' ? JSON.stringify(value) : String(value);
        // Only the first line counts; a long note wraps rather than widening the column.
        const firstLine = text.split('\n', 1)[0] ?? '';
        longest = Math.max(longest, firstLine.length + 1);
      }
    }
    return Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, longest)) * 100) / 100;
  });
}

function sheetHead(columns: SheetColumn[], sample: ExportRecord[], selected: boolean): string {
  const widths = columnWidths(columns, sample);
  const cols = widths
    .map(
      (width, index) =>
        `<col min="${index + 1}" max="${index + 1}" width="${width}" customWidth="1"/>`,
    )
    .join('');
  const header = columns
    .map((column, index) => inlineString(`${columnLetter(index)}1`, column.header, STYLE.header))
    .join('');
  // The pane freezes the header row: it stays in view while scrolling.
  return (
    `${XML_HEAD}<worksheet xmlns="${MAIN_NS}" xmlns:r="${REL_NS}">` +
    `<sheetViews><sheetView workbookViewId="0"${selected ? ' tabSelected="1"' : ''}>` +
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' +
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>' +
    '<sheetFormatPr defaultRowHeight="15"/>' +
    `<cols>${cols}</cols><sheetData><row r="1">${header}</row>`
  );
}

/** The rows' XML in chunks of about CHUNK_CHARS (see there why not one string per batch). */
function* rowsXml(
  columns: SheetColumn[],
  letters: string[],
  batch: ExportRecord[],
  firstRow: number,
): Generator<string> {
  let xml = '';
  for (const [offset, record] of batch.entries()) {
    const row = firstRow + offset;
    let cells = '';
    for (const [index, column] of columns.entries()) {
      cells += cellXml(`${letters[index]}${row}`, record[column.key], column.type);
    }
    xml += `<row r="${row}">${cells}</row>`;
    if (xml.length >= CHUNK_CHARS) {
      yield xml;
      xml = '';
    }
  }
  if (xml) yield xml;
}

/** Sheet names: at most 31 characters, none of []:*?/\ , unique. */
function sheetNames(sheets: SheetSource[]): string[] {
  const used = new Set<string>();
  return sheets.map((sheet, index) => {
    let name =
      sheet.name
        .replace(/[[\]:*?/\\]/g, ' ')
        .trim()
        .slice(0, 31) || `Sheet${index + 1}`;
    if (used.has(name.toLowerCase())) name = `${name.slice(0, 27)} (${index + 1})`;
    used.add(name.toLowerCase());
    return name;
  });
}

function contentTypes(sheetCount: number): string {
  const sheets = Array.from(
    { length: sheetCount },
    (_, index) =>
      `<Override PartName="/xl/worksheets/sheet${index + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`,
  ).join('');
  return (
    `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
    `${sheets}</Types>`
  );
}

const ROOT_RELS =
  `${XML_HEAD}<Relationships xmlns="${PKG_REL_NS}">` +
  `<Relationship Id="rId1" Type="${REL_NS}/officeDocument" Target="xl/workbook.xml"/>` +
  '</Relationships>';

function workbookRels(sheetCount: number): string {
  const sheets = Array.from(
    { length: sheetCount },
    (_, index) =>
      `<Relationship Id="rId${index + 1}" Type="${REL_NS}/worksheet" Target="worksheets/sheet${index + 1}.xml"/>`,
  ).join('');
  return (
    `${XML_HEAD}<Relationships xmlns="${PKG_REL_NS}">${sheets}` +
    `<Relationship Id="rId${sheetCount + 1}" Type="${REL_NS}/styles" Target="styles.xml"/>` +
    '</Relationships>'
  );
}

function workbook(names: string[]): string {
  const sheets = names
    .map(
      (name, index) =>
        `<sheet name="${xmlEscape(name)}" sheetId="${index + 1}" r:id="rId${index + 1}"/>`,
    )
    .join('');
  return (
    `${XML_HEAD}<workbook xmlns="${MAIN_NS}" xmlns:r="${REL_NS}">` +
    `<bookViews><workbookView activeTab="0"/></bookViews><sheets>${sheets}</sheets></workbook>`
  );
}

/** Cell styles: 0 normal, 1 header (bold on a light fill, thin bottom border), 2 date, 3 date and time, 4 text kept as text (quotePrefix). */
const STYLES =
  `${XML_HEAD}<styleSheet xmlns="${MAIN_NS}">` +
  '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>' +
  '<numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/></numFmts>' +
  '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>' +
  '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>' +
  '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>' +
  '<fill><patternFill patternType="solid"><fgColor rgb="FFD9E1F2"/><bgColor indexed="64"/></patternFill></fill></fills>' +
  '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>' +
  '<border><left/><right/><top/><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>' +
  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
  '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
  '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1"/>' +
  '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
  '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>' +
  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
  '</styleSheet>';

/** The workbook's bytes, chunk by chunk: one worksheet per source, in order. */
export async function* writeXlsx(sheets: SheetSource[]): AsyncGenerator<Uint8Array> {
  const ready: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((error, chunk) => {
    if (error) failure = error;
    else ready.push(chunk);
  });
  // fflate compresses synchronously inside push(); what it produced is handed on at once.
  function* take(): Generator<Uint8Array> {
    if (failure) throw failure;
    while (ready.length > 0) yield ready.shift() as Uint8Array;
  }
  const addPart = (name: string, xml: string) => {
    const part = new ZipDeflate(name, { level: COMPRESSION_LEVEL });
    zip.add(part);
    part.push(Buffer.from(xml, 'utf8'), true);
  };

  const names = sheetNames(sheets);
  // The small parts first: a zip holds one part at a time, and these are known already.
  addPart('[Content_Types].xml', contentTypes(sheets.length));
  addPart('_rels/.rels', ROOT_RELS);
  addPart('xl/workbook.xml', workbook(names));
  addPart('xl/_rels/workbook.xml.rels', workbookRels(sheets.length));
  addPart('xl/styles.xml', STYLES);
  yield* take();

  for (const [index, sheet] of sheets.entries()) {
    const part = new ZipDeflate(`xl/worksheets/sheet${index + 1}.xml`, {
      level: COMPRESSION_LEVEL,
    });
    zip.add(part);
    const letters = sheet.columns.map((_, column) => columnLetter(column));
    const iterator = sheet.batches[Symbol.asyncIterator]();
    // The first batch is read before the sheet starts: the column widths come before the rows.
    const first = await iterator.next();
    const sample = first.done ? [] : first.value;
    part.push(Buffer.from(sheetHead(sheet.columns, sample, index === 0), 'utf8'));
    yield* take();
    let nextRow = 2;
    for (let batch = first; !batch.done; batch = await iterator.next()) {
      for (const xml of rowsXml(sheet.columns, letters, batch.value, nextRow)) {
        part.push(Buffer.from(xml, 'utf8'));
        yield* take();
      }
      nextRow += batch.value.length;
    }
    part.push(Buffer.from('</sheetData></worksheet>', 'utf8'), true);
    yield* take();
  }
  zip.end();
  yield* take();
}
