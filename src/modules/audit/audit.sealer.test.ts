import { asc, count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
  onServer,
  testDatabaseKind,
  uniqueDatabaseName,
  urlForDatabase,
} from '../../../test/support/databases.ts';
import { createTestApp, openTestDatabase, type TestApp } from '../../../test/support/test-app.ts';
import { type DatabaseHandle, type Executor, openDatabase } from '../../platform/db/client.ts';
import { students } from '../students/students.table.ts';
import { AuditLogger } from './audit.logger.ts';
import { AuditSealer } from './audit.sealer.ts';
import { auditChainHead, auditLogs, auditPending } from './audit.table.ts';

const pendingCount = async (db: Executor) =>
  (await db.select({ n: count() }).from(auditPending))[0]?.n ?? -1;

/** The sealed chain's ids, and whether they run gap-free from the anchor to the head. */
async function chainShape(db: Executor) {
  const [head] = await db.select().from(auditChainHead).where(eq(auditChainHead.id, 1));
  const ids = (
    await db.select({ id: auditLogs.id }).from(auditLogs).orderBy(asc(auditLogs.id))
  ).map((row) => row.id);
  const gapFree = ids.every((id, index) => id === (head?.anchor_id ?? 0) + index + 1);
  return { ids, gapFree, headId: head?.last_id, lastId: ids.at(-1) };
}

async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const messages: string[] = [];
    for (let current: unknown = error; current instanceof Error; current = current.cause) {
      messages.push(current.message);
    }
    return messages.join(' <- ');
  }
  return 'it succeeded';
}

describe('sealing through the API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('seals many concurrent audited changes with gap-free ids and a chain that verifies', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        t.request({
          method: 'POST',
          url: '/api/v1/students',
          headers: { 'x-request-id': `seal-many-${index}` },
          payload: { student_id: `SEAL-${index}`, first_name: 'Άννα', last_name: `N${index}` },
        }),
      ),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual(answers.map(() => 201));
    // Nobody reads: the background sealer alone (debounced after each append) chains them.
    await vi.waitFor(async () => expect(await pendingCount(t.database.db)).toBe(0), {
      timeout: 5000,
    });
    const shape = await chainShape(t.database.db);
    expect(shape.gapFree).toBe(true);
    expect(shape.lastId).toBe(shape.headId);
    const created = await t.database.db
      .select({ request_id: auditLogs.request_id })
      .from(auditLogs)
      .where(sql`${auditLogs.request_id} LIKE 'seal-many-%'`);
    expect(new Set(created.map((row) => row.request_id)).size).toBe(40);
    expect(created).toHaveLength(40);
    expect((await t.services.audit.verify()).valid).toBe(true);
  });

  it('shows an entry to the API as soon as the change has been answered', async () => {
    const patched = await t.request({
      method: 'POST',
      url: '/api/v1/students',
      headers: { 'x-request-id': 'seal-visible' },
      payload: { student_id: 'SEAL-VISIBLE', first_name: 'A', last_name: 'B' },
    });
    expect(patched.statusCode).toBe(201);
    const page = await t.request({
      method: 'GET',
      url: '/api/v1/audit/logs?request_id=seal-visible',
    });
    expect(page.json().logs).toHaveLength(1);
    expect(page.json().logs[0]).toMatchObject({ action: 'CREATE', resource: 'STUDENT' });
  });
});

describe('pending entries', () => {
  let database: DatabaseHandle;
  let audit: AuditLogger;
  beforeAll(async () => {
    database = await openTestDatabase();
    // The last test breaks the chain on purpose; the final seal at stop() then fails.
    audit = new AuditLogger(database.db, { enabled: true, onSealError: () => {} });
  });
  afterAll(async () => {
    await audit.stop();
    await database.close();
  });

  it('a rolled-back change leaves no pending row and no entry', async () => {
    const before = await chainShape(database.db);
    const failed = database.db.transaction(async (tx) => {
      await tx.insert(students).values({ student_id: 'SEAL-RB', first_name: 'R', last_name: 'B' });
      await audit.append(tx, { requestId: 'seal-rollback' }, [
        { action: 'CREATE', resource: 'STUDENT', resourceId: 'SEAL-RB' },
      ]);
      expect(await pendingCount(tx)).toBe(1);
      throw new Error('roll it back');
    });
    await expect(failed).rejects.toThrow('roll it back');
    expect(await pendingCount(database.db)).toBe(0);
    await audit.flush();
    expect((await chainShape(database.db)).ids).toEqual(before.ids);
  });

  it('writes nothing with auditing off', async () => {
    const off = new AuditLogger(database.db, { enabled: false });
    await database.db.transaction((tx) =>
      off.append(tx, {}, [{ action: 'UPDATE', resource: 'STUDENT' }]),
    );
    await off.logAction({ action: 'LOGIN', resource: 'SESSION' });
    expect(await pendingCount(database.db)).toBe(0);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of pending entries outside the sealer', async () => {
    // No background seal (earlier appends scheduled some) may race the statements below:
    // stop it, and insert the entry directly. flush() still works after stop().
    await audit.stop();
    await database.db.insert(auditPending).values({
      action: 'OTHER',
      resource: 'SYSTEM',
      timestamp: new Date(),
      request_id: 'seal-guard',
    });
    for (const [statement, refused] of [
      [sql`UPDATE audit_pending SET success = false`, 'UPDATE'],
      [sql`DELETE FROM audit_pending`, 'DELETE'],
      [sql`TRUNCATE audit_pending`, 'TRUNCATE'],
    ] as const) {
      expect(await failureOf(database.db.execute(statement))).toMatch(
        new RegExp(`audit_pending is append-only: ${refused} refused`),
      );
    }
    expect(await pendingCount(database.db)).toBe(1);
    expect(await audit.flush()).toBe(1);
    const [entry] = await database.db
      .select()
      .from(auditLogs)
      .where(eq(auditLogs.request_id, 'seal-guard'));
    expect(entry).toMatchObject({ action: 'OTHER', resource: 'SYSTEM', success: true });
    expect((await audit.verify()).valid).toBe(true);
  });

  it('seals in the background after appends: on a pool during a burst, on PGlite once it pauses or its period has passed', async () => {
    // `audit` was stopped above, so only these sealers seal. Their debounce (300 ms) is far
    // longer than the gaps between a burst's appends (20 ms), and far shorter than a burst.
    const burst = async (sealer: AuditSealer, name: string) => {
      for (let n = 0; n < 30; n++) {
        await database.db.insert(auditPending).values({
          action: 'OTHER',
          resource: 'SYSTEM',
          timestamp: new Date(),
          request_id: `${name}-${n}`,
        });
        sealer.schedule();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const pendingAfterBurst = await pendingCount(database.db);
      await vi.waitFor(async () => expect(await pendingCount(database.db)).toBe(0), {
        timeout: 5000,
      });
      await sealer.stop();
      return pendingAfterBurst;
    };
    const onPool = testDatabaseKind() === 'postgres';
    // Not started (no period): on a pool the wait counts from the first append, so the seal
    // ran while the writes went on; on PGlite each append restarted it, and no seal took the
    // one connection from the writers.
    const unstarted = await burst(new AuditSealer(database.db, { debounceMs: 300 }), 'burst-a');
    if (onPool) expect(unstarted).toBeLessThan(30);
    else expect(unstarted).toBe(30);
    // Started with a 250 ms period: on PGlite too, an entry waits no longer than that.
    const started = new AuditSealer(database.db, { debounceMs: 300 });
    started.start(250);
    expect(await burst(started, 'burst-b')).toBeLessThan(30);
    expect((await audit.verify()).valid).toBe(true);
  });

  it('verify still names a row forged behind the head, which stops sealing', async () => {
    const quiet = new AuditLogger(database.db, { enabled: true, onSealError: () => {} });
    await quiet.flush();
    const { headId } = await chainShape(database.db);
    const forged = (headId ?? 0) + 1;
    await database.db.execute(
      sql`INSERT INTO audit_logs (id, action, resource, success, timestamp, prev_hash, hash)
          VALUES (${forged}, 'DELETE', 'STUDENT', true, now(), 'forged', 'forged')`,
    );
    await quiet.logAction({ action: 'LOGOUT', resource: 'SESSION' });
    await expect(quiet.flush()).rejects.toThrow();
    const report = await quiet.verify();
    expect(report.valid).toBe(false);
    expect(report.problems.map((problem) => `${problem.kind}:${problem.id}`)).toContain(
      `inserted:${forged}`,
    );
    expect(await pendingCount(database.db)).toBe(1);
    await quiet.stop();
  });
});

describe('two sealers at once', () => {
  const onPostgres = testDatabaseKind() === 'postgres';
  const serverUrl = process.env.TEST_DATABASE_URL ?? '';
  const name = uniqueDatabaseName('registrar_sealers');
  const handles: DatabaseHandle[] = [];

  afterAll(async () => {
    for (const handle of handles) await handle.close();
    if (onPostgres) await onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  it('never fork or duplicate the chain (two pools on PostgreSQL, one PGlite otherwise)', async () => {
    if (onPostgres) {
      await onServer(serverUrl, `CREATE DATABASE ${name} TEMPLATE ${inject('postgresTemplate')}`);
      const url = urlForDatabase(serverUrl, name);
      handles.push(await openDatabase({ kind: 'postgres', url, poolSize: 6 }));
      handles.push(await openDatabase({ kind: 'postgres', url, poolSize: 6 }));
    } else {
      handles.push(await openTestDatabase());
    }
    const dbs = onPostgres ? [handles[0]!.db, handles[1]!.db] : [handles[0]!.db, handles[0]!.db];
    // Two "processes": each writes through its own logger and runs its own sealers, small
    // batches and a 5 ms period so that they contend for the lock all the time.
    const loggers = dbs.map((db) => new AuditLogger(db, { enabled: true, sealIntervalMs: 5 }));
    const sealers = dbs.map((db) => new AuditSealer(db, { batchSize: 3 }));
    for (const logger of loggers) logger.start();
    for (const sealer of sealers) sealer.start(5);

    const writers = 12;
    const perWriter = 10;
    let writing = true;
    const flushing = dbs.map(async (_, side) => {
      while (writing) {
        await sealers[side]!.flush();
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    });
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        const side = writer % 2;
        for (let n = 0; n < perWriter; n++) {
          await dbs[side]!.transaction((tx) =>
            loggers[side]!.append(tx, { requestId: `two-${writer}-${n}` }, [
              { action: 'UPDATE', resource: 'STUDENT', resourceId: writer },
              { action: 'UPDATE', resource: 'COURSE', resourceId: n },
            ]),
          );
        }
      }),
    );
    writing = false;
    await Promise.all(flushing);
    await Promise.all([...loggers.map((logger) => logger.stop()), ...sealers.map((s) => s.stop())]);

    const db = dbs[0]!;
    expect(await pendingCount(db)).toBe(0);
    const shape = await chainShape(db);
    expect(shape.gapFree).toBe(true);
    expect(shape.ids).toHaveLength(writers * perWriter * 2);
    expect(shape.lastId).toBe(shape.headId);
    const perRequest = await db
      .select({ request_id: auditLogs.request_id, n: count() })
      .from(auditLogs)
      .groupBy(auditLogs.request_id);
    expect(perRequest).toHaveLength(writers * perWriter);
    expect(perRequest.every((row) => row.n === 2)).toBe(true);
    // A transaction's entries keep the order it wrote them in.
    const rows = await db.select().from(auditLogs).orderBy(asc(auditLogs.id));
    const seen = new Set<string | null>();
    for (const row of rows) {
      expect(row.resource).toBe(seen.has(row.request_id) ? 'COURSE' : 'STUDENT');
      seen.add(row.request_id);
    }
    const report = await loggers[0]!.verify();
    expect(report, JSON.stringify(report.first_problem)).toMatchObject({
      valid: true,
      checked: writers * perWriter * 2,
    });
  }, 60_000);
});
