import { copyFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { auditLogs } from '../audit/audit.table.ts';
import { backupFilePath, manifestFilePath } from './backup.format.ts';
import { BACKUP_TABLES, EPHEMERAL_TABLES } from './backup.tables.ts';
import {
  ALL_TABLE_NAMES,
  dataSnapshot,
  makeBackup,
  readManifest,
  restoreBackup,
  rewriteBackup,
} from './backup.test-support.ts';
import { CODE_SCHEMA } from './backups.service.ts';

let t: TestApp;
let dir: string;
/** A backup of the starting data, made once. */
let base: string;

beforeAll(async () => {
  t = await createTestApp({ env: { RATE_LIMIT_JOBS_PER_MINUTE: '1000' } });
  dir = t.services.backups.dir;
  for (const n of [1, 2, 3]) {
    const created = await t.request({
      method: 'POST',
      url: '/api/v1/students',
      payload: { student_id: `BK-${n}`, first_name: `Όνομα ${n}`, last_name: 'Backup' },
    });
    expect(created.statusCode, created.body).toBe(201);
  }
  const course = await t.request({
    method: 'POST',
    url: '/api/v1/courses',
    payload: { course_code: 'BK101', course_name: 'Backups', semester: 'Fall 2026' },
  });
  expect(course.statusCode, course.body).toBe(201);
  base = await makeBackup(t);
});
afterAll(async () => {
  await t?.close();
});

const students = () => t.request({ method: 'GET', url: '/api/v1/students?page_size=100' });

async function auditEntries(action: 'BACKUP_CREATE' | 'BACKUP_RESTORE') {
  await t.services.audit.flush();
  return t.database.db.select().from(auditLogs).where(eq(auditLogs.action, action));
}

async function expectRefused(name: string, status: number, slug: string) {
  const before = await dataSnapshot(t.database.db);
  const response = await t.request({ method: 'POST', url: `/api/v1/backups/${name}/restore` });
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect(response.json().type).toContain(slug);
  expect(await dataSnapshot(t.database.db)).toEqual(before);
  return response.json();
}

describe('what a backup holds', () => {
  it('classifies every table as backed up or ephemeral', () => {
    const classified = [
      ...BACKUP_TABLES.map((table) => table.name),
      ...Object.keys(EPHEMERAL_TABLES),
    ];
    expect([...classified].sort()).toEqual([...ALL_TABLE_NAMES].sort());
  });

  it('lists the backup with its manifest: counts, schema version, checksum', async () => {
    const list = await t.request({ method: 'GET', url: '/api/v1/backups' });
    expect(list.statusCode, list.body).toBe(200);
    const item = list.json().items.find((entry: { name: string }) => entry.name === base);
    expect(item).toMatchObject({
      kind: 'manual',
      encrypted: false,
      schema_version: CODE_SCHEMA.version,
      mode: t.database.kind,
      counts: { students: 3, courses: 1, users: 3 },
    });
    expect(item.size_bytes).toBeGreaterThan(0);
    const manifest = await readManifest(dir, base);
    expect(manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.counts.audit_logs).toBeGreaterThan(0);
    const created = await auditEntries('BACKUP_CREATE');
    expect(created.some((entry) => entry.resource_id === base && entry.success)).toBe(true);
  });
});

describe('download', () => {
  it('serves the stored file byte for byte and records who took it', async () => {
    const response = await t.request({ method: 'GET', url: `/api/v1/backups/${base}/download` });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-disposition']).toBe(`attachment; filename="${base}.backup"`);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.rawPayload.equals(await readFile(backupFilePath(dir, base)))).toBe(true);
    await t.services.audit.flush();
    const entries = await t.database.db
      .select()
      .from(auditLogs)
      .where(eq(auditLogs.action, 'EXPORT'));
    expect(
      entries.some(
        (entry) =>
          entry.resource === 'SYSTEM' &&
          entry.resource_id === base &&
          entry.success &&
          entry.user_id === t.users.admin,
      ),
    ).toBe(true);
  });

  it('answers 404 for an unknown backup and 400 for a name with path tricks', async () => {
    const unknown = await t.request({ method: 'GET', url: '/api/v1/backups/nope/download' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    const tricky = await t.request({
      method: 'GET',
      url: '/api/v1/backups/..%2F..%2Fetc%2Fpasswd/download',
    });
    expect(tricky.statusCode).toBe(400);
  });
});

describe('restore', () => {
  it('brings the data back as it was, keeps the audit chain valid, and takes a safety backup', async () => {
    const before = await dataSnapshot(t.database.db);
    const listed = (await students()).json();
    // Change things: a new student, an edited one, a deleted one.
    const [first, second] = listed.items as Array<{ id: number }>;
    await t.request({
      method: 'POST',
      url: '/api/v1/students',
      payload: { student_id: 'BK-NEW', first_name: 'New', last_name: 'Student' },
    });
    await t.request({
      method: 'PATCH',
      url: `/api/v1/students/${first?.id}`,
      payload: { first_name: 'Changed' },
    });
    await t.request({ method: 'DELETE', url: `/api/v1/students/${second?.id}` });
    expect(await dataSnapshot(t.database.db)).not.toEqual(before);

    const job = await restoreBackup(t, base);
    expect(job.status, JSON.stringify(job)).toBe('COMPLETED');
    expect(await dataSnapshot(t.database.db)).toEqual(before);
    // Through the API too: cached lists were dropped.
    expect((await students()).json().total).toBe(listed.total);

    const verify = await t.request({ method: 'GET', url: '/api/v1/audit/verify' });
    expect(verify.statusCode, verify.body).toBe(200);
    expect(verify.json().valid, verify.body).toBe(true);
    const restores = await auditEntries('BACKUP_RESTORE');
    const restore = restores.find((entry) => entry.resource_id === base && entry.success);
    expect(restore?.details).toMatchObject({ counts: { students: 3 } });

    const safetyName = String(job.result?.data?.safety_backup);
    const safety = await readManifest(dir, safetyName);
    expect(safety.kind).toBe('safety');
    // The safety backup holds the data from just before the restore (the new student).
    expect(safety.counts.students).toBe(4);
    const created = await auditEntries('BACKUP_CREATE');
    expect(created.some((entry) => entry.resource_id === safetyName)).toBe(true);

    // Sequences were set past the restored ids: new records still get fresh ids.
    const again = await t.request({
      method: 'POST',
      url: '/api/v1/students',
      payload: { student_id: 'BK-AFTER', first_name: 'After', last_name: 'Restore' },
    });
    expect(again.statusCode, again.body).toBe(201);
    await t.request({ method: 'DELETE', url: `/api/v1/students/${again.json().id}` });
  });

  it('rolls back completely when an insert fails half-way', async () => {
    // A checksum-valid backup whose students include one twice: the insert fails mid-restore.
    await rewriteBackup(
      dir,
      base,
      'broken-middle',
      (lines) => {
        const at = lines.indexOf('["table","students"]');
        return [...lines.slice(0, at + 2), lines[at + 1] as string, ...lines.slice(at + 2)];
      },
      (manifest) => ({ counts: { ...manifest.counts, students: 4 } }),
    );
    // The file's own end line still says 3: the check refuses it before anything is written.
    await expectRefused('broken-middle', 422, 'backup-corrupt');

    await rewriteBackup(
      dir,
      base,
      'duplicate-row',
      (lines) => {
        const at = lines.indexOf('["table","students"]');
        const end = lines.findIndex((line) => line.startsWith('["end","students"'));
        return [
          ...lines.slice(0, at + 2),
          lines[at + 1] as string,
          ...lines.slice(at + 2, end),
          '["end","students",4]',
          ...lines.slice(end + 1),
        ];
      },
      (manifest) => ({ counts: { ...manifest.counts, students: 4 } }),
    );
    const change = await t.request({
      method: 'POST',
      url: '/api/v1/students',
      payload: { student_id: 'BK-KEEP', first_name: 'Kept', last_name: 'Student' },
    });
    expect(change.statusCode).toBe(201);
    const before = await dataSnapshot(t.database.db);
    const job = await restoreBackup(t, 'duplicate-row');
    expect(job.status).toBe('FAILED');
    expect(job.error_message).toMatch(/duplicate key|unique/i);
    expect(await dataSnapshot(t.database.db)).toEqual(before);
    const verify = await t.request({ method: 'GET', url: '/api/v1/audit/verify' });
    expect(verify.json().valid, verify.body).toBe(true);
    const restores = await auditEntries('BACKUP_RESTORE');
    expect(restores.some((entry) => entry.resource_id === 'duplicate-row' && !entry.success)).toBe(
      true,
    );
  });
});

describe('bad backups are refused before anything is written', () => {
  it('a truncated file (422)', async () => {
    await copyFile(backupFilePath(dir, base), backupFilePath(dir, 'cut-short'));
    const manifest = await readManifest(dir, base);
    await writeFile(
      manifestFilePath(dir, 'cut-short'),
      JSON.stringify({ ...manifest, name: 'cut-short', file: 'cut-short.backup' }),
    );
    await truncate(backupFilePath(dir, 'cut-short'), Math.floor(manifest.size_bytes / 2));
    const problem = await expectRefused('cut-short', 422, 'backup-truncated');
    expect(problem.detail).toContain('truncated');
  });

  it('a truncated file whose manifest was made to match (422)', async () => {
    await rewriteBackup(dir, base, 'cut-inside', (lines) => lines.slice(0, -3));
    const problem = await expectRefused('cut-inside', 422, 'backup-corrupt');
    expect(problem.detail).toContain('truncated');
  });

  it('a file that does not match its checksum (422)', async () => {
    const bytes = await readFile(backupFilePath(dir, base));
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    await writeFile(backupFilePath(dir, 'flipped'), bytes);
    const manifest = await readManifest(dir, base);
    await writeFile(
      manifestFilePath(dir, 'flipped'),
      JSON.stringify({ ...manifest, name: 'flipped', file: 'flipped.backup' }),
    );
    const problem = await expectRefused('flipped', 422, 'backup-checksum-mismatch');
    expect(problem.detail).toContain('SHA-256');
  });

  it('a backup from a newer schema (422)', async () => {
    const newer = CODE_SCHEMA.version + 1;
    await rewriteBackup(
      dir,
      base,
      'from-the-future',
      (lines) => {
        const header = JSON.parse(lines[0] as string);
        return [JSON.stringify({ ...header, schema_version: newer }), ...lines.slice(1)];
      },
      () => ({ schema_version: newer, schema_tag: `${newer}_future` }),
    );
    const problem = await expectRefused('from-the-future', 422, 'backup-newer-schema');
    expect(problem.detail).toContain('newer Registrar');
  });

  it('an encrypted backup when no key is set (422)', async () => {
    const manifest = await readManifest(dir, base);
    await copyFile(backupFilePath(dir, base), backupFilePath(dir, 'says-encrypted'));
    await writeFile(
      manifestFilePath(dir, 'says-encrypted'),
      JSON.stringify({ ...manifest, name: 'says-encrypted', encrypted: true }),
    );
    await expectRefused('says-encrypted', 422, 'backup-key-required');
  });

  it('names that are not backups: 400 for path tricks, 404 for unknown ones', async () => {
    for (const url of ['/api/v1/backups/..%2F..%2Fetc/restore', '/api/v1/backups/a.b/restore']) {
      const response = await t.request({ method: 'POST', url });
      expect(response.statusCode, url).toBe(400);
    }
    await expectRefused('no-such-backup', 404, 'not-found');
  });
});

describe('permissions', () => {
  it('refuses teachers and viewers (403)', async () => {
    for (const as of ['teacher', 'viewer'] as const) {
      for (const [method, url] of [
        ['GET', '/api/v1/backups'],
        ['POST', '/api/v1/backups'],
        ['POST', `/api/v1/backups/${base}/restore`],
        ['GET', `/api/v1/backups/${base}/download`],
      ] as const) {
        const response = await t.request({ method, url, as });
        expect(response.statusCode, `${as} ${method} ${url}`).toBe(403);
      }
    }
  });

  it('refuses a backup_restore job started through POST /jobs by a teacher', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/jobs',
      as: 'teacher',
      payload: { job_type: 'backup_restore', metadata: { operation: 'backup' } },
    });
    expect(response.statusCode, response.body).toBe(403);
  });
});
