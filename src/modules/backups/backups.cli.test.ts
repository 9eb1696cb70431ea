import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { backupCommand, restoreCommand } from '../../cli/backup.command.ts';
import type { CliIo } from '../../cli/io.ts';
import { dataSnapshot } from './backup.test-support.ts';

/** A stream that keeps what is written, like a pipe (not a terminal). */
class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void) {
    this.text += String(chunk);
    done();
  }
}

let t: TestApp;
let url: string;

beforeAll(async () => {
  t = await createTestApp({ env: { RATE_LIMIT_JOBS_PER_MINUTE: '1000' } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  await t?.close();
});

function run(token: string) {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: CliIo = {
    env: { REGISTRAR_URL: url, REGISTRAR_TOKEN: token },
    stdout,
    stderr,
    cwd: process.cwd(),
  };
  return { io, stdout, stderr };
}

describe('registrar backup and restore', () => {
  it('backs up, lists, and restores with a progress bar until the job ends', async () => {
    const made = run(t.tokens.admin);
    expect(await backupCommand({}, made.io), made.stderr.text).toBe(0);
    expect(made.stderr.text).toContain('Backing up');
    const name = /Backup (registrar-[\w-]+) written/.exec(made.stdout.text)?.[1];
    expect(name, made.stdout.text).toBeDefined();

    const listed = run(t.tokens.admin);
    expect(await backupCommand({ list: true }, listed.io)).toBe(0);
    expect(listed.stdout.text).toContain(name as string);

    const created = await t.request({
      method: 'POST',
      url: '/api/v1/students',
      payload: { student_id: 'CLI-1', first_name: 'Cli', last_name: 'Student' },
    });
    expect(created.statusCode).toBe(201);

    // Without a terminal to ask, --yes is required.
    const unasked = run(t.tokens.admin);
    expect(await restoreCommand(name as string, {}, unasked.io)).toBe(2);
    expect(unasked.stderr.text).toContain('--yes');

    const restored = run(t.tokens.admin);
    expect(
      await restoreCommand(name as string, { yes: true }, restored.io),
      restored.stderr.text,
    ).toBe(0);
    expect(restored.stderr.text).toContain('Restoring');
    expect(restored.stdout.text).toContain('safety backup');
    const search = await t.request({ method: 'GET', url: '/api/v1/students?search=CLI-1' });
    expect(search.json().total).toBe(0);
  });

  it('explains a refused restore and exits 1, changing nothing', async () => {
    const before = await dataSnapshot(t.database.db);
    const missing = run(t.tokens.admin);
    expect(await restoreCommand('no-such-backup', { yes: true }, missing.io)).toBe(1);
    expect(missing.stderr.text).toContain('no-such-backup');
    const denied = run(t.tokens.teacher);
    expect(await backupCommand({}, denied.io)).toBe(1);
    expect(denied.stderr.text).toMatch(/forbidden|permission/i);
    const bad = run(t.tokens.admin);
    expect(await restoreCommand('../etc', { yes: true }, bad.io)).toBe(2);
    expect(await dataSnapshot(t.database.db)).toEqual(before);
  });
});
