import { getTableColumns, getTableName, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { type Executor, queryRows } from './client.ts';

/** Rows per statement: a few megabytes of JSON at most. */
const SLICE_ROWS = 2000;

/**
 * `INSERT INTO table (…) SELECT … FROM jsonb_to_recordset($1)`: many rows as one JSON
 * parameter. Drizzle builds a multi-row VALUES list value by value, which for bulk writes
 * cost more CPU than the database's own work (bench:import). The rows must name the same
 * fields (see `sameShapeSlices`); the columns they leave out get their defaults. Values travel
 * as JSON: Dates as ISO strings, jsonb columns as nested JSON.
 */
export function insertFromJson(table: PgTable, rows: Array<Record<string, unknown>>): SQL {
  const sample = rows[0] ?? {};
  const given = Object.entries(getTableColumns(table)).filter(
    ([field]) => sample[field] !== undefined,
  ) as Array<[string, PgColumn]>;
  const names = sql.raw(given.map(([, column]) => `"${column.name}"`).join(', '));
  const record = sql.raw(
    given.map(([, column]) => `"${column.name}" ${column.getSQLType()}`).join(', '),
  );
  const payload = JSON.stringify(
    rows.map((row) =>
      Object.fromEntries(given.map(([field, column]) => [column.name, row[field] ?? null])),
    ),
  );
  return sql`INSERT INTO ${sql.identifier(getTableName(table))} (${names}) SELECT ${names} FROM jsonb_to_recordset(${payload}::jsonb) AS r(${record})`;
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
  for (const slice of sameShapeSlices(rows)) {
    const statement = insertFromJson(table, slice);
    if (options.onConflictDoNothing) statement.append(sql` ON CONFLICT DO NOTHING`);
    if (!options.returning) {
      await executor.execute(statement);
      continue;
    }
    statement.append(sql` RETURNING *`);
    for (const raw of await queryRows<Record<string, unknown>>(executor, statement)) {
      inserted.push(recordFromDriver(table, raw));
    }
  }
  return inserted;
}

/** A row as the driver returned it, mapped to the table's fields as drizzle's own queries map it. */
function recordFromDriver<Table extends PgTable>(
  table: Table,
  raw: Record<string, unknown>,
): Table['$inferSelect'] {
  const record: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name];
    record[field] = value == null ? null : column.mapFromDriverValue(value);
  }
  return record as Table['$inferSelect'];
}

/** The rows in groups that name the same fields, in slices of at most SLICE_ROWS, in order within a group. */
export function sameShapeSlices<Row extends Record<string, unknown>>(rows: Row[]): Row[][] {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const shape = Object.keys(row)
      .filter((key) => row[key] !== undefined)
      .sort()
      .join(',');
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
