import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../../test/support/test-app.ts';
import {
  type DatabaseHandle,
  type FixedStatement,
  lockDataDir,
  queryFixed,
  queryRows,
  runFixed,
} from './client.ts';

let database: DatabaseHandle;

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

describe('migrations', () => {
  it('created every table with its unique keys, and applying them again changes nothing', async () => {
    await database.migrate();
    const tables = await queryRows<{ table_name: string }>(
      database.db,
      sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.map((row) => row.table_name)).toEqual([
      'attendance',
      'audit_chain_head',
      'audit_logs',
      'audit_pending',
      'course_enrollments',
      'course_results',
      'courses',
      'daily_performances',
      'email_deliveries',
      'grades',
      'highlights',
      'import_preview_rows',
      'import_previews',
      'jobs',
      'refresh_tokens',
      'roles',
      'session_imports',
      'settings',
      'sign_in_failures',
      'students',
      'users',
    ]);
    const indexes = await queryRows<{ indexname: string }>(
      database.db,
      sql`SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`,
    );
    const names = indexes.map((row) => row.indexname);
    for (const name of [
      'students_student_id_unique',
      'students_email_unique',
      'courses_course_code_unique',
      'course_enrollments_student_course_unique',
      'idx_students_search_trgm',
    ]) {
      expect(names).toContain(name);
    }
  });
});

describe('fixed statements', () => {
  const insertProbe: FixedStatement = {
    name: 'test_insert_probe',
    text: 'INSERT INTO fixed_probe (id, label) VALUES ($1, $2) RETURNING id, label',
  };
  const probeIds = async () =>
    (await queryRows<{ id: number }>(database.db, sql`SELECT id FROM fixed_probe ORDER BY id`)).map(
      (row) => row.id,
    );

  beforeAll(async () => {
    await database.db.execute(sql`CREATE TABLE fixed_probe (id integer PRIMARY KEY, label text)`);
  });
  afterAll(async () => {
    await database.db.execute(sql`DROP TABLE fixed_probe`);
  });

  it('answer rows and counts; a failure rolls its transaction back and the next one works', async () => {
    expect(await queryFixed(database.db, insertProbe, [1, 'one'])).toEqual([
      { id: 1, label: 'one' },
    ]);
    const failing = database.db.transaction(async (tx) => {
      expect(await runFixed(tx, insertProbe, [2, 'two'])).toBe(1);
      await runFixed(tx, insertProbe, [1, 'one again']);
    });
    await expect(failing).rejects.toMatchObject({ code: '23505' });
    expect(await runFixed(database.db, insertProbe, [3, 'three'])).toBe(1);
    expect(await probeIds()).toEqual([1, 3]);
  });

  it('can be first used by several callers at once', async () => {
    const countProbes: FixedStatement = {
      name: 'test_count_probes',
      text: 'SELECT count(*)::int AS n FROM fixed_probe WHERE id > $1',
    };
    const answers = await Promise.all(
      [0, 1, 2].map((after) => queryFixed<{ n: number }>(database.db, countProbes, [after])),
    );
    expect(answers.map(([row]) => typeof row?.n)).toEqual(['number', 'number', 'number']);
  });

  it("outside a transaction, never run inside another caller's one", async () => {
    let opened!: () => void;
    const open = new Promise<void>((resolve) => {
      opened = resolve;
    });
    const rolledBack = database.db
      .transaction(async (tx) => {
        await runFixed(tx, insertProbe, [10, 'rolled back']);
        opened();
        // Another caller's statement arrives while this transaction is open.
        await setTimeout(20);
        throw new Error('roll back');
      })
      .catch(() => {});
    await open;
    await runFixed(database.db, insertProbe, [11, 'own']);
    await rolledBack;
    expect(await probeIds()).toContain(11);
    expect(await probeIds()).not.toContain(10);
  });
});

describe('embedded data directory lock', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'registrar-lock-'));
  const lockFile = path.join(dataDir, 'registrar.pid');
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses a second process while the first is alive', () => {
    writeFileSync(lockFile, String(process.ppid));
    expect(() => lockDataDir(dataDir)).toThrow(/is in use by process/);
  });

  it('takes over the lock of a process that died, and releases it', () => {
    const exited = spawnSync('true').pid ?? 0;
    writeFileSync(lockFile, String(exited));
    const release = lockDataDir(dataDir);
    expect(readFileSync(lockFile, 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(lockFile)).toBe(false);
  });
});
