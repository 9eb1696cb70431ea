import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { isBlankRecord, parseCsv } from './csv.ts';
import { detectEncoding, streamDecoder } from './decode.ts';
import { ImportFileError } from './errors.ts';
import {
  chooseDelimiter,
  detectFormat,
  findHeader,
  HEADER_SEARCH_ROWS,
  headerTexts,
  maxRowsOf,
  readTable,
  tooManyRows,
} from './read-table.ts';
import type {
  Delimiter,
  Encoding,
  ImportType,
  ReadOptions,
  SourceRow,
  SourceTable,
} from './types.ts';

/** Bytes read at a time; a CSV file larger than this is streamed rather than held whole. */
const READ_BYTES = 1 << 20;
/** Rows handed on at a time when a whole table was read. */
const CHUNK_ROWS = 2000;

/** A table whose data rows come a chunk at a time, so a large file is never held whole. */
export interface TableStream extends Omit<SourceTable, 'rows'> {
  /**
   * The data rows in file order (blank rows skipped, numbers physical), once. May throw
   * ImportFileError part way: too many rows, bytes the encoding does not allow, an unclosed
   * quote.
   */
  chunks(): AsyncGenerator<SourceRow[]>;
}

/**
 * Reads an import file from disk: a CSV file larger than READ_BYTES is decoded and parsed a
 * part at a time (memory stays flat whatever its size); smaller files, XLSX (a zip needs its
 * directory at the end) and JSON are read whole by readTable.
 */
export async function readTableFile(
  filePath: string,
  fileName: string,
  importType: ImportType,
  options: ReadOptions = {},
): Promise<TableStream> {
  const head = await readHead(filePath);
  if (head.length === 0) throw new ImportFileError('empty', 'The file is empty.');
  if (head.length <= READ_BYTES || detectFormat(head, fileName) !== 'csv') {
    const { rows, ...table } = readTable(await readFile(filePath), fileName, importType, options);
    return {
      ...table,
      async *chunks() {
        for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
          yield rows.slice(start, start + CHUNK_ROWS);
        }
      },
    };
  }
  return streamCsv(filePath, head, importType, options);
}

/** The first READ_BYTES + 1 bytes (the one more tells whether the file is larger). */
async function readHead(filePath: string): Promise<Buffer> {
  const file = await open(filePath, 'r');
  try {
    const buffer = Buffer.alloc(READ_BYTES + 1);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

async function streamCsv(
  filePath: string,
  head: Buffer,
  importType: ImportType,
  options: ReadOptions,
): Promise<TableStream> {
  const { encoding, bomLength } = detectEncoding(head, options.encoding);
  const records = csvRecords(filePath, bomLength, encoding, (text) =>
    chooseDelimiter(text, importType, options),
  );
  // The header is among the first rows: read until there are enough to choose it.
  const first: SourceRow[] = [];
  let next = await records.next();
  while (!next.done && first.length <= HEADER_SEARCH_ROWS) {
    first.push(...next.value);
    next = await records.next();
  }
  if (first.length === 0) throw new ImportFileError('empty', 'The file has no rows.');
  const headerIndex = findHeader(first, importType, options);
  const header = first[headerIndex]!;
  const rest = next;
  const maxRows = maxRowsOf(options);
  return {
    format: 'csv',
    encoding,
    delimiter: delimiterOf(records),
    sheet: null,
    headers: headerTexts(header.cells),
    headerRowNumber: header.rowNumber,
    async *chunks() {
      let count = 0;
      const counted = (rows: SourceRow[]) => {
        count += rows.length;
        if (count > maxRows) throw tooManyRows(maxRows);
        return rows;
      };
      const afterHeader = first.slice(headerIndex + 1);
      if (afterHeader.length > 0) yield counted(afterHeader);
      if (!rest.done) yield counted(rest.value);
      for await (const rows of records) yield counted(rows);
      if (count === 0) {
        throw new ImportFileError('header-only', 'The file has a header row but no data rows.');
      }
    },
  };
}

type Records = AsyncGenerator<SourceRow[]> & { delimiter?: Delimiter };

function delimiterOf(records: Records): Delimiter {
  if (!records.delimiter) throw new Error('the delimiter is chosen with the first rows');
  return records.delimiter;
}

/**
 * The file's non-blank records, a part at a time. Each part is parsed up to its last line
 * break; when that break sits inside a quoted value (the parser finds the quote unclosed), the
 * part waits for more text. `choose` picks the delimiter from the first text.
 */
function csvRecords(
  filePath: string,
  start: number,
  encoding: Encoding,
  choose: (text: string) => Delimiter,
): Records {
  const state: { delimiter?: Delimiter } = {};
  async function* generate(): AsyncGenerator<SourceRow[]> {
    const decode = streamDecoder(encoding);
    let pending = '';
    let recordsBefore = 0;
    const parse = (text: string, delimiter: Delimiter): SourceRow[] => {
      const rows: SourceRow[] = [];
      let last = recordsBefore;
      parseCsv(
        text,
        delimiter,
        (cells, recordNumber) => {
          last = recordNumber;
          if (!isBlankRecord(cells)) rows.push({ rowNumber: recordNumber, cells });
          return true;
        },
        false,
        recordsBefore,
      );
      recordsBefore = last;
      return rows;
    };
    const stream = createReadStream(filePath, { start, highWaterMark: READ_BYTES });
    for await (const bytes of stream as AsyncIterable<Buffer>) {
      pending += decode(bytes, false);
      state.delimiter ??= choose(pending);
      const cut = pending.lastIndexOf('\n') + 1;
      if (cut === 0) continue;
      let rows: SourceRow[];
      try {
        rows = parse(pending.slice(0, cut), state.delimiter);
      } catch (error) {
        if (error instanceof ImportFileError && error.code === 'unclosed-quote') continue;
        throw error;
      }
      pending = pending.slice(cut);
      if (rows.length > 0) yield rows;
    }
    pending += decode(new Uint8Array(0), true);
    state.delimiter ??= choose(pending);
    const rows = parse(pending, state.delimiter);
    if (rows.length > 0) yield rows;
  }
  const records = generate() as Records;
  Object.defineProperty(records, 'delimiter', { get: () => state.delimiter });
  return records;
}
