import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { getTableName, sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { TestApp } from '../../../test/support/test-app.ts';
import { type Executor, queryRows } from '../../platform/db/client.ts';
import * as schema from '../../platform/db/schema.ts';
import type { JobResponse } from '../jobs/jobs.manager.ts';
import {
  type BackupManifest,
  backupFilePath,
  manifestFilePath,
  manifestSchema,
  readBackupFile,
  writeBackupFile,
} from './backup.format.ts';

/** Every table drizzle knows, by SQL name. */
export const ALL_TABLE_NAMES = Object.values(schema).map((table) => getTableName(table));

export async function waitForJob(t: TestApp, id: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await t.request({ method: 'GET', url: `/api/v1/jobs/${id}` })).json();
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status) || Date.now() > deadline) {
      return job as JobResponse;
    }
    await sleep(50);
  }
}

/** POST /backups and wait: the new backup's name. */
export async function makeBackup(t: TestApp): Promise<string> {
  const started = await t.request({ method: 'POST', url: '/api/v1/backups' });
  expect(started.statusCode, started.body).toBe(202);
  const job = await waitForJob(t, started.json().id);
  expect(job.status, JSON.stringify(job)).toBe('COMPLETED');
  return String(job.result?.data?.name);
}

export async function restoreBackup(t: TestApp, name: string): Promise<JobResponse> {
  const started = await t.request({ method: 'POST', url: `/api/v1/backups/${name}/restore` });
  expect(started.statusCode, started.body).toBe(202);
  return waitForJob(t, started.json().id);
}

/** The school's data (not the audit trail, which records every attempt) as JSON text. */
export async function dataSnapshot(db: Executor): Promise<Record<string, string[]>> {
  const snapshot: Record<string, string[]> = {};
  for (const [table, key] of [
    ['roles', 'name'],
    ['settings', 'key'],
    ['users', 'id'],
    ['students', 'id'],
    ['courses', 'id'],
    ['course_enrollments', 'id'],
    ['grades', 'id'],
  ] as const) {
    const rows = await queryRows<{ line: string }>(
      db,
      sql`SELECT to_jsonb(t)::text AS line FROM ${sql.identifier(table)} t ORDER BY t.${sql.identifier(key)}`,
    );
    snapshot[table] = rows.map((row) => row.line);
  }
  return snapshot;
}

export async function readManifest(dir: string, name: string): Promise<BackupManifest> {
  return manifestSchema.parse(JSON.parse(await readFile(manifestFilePath(dir, name), 'utf8')));
}

/**
 * Writes a copy of an unencrypted backup under `target` with its lines changed, and a
 * manifest whose checksums match: a file that passes the checksum but not what follows.
 */
export async function rewriteBackup(
  dir: string,
  source: string,
  target: string,
  change: (lines: string[]) => string[],
  manifestChange: (manifest: BackupManifest) => Partial<BackupManifest> = () => ({}),
): Promise<void> {
  const lines: string[] = [];
  await readBackupFile(backupFilePath(dir, source), undefined, (line) => {
    lines.push(line);
  });
  const changed = change(lines);
  async function* chunks() {
    yield `${changed.join('\n')}\n`;
  }
  const written = await writeBackupFile(backupFilePath(dir, target), chunks(), undefined);
  const manifest = await readManifest(dir, source);
  const next = { ...manifest, name: target, file: `${target}.backup`, ...written };
  await writeFile(
    manifestFilePath(dir, target),
    JSON.stringify({ ...next, ...manifestChange(next) }),
  );
}
