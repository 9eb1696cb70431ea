import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, count, eq, isNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FIXTURES_DIR } from '../../test/support/fixtures.ts';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../../test/support/test-app.ts';
import { auditLogs } from '../modules/audit/audit.table.ts';
import type { JobResponse } from '../modules/jobs/jobs.manager.ts';
import type { JobHandler } from '../modules/jobs/jobs.registry.ts';
import { students } from '../modules/students/students.table.ts';
import { RegistrarClient } from './client.ts';
import { exportCommand } from './export.command.ts';
import { importCommand } from './import.command.ts';
import type { CliIo } from './io.ts';
import { watchJob } from './job-watch.ts';
import { jobsCancelCommand, jobsListCommand, jobsWatchCommand } from './jobs.command.ts';

/** A stream that keeps what is written, like a pipe (not a terminal). */
class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void) {
    this.text += String(chunk);
    done();
  }
}

const SYNC_LIMIT = 20;
const TEST_JOB_TYPE = 'recompute';
let t: TestApp;
let url: string;
let workDir: string;

beforeAll(async () => {
  t = await createTestApp({
    env: {
      EXPORT_SYNC_LIMIT: String(SYNC_LIMIT),
      RATE_LIMIT_EXPORTS_PER_MINUTE: '1000',
      RATE_LIMIT_JOBS_PER_MINUTE: '1000',
      RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
    },
  });
  // A job the tests control: `items` steps of `delay_ms`, stopping early when cancelled. It
  // stands in for recompute in this app only, whether or not that type has a real handler.
  const registry = t.services.jobRegistry;
  const realHandler = registry.get.bind(registry);
  const controlled: JobHandler<{ items: number; delay_ms: number }> = {
    payload: z.object({ items: z.number().int(), delay_ms: z.number().int() }),
    permission: 'jobs:create',
    async run({ payload, progress, signal }) {
      for (let item = 1; item <= payload.items && !signal.aborted; item++) {
        await sleep(payload.delay_ms);
        await progress({ current: item, total: payload.items, message: `item ${item}` });
      }
      return { success: !signal.aborted, message: 'all items done' };
    },
  };
  registry.get = (type) =>
    type === TEST_JOB_TYPE ? (controlled as JobHandler<unknown>) : realHandler(type);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  workDir = mkdtempSync(path.join(os.tmpdir(), 'registrar-cli-'));
});
afterAll(async () => {
  await t?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** In-process streams and environment for one command run. */
function run(env: Record<string, string> = {}, extra: Partial<CliIo> = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: CliIo = {
    env: { REGISTRAR_URL: url, ...env },
    stdout,
    stderr,
    cwd: workDir,
    ...extra,
  };
  return { io, stdout, stderr };
}

const asAdmin = () => ({ REGISTRAR_TOKEN: t.tokens.admin });
const fixturePath = (name: string) => path.join(FIXTURES_DIR, name);

async function startJob(items: number, delayMs: number): Promise<JobResponse> {
  const response = await t.request({
    method: 'POST',
    url: '/api/v1/jobs',
    payload: { job_type: TEST_JOB_TYPE, metadata: { items, delay_ms: delayMs } },
  });
  expect(response.statusCode, response.body).toBe(202);
  return response.json();
}

async function liveStudents() {
  const [row] = await t.database.db
    .select({ n: count() })
    .from(students)
    .where(isNull(students.deleted_at));
  return row?.n;
}

describe('registrar import', () => {
  it('refuses to commit without --yes when there is no terminal to ask', async () => {
    const { io, stdout, stderr } = run(asAdmin());
    const code = await importCommand(fixturePath('courses.csv'), { type: 'courses' }, io);
    expect(code, stderr.text).toBe(2);
    expect(stdout.text).toContain('Would create 10');
    expect(stderr.text).toContain('--yes');
    const jobs = await t.request({ method: 'GET', url: '/api/v1/jobs?job_type=bulk_import' });
    expect(jobs.json().total).toBe(0);
  });

  it('asks on a terminal, and a "n" commits nothing', async () => {
    const questions: string[] = [];
    const { io, stderr } = run(asAdmin(), {
      prompt: {
        ask: async (question) => {
          questions.push(question);
          return 'n';
        },
      },
    });
    const code = await importCommand(fixturePath('courses.csv'), { type: 'courses' }, io);
    expect(code).toBe(1);
    expect(questions).toEqual(['Commit? [y/N] ']);
    expect(stderr.text).toContain('Not committed');
  });

  it('imports with a "y" answer, signed in with e-mail and password from a prompt', async () => {
    const answers: Record<string, string> = {
      'E-mail: ': 'admin@school.test',
      'Password: ': TEST_PASSWORD,
      'Commit? [y/N] ': 'y',
    };
    const secrets: string[] = [];
    const { io, stdout, stderr } = run(
      {},
      {
        prompt: {
          ask: async (question, options) => {
            if (options?.secret) secrets.push(question);
            return answers[question] ?? '';
          },
        },
      },
    );
    const code = await importCommand(fixturePath('courses.csv'), { type: 'courses' }, io);
    expect(code, stderr.text).toBe(0);
    expect(secrets).toEqual(['Password: ']);
    expect(stdout.text).toContain('COMPLETED: created 10, updated 0, skipped 0, errors 0.');
    expect(stdout.text + stderr.text).not.toContain(TEST_PASSWORD);
  });

  it('imports students.csv with --yes: preview, progress, result, audited as the user', async () => {
    const { io, stdout, stderr } = run({
      REGISTRAR_EMAIL: 'admin@school.test',
      REGISTRAR_PASSWORD: TEST_PASSWORD,
    });
    const code = await importCommand(
      fixturePath('students.csv'),
      { type: 'students', yes: true },
      io,
    );
    expect(code, stderr.text).toBe(0);
    expect(stdout.text).toContain('File: students.csv (csv, utf-8, delimiter comma)');
    expect(stdout.text).toContain('Rows: 120  valid: 115  warnings: 0  errors: 5');
    expect(stdout.text).toContain('Would create 115, update 0, skip 5.');
    expect(stdout.text).toMatch(/row 11: email: /);
    expect(stdout.text).toContain('COMPLETED: created 115, updated 0, skipped 0, errors 5.');
    expect(stdout.text).toContain('/errors.csv');
    expect(stderr.text).toMatch(/Importing: .*COMPLETED 100%/);
    expect(stdout.text + stderr.text).not.toContain(TEST_PASSWORD);
    expect(await liveStudents()).toBe(115);

    const jobId = /Import job (\S+) started/.exec(stderr.text)?.[1];
    expect(jobId).toBeDefined();
    // Entries reach audit_logs when the sealer chains them: wait for it.
    await t.services.audit.flush();
    const entries = await t.database.db
      .select({ action: auditLogs.action, email: auditLogs.user_email })
      .from(auditLogs)
      .where(
        and(
          eq(auditLogs.action, 'BULK_CREATE'),
          sql`${auditLogs.details}->>'job_id' = ${jobId ?? ''}`,
        ),
      );
    expect(entries).toEqual([{ action: 'BULK_CREATE', email: 'admin@school.test' }]);
    // The CLI signs out again: its session does not outlive the command.
    const logouts = await t.database.db
      .select({ email: auditLogs.user_email })
      .from(auditLogs)
      .where(eq(auditLogs.action, 'LOGOUT'));
    expect(logouts.map((entry) => entry.email)).toContain('admin@school.test');
  });

  it('shows the problem of a file it cannot import, and exits 1', async () => {
    const file = path.join(workDir, 'nonsense.csv');
    writeFileSync(file, 'colour,size\nred,big\n');
    const { io, stderr } = run(asAdmin());
    const code = await importCommand(file, { type: 'students', yes: true }, io);
    expect(code).toBe(1);
    expect(stderr.text).toMatch(/^[A-Z][\w ]+: \S/);
  });

  it('names a missing file and a bad option as usage errors (exit 2)', async () => {
    const missing = run(asAdmin());
    expect(await importCommand('/no/such/file.csv', { type: 'students' }, missing.io)).toBe(2);
    expect(missing.stderr.text).toContain('No such file: /no/such/file.csv');
    const badType = run(asAdmin());
    expect(
      await importCommand(fixturePath('courses.csv'), { type: 'performances' }, badType.io),
    ).toBe(2);
    expect(badType.stderr.text).toContain('--type must be one of students, courses');
  });
});

describe('registrar export', () => {
  it('streams a list to a file, byte for byte what the API sends', async () => {
    const { io, stderr } = run(asAdmin());
    const code = await exportCommand('courses', { format: 'csv', output: 'courses.csv' }, io);
    expect(code, stderr.text).toBe(0);
    const api = await t.request({ method: 'GET', url: '/api/v1/exports/courses?format=csv' });
    expect(readFileSync(path.join(workDir, 'courses.csv'))).toEqual(api.rawPayload);
    expect(stderr.text).not.toContain('background');
  });

  it('writes to stdout with -o -, with filters', async () => {
    const { io, stdout, stderr } = run(asAdmin());
    const code = await exportCommand(
      'students',
      { format: 'json', output: '-', filter: ['search=S2025003'] },
      io,
    );
    expect(code, stderr.text).toBe(0);
    const rows = JSON.parse(stdout.text) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows[0])).toContain('S2025003');
  });

  it('goes through an export_large job above EXPORT_SYNC_LIMIT, and leaves no partial file', async () => {
    const { io, stderr } = run(asAdmin());
    const code = await exportCommand('students', { format: 'json', output: 'all.json' }, io);
    expect(code, stderr.text).toBe(0);
    expect(stderr.text).toContain('exporting in the background');
    expect(stderr.text).toMatch(/Exporting: .*COMPLETED/);
    const rows = JSON.parse(readFileSync(path.join(workDir, 'all.json'), 'utf8')) as unknown[];
    expect(rows).toHaveLength(115);
    expect(readdirSync(workDir).filter((name) => name.endsWith('.part'))).toEqual([]);
  });

  it('refuses an unknown resource or a bad filter before connecting', async () => {
    const { io, stderr } = run({ REGISTRAR_URL: 'http://127.0.0.1:9' });
    expect(await exportCommand('pupils', {}, io)).toBe(2);
    expect(stderr.text).toContain('RESOURCE must be one of students');
    const bad = run(asAdmin());
    expect(await exportCommand('students', { filter: ['study_year'] }, bad.io)).toBe(2);
  });

  it('shows field errors of a rejected filter', async () => {
    const { io, stderr } = run(asAdmin());
    const code = await exportCommand(
      'students',
      { output: 'x.csv', filter: ['study_year=many'] },
      io,
    );
    expect(code).toBe(1);
    expect(stderr.text).toMatch(/^Bad Request: /);
    expect(stderr.text).toMatch(/ {2}- query\.study_year: /);
    expect(readdirSync(workDir)).not.toContain('x.csv');
  });
});

describe('registrar jobs', () => {
  it('lists jobs as a table and as JSON', async () => {
    const table = run(asAdmin());
    expect(await jobsListCommand({ type: 'bulk_import' }, table.io), table.stderr.text).toBe(0);
    expect(table.stdout.text).toMatch(/^ID\s+TYPE\s+STATUS\s+DONE\s+CREATED \(UTC\)\s+MESSAGE/);
    expect(table.stdout.text).toMatch(/bulk_import\s+COMPLETED\s+100%/);

    const json = run(asAdmin());
    expect(await jobsListCommand({ json: true, mine: true, status: 'COMPLETED' }, json.io)).toBe(0);
    const jobs = JSON.parse(json.stdout.text) as JobResponse[];
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs.every((job) => job.user_id === t.users.admin && job.status === 'COMPLETED')).toBe(
      true,
    );
  });

  it('watches a job until it ends, a line per 10% on a non-terminal', async () => {
    const job = await startJob(10, 30);
    const { io, stdout, stderr } = run(asAdmin());
    expect(await jobsWatchCommand(job.id, {}, io), stderr.text).toBe(0);
    expect(stdout.text).toContain(`Job ${job.id} COMPLETED: all items done`);
    const lines = stderr.text.trim().split('\n');
    expect(lines.at(-1)).toMatch(/COMPLETED 100% 10\/10/);
    expect(lines.length).toBeLessThanOrEqual(13);
  });

  it('also follows a job by polling alone', async () => {
    const job = await startJob(5, 30);
    const { io } = run(asAdmin());
    const client = await RegistrarClient.connect({}, io);
    const final = await watchJob(client, job.id, io, { webSocket: false });
    expect(final.status).toBe('COMPLETED');
  });

  it('cancels on the first Ctrl-C and keeps watching until the job ends', async () => {
    const job = await startJob(100_000, 20);
    let interrupt: (() => void) | undefined;
    const { io, stderr } = run(asAdmin(), {
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => {
          interrupt = undefined;
        };
      },
    });
    const client = await RegistrarClient.connect({}, io);
    const watching = watchJob(client, job.id, io, { cancelOnInterrupt: true });
    while (!interrupt) await sleep(20);
    interrupt();
    const final = await watching;
    expect(final.status).toBe('CANCELLED');
    expect(stderr.text).toContain(`Cancelling job ${job.id}`);
    expect(interrupt).toBeUndefined();
  });

  it('jobs watch: Ctrl-C stops watching (exit 130) and leaves the job running', async () => {
    const job = await startJob(100_000, 20);
    let interrupt: (() => void) | undefined;
    const { io, stderr } = run(asAdmin(), {
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => undefined;
      },
    });
    const watching = jobsWatchCommand(job.id, {}, io);
    while (!interrupt) await sleep(20);
    interrupt();
    expect(await watching).toBe(130);
    expect(stderr.text).toContain(`registrar jobs watch ${job.id}`);
    const still = await t.request({ method: 'GET', url: `/api/v1/jobs/${job.id}` });
    expect(['PENDING', 'PROCESSING']).toContain(still.json().status);
    await t.request({ method: 'POST', url: `/api/v1/jobs/${job.id}/cancel` });
  });

  it('cancels with jobs cancel, and a second cancel shows the conflict', async () => {
    const job = await startJob(100_000, 20);
    const first = run(asAdmin());
    expect(await jobsCancelCommand(job.id, {}, first.io), first.stderr.text).toBe(0);
    const watch = run(asAdmin());
    expect(await jobsWatchCommand(job.id, {}, watch.io)).toBe(1);
    expect(watch.stdout.text).toContain('CANCELLED');
    const again = run(asAdmin());
    expect(await jobsCancelCommand(job.id, {}, again.io)).toBe(1);
    expect(again.stderr.text).toMatch(/^Conflict: Job .* has already ended \(CANCELLED\)/);
  });
});

describe('connection and sign-in problems', () => {
  it('a bad token: the server says why, exit 1, the token never printed', async () => {
    const { io, stdout, stderr } = run({ REGISTRAR_TOKEN: 'not-a-real-token' });
    expect(await jobsListCommand({}, io)).toBe(1);
    expect(stderr.text).toMatch(/^Unauthorized: /);
    expect(stderr.text).toContain('REGISTRAR_TOKEN');
    expect(stdout.text + stderr.text).not.toContain('not-a-real-token');
  });

  it('a wrong password: exit 1, the password never printed', async () => {
    const { io, stdout, stderr } = run({
      REGISTRAR_EMAIL: 'viewer@school.test',
      REGISTRAR_PASSWORD: 'wrong-password-123',
    });
    expect(await jobsListCommand({}, io)).toBe(1);
    expect(stderr.text).toMatch(/^Unauthorized: /);
    expect(stdout.text + stderr.text).not.toContain('wrong-password-123');
  });

  it('no credentials and no terminal: a usage error naming the variables', async () => {
    const { io, stderr } = run({});
    expect(await jobsListCommand({}, io)).toBe(2);
    expect(stderr.text).toContain('REGISTRAR_EMAIL and REGISTRAR_PASSWORD');
  });

  it('an unreachable server: a message naming REGISTRAR_URL', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise((resolve) => server.close(resolve));

    const { io, stderr } = run({ REGISTRAR_URL: `http://127.0.0.1:${port}`, ...asAdmin() });
    expect(await jobsListCommand({}, io)).toBe(1);
    expect(stderr.text).toContain(`Cannot connect to Registrar at http://127.0.0.1:${port}`);
    expect(stderr.text).toContain('REGISTRAR_URL');
  });

  it('a REGISTRAR_URL that is not a URL is a usage error', async () => {
    const { io, stderr } = run({ REGISTRAR_URL: 'localhost:8000', ...asAdmin() });
    expect(await jobsListCommand({}, io)).toBe(2);
    expect(stderr.text).toContain('REGISTRAR_URL');
  });
});
