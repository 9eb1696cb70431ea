import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ParserOptions,
  PGlite,
  parse as pgliteParse,
  protocol as pgliteProtocol,
  type QueryOptions,
  types,
} from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { type Column, getTableColumns, type SQL, sql, type Table } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import * as schema from './schema.ts';

export type Schema = typeof schema;
/** The one database type the services see, whichever driver is underneath. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle, usable wherever a Database is. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
export type Executor = Database | Transaction;

export type DatabaseKind = 'pglite' | 'postgres';

export interface DatabaseHandle {
  db: Database;
  kind: DatabaseKind;
  /** Applies pending migrations; safe to call from several processes at once on PostgreSQL. */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../drizzle', import.meta.url));

/** Any number used as the advisory lock key that serialises migrations across processes. */
const MIGRATION_LOCK_KEY = 7_112_025;

/** Rows of a raw SQL query, whichever driver ran it (both answer with `rows`). */
export async function queryRows<T>(executor: Executor, query: SQL): Promise<T[]> {
  const result = (await executor.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/** A statement whose text never changes, with $n parameters (see `runFixed`). */
export interface FixedStatement {
  /** The prepared statement's name on PostgreSQL: one per text. */
  name: string;
  text: string;
}

/**
 * Runs a fixed statement on the executor's own connection (the transaction's, inside one)
 * straight through the driver: drizzle neither builds its SQL nor maps a result, and it is a
 * named prepared statement, parsed and planned once per connection (on PGlite, see
 * `sendNamedPglite`). Only for hot statements (the audit append, the sealer's move, a job's
 * create, claim and end). Parameters go as text: JSON serialised, dates as ISO strings.
 * Answers how many rows the statement wrote.
 */
export async function runFixed(
  executor: Executor,
  statement: FixedStatement,
  params: Array<string | number | boolean | null>,
): Promise<number> {
  return (await sendFixed(executor, statement, params)).count;
}

/**
 * `runFixed` for a statement that answers rows (RETURNING): the rows as the driver gives them,
 * to be read with `rowOf` (timestamps come as text from PGlite and as Dates from pg).
 */
export async function queryFixed<T>(
  executor: Executor,
  statement: FixedStatement,
  params: Array<string | number | boolean | null>,
): Promise<T[]> {
  return (await sendFixed(executor, statement, params)).rows as T[];
}

async function sendFixed(
  executor: Executor,
  statement: FixedStatement,
  params: Array<string | number | boolean | null>,
): Promise<{ rows: unknown[]; count: number }> {
  const client = driverClient(executor);
  if (isPostgresClient(client)) {
    const result = await client.query({
      name: statement.name,
      text: statement.text,
      values: params,
    });
    return { rows: result.rows, count: result.rowCount ?? 0 };
  }
  const session = pgliteSessions.get(client as object);
  if (!session) throw new Error('runFixed: the executor is neither a pg client nor a PGlite one');
  return sendNamedPglite(session, statement, params);
}

/** PGlite, the statements parsed on it, and whether the client drizzle holds is one of its transactions. */
interface PgliteSession {
  pglite: PGlite;
  /** Fixed statements already parsed (its one session keeps them until it closes). */
  prepared: Set<string>;
  inTransaction: boolean;
}
/** The PGlite behind each client drizzle holds (`withInstalledParsers`): the database's and its transactions'. */
const pgliteSessions = new WeakMap<object, PgliteSession>();

/**
 * A fixed statement on PGlite as one protocol exchange: PGlite's `query` makes six (parse,
 * describe, bind, describe, execute, sync), each a call into its WebAssembly, and parses and
 * plans the text every time; a named statement bound and executed in one message costs about
 * half (235 against 440–640 µs for the audit append). It takes PGlite's locks as `query`
 * does: inside a transaction only the statement's turn, outside it a transaction's turn too,
 * so that it never lands inside another caller's transaction.
 */
async function sendNamedPglite(
  { pglite, prepared, inTransaction }: PgliteSession,
  statement: FixedStatement,
  params: Array<string | number | boolean | null>,
): Promise<{ rows: unknown[]; count: number }> {
  const { serialize } = pgliteProtocol;
  const execute = Buffer.concat([
    serialize.bind({
      statement: statement.name,
      values: params.map((value) => (value === null ? null : String(value))),
    }),
    serialize.describe({ type: 'P' }),
    serialize.execute({}),
    serialize.sync(),
  ]);
  const exchange = async () => {
    const options = { syncToFs: !inTransaction };
    // Under PGlite's lock, so that two first calls do not both parse. In an exchange of its
    // own, so that a failure later never leaves the statement parsed but unrecorded.
    if (!prepared.has(statement.name)) {
      const parse = serialize.parse({ name: statement.name, text: statement.text });
      await pglite.execProtocolStream(Buffer.concat([parse, serialize.sync()]), options);
      prepared.add(statement.name);
    }
    return pglite.execProtocolStream(execute, options);
  };
  const messages = await (inTransaction
    ? pglite._runExclusiveQuery(exchange)
    : pglite._runExclusiveTransaction(() => pglite._runExclusiveQuery(exchange)));
  const [result] = pgliteParse.parseResults(messages, pglite.parsers);
  return { rows: result?.rows ?? [], count: result?.affectedRows ?? 0 };
}

/** Each table's fields and columns, listed once: `rowOf` runs for every row of bulk reads. */
const columnsByTable = new WeakMap<Table, Array<[string, Column]>>();

/**
 * A row of `table` from a raw result, each value mapped as drizzle maps it (timestamps to
 * Dates, JSON parsed, bigints as numbers) whichever driver read it.
 */
export function rowOf<T extends Table>(table: T, raw: Record<string, unknown>): T['$inferSelect'] {
  let columns = columnsByTable.get(table);
  if (!columns) {
    columns = Object.entries(getTableColumns(table));
    columnsByTable.set(table, columns);
  }
  const row: Record<string, unknown> = {};
  for (const [key, column] of columns) {
    const value = raw[column.name];
    row[key] = value == null ? null : column.mapFromDriverValue(value);
  }
  return row as T['$inferSelect'];
}

/**
 * The driver's client, which drizzle keeps on its session (pool, pooled client, PGlite or its
 * transaction); the types do not say so.
 */
function driverClient(executor: Executor): unknown {
  return (executor as unknown as { session: { client: unknown } }).session.client;
}

function isPostgresClient(client: unknown): client is pg.Pool | pg.Client {
  return client instanceof pg.Pool || client instanceof pg.Client;
}

/**
 * True on embedded PGlite: one connection, run on this thread, that every request takes in
 * turn, so a long transaction there makes every request wait.
 */
export function hasOneConnection(executor: Executor): boolean {
  return !isPostgresClient(driverClient(executor));
}

export type DatabaseOptions =
  | { kind: 'postgres'; url: string; poolSize?: number }
  | { kind: 'pglite'; dataDir?: string; loadDataDir?: Blob };

export async function createPglite(options: {
  dataDir?: string;
  loadDataDir?: Blob;
  parsers?: ParserOptions;
}) {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  return PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    ...(options.parsers ? { parsers: options.parsers } : {}),
    extensions: { pg_trgm },
  });
}

/** The types drizzle reads as strings and maps itself (what its PGlite driver asks for). */
const keepAsText = (value: string) => value;
const DRIZZLE_PARSERS: ParserOptions = Object.fromEntries(
  [
    types.TIMESTAMP,
    types.TIMESTAMPTZ,
    types.INTERVAL,
    types.DATE,
    1231, // numeric[]
    1115, // timestamp[]
    1185, // timestamptz[]
    1187, // interval[]
    1182, // date[]
  ].map((type) => [type, keepAsText]),
);

/**
 * Drizzle hands PGlite its few type parsers with every query, and PGlite then copies its whole
 * table of about 300 parsers to merge them in: about 0.15 ms a statement, a third of a simple
 * one. The client is created with those parsers installed (DRIZZLE_PARSERS) and this view of it
 * drops the per-query copy, in transactions too; results are the same.
 */
function withInstalledParsers<Client extends Pick<PGlite, 'query'>>(
  client: Client,
  session: PgliteSession,
): Client {
  // Made once per client, not on every property read: drizzle reads `query` for every statement.
  const query = (text: string, params?: unknown[], options?: QueryOptions) =>
    client.query(text, params, options?.parsers ? { ...options, parsers: undefined } : options);
  const transaction =
    'transaction' in client
      ? <T>(work: (tx: Parameters<Parameters<PGlite['transaction']>[0]>[0]) => Promise<T>) =>
          session.pglite.transaction((tx) =>
            work(withInstalledParsers(tx, { ...session, inTransaction: true })),
          )
      : undefined;
  const view = new Proxy(client, {
    get(target, property) {
      if (property === 'query') return query;
      if (property === 'transaction' && transaction) return transaction;
      // PGlite keeps its state in private fields: its methods must run on the client itself.
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  pgliteSessions.set(view, session);
  return view;
}

/**
 * PGlite is single-process: a second process writing the same directory would corrupt it.
 * A pid file refuses the second opener while the first is alive, and is taken over from a
 * process that died.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, 'registrar.pid');
  try {
    const holder = Number(readFileSync(lockFile, 'utf8'));
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `The embedded database in ${dataDir} is in use by process ${holder}. Stop it first, or set DATABASE_URL to share a PostgreSQL database between processes.`,
      );
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  writeFileSync(lockFile, String(process.pid));
  return () => rmSync(lockFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      application_name: 'registrar',
    });
    // An idle client that loses its server must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const db: Database = drizzleNodePg(pool, { schema });
    return {
      db,
      kind: 'postgres',
      async migrate() {
        const client = await pool.connect();
        try {
          await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
          await migrateNodePg(drizzleNodePg(client, { schema }), {
            migrationsFolder: MIGRATIONS_DIR,
          });
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
          client.release();
        }
      },
      async ping() {
        await db.execute(sql`SELECT 1`);
      },
      close: () => pool.end(),
    };
  }

  const unlock = options.dataDir ? lockDataDir(options.dataDir) : () => {};
  const client = await createPglite({
    ...(options.dataDir ? { dataDir: path.join(options.dataDir, 'pglite') } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    parsers: DRIZZLE_PARSERS,
  });
  const view = withInstalledParsers(client, {
    pglite: client,
    prepared: new Set(),
    inTransaction: false,
  });
  const pgliteDb = drizzlePglite(view, { schema });
  const db: Database = pgliteDb;
  return {
    db,
    kind: 'pglite',
    async migrate() {
      await migratePglite(pgliteDb, { migrationsFolder: MIGRATIONS_DIR });
    },
    async ping() {
      await db.execute(sql`SELECT 1`);
    },
    async close() {
      await client.close();
      unlock();
    },
  };
}
