import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows, type Transaction } from '../../platform/db/client.ts';
import { AUDIT_SEAL_LOCK_KEY } from '../audit/audit.sealer.ts';
import { BACKUP_TABLES, type BackupTable } from './backup.tables.ts';

/**
 * Reading and writing the data tables as JSON rows, shared by backups, restores and the
 * move to PostgreSQL (data_migration).
 */

/** Rows per keyset page when reading a table, and per INSERT when writing one. */
export const PAGE_ROWS = 2000;

const quotedColumns = (columns: readonly string[]) =>
  sql.raw(columns.map((column) => `"${column}"`).join(', '));

/** Rows in every data table together. */
export async function countRows(tx: Executor): Promise<number> {
  const counts = sql.join(
    BACKUP_TABLES.map((table) => sql`(SELECT count(*) FROM ${sql.identifier(table.name)})`),
    sql` + `,
  );
  const [row] = await queryRows<{ n: string | number }>(tx, sql`SELECT ${counts} AS n`);
  return Number(row?.n ?? 0);
}

/** Rows per data table. */
export async function tableCounts(tx: Executor): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of BACKUP_TABLES) {
    const [row] = await queryRows<{ n: string | number }>(
      tx,
      sql`SELECT count(*) AS n FROM ${sql.identifier(table.name)}`,
    );
    counts[table.name] = Number(row?.n ?? 0);
  }
  return counts;
}

/**
 * A table's rows as to_jsonb() text, one keyset page at a time in key order: memory stays
 * flat however large the table is. Checks the signal before each page.
 */
export async function* tablePages(
  tx: Executor,
  table: BackupTable,
  signal: AbortSignal | undefined,
): AsyncGenerator<string[]> {
  const name = sql.identifier(table.name);
  const key = sql.identifier(table.key);
  let after: string | null = null;
  for (;;) {
    signal?.throwIfAborted();
    const where: SQL =
      after === null ? sql`` : sql`WHERE t.${key} > CAST(${after} AS ${sql.raw(table.keyType)})`;
    const page = await queryRows<{ k: string; line: string }>(
      tx,
      sql`SELECT t.${key}::text AS k, to_jsonb(t)::text AS line FROM ${name} AS t ${where}
           ORDER BY t.${key} LIMIT ${PAGE_ROWS}`,
    );
    if (page.length > 0) yield page.map((row) => row.line);
    const last = page.at(-1);
    if (!last || page.length < PAGE_ROWS) return;
    after = last.k;
  }
}

/**
 * Inserts rows given as to_jsonb() text. They travel as that JSON, parsed by the database
 * into the table's own types: timestamps keep their microseconds, numerics their digits.
 */
export async function insertJsonLines(
  tx: Executor,
  table: BackupTable,
  columns: readonly string[],
  lines: readonly string[],
): Promise<void> {
  if (lines.length === 0) return;
  const name = sql.identifier(table.name);
  const list = quotedColumns(columns);
  await tx.execute(
    sql`INSERT INTO ${name} (${list}) ${table.identity ? sql`OVERRIDING SYSTEM VALUE` : sql``}
        SELECT ${list} FROM jsonb_populate_recordset(NULL::${name}, ${`[${lines.join(',')}]`}::jsonb)`,
  );
}

/**
 * Empties every data table, in the caller's transaction. No sealer may chain entries while
 * the trail is replaced; the settings let this transaction delete from the append-only
 * audit tables (as retention and the sealer do).
 */
export async function clearTables(tx: Transaction): Promise<void> {
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(${AUDIT_SEAL_LOCK_KEY}),
               set_config('registrar.audit_retention', 'on', true),
               set_config('registrar.audit_sealer', 'on', true)`,
  );
  for (const table of [...BACKUP_TABLES].reverse()) {
    await tx.execute(sql`DELETE FROM ${sql.identifier(table.name)}`);
  }
}

/** Sets each identity or serial sequence past the rows now in its table. */
export async function resetSequences(tx: Executor): Promise<void> {
  for (const table of BACKUP_TABLES.filter((item) => item.sequence)) {
    const id = sql.identifier(table.key);
    await tx.execute(
      sql`SELECT setval(pg_get_serial_sequence(${table.name}, ${table.key}),
                 COALESCE((SELECT max(${id}) FROM ${sql.identifier(table.name)}), 0) + 1, false)`,
    );
  }
}

/**
 * Copies every data table from one database to another, page by page in insert order, and
 * sets the target's sequences past the copied rows. The target tables must be empty (see
 * clearTables); both executors are the caller's transactions. Rows copied per table.
 */
export async function copyTables(
  source: Executor,
  target: Executor,
  options: {
    signal?: AbortSignal | undefined;
    /** When a table starts and after each page: its rows so far, and all rows so far. */
    onPage?: (table: BackupTable, rows: number, allRows: number) => void;
  } = {},
): Promise<Record<string, number>> {
  const copied: Record<string, number> = {};
  let allRows = 0;
  for (const table of BACKUP_TABLES) {
    let rows = 0;
    options.onPage?.(table, 0, allRows);
    for await (const page of tablePages(source, table, options.signal)) {
      await insertJsonLines(target, table, table.columns, page);
      rows += page.length;
      allRows += page.length;
      options.onPage?.(table, rows, allRows);
    }
    copied[table.name] = rows;
  }
  await resetSequences(target);
  return copied;
}
