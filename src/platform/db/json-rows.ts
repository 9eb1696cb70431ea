import { getTableColumns, getTableName, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { type Executor, queryRows, rowOf } from './client.ts';

/** Rows per statement: a few megabytes of JSON at most. */
const SLICE_ROWS = 2000;

/**
 * `INSERT INTO table (…) SELECT … FROM jsonb_populate_recordset(NULL::table, $1)`: many rows as one JSON
 * parameter. Drizzle builds a multi-row VALUES list value by value, which for bulk writes
 * cost more CPU than the database's own work (bench:import). Values travel as JSON: Dates as
 * ISO strings, jsonb columns as nested JSON. A column no row names is left out (it gets its
 * default); rows must agree on which columns with a default they name (`insertSlices`).
 */
export function insertFromJson(table: PgTable, rows: Array<Record<string, unknown>>): SQL {
  const given = Object.entries(getTableColumns(table)).filter(([field]) =>
    rows.some((row) => row[field] !== undefined),
  ) as Array<[string, PgColumn]>;
  const names = sql.raw(given.map(([, column]) => `"${column.name}"`).join(', '));
  // A loop, not Object.fromEntries of pairs: bulk writes make an object per row (GC).
  const payload = JSON.stringify(
    rows.map((row) => {
      const record: Record<string, unknown> = {};
      for (const [field, column] of given) record[column.name] = row[field] ?? null;
      return record;
    }),
  );
  // The table's own row type reads the JSON, so no column list with types is needed.
  const name = sql.identifier(getTableName(table));
  return sql`INSERT INTO ${name} (${names}) SELECT ${names} FROM jsonb_populate_recordset(NULL::${name}, ${payload}::jsonb)`;
}

/**
 * Inserts rows of any shapes, a slice per statement, and returns the inserted records as
 * drizzle would (`returning: true`). `onConflictDoNothing` skips rows that break a unique key.
 */
export async function insertJsonRows<Table extends PgTable>(
  executor: Executor,
  table: Table,
  rows: Array<Record<string, unknown>>,
  options: { onConflictDoNothing?: boolean; returning?: boolean } = {},
): Promise<Array<Table['$inferSelect']>> {
  const inserted: Array<Table['$inferSelect']> = [];
  for (const slice of insertSlices(table, rows)) {
    const statement = insertFromJson(table, slice);
    if (options.onConflictDoNothing) statement.append(sql` ON CONFLICT DO NOTHING`);
    if (!options.returning) {
      await executor.execute(statement);
      continue;
    }
    statement.append(sql` RETURNING *`);
    for (const raw of await queryRows<Record<string, unknown>>(executor, statement)) {
      inserted.push(rowOf(table, raw));
    }
  }
  return inserted;
}

/**
 * The rows in slices of at most SLICE_ROWS that can share one `insertFromJson`: a row that
 * leaves out a column with a default must get the default, not the NULL another row's
 * statement would give it, so rows are grouped by which of those columns they name (in order
 * within a group; nullable columns without a default need no grouping).
 */
export function insertSlices<Row extends Record<string, unknown>>(
  table: PgTable,
  rows: Row[],
): Row[][] {
  const defaulted = Object.entries(getTableColumns(table))
    .filter(([, column]) => column.hasDefault)
    .map(([field]) => field);
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const shape = defaulted.map((field) => (row[field] === undefined ? '0' : '1')).join('');
    let group = groups.get(shape);
    if (!group) {
      group = [];
      groups.set(shape, group);
    }
    group.push(row);
  }
  const slices: Row[][] = [];
  for (const group of groups.values()) {
    for (let start = 0; start < group.length; start += SLICE_ROWS) {
      slices.push(group.slice(start, start + SLICE_ROWS));
    }
  }
  return slices;
}
