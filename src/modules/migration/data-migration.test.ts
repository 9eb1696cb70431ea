import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { asc, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onServer, uniqueDatabaseName, urlForDatabase } from '../../../test/support/databases.ts';
import { makeCourse, makeStudent } from '../../../test/support/factories.ts';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import type { CliIo } from '../../cli/io.ts';
import { migrateDataCommand } from '../../cli/migrate-data.command.ts';
import {
  type Database,
  type DatabaseHandle,
  openDatabase,
  queryRows,
} from '../../platform/db/client.ts';
import { AuditLogger } from '../audit/audit.logger.ts';
import { dataSnapshot } from '../backups/backup.test-support.ts';
import { tableCounts } from '../backups/table-copy.ts';
import type { JobResponse } from '../jobs/jobs.manager.ts';
import { students } from '../students/students.table.ts';
import { parseTargetUrl } from './target-url.ts';

// The embedded (PGlite) install moves into databases on the TEST_DATABASE_URL server.
const serverUrl = process.env.TEST_DATABASE_URL;
const enabled = serverUrl !== undefined && process.env.TEST_DB_KIND === 'pglite';

let t: TestApp;
const created: string[] = [];

/** A new, empty database on the test server; dropped after the file. */
async function emptyDatabase(): Promise<string> {
  const name = uniqueDatabaseName('registrar_move');
  await onServer(serverUrl ?? '', `CREATE DATABASE ${name}`);
  created.push(name);
  return name;
}

/** The URL of a database on the test server, with a password (ignored by trust auth). */
function targetUrl(name: string): string {
  const url = new URL(urlForDatabase(serverUrl ?? '', name));
  url.password = 'never-shown-pw';
  return url.toString();
}

async function withDatabase<T>(name: string, use: (db: Database) => Promise<T>): Promise<T> {
  const database: DatabaseHandle = await openDatabase({
    kind: 'postgres',
    url: urlForDatabase(serverUrl ?? '', name),
    poolSize: 2,
  });
  try {
    return await use(database.db);
  } finally {
    await database.close();
  }
}

async function waitForJob(id: string, timeoutMs = 120_000): Promise<JobResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await t.request({ method: 'GET', url: `/api/v1/jobs/${id}` })).json();
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status)) return job as JobResponse;
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status}`);
    await sleep(100);
  }
}

beforeAll(async () => {
  if (!enabled) return;
  t = await createTestApp({ env: { RATE_LIMIT_JOBS_PER_MINUTE: '1000' } });
  // Some of everything: students, a course, enrollments, grades, and their audit entries.
  const course = await makeCourse(t.services);
  for (let n = 1; n <= 5; n++) {
    const student = await makeStudent(t.services, { email: `move${n}@school.test` });
    const enrolled = await t.request({
      method: 'POST',
      url: '/api/v1/enrollments',
      payload: { student_id: student.id, course_id: course.id },
    });
    expect(enrolled.statusCode, enrolled.body).toBe(201);
    const graded = await t.request({
      method: 'POST',
      url: '/api/v1/grades',
      payload: {
        student_id: student.id,
        course_id: course.id,
        assignment_name: 'Essay',
        grade: 70 + n + 0.25,
        date_assigned: '2025-10-01',
      },
    });
    expect(graded.statusCode, graded.body).toBe(201);
  }
  await t.request({ method: 'DELETE', url: '/api/v1/students/1' });
}, 120_000);

afterAll(async () => {
  await t?.close();
  for (const name of created) {
    await onServer(serverUrl ?? '', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}, 120_000);

describe.runIf(enabled)('data_migration from embedded to PostgreSQL', () => {
  it('copies everything: identical counts and rows, a valid chain, the source unchanged', async () => {
    const name = await emptyDatabase();
    const before = await dataSnapshot(t.database.db);
    const started = await t.request({
      method: 'POST',
      url: '/api/v1/system/migrate-data',
      payload: { target_url: targetUrl(name) },
    });
    expect(started.statusCode, started.body).toBe(202);
    expect(started.body).not.toContain('never-shown-pw');
    const job = await waitForJob(started.json().id);
    expect(job.status, JSON.stringify(job)).toBe('COMPLETED');
    expect(JSON.stringify(job)).not.toContain('never-shown-pw');
    expect(job.metadata?.target_url).toBe(parseTargetUrl(targetUrl(name)).masked);

    const report = job.result?.data as {
      tables: Record<string, { source: number; target: number }>;
      audit_chain: { valid: boolean; checked: number };
      seconds: number;
    };
    expect(report.audit_chain.valid).toBe(true);
    expect(report.audit_chain.checked).toBeGreaterThan(10);
    for (const [table, n] of Object.entries(report.tables)) {
      expect(n.target, table).toBe(n.source);
    }
    expect(report.tables.students?.source).toBe(5);
    expect(report.tables.grades?.source).toBe(5);

    // The source is as it was (its trail has one more entry: the migration's).
    expect(await dataSnapshot(t.database.db)).toEqual(before);
    await t.services.audit.flush();
    const sourceCounts = await tableCounts(t.database.db);

    await withDatabase(name, async (db) => {
      expect(await dataSnapshot(db)).toEqual(before);
      const targetCounts = await tableCounts(db);
      expect({ ...targetCounts, audit_logs: 0, audit_pending: 0 }).toEqual({
        ...sourceCounts,
        audit_logs: 0,
        audit_pending: 0,
      });
      // The target's trail is the source's plus its record of the move.
      expect(targetCounts.audit_logs).toBe((report.tables.audit_logs?.source ?? 0) + 1);
      expect(await db.select().from(students).orderBy(asc(students.id))).toEqual(
        await t.database.db.select().from(students).orderBy(asc(students.id)),
      );
      const audit = new AuditLogger(db, { enabled: true });
      const verified = await audit.verify();
      await audit.stop();
      expect(verified.valid, JSON.stringify(verified.first_problem)).toBe(true);
      const [moved] = await queryRows<{ details: { target: string } }>(
        db,
        sql`SELECT details FROM audit_logs WHERE action = 'OTHER' AND resource = 'SYSTEM' ORDER BY id DESC LIMIT 1`,
      );
      expect(moved?.details.target).toContain(name);
      // Sequences continue after the copied rows.
      const [next] = await queryRows<{ id: string }>(
        db,
        sql`SELECT nextval(pg_get_serial_sequence('students', 'id'))::text AS id`,
      );
      expect(Number(next?.id)).toBeGreaterThan(5);
    });

    // The source's trail records the move, without the password.
    const [recorded] = await queryRows<{ line: string }>(
      t.database.db,
      sql`SELECT to_jsonb(a)::text AS line FROM audit_logs a
          WHERE action = 'OTHER' AND resource = 'SYSTEM' AND success ORDER BY id DESC LIMIT 1`,
    );
    expect(recorded?.line).toContain(name);
    expect(recorded?.line).not.toContain('never-shown-pw');

    // The same target again: not empty now, refused with the tables named, nothing written.
    const again = await t.request({
      method: 'POST',
      url: '/api/v1/system/migrate-data',
      payload: { target_url: targetUrl(name) },
    });
    expect(again.statusCode, again.body).toBe(422);
    expect(again.json().detail).toContain('not empty');
    expect(again.json().detail).toContain('students (5)');
    await withDatabase(name, async (db) => {
      expect((await tableCounts(db)).students).toBe(5);
    });
  }, 180_000);

  it('refuses a target with foreign data before writing anything', async () => {
    const name = await emptyDatabase();
    await onServer(
      urlForDatabase(serverUrl ?? '', name),
      'CREATE TABLE notes (id int); INSERT INTO notes VALUES (1)',
    );
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/system/migrate-data',
      payload: { target_url: targetUrl(name) },
    });
    expect(response.statusCode, response.body).toBe(422);
    expect(response.json().detail).toContain('notes (1)');
    await withDatabase(name, async (db) => {
      const tables = await queryRows<{ n: number }>(
        db,
        sql`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`,
      );
      expect(tables[0]?.n).toBe(1);
    });
  }, 60_000);

  it('a cancelled migration rolls the target back to empty', async () => {
    const name = await emptyDatabase();
    const target = parseTargetUrl(urlForDatabase(serverUrl ?? '', name));
    const controller = new AbortController();
    controller.abort();
    await expect(
      t.services.migration.migrate(target, {}, () => {}, controller.signal),
    ).rejects.toThrow();
    await withDatabase(name, async (db) => {
      const counts = await tableCounts(db);
      // Only the schema's own all-zero chain head: the copied rows were rolled back.
      expect(counts.audit_chain_head).toBe(1);
      expect({ ...counts, audit_chain_head: 0 }).toEqual(
        Object.fromEntries(Object.keys(counts).map((table) => [table, 0])),
      );
    });
  }, 60_000);
});

/** A stream that keeps what is written, like a pipe (not a terminal). */
class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void) {
    this.text += String(chunk);
    done();
  }
}

describe.runIf(enabled)('registrar migrate-data', () => {
  async function run(to: string, env: Record<string, string> = {}) {
    if (!t.app.server.listening) await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const stdout = new Capture();
    const stderr = new Capture();
    const io: CliIo = {
      env: { REGISTRAR_URL: `http://127.0.0.1:${port}`, REGISTRAR_TOKEN: t.tokens.admin, ...env },
      stdout,
      stderr,
    };
    const code = await migrateDataCommand({ to }, io);
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  it('shows progress until the job ends and prints the report', async () => {
    const name = await emptyDatabase();
    const result = await run(urlForDatabase(serverUrl ?? '', name), { PGPASSWORD: 'from-env' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('Copying');
    expect(result.stdout).toContain('Audit chain on the target: valid');
    expect(result.stdout).toMatch(/students\s+5\s+5\s+ok/);
  }, 180_000);

  it('explains bad input: a bad URL exits 2, an unreachable target 1', async () => {
    const bad = await run('mysql://localhost/school');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('postgres://');
    const unreachable = await run('postgres://u:cli-secret@127.0.0.1:1/registrar');
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('127.0.0.1:1');
    expect(unreachable.stderr).not.toContain('cli-secret');
  }, 60_000);
});
