import { asc, count, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onServer, uniqueDatabaseName, urlForDatabase } from '../../../test/support/databases.ts';
import { createTestApp, type TestApp, testConfig } from '../../../test/support/test-app.ts';
import { buildApp } from '../../app.ts';
import {
  type Database,
  type DatabaseHandle,
  openDatabase,
  queryRows,
} from '../../platform/db/client.ts';
import type { Services } from '../../services.ts';
import { auditLogs } from '../audit/audit.table.ts';
import { RolesService } from '../roles/roles.service.ts';
import { students } from '../students/students.table.ts';
import { BACKUP_TABLES } from './backup.tables.ts';
import { makeBackup, restoreBackup } from './backup.test-support.ts';

// Runs once, in the PGlite project, when a PostgreSQL server is available for the other side.
const serverUrl = process.env.TEST_DATABASE_URL;
const enabled = serverUrl !== undefined && process.env.TEST_DB_KIND === 'pglite';

let embedded: TestApp;
let postgres: { services: Services; database: DatabaseHandle; close(): Promise<void> };

beforeAll(async () => {
  if (!enabled || !serverUrl) return;
  embedded = await createTestApp({ env: { RATE_LIMIT_JOBS_PER_MINUTE: '1000' } });
  // An empty migrated PostgreSQL install sharing the embedded one's DATA_DIR (so its backups).
  const name = uniqueDatabaseName('registrar_backup');
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const database = await openDatabase({ kind: 'postgres', url: urlForDatabase(serverUrl, name) });
  await database.migrate();
  await new RolesService(database.db).ensureBuiltinRoles();
  const built = await buildApp({
    config: testConfig({ DATA_DIR: embedded.config.dataDir }),
    database,
    logger: false,
  });
  await built.app.ready();
  postgres = {
    services: built.services,
    database,
    async close() {
      await built.app.close();
      await database.close();
      await onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
});
afterAll(async () => {
  await postgres?.close();
  await embedded?.close();
});

async function counts(db: Database): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const table of BACKUP_TABLES) {
    const [row] = await queryRows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM ${sql.identifier(table.name)}`,
    );
    result[table.name] = Number(row?.n);
  }
  return result;
}

const studentRows = (db: Database) => db.select().from(students).orderBy(asc(students.id));

/** Restores through a job started as the system (the PostgreSQL install has no users yet). */
async function restoreAsSystem(services: Services, name: string) {
  const job = await services.jobs.createJob({
    jobType: 'backup_restore',
    userId: null,
    metadata: { operation: 'restore', name },
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const current = await services.jobs.getJob(job.id);
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(current.status)) return current;
    if (Date.now() > deadline) throw new Error('the restore job did not end');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.runIf(enabled)('backups across modes', () => {
  it('an embedded backup restores into PostgreSQL, and a PostgreSQL backup back into embedded', async () => {
    for (const n of [1, 2]) {
      const created = await embedded.request({
        method: 'POST',
        url: '/api/v1/students',
        payload: { student_id: `CM-${n}`, first_name: 'Cross', last_name: `Mode ${n}` },
      });
      expect(created.statusCode, created.body).toBe(201);
    }
    const fromEmbedded = await makeBackup(embedded);
    await embedded.services.audit.flush();
    const embeddedCounts = await counts(embedded.database.db);

    const restored = await restoreAsSystem(postgres.services, fromEmbedded);
    expect(restored.status, JSON.stringify(restored)).toBe('COMPLETED');
    await postgres.services.audit.flush();
    const pgCounts = await counts(postgres.database.db);
    // The PostgreSQL trail has the restore's own entries on top of the embedded trail.
    expect({ ...pgCounts, audit_logs: 0, audit_pending: 0 }).toEqual({
      ...embeddedCounts,
      audit_logs: 0,
      audit_pending: 0,
    });
    expect(pgCounts.audit_logs).toBeGreaterThan(embeddedCounts.audit_logs ?? 0);
    expect(await studentRows(postgres.database.db)).toEqual(
      await studentRows(embedded.database.db),
    );
    expect((await postgres.services.audit.verify()).valid).toBe(true);

    // And back: a PostgreSQL backup over changed embedded data.
    const fromPostgres = await postgres.services.backups.create('manual', {});
    await embedded.request({ method: 'DELETE', url: '/api/v1/students/1' });
    const back = await restoreBackup(embedded, fromPostgres.name);
    expect(back.status, JSON.stringify(back)).toBe('COMPLETED');
    expect(await studentRows(embedded.database.db)).toEqual(
      await studentRows(postgres.database.db),
    );
    const verify = await embedded.request({ method: 'GET', url: '/api/v1/audit/verify' });
    expect(verify.json().valid, verify.body).toBe(true);
    const [logged] = await embedded.database.db.select({ n: count() }).from(auditLogs);
    expect(logged?.n).toBeGreaterThan(pgCounts.audit_logs ?? 0);
  });
});
