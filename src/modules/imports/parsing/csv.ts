import { ImportFileError } from './errors.ts';
import { DELIMITERS, type Delimiter } from './types.ts';

/** Called per record with its 1-based record number; return false to stop. */
export type RecordHandler = (cells: string[], recordNumber: number) => boolean | undefined;

export const MAX_COLUMNS = 1000;

const QUOTE = 34;
const CR = 13;
const LF = 10;

/**
 * RFC 4180 records: fields separated by `delimiter`, records by CRLF, LF or CR; a field that
 * starts with a quote runs to the closing quote ("" is a quote inside it, and delimiters and
 * line breaks inside are data). Text after a closing quote is kept, as spreadsheets do. A quote
 * inside an unquoted field is an ordinary character. Records are numbered as a spreadsheet
 * numbers rows: one per record, whatever line breaks its quoted fields hold.
 *
 * `partial`: the text is a sample cut anywhere; an unterminated quote at its end is not an error.
 * `recordsBefore`: records in the text before this part (a file read a part at a time).
 */
export function parseCsv(
  text: string,
  delimiter: Delimiter,
  onRecord: RecordHandler,
  partial = false,
  recordsBefore = 0,
): void {
  const d = delimiter.charCodeAt(0);
  const n = text.length;
  let i = 0;
  let record = recordsBefore;
  if (n === 0) return;
  for (;;) {
    // One record.
    const cells: string[] = [];
    let endOfText = false;
    for (;;) {
      // One field, starting at i.
      let value: string;
      if (i < n && text.charCodeAt(i) === QUOTE) {
        let j = i + 1;
        let parts: string | null = null;
        let from = j;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q === -1) {
            if (partial) return;
            throw new ImportFileError(
              'unclosed-quote',
              `Row ${record + 1} opens a quoted value that is never closed: a quote (") is missing.`,
            );
          }
          if (text.charCodeAt(q + 1) === QUOTE) {
            parts = (parts ?? '') + text.slice(from, q + 1);
            j = q + 2;
            from = j;
            continue;
          }
          value = (parts ?? '') + text.slice(from, q);
          i = q + 1;
          break;
        }
        // Anything between the closing quote and the next delimiter or line break is kept.
        let k = i;
        while (k < n) {
          const c = text.charCodeAt(k);
          if (c === d || c === LF || c === CR) break;
          k++;
        }
        if (k > i) value += text.slice(i, k);
        i = k;
      } else {
        let k = i;
        while (k < n) {
          const c = text.charCodeAt(k);
          if (c === d || c === LF || c === CR) break;
          k++;
        }
        value = text.slice(i, k);
        i = k;
      }
      cells.push(value);
      if (cells.length > MAX_COLUMNS) {
        throw new ImportFileError(
          'too-many-columns',
          `Row ${record + 1} has more than ${MAX_COLUMNS} columns; this is not an import file.`,
        );
      }
      if (i >= n) {
        endOfText = true;
        break;
      }
      const c = text.charCodeAt(i);
      if (c === d) {
        i++;
        continue;
      }
      // A line break ends the record.
      i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      break;
    }
    record++;
    if (onRecord(cells, record) === false) return;
    // A final line break does not start one more (empty) record.
    if (endOfText || i >= n) return;
  }
}

/** A record with nothing but blanks in it. */
export function isBlankRecord(cells: readonly string[]): boolean {
  for (const cell of cells) if (cell.trim() !== '') return false;
  return true;
}

/**
 * The delimiter that splits the first records into the same number (more than one) of
 * columns most often. Null when no candidate splits anything: a one-column file, or a
 * delimiter this service does not know (the caller decides which).
 */
export function detectDelimiter(text: string): Delimiter | null {
  const sample =
    text.length > 65536 ? text.slice(0, text.lastIndexOf('\n', 65536) + 1 || 65536) : text;
  let best: { delimiter: Delimiter; agreeing: number; columns: number } | null = null;
  for (const delimiter of DELIMITERS) {
    const counts: number[] = [];
    try {
      parseCsv(
        sample,
        delimiter,
        (cells) => {
          if (!isBlankRecord(cells)) counts.push(cells.length);
          return counts.length < 30;
        },
        true,
      );
    } catch {
      continue;
    }
    const frequency = new Map<number, number>();
    for (const count of counts)
      if (count > 1) frequency.set(count, (frequency.get(count) ?? 0) + 1);
    let columns = 0;
    let agreeing = 0;
    for (const [count, times] of frequency) {
      if (times > agreeing || (times === agreeing && count > columns)) {
        columns = count;
        agreeing = times;
      }
    }
    if (agreeing === 0) continue;
    if (
      !best ||
      agreeing > best.agreeing ||
      (agreeing === best.agreeing && columns > best.columns)
    ) {
      best = { delimiter, agreeing, columns };
    }
  }
  return best?.delimiter ?? null;
}
