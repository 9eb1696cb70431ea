import { and, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Executor } from '../../platform/db/client.ts';
import { unprocessable } from '../../platform/http/problems.ts';
import { courses } from '../courses/courses.table.ts';
import { students } from '../students/students.table.ts';
import { IMPORT_TARGETS, type ImportServices, type ImportTarget } from './import-targets.ts';
import {
  type DateOrder,
  type Delimiter,
  type Encoding,
  type HeaderMapping,
  ImportFileError,
  type ImportType,
  mapHeaders,
  naturalKeys,
  normalizeRow,
  type RowIssue,
  readTable,
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
  issues: RowIssue[];
  /** The record it updates or leaves unchanged. */
  existingId: number | null;
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

export interface Analysis {
  detected: {
    format: string;
    encoding: string | null;
    delimiter: string | null;
    sheet: string | null;
    header_row: number;
    mapping: HeaderMapping['mapping'];
    unknown_headers: string[];
  };
  rows: AnalyzedRow[];
  summary: ImportSummary;
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
 * array per column (unnest): a long `(a, b) IN ((…), (…))` list costs the planner dearly.
 */
export async function findByKeys(
  db: Executor,
  table: PgTable,
  keyColumns: string[],
  tuples: unknown[][],
): Promise<Array<Record<string, unknown>>> {
  const found: Array<Record<string, unknown>> = [];
  const columns = keyColumns.map((name) => column(table, name));
  for (const part of chunks(tuples)) {
    const arrays = columns.map(
      (keyColumn, index) =>
        sql`${sql.param(part.map((tuple) => tuple[index] ?? null))}::${sql.raw(keyColumn.getSQLType())}[]`,
    );
    const wanted: SQL = sql`(${sql.join(columns, sql`, `)}) IN (SELECT * FROM unnest(${sql.join(arrays, sql`, `)}))`;
    found.push(
      ...((await db.select().from(table).where(wanted)) as Array<Record<string, unknown>>),
    );
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

/**
 * Reads an import file and decides, row by row, what committing it would do — without
 * changing anything. The preview shows this; the import job runs it again just before it
 * writes, so what it writes matches the database of that moment.
 */
export async function analyzeImport(
  db: Executor,
  services: ImportServices,
  file: Buffer,
  fileName: string,
  options: ImportOptions,
  limits: { maxRows: number },
): Promise<Analysis> {
  const target: ImportTarget = IMPORT_TARGETS[options.importType];
  const service = services[target.service];
  let source: ReturnType<typeof readTable>;
  try {
    source = readTable(file, fileName, options.importType, {
      ...(options.encoding ? { encoding: options.encoding } : {}),
      ...(options.delimiter ? { delimiter: options.delimiter } : {}),
      ...(options.sheet ? { sheet: options.sheet } : {}),
      limits: { maxRows: limits.maxRows },
    });
  } catch (error) {
    if (error instanceof ImportFileError) {
      throw unprocessable(`The file cannot be imported: ${error.message}`, [
        { field: 'file', message: error.message },
      ]);
    }
    throw error;
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

  const rows: AnalyzedRow[] = [];
  const keysByRow = new Map<AnalyzedRow, Record<string, string>>();
  for (const sourceRow of source.rows) {
    const normalized = normalizeRow(options.importType, mapping, sourceRow.cells, {
      dateOrder: options.dateOrder,
    });
    const shown = { ...normalized.keys, ...normalized.data };
    const hasError = normalized.issues.some((issue) => issue.severity === 'error');
    const row: AnalyzedRow = {
      rowNumber: sourceRow.rowNumber,
      action: hasError ? 'skip' : 'create',
      status: hasError ? 'error' : normalized.issues.length > 0 ? 'warning' : 'valid',
      shown,
      values: { ...normalized.data },
      issues: [...normalized.issues],
      existingId: null,
    };
    rows.push(row);
    keysByRow.set(row, normalized.keys);
  }

  // The same record twice in one file: the first occurrence wins.
  const firstByKey = new Map<string, number>();
  for (const row of rows) {
    if (row.status === 'error') continue;
    for (const key of naturalKeys(options.importType, row.values, keysByRow.get(row) ?? {})) {
      const first = firstByKey.get(key);
      if (first === undefined) {
        firstByKey.set(key, row.rowNumber);
        continue;
      }
      const message = `repeats row ${first} (${key})`;
      if (options.skipDuplicates) {
        row.issues.push({ field: 'row', message, severity: 'warning' });
        row.action = 'skip';
        if (row.status === 'valid') row.status = 'warning';
      } else {
        fail(row, 'row', message);
      }
      break;
    }
  }

  // References: the file names students and courses by their codes.
  const live = rows.filter((row) => row.status !== 'error');
  if (target.references.includes('student')) {
    const ids = await idsBy(
      db,
      students,
      students.student_id,
      live.map((row) => keysByRow.get(row)?.student_id ?? ''),
    );
    for (const row of live) {
      const code = keysByRow.get(row)?.student_id ?? '';
      const id = ids.get(code);
      if (id === undefined) fail(row, 'student_id', `no student has student_id "${code}"`);
      else row.values.student_id = id;
    }
  }
  if (target.references.includes('course')) {
    const ids = await idsBy(
      db,
      courses,
      courses.course_code,
      live.map((row) => keysByRow.get(row)?.course_code ?? ''),
    );
    for (const row of live) {
      if (row.status === 'error') continue;
      const code = keysByRow.get(row)?.course_code ?? '';
      const id = ids.get(code);
      if (id === undefined) fail(row, 'course_code', `no course has course_code "${code}"`);
      else row.values.course_id = id;
    }
  }

  // Records that exist already: update (when allowed and changed) or skip.
  const candidates = rows.filter((row) => row.status !== 'error' && row.action !== 'skip');
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
      row.action = 'skip';
      row.issues.push({
        field: 'row',
        message: 'already exists; allow updates to change it',
        severity: 'warning',
      });
      if (row.status === 'valid') row.status = 'warning';
    } else {
      row.action = Object.keys(changesAgainst(row.values, record)).length > 0 ? 'update' : 'skip';
    }
  }

  const count = (test: (row: AnalyzedRow) => boolean) => rows.filter(test).length;
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
    rows,
    summary: {
      total_rows: rows.length,
      valid_rows: count((row) => row.status === 'valid'),
      rows_with_warnings: count((row) => row.status === 'warning'),
      rows_with_errors: count((row) => row.status === 'error'),
      create: count((row) => row.action === 'create'),
      update: count((row) => row.action === 'update'),
      skip: count((row) => row.action === 'skip'),
    },
  };
}

export { IMPORT_TARGETS };
