import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../../test/support/fixtures.ts';
import { createTestApp, type TestApp } from '../../test/support/test-app.ts';
import { courses } from '../modules/courses/courses.table.ts';
import { grades } from '../modules/grades/grades.table.ts';
import type { CliIo } from './io.ts';
import { sessionsExportCommand, sessionsImportCommand } from './sessions.command.ts';

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
let workDir: string;
const bundleFile = path.join(FIXTURES_DIR, 'sessions', 'original-spring-2025.json');

beforeAll(async () => {
  t = await createTestApp({ env: { RATE_LIMIT_JOBS_PER_MINUTE: '1000' } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  workDir = mkdtempSync(path.join(os.tmpdir(), 'registrar-sessions-cli-'));
});
afterAll(async () => {
  await t?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function run() {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: CliIo = {
    env: { REGISTRAR_URL: url, REGISTRAR_TOKEN: t.tokens.admin },
    stdout,
    stderr,
    cwd: workDir,
  };
  return { io, stdout, stderr };
}

async function gradeCount() {
  const [row] = await t.database.db.select({ n: count() }).from(grades);
  return row?.n ?? 0;
}

describe('registrar sessions', () => {
  it('import --dry-run shows the counts and writes nothing', async () => {
    const { io, stdout, stderr } = run();
    const code = await sessionsImportCommand(bundleFile, { dryRun: true }, io);
    expect(code, stderr.text).toBe(0);
    expect(stdout.text).toContain('Semester: Εαρινό 2025');
    expect(stdout.text).toMatch(/grades\s+create 4, update 0, skip 0/);
    expect(await gradeCount()).toBe(0);
  });

  it('import without --yes and no terminal refuses (exit 2)', async () => {
    const { io, stderr } = run();
    expect(await sessionsImportCommand(bundleFile, {}, io)).toBe(2);
    expect(stderr.text).toContain('--yes');
    expect(await gradeCount()).toBe(0);
  });

  it('import --yes runs the job with a progress bar, then export writes the bundle', async () => {
    const imported = run();
    const code = await sessionsImportCommand(bundleFile, { yes: true }, imported.io);
    expect(code, imported.stderr.text).toBe(0);
    expect(imported.stderr.text).toMatch(/Session import job \S+ started/);
    expect(imported.stderr.text).toMatch(/Importing: .*COMPLETED 100%/);
    expect(imported.stdout.text).toContain('COMPLETED: created 23, updated 0, skipped 0.');
    expect(await gradeCount()).toBe(4);

    const exported = run();
    const exportCode = await sessionsExportCommand(
      { semester: 'Εαρινό 2025', output: 'spring.json' },
      exported.io,
    );
    expect(exportCode, exported.stderr.text).toBe(0);
    const bundle = JSON.parse(readFileSync(path.join(workDir, 'spring.json'), 'utf8'));
    expect(bundle.metadata).toMatchObject({ semester: 'Εαρινό 2025', version: '1.0' });
    expect(bundle.metadata.counts).toMatchObject({ courses: 2, students: 3, grades: 4 });
  });

  it('shows the problems of a bad bundle and exits 1; a bad file is a usage error', async () => {
    const broken = JSON.parse(readFileSync(bundleFile, 'utf8'));
    broken.grades[0].course_code_ref = 'NO-SUCH';
    const file = path.join(workDir, 'broken.json');
    writeFileSync(file, JSON.stringify(broken));
    const { io, stdout } = run();
    expect(await sessionsImportCommand(file, { yes: true }, io)).toBe(1);
    expect(stdout.text).toContain('grades[0].course_code_ref: no course "NO-SUCH"');

    writeFileSync(path.join(workDir, 'not.json'), '{ nope');
    const usage = run();
    expect(await sessionsImportCommand(path.join(workDir, 'not.json'), {}, usage.io)).toBe(2);
    expect(usage.stderr.text).toContain('is not JSON');
    const [row] = await t.database.db
      .select({ n: count() })
      .from(courses)
      .where(eq(courses.course_code, 'NO-SUCH'));
    expect(row?.n).toBe(0);
  });
});
