import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKind } from '../../../test/support/databases.ts';
import { openTestDatabase } from '../../../test/support/test-app.ts';
import { type DatabaseHandle, queryRows } from './client.ts';
import { EmbeddedMaintenance } from './embedded-maintenance.ts';

// Embedded mode only: PostgreSQL servers have autovacuum of their own.
const onPglite = testDatabaseKind() === 'pglite';
let database: DatabaseHandle;

beforeAll(async () => {
  if (onPglite) database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

const activity = async (table: string) => {
  const [row] = await queryRows<{ dead: number; analysed: boolean }>(
    database.db,
    sql`SELECT n_dead_tup::int AS dead, last_analyze IS NOT NULL AS analysed
          FROM pg_stat_user_tables WHERE relname = ${table}`,
  );
  return row;
};

describe.skipIf(!onPglite)('embedded database maintenance', () => {
  it('vacuums a table full of deleted rows, analyses a changed one, and leaves quiet ones alone', async () => {
    const maintenance = new EmbeddedMaintenance(database.db);
    // Whatever the migrations left to do first.
    await maintenance.runOnce();
    await database.db.execute(sql`CREATE TABLE churn (id integer PRIMARY KEY, body text)`);
    await database.db.execute(
      sql`INSERT INTO churn SELECT n, repeat('x', 100) FROM generate_series(1, 1000) AS n`,
    );
    await database.db.execute(sql`DELETE FROM churn WHERE id <= 600`);

    const first = await maintenance.runOnce();
    expect(first).toEqual({ vacuumed: ['churn'], analyzed: ['churn'] });
    expect(await activity('churn')).toEqual({ dead: 0, analysed: true });
    // The planner now knows how many rows there are.
    const [estimate] = await queryRows<{ rows: number }>(
      database.db,
      sql`SELECT reltuples::int AS rows FROM pg_class WHERE relname = 'churn'`,
    );
    expect(estimate?.rows).toBe(400);

    // A few changes are below the thresholds; a large one to a quiet table is analysed only.
    await database.db.execute(sql`DELETE FROM churn WHERE id <= 610`);
    await database.db.execute(
      sql`INSERT INTO churn SELECT n, 'y' FROM generate_series(2001, 2200) AS n`,
    );
    expect(await maintenance.runOnce()).toEqual({ vacuumed: [], analyzed: ['churn'] });
    expect(await maintenance.runOnce()).toEqual({ vacuumed: [], analyzed: [] });
  });
});
