import { MAX_COLUMNS } from './csv.ts';
import { ImportFileError } from './errors.ts';
import type { Cell } from './types.ts';
import { attribute, decodeExcelEscapes, XmlTokenizer } from './xml.ts';
import { ZipArchive } from './zip.ts';

/**
 * Reading an XLSX workbook: the package's relationships lead to the workbook, its sheets,
 * shared strings and styles. Cells keep their type: shared and inline strings, numbers,
 * booleans, dates (numbers whose style has a date format, 1900 or 1904 date system), and for a
 * formula the value Excel cached when it last calculated (formulas are never evaluated).
 */
export interface SheetInfo {
  name: string;
  path: string;
  hidden: boolean;
}

export interface SheetRow {
  rowNumber: number;
  cells: Cell[];
}

export class XlsxWorkbook {
  readonly sheets: SheetInfo[] = [];
  private readonly zip: ZipArchive;
  private sharedStrings: string[] | null = null;
  private sharedStringsPath: string | null = null;
  private stylesPath: string | null = null;
  /** Per cell style (the s attribute): is its number format a date? */
  private dateStyles: boolean[] | null = null;
  private date1904 = false;

  constructor(bytes: Uint8Array, maxUncompressedBytes: number) {
    this.zip = new ZipArchive(bytes, maxUncompressedBytes);
    const workbookPath = this.officeDocumentPath();
    if (!workbookPath || !this.zip.has(workbookPath)) {
      throw new ImportFileError('not-xlsx', 'The file is a ZIP archive but not an Excel workbook.');
    }
    const relationships = this.relationships(workbookPath);
    for (const [, target] of relationships) {
      if (target.type.endsWith('/sharedStrings')) this.sharedStringsPath = target.path;
      if (target.type.endsWith('/styles')) this.stylesPath = target.path;
    }
    this.parsePart(workbookPath, {
      open: (name, attributes) => {
        if (name === 'workbookPr') {
          const value = attribute(attributes, 'date1904');
          this.date1904 = value === '1' || value === 'true';
        } else if (name === 'sheet') {
          const id = attribute(attributes, 'id');
          const target = id ? relationships.get(id) : undefined;
          if (!target?.type.endsWith('/worksheet')) return; // chart sheets, dialogs
          const state = attribute(attributes, 'state');
          this.sheets.push({
            name: attribute(attributes, 'name') ?? target.path,
            path: target.path,
            hidden: state === 'hidden' || state === 'veryHidden',
          });
        }
      },
      close: () => {},
      text: () => {},
    });
  }

  /** The main part, from the package relationships (xl/workbook.xml in practice). */
  private officeDocumentPath(): string | null {
    if (this.zip.has('_rels/.rels')) {
      for (const [, target] of this.relationships('')) {
        if (target.type.endsWith('/officeDocument')) return target.path;
      }
    }
    return this.zip.has('xl/workbook.xml') ? 'xl/workbook.xml' : null;
  }

  /** The relationships of a part, with targets resolved to package paths. */
  private relationships(partPath: string): Map<string, { type: string; path: string }> {
    const slash = partPath.lastIndexOf('/');
    const dir = slash === -1 ? '' : partPath.slice(0, slash + 1);
    const relsPath = `${dir}_rels/${partPath.slice(slash + 1)}.rels`;
    const result = new Map<string, { type: string; path: string }>();
    if (!this.zip.has(relsPath)) return result;
    this.parsePart(relsPath, {
      open: (name, attributes) => {
        if (name !== 'Relationship' || attribute(attributes, 'TargetMode') === 'External') return;
        const id = attribute(attributes, 'Id');
        const target = attribute(attributes, 'Target');
        if (!id || !target) return;
        result.set(id, {
          type: attribute(attributes, 'Type') ?? '',
          path: resolvePath(dir, target),
        });
      },
      close: () => {},
      text: () => {},
    });
    return result;
  }

  /** Runs a part through the tokenizer; `stopped()` ends it early. */
  private parsePart(
    path: string,
    handler: ConstructorParameters<typeof XmlTokenizer>[0],
    stopped: () => boolean = () => false,
  ): void {
    const tokenizer = new XmlTokenizer(handler);
    try {
      let complete = true;
      this.zip.read(path, (chunk) => {
        tokenizer.pushBytes(chunk);
        if (stopped()) {
          complete = false;
          return false;
        }
        return true;
      });
      if (complete) tokenizer.pushBytes(new Uint8Array(0), true);
    } catch (error) {
      if (error instanceof ImportFileError) throw error;
      throw new ImportFileError(
        'not-xlsx',
        `The workbook is damaged: its part ${path} is not readable XML (${(error as Error).message}).`,
      );
    }
  }

  private loadSharedStrings(): string[] {
    if (this.sharedStrings) return this.sharedStrings;
    const strings: string[] = [];
    this.sharedStrings = strings;
    if (!this.sharedStringsPath || !this.zip.has(this.sharedStringsPath)) return strings;
    let current: string[] | null = null;
    let inText = false;
    let phonetic = 0;
    this.parsePart(this.sharedStringsPath, {
      open: (name, _attributes, selfClosing) => {
        if (name === 'si') {
          current = [];
          if (selfClosing) {
            strings.push('');
            current = null;
          }
        } else if (name === 'rPh') phonetic++;
        else if (name === 't' && !selfClosing) inText = true;
      },
      close: (name) => {
        if (name === 'si' && current) {
          strings.push(decodeExcelEscapes(current.join('')));
          current = null;
        } else if (name === 'rPh') phonetic--;
        else if (name === 't') inText = false;
      },
      text: (text) => {
        if (inText && phonetic === 0 && current) current.push(text);
      },
    });
    return strings;
  }

  private loadDateStyles(): boolean[] {
    if (this.dateStyles) return this.dateStyles;
    const styles: boolean[] = [];
    this.dateStyles = styles;
    if (!this.stylesPath || !this.zip.has(this.stylesPath)) return styles;
    const customFormats = new Map<number, string>();
    let inCellXfs = false;
    this.parsePart(this.stylesPath, {
      open: (name, attributes, selfClosing) => {
        if (name === 'numFmt') {
          const id = Number(attribute(attributes, 'numFmtId'));
          customFormats.set(id, attribute(attributes, 'formatCode') ?? '');
        } else if (name === 'cellXfs' && !selfClosing) inCellXfs = true;
        else if (name === 'xf' && inCellXfs) {
          const id = Number(attribute(attributes, 'numFmtId') ?? '0');
          const custom = customFormats.get(id);
          styles.push(custom !== undefined ? isDateFormat(custom) : isBuiltInDateFormat(id));
        }
      },
      close: (name) => {
        if (name === 'cellXfs') inCellXfs = false;
      },
      text: () => {},
    });
    return styles;
  }

  /**
   * A sheet's non-blank rows, in order. `rowLimit` stops after that many non-blank rows (to
   * look at the top of a sheet, or to stop a sheet far over the row limit early).
   */
  readRows(sheet: SheetInfo, rowLimit: number): { rows: SheetRow[]; truncated: boolean } {
    const shared = this.loadSharedStrings();
    const dateStyles = this.loadDateStyles();
    const date1904 = this.date1904;
    const rows: SheetRow[] = [];
    let truncated = false;

    let rowNumber = 0;
    let cells: Cell[] | null = null;
    let nonBlank = false;
    let column = -1;
    let type = 'n';
    let style = 0;
    let value: string | null = null;
    let inlineParts: string[] | null = null;
    let target: 'v' | 't' | null = null;
    let phonetic = 0;

    const finishCell = () => {
      if (!cells) return;
      let cell: Cell = null;
      if (type === 'inlineStr') {
        cell = inlineParts ? decodeExcelEscapes(inlineParts.join('')) : null;
      } else if (value !== null) {
        switch (type) {
          case 's':
            cell = shared[Number(value)] ?? null;
            break;
          case 'str':
            cell = decodeExcelEscapes(value);
            break;
          case 'b':
            cell = value.trim() === '1' || value.trim() === 'true';
            break;
          case 'e':
            cell = value; // "#N/A", "#DIV/0!": text, so a number field reports it
            break;
          case 'd':
            cell = isoCellToDate(value);
            break;
          default: {
            const number = Number(value);
            if (value.trim() === '' || Number.isNaN(number)) cell = value;
            else cell = dateStyles[style] ? serialToDate(number, date1904) : number;
          }
        }
      }
      if (cell === null || cell === '') return;
      if (column >= MAX_COLUMNS) {
        throw new ImportFileError(
          'too-many-columns',
          `Row ${rowNumber} has a value beyond column ${MAX_COLUMNS}; this is not an import sheet.`,
        );
      }
      while (cells.length < column) cells.push(null);
      cells[column] = cell;
      if (typeof cell !== 'string' || cell.trim() !== '') nonBlank = true;
    };

    this.parsePart(
      sheet.path,
      {
        open: (name, attributes, selfClosing) => {
          switch (name) {
            case 'row': {
              const r = attribute(attributes, 'r');
              rowNumber = r ? Number(r) : rowNumber + 1;
              cells = [];
              nonBlank = false;
              column = -1;
              if (selfClosing) cells = null;
              break;
            }
            case 'c': {
              const r = attribute(attributes, 'r');
              column = r ? columnIndex(r) : column + 1;
              type = attribute(attributes, 't') ?? 'n';
              style = Number(attribute(attributes, 's') ?? '0');
              value = null;
              inlineParts = null;
              if (selfClosing) finishCell();
              break;
            }
            case 'v':
              if (!selfClosing) {
                target = 'v';
                value = '';
              }
              break;
            case 'is':
              inlineParts = [];
              break;
            case 'rPh':
              phonetic++;
              break;
            case 't':
              if (!selfClosing && inlineParts) target = 't';
              break;
          }
        },
        close: (name) => {
          switch (name) {
            case 'c':
              finishCell();
              break;
            case 'row':
              if (cells && nonBlank) {
                rows.push({ rowNumber, cells });
                if (rows.length >= rowLimit) truncated = true;
              }
              cells = null;
              break;
            case 'v':
            case 't':
              target = null;
              break;
            case 'rPh':
              phonetic--;
              break;
          }
        },
        text: (text) => {
          if (target === 'v') value = (value ?? '') + text;
          else if (target === 't' && inlineParts && phonetic === 0) inlineParts.push(text);
        },
      },
      () => truncated,
    );
    if (truncated && rows.length > rowLimit) rows.length = rowLimit;
    return { rows, truncated };
  }
}

function resolvePath(dir: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  const parts = (dir + target).split('/');
  const out: string[] = [];
  for (const part of parts) {
    if (part === '..') out.pop();
    else if (part !== '.' && part !== '') out.push(part);
  }
  return out.join('/');
}

/** "B7" → 1 (zero-based column). */
export function columnIndex(reference: string): number {
  let index = 0;
  for (let i = 0; i < reference.length; i++) {
    const c = reference.charCodeAt(i);
    if (c >= 65 && c <= 90) index = index * 26 + (c - 64);
    else if (c >= 97 && c <= 122) index = index * 26 + (c - 96);
    else break;
  }
  return index - 1;
}

/** Built-in number formats that show dates (ECMA-376 18.8.30, and the East Asian ones). */
export function isBuiltInDateFormat(id: number): boolean {
  return (
    (id >= 14 && id <= 17) ||
    id === 22 ||
    (id >= 27 && id <= 36) ||
    (id >= 50 && id <= 58) ||
    (id >= 71 && id <= 81)
  );
}

/**
 * A custom format shows a date when, outside quoted text, escapes and [brackets], it has a
 * day or year token. Pure time formats (h:mm:ss, [h]:mm) are not dates.
 */
export function isDateFormat(code: string): boolean {
  const stripped = code
    .split(';')[0]!
    .replace(/"[^"]*"/g, '')
    .replace(/\\./g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/[_*]./g, '');
  return /[dy]/i.test(stripped);
}

const DAY_MS = 86_400_000;
/** 1899-12-30: day 0 of the 1900 system once the fictitious 1900-02-29 is accounted for. */
const EPOCH_1900 = Date.UTC(1899, 11, 30);
const EPOCH_1904 = Date.UTC(1904, 0, 1);

/**
 * An Excel serial number as a Date at UTC (the calendar date and time as shown in Excel).
 * 1900 system: Excel counts 1900-02-29, which never was (the Lotus bug), so serials below 61
 * are one day later than the plain count; 60 itself is that fictitious day and comes back as
 * the text "1900-02-29" so that a date field reports it. Values below 1 are times of day
 * without a date and stay numbers.
 */
export function serialToDate(serial: number, date1904: boolean): Date | number | string {
  if (!Number.isFinite(serial) || serial < 1 || serial > 2_958_465) return serial;
  if (date1904) return new Date(EPOCH_1904 + Math.round(serial * DAY_MS));
  if (Math.floor(serial) === 60) return '1900-02-29';
  const adjusted = serial < 60 ? serial + 1 : serial;
  return new Date(EPOCH_1900 + Math.round(adjusted * DAY_MS));
}

/** t="d" cells hold ISO 8601 text. */
function isoCellToDate(value: string): Cell {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(value.trim());
  if (!match) return value;
  return new Date(
    Date.UTC(
      Number(match[1]),
      Number(match[2]) - 1,
      Number(match[3]),
      Number(match[4] ?? 0),
      Number(match[5] ?? 0),
      Number(match[6] ?? 0),
    ),
  );
}
