import { and, asc, eq, gt, isNull, lte, max, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Executor } from '../../platform/db/client.ts';
import { likePattern } from '../../platform/http/pagination.ts';
import { badRequest, notFound } from '../../platform/http/problems.ts';
import { students } from '../students/students.table.ts';
import {
  deletedAtColumn,
  EXPORT_SPECS,
  type ExportColumn,
  type ExportResource,
  type ExportSpec,
  REPORT_PARTS,
  REPORT_STUDENT_SHEET,
  sheetColumns,
} from './exports.resources.ts';
import type { ExportLanguage, ExportRecord, SheetSource } from './exports.writers.ts';

/** Rows per database round trip: large enough to be fast, small enough to keep memory flat. */
export const EXPORT_BATCH_SIZE = 1000;

/** The list query fields an export ignores: it reads every match, in id order. */
const PAGING = { page: true, page_size: true, sort: true } as const;

/** A resource's export filters: its list query without paging and sort. */
export function filterSchema(spec: ExportSpec): z.ZodObject {
  return spec.listQuery.omit(PAGING);
}

/** Filters as validated values (booleans, numbers) from query-string-like input. */
export type ExportFilters = Record<string, unknown>;

export interface BatchProgress {
  /** Rows read so far. */
  rows: number;
}

export interface ReadOptions {
  /** Rows with a larger id (written after the export began) are left out. */
  maxId: number;
  batchSize?: number;
  /** Checked before every batch: a cancelled job stops at the next one. */
  signal?: AbortSignal;
  /** Called after each batch has been read (progress, row counts). */
  onBatch?: (progress: BatchProgress) => void | Promise<void>;
}

/**
 * Reads exports from the database: the matching rows of a resource in keyset batches by id
 * (never OFFSET, never all at once), and a student's report.
 */
export class ExportService {
  constructor(private readonly db: Executor) {}

  spec(resource: ExportResource): ExportSpec {
    return EXPORT_SPECS[resource];
  }

  /** The columns of an export; deleted_at only when deleted records are included. */
  columns(spec: ExportSpec, filters: ExportFilters): ExportColumn[] {
    const { table } = spec;
    return filters.include_deleted && table.deleted_at
      ? [...spec.columns, deletedAtColumn({ deleted_at: table.deleted_at })]
      : spec.columns;
  }

  /** The conditions of the resource's list (soft delete, text search, filters). */
  private conditions(spec: ExportSpec, filters: ExportFilters): Array<SQL | undefined> {
    const { table, definition } = spec;
    const search =
      typeof filters.search === 'string' && filters.search !== '' ? filters.search : undefined;
    if (search && !definition.searchDocument) {
      throw badRequest(`${definition.label} exports have no text search; use the filters.`, [
        { field: 'query.search', message: 'is not supported by this export' },
      ]);
    }
    return [
      filters.include_deleted || !table.deleted_at ? undefined : isNull(table.deleted_at),
      search && definition.searchDocument
        ? sql`${definition.searchDocument} ILIKE ${likePattern(search)}`
        : undefined,
      ...(definition.filters?.(filters) ?? []),
    ];
  }

  /** The newest id now: the export's snapshot bound, so rows added meanwhile do not slip in. */
  async maxId(spec: ExportSpec): Promise<number> {
    const [row] = await this.db.select({ id: max(spec.table.id) }).from(spec.table as PgTable);
    return Number(row?.id ?? 0);
  }

  /**
   * How many rows match, counting no further than `limit + 1` when a limit is given (enough to
   * know the export is over it, without counting a million rows).
   */
  async count(
    spec: ExportSpec,
    filters: ExportFilters,
    options: { maxId: number; limit?: number },
  ): Promise<number> {
    const where = and(lte(spec.table.id, options.maxId), ...this.conditions(spec, filters));
    const matches = this.db
      .select({ one: sql`1` })
      .from(spec.table as PgTable)
      .where(where)
      .$dynamic();
    const bounded = (options.limit === undefined ? matches : matches.limit(options.limit + 1)).as(
      'matches',
    );
    const [row] = await this.db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(bounded);
    return row?.n ?? 0;
  }

  /** The matching rows by id, one batch at a time, each row keyed by column key. */
  async *batches(
    spec: ExportSpec,
    columns: ExportColumn[],
    filters: ExportFilters,
    options: ReadOptions,
  ): AsyncGenerator<ExportRecord[]> {
    const conditions = this.conditions(spec, filters);
    const batchSize = options.batchSize ?? EXPORT_BATCH_SIZE;
    const fields: Record<string, PgColumn | SQL> = {};
    for (const item of columns) fields[item.key] = item.source;
    // The keyset key travels under a name no column uses.
    fields.__key = spec.table.id;
    let after = 0;
    let rows = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      let query = this.db
        .select(fields)
        .from(spec.table as PgTable)
        .$dynamic();
      for (const join of spec.joins) query = query.leftJoin(join.table, join.on);
      const batch = (await query
        .where(and(gt(spec.table.id, after), lte(spec.table.id, options.maxId), ...conditions))
        .orderBy(asc(spec.table.id))
        .limit(batchSize)) as ExportRecord[];
      if (batch.length === 0) return;
      after = Number(batch[batch.length - 1]?.__key);
      rows += batch.length;
      await options.onBatch?.({ rows });
      yield batch;
      if (batch.length < batchSize) return;
    }
  }

  /** One sheet of a resource export, in the requested language. */
  async sheet(
    resource: ExportResource,
    filters: ExportFilters,
    lang: ExportLanguage,
    options: ReadOptions,
  ): Promise<SheetSource> {
    const spec = this.spec(resource);
    const columns = this.columns(spec, filters);
    return {
      name: spec.sheet[lang],
      key: spec.name,
      columns: sheetColumns(columns, lang),
      batches: this.batches(spec, columns, filters, options),
    };
  }

  /**
   * A student's report: the student, then their grades, attendance and highlights, each a
   * sheet of its own (in XLSX), a section (CSV) or a property (JSON). 404 for an unknown or
   * deleted student. `rows()` tells how many rows were read once the sheets have been written.
   */
  async report(
    studentId: number,
    lang: ExportLanguage,
    options: Omit<ReadOptions, 'maxId' | 'onBatch'> = {},
  ): Promise<{
    student: { id: number; student_id: string };
    sheets: SheetSource[];
    rows: () => number;
  }> {
    const [student] = await this.db
      .select({ id: students.id, student_id: students.student_id })
      .from(students)
      .where(and(eq(students.id, studentId), isNull(students.deleted_at)));
    if (!student) throw notFound('Student', studentId);
    let rows = 0;
    const sheetOf = async (spec: ExportSpec, filters: ExportFilters, name: string, key: string) => {
      let seen = 0;
      const sheet: SheetSource = {
        name,
        key,
        columns: sheetColumns(spec.columns, lang),
        batches: this.batches(spec, spec.columns, filters, {
          ...options,
          maxId: await this.maxId(spec),
          onBatch: (progress) => {
            rows += progress.rows - seen;
            seen = progress.rows;
          },
        }),
      };
      return sheet;
    };
    // The students list has no id filter; the report's student sheet narrows to the one.
    const studentSpec = this.spec('students');
    const oneStudent: ExportSpec = {
      ...studentSpec,
      definition: { ...studentSpec.definition, filters: () => [eq(students.id, studentId)] },
    };
    const sheets = [await sheetOf(oneStudent, {}, REPORT_STUDENT_SHEET[lang], 'student')];
    for (const part of REPORT_PARTS) {
      const spec = this.spec(part);
      sheets.push(await sheetOf(spec, { student_id: studentId }, spec.sheet[lang], part));
    }
    return { student, sheets, rows: () => rows };
  }
}

/** Validation problems of an export's filters, named as query or body fields. */
export function parseFilters(
  spec: ExportSpec,
  raw: Record<string, unknown>,
  location: string,
): ExportFilters {
  // Filters arrive as the query string spells them; numbers and booleans from JSON are
  // written the same way, so one schema (the list's) reads both.
  const asText = Object.fromEntries(
    Object.entries(raw).map(([key, value]) => [key, value === null ? undefined : String(value)]),
  );
  const parsed = filterSchema(spec).strict().safeParse(asText);
  if (parsed.success) return parsed.data;
  throw badRequest(
    `The export has ${parsed.error.issues.length} invalid filter${parsed.error.issues.length === 1 ? '' : 's'}.`,
    parsed.error.issues.map((issue) => ({
      field: [location, ...issue.path.map(String)].join('.'),
      message: issue.message,
    })),
  );
}

export const filtersBody = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean(), z.null()]),
);
