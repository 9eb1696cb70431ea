import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { asc, count, eq, getTableColumns, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  onServer,
  testDatabaseKind,
  uniqueDatabaseName,
  urlForDatabase,
} from '../../../test/support/databases.ts';
import { openTestDatabase, testConfig } from '../../../test/support/test-app.ts';
import type { Config } from '../../config.ts';
import { type DatabaseHandle, openDatabase, queryRows } from '../../platform/db/client.ts';
import { createServices, type Services } from '../../services.ts';
import { settings } from '../settings/settings.table.ts';
import { GENESIS_HASH } from './audit.chain.ts';
import { AuditLogger } from './audit.logger.ts';
import {
  type ArchiveManifest,
  AuditRetention,
  type RetentionReport,
  scheduleAuditRetention,
} from './audit.retention.ts';
import { auditChainHead, auditLogs } from './audit.table.ts';

/** Writes entries as if it were `at`: the retention tests need a past. */
async function writeAt(database: DatabaseHandle, at: string, n: number, note = at) {
  const logger = new AuditLogger(database.db, { enabled: true, now: () => new Date(at) });
  for (let i = 0; i < n; i++) {
    await logger.logAction(
      { action: 'UPDATE', resource: 'STUDENT', resourceId: i + 1, details: { note, i } },
      { userId: 7, userEmail: 'clerk@school.test', ipAddress: '10.1.2.3' },
    );
  }
  // Chained now, so the tests below can read audit_logs directly.
  await logger.flush();
}

/** Every message on an error's cause chain (drizzle wraps the database's error). */
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

const manifestOf = (dir: string, name: string): ArchiveManifest =>
  JSON.parse(readFileSync(path.join(dir, name.replace('.jsonl.gz', '.manifest.json')), 'utf8'));

const linesOf = (file: string) =>
  gunzipSync(readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('audit retention', () => {
  let database: DatabaseHandle;
  let config: Config;
  let services: Services;
  let archiveDir: string;
  let clock = new Date('2025-04-01T00:00:00Z');
  const retention = () =>
    new AuditRetention(database.db, services.audit, services.settings, {
      dataDir: config.dataDir,
      now: () => clock,
      batchSize: 3,
    });
  const ids = async () => {
    await services.audit.flush();
    return (
      await database.db.select({ id: auditLogs.id }).from(auditLogs).orderBy(asc(auditLogs.id))
    ).map((row) => row.id);
  };

  beforeAll(async () => {
    // A database of its own (not createTestApp): its sign-ins would be the chain's first,
    // and newest, entries, and entries leave only from the old end of the chain.
    database = await openTestDatabase();
    config = testConfig();
    services = createServices(database.db, config);
    archiveDir = path.join(config.dataDir, 'archive');
    await writeAt(database, '2025-01-10T08:00:00Z', 3); // ids 1-3
    await writeAt(database, '2025-01-31T23:59:59.999Z', 1); // 4: last moment of January
    await writeAt(database, '2025-02-01T00:00:00Z', 2); // 5-6
    await writeAt(database, '2025-02-20T12:00:00Z', 2); // 7-8
    await writeAt(database, '2025-03-20T12:00:00Z', 1); // 9: not yet due at the first run
    await writeAt(database, '2025-02-25T12:00:00Z', 1); // 10: due, but after 9 in the chain
    await services.settings.update({ audit_retention_days: 30 }); // 11: CONFIG_CHANGE, today
  });
  afterAll(async () => {
    await services?.audit.stop();
    await database?.close();
    if (config) rmSync(config.dataDir, { recursive: true, force: true });
  });

  it('archives the due prefix of the chain by month, then deletes it; the chain still verifies', async () => {
    const report = await retention().run();
    expect(report).toMatchObject({
      status: 'archived',
      retention_days: 30,
      cutoff: '2025-03-02T00:00:00.000Z',
      archived: 8,
      deleted: 8,
      first_id: 1,
      last_id: 8,
      files: ['audit-2025-01.jsonl.gz', 'audit-2025-02.jsonl.gz'],
      partitions: null,
    });

    // Entry 10 is older than the cutoff but follows 9, which is not: it waits for 9.
    const left = await ids();
    expect(left.slice(0, 3)).toEqual([9, 10, 11]);
    expect(left).not.toContain(8);

    expect(readdirSync(archiveDir).sort()).toEqual([
      'audit-2025-01.jsonl.gz',
      'audit-2025-01.manifest.json',
      'audit-2025-02.jsonl.gz',
      'audit-2025-02.manifest.json',
    ]);
    const january = manifestOf(archiveDir, 'audit-2025-01.jsonl.gz');
    expect(january).toMatchObject({
      file: 'audit-2025-01.jsonl.gz',
      rows: 4,
      first_id: 1,
      last_id: 4,
      first_prev_hash: GENESIS_HASH,
      first_timestamp: '2025-01-10T08:00:00.000Z',
      last_timestamp: '2025-01-31T23:59:59.999Z',
      created_at: clock.toISOString(),
    });
    expect(january.sha256).toMatch(/^[0-9a-f]{64}$/);
    const february = manifestOf(archiveDir, 'audit-2025-02.jsonl.gz');
    expect(february).toMatchObject({ rows: 4, first_id: 5, last_id: 8 });
    expect(february.first_prev_hash).toBe(january.last_hash);

    // Every column of every entry, one canonical JSON object per line.
    const lines = linesOf(path.join(archiveDir, 'audit-2025-01.jsonl.gz'));
    expect(lines.map((line) => line.id)).toEqual([1, 2, 3, 4]);
    expect(Object.keys(lines[0] ?? {}).sort()).toEqual(
      Object.keys(getTableColumns(auditLogs)).sort(),
    );
    expect(lines[0]).toMatchObject({
      action: 'UPDATE',
      resource: 'STUDENT',
      resource_id: '1',
      user_id: 7,
      ip_address: '10.1.2.3',
      details: { i: 0, note: '2025-01-10T08:00:00Z' },
      timestamp: '2025-01-10T08:00:00.000Z',
      prev_hash: GENESIS_HASH,
    });

    for (const file of report.files) {
      const check = await AuditRetention.verifyArchive(path.join(archiveDir, file));
      expect(check, JSON.stringify(check.problems)).toMatchObject({ valid: true, problems: [] });
    }
    expect(
      (await AuditRetention.verifyArchive(path.join(archiveDir, 'audit-2025-02.manifest.json')))
        .valid,
    ).toBe(true);

    const [head] = await database.db.select().from(auditChainHead);
    expect(head).toMatchObject({ anchor_id: 8, anchor_hash: february.last_hash });
    const verification = await services.audit.verify();
    expect(verification, JSON.stringify(verification.first_problem)).toMatchObject({
      valid: true,
      first_id: 9,
    });

    const [own] = await database.db
      .select()
      .from(auditLogs)
      .where(eq(auditLogs.resource, 'SYSTEM'))
      .orderBy(asc(auditLogs.id))
      .then((rows) => rows.filter((row) => row.details?.operation === 'audit_retention'));
    expect(own).toMatchObject({
      action: 'OTHER',
      resource: 'SYSTEM',
      success: true,
      details: {
        operation: 'audit_retention',
        archived: 8,
        deleted: 8,
        files: report.files,
        cutoff: '2025-03-02T00:00:00.000Z',
      },
    });
  });

  it('archives nothing new when run again, and adds no entry for a run that did nothing', async () => {
    const before = await ids();
    const report = await retention().run();
    expect(report).toMatchObject({ status: 'nothing_to_archive', archived: 0, deleted: 0 });
    expect(report.files).toEqual([]);
    expect(await ids()).toEqual(before);
    expect(readdirSync(archiveDir)).toHaveLength(4);
  });

  it('writes a part file for a month that already has an archive, never rewriting it', async () => {
    const february = readFileSync(path.join(archiveDir, 'audit-2025-02.jsonl.gz'));
    clock = new Date('2025-05-01T00:00:00Z');
    const report = await retention().run();
    // 9 (March) and 10 (February again, the clock having gone back); 11 is from today.
    expect(report).toMatchObject({
      status: 'archived',
      archived: 2,
      deleted: 2,
      first_id: 9,
      last_id: 10,
      files: ['audit-2025-03.jsonl.gz', 'audit-2025-02.part2.jsonl.gz'],
    });
    expect(readFileSync(path.join(archiveDir, 'audit-2025-02.jsonl.gz'))).toEqual(february);
    const part2 = manifestOf(archiveDir, 'audit-2025-02.part2.jsonl.gz');
    expect(part2).toMatchObject({ rows: 1, first_id: 10, last_id: 10 });
    expect(part2.first_prev_hash).toBe(manifestOf(archiveDir, 'audit-2025-03.jsonl.gz').last_hash);
    for (const file of readdirSync(archiveDir).filter((name) => name.endsWith('.gz'))) {
      expect((await AuditRetention.verifyArchive(path.join(archiveDir, file))).valid).toBe(true);
    }
    expect((await ids())[0]).toBe(11);
    expect((await services.audit.verify()).valid).toBe(true);
  });

  it('does nothing while audit_retention_days is null', async () => {
    // Back to the default (AUDIT_RETENTION_DAYS unset). Not settings.update({… null}): that
    // currently stores SQL NULL into the NOT NULL jsonb column and fails.
    await database.db.delete(settings).where(eq(settings.key, 'audit_retention_days'));
    expect((await services.settings.get()).audit_retention_days).toBeNull();
    const before = await ids();
    const files = readdirSync(archiveDir);
    clock = new Date('2099-01-01T00:00:00Z');
    const report = await retention().run();
    expect(report).toMatchObject({
      status: 'disabled',
      retention_days: null,
      cutoff: null,
      archived: 0,
      deleted: 0,
      files: [],
    });
    expect(report.message).toMatch(/kept forever/);
    expect(await ids()).toEqual(before);
    expect(readdirSync(archiveDir)).toEqual(files);
  });

  it('the trigger refuses DELETE without the retention setting, and UPDATE and TRUNCATE always', async () => {
    const [{ total } = { total: 0 }] = await database.db.select({ total: count() }).from(auditLogs);
    expect(await failureOf(database.db.execute(sql`DELETE FROM audit_logs`))).toMatch(
      /append-only: DELETE refused/,
    );
    expect(
      await failureOf(database.db.execute(sql`UPDATE audit_logs SET success = NOT success`)),
    ).toMatch(/append-only: UPDATE refused/);
    expect(
      await failureOf(
        database.db.transaction(async (tx) => {
          await tx.execute(sql`SET LOCAL registrar.audit_retention = 'on'`);
          await tx.execute(sql`UPDATE audit_logs SET details = '{}'`);
        }),
      ),
    ).toMatch(/append-only: UPDATE refused/);
    expect(await failureOf(database.db.execute(sql`TRUNCATE audit_logs`))).toMatch(
      /append-only: TRUNCATE refused/,
    );
    // The setting is the transaction's own: it does not outlive it.
    expect(await failureOf(database.db.execute(sql`DELETE FROM audit_logs`))).toMatch(
      /append-only/,
    );
    const [after] = await database.db.select({ total: count() }).from(auditLogs);
    expect(after?.total).toBe(total);
  });

  it('verifyArchive names a changed file, a changed entry and a truncated archive', async () => {
    const original = path.join(archiveDir, 'audit-2025-01.jsonl.gz');
    const copy = (name: string, body: Buffer, manifest: Partial<ArchiveManifest> = {}) => {
      writeFileSync(path.join(archiveDir, name), body);
      writeFileSync(
        path.join(archiveDir, name.replace('.jsonl.gz', '.manifest.json')),
        JSON.stringify({
          ...manifestOf(archiveDir, 'audit-2025-01.jsonl.gz'),
          file: name,
          ...manifest,
        }),
      );
      return path.join(archiveDir, name);
    };
    const lines = gunzipSync(readFileSync(original)).toString('utf8').split('\n');
    const edited = gzipSync(lines.join('\n').replace('"10.1.2.3"', '"10.9.9.9"'));

    const changedFile = await AuditRetention.verifyArchive(copy('tampered-a.jsonl.gz', edited));
    expect(changedFile.valid).toBe(false);
    expect(changedFile.problems.join('\n')).toMatch(/SHA-256 of tampered-a\.jsonl\.gz/);

    // Even with a manifest that matches the new bytes, the chain gives the edit away.
    const { createHash } = await import('node:crypto');
    const sha256 = createHash('sha256').update(edited).digest('hex');
    const changedEntry = await AuditRetention.verifyArchive(
      copy('tampered-b.jsonl.gz', edited, { sha256 }),
    );
    expect(changedEntry.problems).toEqual([
      'entry 1 was changed after it was written (hash differs)',
    ]);

    const whole = readFileSync(original);
    const truncated = await AuditRetention.verifyArchive(
      copy('tampered-c.jsonl.gz', whole.subarray(0, whole.length - 12)),
    );
    expect(truncated.valid).toBe(false);
    expect(truncated.problems.join('\n')).toMatch(/cannot be read in full/);

    const missing = await AuditRetention.verifyArchive(path.join(archiveDir, 'nope.jsonl.gz'));
    expect(missing.problems[0]).toMatch(/manifest .* cannot be read/);
    for (const name of readdirSync(archiveDir).filter((file) => file.startsWith('tampered-'))) {
      rmSync(path.join(archiveDir, name));
    }
  });

  it('refuses to archive a broken chain, and leaves no files and no deletions behind', async () => {
    clock = new Date('2099-01-01T00:00:00Z');
    await services.settings.update({ audit_retention_days: 30 });
    const before = await ids();
    const files = readdirSync(archiveDir).sort();
    const tampered = before[1]!;
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only`);
      await tx.execute(
        sql`UPDATE audit_logs SET user_email = 'someone@else.test' WHERE id = ${tampered}`,
      );
      await tx.execute(sql`ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_append_only`);
    });
    const refused = new RegExp(`chain is broken at entry ${tampered}`);
    await expect(retention().run()).rejects.toThrow(refused);
    // Nothing deleted; only the record of the refusal was added.
    expect(await ids()).toEqual([...before, before.at(-1)! + 1]);
    expect(readdirSync(archiveDir).sort()).toEqual(files);
    // The refusal is itself on record.
    const [failure] = await database.db
      .select()
      .from(auditLogs)
      .orderBy(asc(auditLogs.id))
      .then((rows) => rows.filter((row) => row.success === false));
    expect(failure).toMatchObject({
      action: 'OTHER',
      resource: 'SYSTEM',
      details: { operation: 'audit_retention', archived: 0, deleted: 0 },
    });
    expect(failure?.error_message).toMatch(refused);
  });
});

describe('scheduleAuditRetention', () => {
  const report = { status: 'nothing_to_archive', message: 'nothing' } as RetentionReport;

  it('runs after the first delay and then at each interval, logging failures without stopping', async () => {
    let calls = 0;
    const run = vi.fn(async () => {
      calls++;
      if (calls === 2) throw new Error('database went away');
      return report;
    });
    const log = { info: vi.fn(), error: vi.fn() };
    const stop = scheduleAuditRetention({ run }, log, { firstRunDelayMs: 5, intervalMs: 10 });
    await vi.waitFor(() => expect(calls).toBeGreaterThanOrEqual(3), { timeout: 2000 });
    await stop();
    const after = calls;
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(calls).toBe(after);
    expect(log.error).toHaveBeenCalledWith(
      { err: expect.any(Error) },
      'audit retention failed; it will be tried again',
    );
    expect(log.info).toHaveBeenCalledWith({ auditRetention: report }, 'nothing');
  });

  it('stop() asks a run in progress to stop and waits for it', async () => {
    let seen: AbortSignal | undefined;
    let finished = false;
    const run = async ({ signal }: { signal?: AbortSignal } = {}) => {
      seen = signal;
      while (!signal?.aborted) await new Promise((resolve) => setTimeout(resolve, 2));
      finished = true;
      return report;
    };
    const stop = scheduleAuditRetention({ run }, { info() {}, error() {} }, { firstRunDelayMs: 1 });
    await vi.waitFor(() => expect(seen).toBeDefined());
    await stop();
    expect(finished).toBe(true);
  });
});

const SCRIPT = fileURLToPath(new URL('../../../scripts/audit-partitioning.sql', import.meta.url));
const hasPsql = spawnSync('psql', ['--version']).status === 0;

describe('scripts/audit-partitioning.sql on PostgreSQL', () => {
  const onPostgres = testDatabaseKind() === 'postgres' && hasPsql;
  const serverUrl = process.env.TEST_DATABASE_URL ?? '';
  const name = uniqueDatabaseName('registrar_partitioning');
  let database: DatabaseHandle | undefined;
  let config: Config | undefined;

  afterAll(async () => {
    await database?.close();
    if (onPostgres) await onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    if (config) rmSync(config.dataDir, { recursive: true, force: true });
  });

  const partitionsOf = async (db: DatabaseHandle) =>
    (
      await queryRows<{ name: string }>(
        db.db,
        sql`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'audit_logs'::regclass ORDER BY 1`,
      )
    ).map((row) => row.name);

  it.skipIf(!onPostgres)(
    'partitions audit_logs by month; the chain, the trigger, inserts and retention still work',
    async () => {
      await onServer(serverUrl, `CREATE DATABASE ${name}`);
      const url = urlForDatabase(serverUrl, name);
      database = await openDatabase({ kind: 'postgres', url, poolSize: 2 });
      await database.migrate();
      config = testConfig();
      const services = createServices(database.db, config);
      await writeAt(database, '2025-01-15T10:00:00Z', 3);
      await writeAt(database, '2025-02-15T10:00:00Z', 2);
      await writeAt(database, '2025-03-15T10:00:00Z', 2);
      await services.audit.logAction({ action: 'LOGIN', resource: 'SESSION' }, { userId: 1 });

      const psql = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', SCRIPT, url], {
        encoding: 'utf8',
      });
      expect(psql.status, psql.stderr).toBe(0);
      // Run twice, it refuses rather than doing it again.
      const again = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', SCRIPT, url], {
        encoding: 'utf8',
      });
      expect(again.status).not.toBe(0);
      expect(again.stderr).toMatch(/already partitioned/);

      const [kind] = await queryRows<{ relkind: string }>(
        database.db,
        sql`SELECT relkind FROM pg_class WHERE oid = 'audit_logs'::regclass`,
      );
      expect(kind?.relkind).toBe('p');
      const now = new Date();
      const months = [0, 1, 2, 3].map((ahead) => {
        const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + ahead, 1));
        return `audit_logs_y${month.getUTCFullYear()}m${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
      });
      const partitions = await partitionsOf(database);
      expect(partitions).toEqual(
        expect.arrayContaining([
          'audit_logs_default',
          'audit_logs_y2025m01',
          'audit_logs_y2025m02',
          'audit_logs_y2025m03',
          ...months,
        ]),
      );
      const indexes = await queryRows<{ indexname: string }>(
        database.db,
        sql`SELECT indexname FROM pg_indexes WHERE tablename = 'audit_logs'`,
      );
      expect(indexes.map((row) => row.indexname).sort()).toEqual([
        'audit_logs_pkey',
        'idx_audit_request_id',
        'idx_audit_resource_action',
        'idx_audit_resource_record',
        'idx_audit_timestamp_action',
        'idx_audit_user_action',
        'idx_audit_user_email',
      ]);

      expect((await services.audit.verify()).valid).toBe(true);
      expect(await services.audit.verify()).toMatchObject({ checked: 8, first_id: 1 });
      // The contract's query, as written.
      await database.db.execute(
        sql.raw(
          `SELECT * FROM audit_logs WHERE user_id = 1 AND action = 'BULK_CREATE' AND timestamp >= '2025-12-01' ORDER BY timestamp DESC LIMIT 100;`,
        ),
      );
      // Inserts land in their month; one far ahead lands in the default partition, and the
      // next upkeep moves it into a partition of its own.
      await services.audit.logAction({ action: 'LOGOUT', resource: 'SESSION' }, { userId: 1 });
      await writeAt(database, '2031-07-04T00:00:00Z', 1);
      const [inDefault] = await queryRows<{ n: number }>(
        database.db,
        sql`SELECT count(*)::int AS n FROM audit_logs_default`,
      );
      expect(inDefault?.n).toBe(1);

      for (const statement of [
        'DELETE FROM audit_logs',
        'UPDATE audit_logs SET success = false',
        'TRUNCATE audit_logs',
        'TRUNCATE audit_logs_y2025m01',
        'DELETE FROM audit_logs_y2025m01',
      ]) {
        expect(await failureOf(database.db.execute(sql.raw(statement))), statement).toMatch(
          /append-only/,
        );
      }

      // Retention on the partitioned table: rows go, emptied past months are dropped, the
      // coming months are created and the default partition is emptied into its month.
      await services.settings.update({ audit_retention_days: 30 });
      const report = await new AuditRetention(database.db, services.audit, services.settings, {
        dataDir: config.dataDir,
        now: () => new Date('2025-04-01T00:00:00Z'),
      }).run();
      expect(report).toMatchObject({
        status: 'archived',
        archived: 5,
        files: ['audit-2025-01.jsonl.gz', 'audit-2025-02.jsonl.gz'],
      });
      expect(report.partitions?.error).toBeUndefined();
      expect(report.partitions?.dropped).toEqual(['audit_logs_y2025m01', 'audit_logs_y2025m02']);
      expect(report.partitions?.created).toContain('audit_logs_y2031m07');
      const after = await partitionsOf(database);
      expect(after).not.toContain('audit_logs_y2025m01');
      expect(after).toContain('audit_logs_y2025m03');
      const [emptied] = await queryRows<{ n: number }>(
        database.db,
        sql`SELECT count(*)::int AS n FROM audit_logs_default`,
      );
      expect(emptied?.n).toBe(0);
      for (const file of report.files) {
        const check = await AuditRetention.verifyArchive(
          path.join(config.dataDir, 'archive', file),
        );
        expect(check.valid).toBe(true);
      }
      const verification = await services.audit.verify();
      expect(verification, JSON.stringify(verification.first_problem)).toMatchObject({
        valid: true,
        first_id: 6,
      });
      expect(existsSync(path.join(config.dataDir, 'archive', 'audit-2025-01.manifest.json'))).toBe(
        true,
      );
    },
  );
});
