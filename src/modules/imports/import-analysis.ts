import { and, inArray, isNull, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { type Executor, queryRows, rowOf } from '../../platform/db/client.ts';
import { unprocessable } from '../../platform/http/problems.ts';
import { courses } from '../courses/courses.table.ts';
import { students } from '../students/students.table.ts';
import { IMPORT_TARGETS, type ImportServices, type ImportTarget } from './import-targets.ts';
import { KeyTable } from './key-table.ts';
import {
  type DateOrder,
  type Delimiter,
  dateOrderEvidence,
  type Encoding,
  FIELD_SPECS,
  type HeaderMapping,
  ImportFileError,
  type ImportType,
  mapHeaders,
  naturalKeys,
  normalizeRow,
  type RowIssue,
  readTableFile,
  type SourceRow,
  type TableStream,
} from './parsing/index.ts';

export interface ImportOptions {
  importType: ImportType;
  /** Records that already exist are updated (otherwise skipped). */
  allowUpdates: boolean;
  /** A row repeating an earlier row's key is skipped with a warning (otherwise an error). */
  skipDuplicates: boolean;
  /** Header → field (or null to ignore the column), over the detected mapping. */
  mapping?: Record<string, string | null> | undefined;
  encoding?: Encoding | undefined;
  delimiter?: Delimiter | undefined;
  dateOrder: DateOrder;
  sheet?: string | undefined;
}

export type RowAction = 'create' | 'update' | 'skip';
export type RowStatus = 'valid' | 'warning' | 'error';

export interface AnalyzedRow {
  rowNumber: number;
  action: RowAction;
  status: RowStatus;
  /** The row as the file says it, for people (references as student_id / course_code). */
  shown: Record<string, unknown>;
  /** The row ready for its table (references resolved to ids). */
  values: Record<string, unknown>;
  /** The business keys the file names: student_id and course_code codes, students' e-mail. */
  keys: Record<string, string>;
  issues: RowIssue[];
  /** The record it updates or leaves unchanged. */
  existingId: number | null;
  /** The earlier row of the file that has the same key: this one is not written. */
  duplicateOf: number | null;
}

export interface ImportSummary {
  total_rows: number;
  valid_rows: number;
  rows_with_warnings: number;
  rows_with_errors: number;
  create: number;
  update: number;
  skip: number;
}

export interface Detected {
  format: string;
  encoding: string | null;
  delimiter: string | null;
  sheet: string | null;
  header_row: number;
  mapping: HeaderMapping['mapping'];
  unknown_headers: string[];
  /** Filled once every row is read. */
  date_order?: DateOrderReport;
}

/** A file opened and its headers mapped, ready to be analysed a chunk of rows at a time. */
export interface OpenedImport {
  detected: Detected;
  mapping: HeaderMapping;
  rows: TableStream;
}

/** Rows per query when looking records up. */
const LOOKUP_CHUNK = 1000;

/** Values compared as JSON with sorted keys: jsonb does not keep key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : 1)))
      : inner,
  );
}

/** The fields of `values` whose value differs from the record's. */
export function changesAgainst(
  values: Record<string, unknown>,
  record: Record<string, unknown>,
): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(values)) {
    if (canonical(value ?? null) !== canonical(record[field] ?? null)) changes[field] = value;
  }
  return changes;
}

function chunks<T>(items: T[], size = LOOKUP_CHUNK): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size)
    out.push(items.slice(start, start + size));
  return out;
}

const column = (table: PgTable, name: string) =>
  (table as unknown as Record<string, PgColumn>)[name] as PgColumn;

/** Live records by a text column, as column value → id. */
async function idsBy(
  db: Executor,
  table: typeof students | typeof courses,
  keyColumn: PgColumn,
  keys: string[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const part of chunks([...new Set(keys)])) {
    const rows = await db
      .select({ key: sql<string>`${keyColumn}`, id: table.id })
      .from(table)
      .where(and(inArray(keyColumn, part), isNull(table.deleted_at)));
    for (const row of rows) found.set(row.key, row.id);
  }
  return found;
}

/**
 * Every record (deleted ones too) whose key columns match one of `tuples`. The keys go as one
 * array per column (unnest): a long `(a, b) IN ((…), (…))` list costs the planner dearly. Each
 * key is looked up on its own (a LATERAL subquery that OFFSET 0 keeps from being merged into
 * a join), so every lookup uses the key's index: joined instead, a table that grew since its
 * statistics were taken (an import) was read whole for each chunk of keys, 20 ms against
 * 4 ms at 50,000 students.
 */
export async function findByKeys(
  db: Executor,
  table: PgTable,
  keyColumns: string[],
  tuples: unknown[][],
): Promise<Array<Record<string, unknown>>> {
  const found: Array<Record<string, unknown>> = [];
  const columns = keyColumns.map((name) => column(table, name));
  const keyNames = columns.map((_, index) => sql.raw(`key_${index}`));
  const matches = columns.map((keyColumn, index) => sql`${keyColumn} = wanted.${keyNames[index]}`);
  for (const part of chunks(tuples)) {
    const arrays = columns.map(
      (keyColumn, index) =>
        sql`${sql.param(part.map((tuple) => tuple[index] ?? null))}::${sql.raw(keyColumn.getSQLType())}[]`,
    );
    const rows = await queryRows<Record<string, unknown>>(
      db,
      sql`SELECT record.*
            FROM (SELECT DISTINCT * FROM unnest(${sql.join(arrays, sql`, `)})) AS wanted (${sql.join(keyNames, sql`, `)})
           CROSS JOIN LATERAL (
             SELECT * FROM ${table} WHERE ${sql.join(matches, sql` AND `)} OFFSET 0
           ) AS record`,
    );
    for (const row of rows) found.push(rowOf(table, row));
  }
  return found;
}

export const keyOf = (values: Record<string, unknown>, keyColumns: string[]) =>
  canonical(keyColumns.map((name) => values[name] ?? null));

function fail(row: AnalyzedRow, field: string, message: string) {
  row.issues.push({ field, message, severity: 'error' });
  row.status = 'error';
  row.action = 'skip';
}

function warn(row: AnalyzedRow, field: string, message: string) {
  row.issues.push({ field, message, severity: 'warning' });
  row.action = 'skip';
  if (row.status === 'valid') row.status = 'warning';
}

/** An import file's problem as the 422 answer that names it. */
export function fileProblem(error: ImportFileError) {
  return unprocessable(`The file cannot be imported: ${error.message}`, [
    { field: 'file', message: error.message },
  ]);
}

/**
 * Opens an import file and maps its headers, or answers 422 naming what is wrong with it.
 * Its rows then come a chunk at a time (`rows.chunks()`, which can still throw
 * ImportFileError part way through a large file: see fileProblem).
 */
export async function openImport(
  filePath: string,
  fileName: string,
  options: ImportOptions,
  limits: { maxRows: number },
): Promise<OpenedImport> {
  let source: TableStream;
  try {
    source = await readTableFile(filePath, fileName, options.importType, {
      ...(options.encoding ? { encoding: options.encoding } : {}),
      ...(options.delimiter ? { delimiter: options.delimiter } : {}),
      ...(options.sheet ? { sheet: options.sheet } : {}),
      limits: { maxRows: limits.maxRows },
    });
  } catch (error) {
    throw error instanceof ImportFileError ? fileProblem(error) : error;
  }
  const mapping = mapHeaders(options.importType, source.headers, options.mapping);
  if (mapping.missingRequired.length > 0) {
    throw unprocessable(
      `The file has no column for the required field(s) ${mapping.missingRequired.join(', ')}; add the column or map a header to it.`,
      mapping.missingRequired.map((field) => ({
        field: `mapping.${field}`,
        message: 'is required',
      })),
    );
  }
  return {
    detected: {
      format: source.format,
      encoding: source.encoding,
      delimiter: source.delimiter,
      sheet: source.sheet,
      header_row: source.headerRowNumber,
      mapping: mapping.mapping,
      unknown_headers: mapping.unknownHeaders,
    },
    mapping,
    rows: source,
  };
}

/** One row of the file on its own: its values and every problem they have. */
export function analyzeRow(
  options: ImportOptions,
  mapping: HeaderMapping,
  sourceRow: SourceRow,
): AnalyzedRow {
  const normalized = normalizeRow(options.importType, mapping, sourceRow.cells, {
    dateOrder: options.dateOrder,
  });
  const hasError = normalized.issues.some((issue) => issue.severity === 'error');
  return {
    rowNumber: sourceRow.rowNumber,
    action: hasError ? 'skip' : 'create',
    status: hasError ? 'error' : normalized.issues.length > 0 ? 'warning' : 'valid',
    shown: { ...normalized.keys, ...normalized.data },
    values: { ...normalized.data },
    keys: normalized.keys,
    issues: [...normalized.issues],
    existingId: null,
    duplicateOf: null,
  };
}

/** The same record twice in one file: the first occurrence wins, in file order. */
export class DuplicateFinder {
  private readonly firstByKey = new KeyTable();

  constructor(private readonly options: ImportOptions) {}

  check(row: AnalyzedRow): void {
    if (row.status === 'error') return;
    for (const key of naturalKeys(this.options.importType, row.values, row.keys)) {
      const first = this.firstByKey.firstOrAdd(key, row.rowNumber);
      if (first === undefined) continue;
      row.duplicateOf = first;
      const message = `repeats row ${first} (${key})`;
      if (this.options.skipDuplicates) warn(row, 'row', message);
      else fail(row, 'row', message);
      return;
    }
  }
}

/**
 * How the file writes its D/M/Y-style dates, tallied over its date columns: a first part
 * above 12 proves day-first, a second part above 12 month-first. The preview reports it and
 * warns when the chosen order contradicts the file; dates are never reinterpreted.
 */
export class DateOrderTally {
  private readonly columns: number[];
  private dayFirst = 0;
  private monthFirst = 0;

  constructor(
    private readonly options: ImportOptions,
    mapping: HeaderMapping,
  ) {
    const dateFields = new Set(
      FIELD_SPECS[options.importType].filter((spec) => spec.kind === 'date').map((s) => s.name),
    );
    this.columns = mapping.mapping.flatMap(({ field }, index) =>
      field !== null && dateFields.has(field) ? [index] : [],
    );
  }

  add(rows: SourceRow[]): void {
    for (const index of this.columns) {
      const found = dateOrderEvidence(rows.map((row) => row.cells[index] ?? null));
      this.dayFirst += found.dayFirst;
      this.monthFirst += found.monthFirst;
    }
  }

  report(): DateOrderReport {
    const chosen = this.options.dateOrder;
    const against = chosen === 'DMY' ? this.monthFirst : this.dayFirst;
    const other = chosen === 'DMY' ? 'MDY' : 'DMY';
    return {
      chosen,
      day_first_dates: this.dayFirst,
      month_first_dates: this.monthFirst,
      warning:
        against > 0
          ? `${against} date(s) can only be read ${other === 'MDY' ? 'month-first' : 'day-first'}, which contradicts date_order=${chosen}: they are row errors. If the file writes dates that way, preview it again with date_order=${other}.`
          : null,
    };
  }
}

export interface DateOrderReport {
  chosen: DateOrder;
  day_first_dates: number;
  month_first_dates: number;
  warning: string | null;
}

/** The file's names for the records a row refers to (student_id, course_code). */
const REFERENCE_FIELDS = { student: 'student_id', course: 'course_code' } as const;

/**
 * Decides against the database what each row would do: resolves its references, finds the
 * record it matches and whether another record holds one of its unique values, then creates,
 * updates (when allowed and changed) or skips. Rows already refused or repeating an earlier
 * row are left as they are. The preview runs it per chunk of the file; the import job runs it
 * again per batch, just before writing, so what it writes matches the database of that moment.
 */
export async function checkAgainstDatabase(
  db: Executor,
  services: ImportServices,
  options: ImportOptions,
  rows: AnalyzedRow[],
): Promise<void> {
  const target: ImportTarget = IMPORT_TARGETS[options.importType];
  const service = services[target.service];
  const open = () => rows.filter((row) => row.status !== 'error' && row.duplicateOf === null);
  for (const reference of target.references) {
    const field = REFERENCE_FIELDS[reference];
    const [table, keyColumn] =
      reference === 'student' ? [students, students.student_id] : [courses, courses.course_code];
    const candidates = open();
    const ids = await idsBy(
      db,
      table,
      keyColumn,
      candidates.map((row) => row.keys[field] ?? ''),
    );
    for (const row of candidates) {
      const code = row.keys[field] ?? '';
      const id = ids.get(code);
      if (id === undefined) fail(row, field, `no ${reference} has ${field} "${code}"`);
      else row.values[reference === 'student' ? 'student_id' : 'course_id'] = id;
    }
  }

  // Records that exist already: update (when allowed and changed) or skip.
  const candidates = open();
  if (candidates.length === 0) return;
  const table = service.table as PgTable;
  const existing = new Map<string, Record<string, unknown>>();
  const found = await findByKeys(
    db,
    table,
    target.keyColumns,
    candidates.map((row) => target.keyColumns.map((name) => row.values[name] ?? null)),
  );
  for (const record of found) existing.set(keyOf(record, target.keyColumns), record);
  for (const uniqueColumn of target.uniqueColumns) {
    const holders = await findByKeys(
      db,
      table,
      [uniqueColumn],
      candidates.flatMap((row) =>
        row.values[uniqueColumn] == null ? [] : [[row.values[uniqueColumn]]],
      ),
    );
    const holderOf = new Map(holders.map((record) => [String(record[uniqueColumn]), record]));
    for (const row of candidates) {
      const holder = holderOf.get(String(row.values[uniqueColumn]));
      const own = existing.get(keyOf(row.values, target.keyColumns));
      if (holder && holder.id !== own?.id) {
        fail(
          row,
          uniqueColumn,
          `${uniqueColumn} "${row.values[uniqueColumn]}" already belongs to another record (${target.keyColumns
            .map((name) => holder[name])
            .join(', ')})`,
        );
      }
    }
  }
  for (const row of candidates) {
    if (row.status === 'error') continue;
    const record = existing.get(keyOf(row.values, target.keyColumns));
    if (!record) continue;
    row.existingId = record.id as number;
    if (record.deleted_at) {
      fail(row, 'row', `this ${service.label.toLowerCase()} was deleted; restore it first`);
    } else if (!options.allowUpdates) {
      warn(row, 'row', 'already exists; allow updates to change it');
    } else {
      row.action = Object.keys(changesAgainst(row.values, record)).length > 0 ? 'update' : 'skip';
    }
  }
}

/** A row as the preview stored it, ready to be checked against the database again. */
export function rowFromPreview(
  importType: ImportType,
  stored: {
    row_number: number;
    status: RowStatus;
    data: Record<string, unknown>;
    issues: Array<{ field: string; message: string; severity?: string }>;
  },
): AnalyzedRow {
  // The stored row shows references by their codes; the record gets the ids they resolve to.
  const values = { ...stored.data };
  const keys: Record<string, string> = {};
  for (const reference of IMPORT_TARGETS[importType].references) {
    const field = REFERENCE_FIELDS[reference];
    if (typeof values[field] === 'string') keys[field] = values[field] as string;
    delete values[field];
  }
  return {
    rowNumber: stored.row_number,
    action: 'create',
    status: stored.status,
    shown: stored.data,
    values,
    keys,
    issues: stored.issues.map(({ field, message, severity }) => ({
      field,
      message,
      severity: severity === 'error' ? 'error' : 'warning',
    })),
    existingId: null,
    duplicateOf: null,
  };
}

/** Counts of a preview, kept as its rows are analysed. */
export function emptySummary(): ImportSummary {
  return {
    total_rows: 0,
    valid_rows: 0,
    rows_with_warnings: 0,
    rows_with_errors: 0,
    create: 0,
    update: 0,
    skip: 0,
  };
}

export function countRow(summary: ImportSummary, row: AnalyzedRow): void {
  summary.total_rows += 1;
  if (row.status === 'valid') summary.valid_rows += 1;
  else if (row.status === 'warning') summary.rows_with_warnings += 1;
  else summary.rows_with_errors += 1;
  summary[row.action] += 1;
}

export { IMPORT_TARGETS };
