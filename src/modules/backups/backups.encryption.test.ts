import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { backupFilePath } from './backup.format.ts';
import { dataSnapshot, makeBackup, readManifest, restoreBackup } from './backup.test-support.ts';

const KEY = Buffer.alloc(32, 11).toString('base64');
const OTHER_KEY = 'cd'.repeat(32);

/** Two installs sharing one DATA_DIR: the second has a different key. */
let owner: TestApp;
let stranger: TestApp;

beforeAll(async () => {
  owner = await createTestApp({
    env: { BACKUP_ENCRYPTION_KEY: KEY, RATE_LIMIT_JOBS_PER_MINUTE: '1000' },
  });
  stranger = await createTestApp({
    env: {
      DATA_DIR: owner.config.dataDir,
      BACKUP_ENCRYPTION_KEY: OTHER_KEY,
      RATE_LIMIT_JOBS_PER_MINUTE: '1000',
    },
  });
});
afterAll(async () => {
  await stranger?.close();
  await owner?.close();
});

describe('encrypted backups', () => {
  it('are encrypted at rest, restore with their key, and are refused with another (422)', async () => {
    const created = await owner.request({
      method: 'POST',
      url: '/api/v1/students',
      payload: { student_id: 'ENC-1', first_name: 'Secret', last_name: 'Student' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const name = await makeBackup(owner);
    const dir = owner.services.backups.dir;
    const manifest = await readManifest(dir, name);
    expect(manifest.encrypted).toBe(true);
    const bytes = await readFile(backupFilePath(dir, name));
    expect(bytes.subarray(0, 8).toString()).toBe('RGBKENC1');
    expect(bytes.includes(Buffer.from('ENC-1'))).toBe(false);

    // The same install restores it.
    await owner.request({ method: 'DELETE', url: `/api/v1/students/${created.json().id}` });
    const job = await restoreBackup(owner, name);
    expect(job.status, JSON.stringify(job)).toBe('COMPLETED');
    const back = await owner.request({ method: 'GET', url: '/api/v1/students?search=ENC-1' });
    expect(back.json().total).toBe(1);

    // Another key: refused before anything is written.
    const before = await dataSnapshot(stranger.database.db);
    const refused = await stranger.request({
      method: 'POST',
      url: `/api/v1/backups/${name}/restore`,
    });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json().type).toContain('backup-wrong-key');
    expect(refused.json().detail).toContain('wrong key');
    expect(await dataSnapshot(stranger.database.db)).toEqual(before);
  });
});
