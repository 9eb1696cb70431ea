import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { auditLogs } from '../audit/audit.table.ts';
import { JOB_TYPES } from './jobs.constants.ts';
import type { JobResponse } from './jobs.manager.ts';
import { jobs } from './jobs.table.ts';

let t: TestApp;
/** Order in which the test handler started jobs, by their metadata label. */
const started: string[] = [];
/** How many items each job (by label) really processed: proves effects happen once. */
const processed = new Map<string, number>();

const testPayload = z.strictObject({
  label: z.string(),
  items: z.number().int().min(0).default(5),
  batch: z.number().int().min(1).default(1),
  delay_ms: z.number().int().min(0).default(0),
  fail_times: z.number().int().min(0).default(0),
});

beforeAll(async () => {
  t = await createTestApp({ env: { MAX_JOBS_PER_USER: '40' } });
  // A stand-in for a bulk job: processes items in batches, reports progress, honours cancel.
  const failures = new Map<string, number>();
  t.services.jobRegistry.replace('data_migration', {
    payload: testPayload,
    permission: 'jobs:create',
    async run({ payload, progress, signal }) {
      started.push(payload.label);
      const failed = failures.get(payload.label) ?? 0;
      if (failed < payload.fail_times) {
        failures.set(payload.label, failed + 1);
        throw new Error(`planned failure ${failed + 1}`);
      }
      let done = 0;
      while (done < payload.items) {
        if (signal.aborted) {
          return { success: false, message: 'stopped', statistics: { processed: done } };
        }
        await sleep(payload.delay_ms);
        done = Math.min(payload.items, done + payload.batch);
        processed.set(payload.label, (processed.get(payload.label) ?? 0) + payload.batch);
        await progress({
          current: done,
          total: payload.items,
          processed_items: done,
          message: `batch ending ${done}`,
        });
      }
      return { success: true, message: 'done', statistics: { processed: done } };
    },
  });
});
afterAll(async () => {
  await t.close();
});

async function createJob(
  metadata: Record<string, unknown>,
  options: { as?: 'admin' | 'teacher' | 'viewer'; priority?: number; job_type?: string } = {},
) {
  return t.request({
    method: 'POST',
    url: '/api/v1/jobs',
    as: options.as ?? 'teacher',
    payload: {
      job_type: options.job_type ?? 'data_migration',
      priority: options.priority ?? 5,
      metadata,
    },
  });
}

async function waitFor(
  id: string,
  done: (job: JobResponse) => boolean,
  timeoutMs = 10_000,
): Promise<JobResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await t.services.jobs.getJob(id);
    if (done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status}`);
    await sleep(25);
  }
}
const ended = (job: JobResponse) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status);

describe('jobs through the API on the local engine', () => {
  it('runs a job to completion with progress and a result, audited', async () => {
    const response = await createJob({ label: 'simple', items: 4, batch: 2 });
    expect(response.statusCode).toBe(202);
    const created = response.json();
    expect(created).toMatchObject({
      job_type: 'data_migration',
      priority: 5,
      user_id: t.users.teacher,
    });
    const job = await waitFor(created.id, ended);
    expect(job).toMatchObject({
      status: 'COMPLETED',
      attempts: 1,
      progress: { current: 4, total: 4, percentage: 100 },
    });
    expect(job.result).toMatchObject({ success: true, statistics: { processed: 4 } });
    expect(job.expires_at).not.toBeNull();
    await t.services.audit.flush();
    const [entry] = await t.database.db
      .select()
      .from(auditLogs)
      .where(eq(auditLogs.resource_id, created.id));
    expect(entry).toMatchObject({ action: 'CREATE', resource: 'SYSTEM', user_id: t.users.teacher });
  });

  it('starts jobs in priority order, then oldest first', async () => {
    await t.services.settings.update({ job_concurrency: 1 });
    // Keep the single slot busy while the others queue up behind it.
    const blocker = (await createJob({ label: 'blocker', items: 1, delay_ms: 300 })).json();
    const low = (await createJob({ label: 'low' }, { priority: 1 })).json();
    const highOld = (await createJob({ label: 'high-old' }, { priority: 9 })).json();
    const highNew = (await createJob({ label: 'high-new' }, { priority: 9 })).json();
    const middle = (await createJob({ label: 'middle' }, { priority: 5 })).json();
    for (const job of [blocker, low, highOld, highNew, middle]) await waitFor(job.id, ended);
    const order = started.filter((label) =>
      ['blocker', 'low', 'high-old', 'high-new', 'middle'].includes(label),
    );
    expect(order).toEqual(['blocker', 'high-old', 'high-new', 'middle', 'low']);
    await t.services.settings.update({ job_concurrency: 2 });
  });

  it('cancels a pending job at once and a running one at its next batch', async () => {
    await t.services.settings.update({ job_concurrency: 1 });
    const running = (await createJob({ label: 'long', items: 200, delay_ms: 20 })).json();
    const pending = (await createJob({ label: 'queued' })).json();
    await waitFor(running.id, (job) => job.status === 'PROCESSING' && job.progress.current > 0);

    const cancelPending = await t.request({
      method: 'POST',
      url: `/api/v1/jobs/${pending.id}/cancel`,
      as: 'teacher',
    });
    expect(cancelPending.json().status).toBe('CANCELLED');

    const cancelRunning = await t.request({
      method: 'POST',
      url: `/api/v1/jobs/${running.id}/cancel`,
      as: 'teacher',
    });
    expect(cancelRunning.statusCode).toBe(200);
    const stopped = await waitFor(running.id, ended);
    expect(stopped.status).toBe('CANCELLED');
    expect(stopped.progress.current).toBeLessThan(200);
    expect(stopped.result?.statistics?.processed).toBe(stopped.progress.current);
    expect(started).not.toContain('queued');

    const again = await t.request({
      method: 'POST',
      url: `/api/v1/jobs/${running.id}/cancel`,
      as: 'teacher',
    });
    expect(again.statusCode).toBe(409);
    await t.services.settings.update({ job_concurrency: 2 });
  });

  it('retries a throwing handler with growing delays, then fails; the retry endpoint runs it again', async () => {
    const created = (await createJob({ label: 'flaky', items: 2, fail_times: 3 })).json();
    const failed = await waitFor(created.id, ended, 20_000);
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 3 });
    expect(failed.error_message).toContain('planned failure 3');

    const retried = await t.request({
      method: 'POST',
      url: `/api/v1/jobs/${created.id}/retry`,
      as: 'teacher',
    });
    expect(retried.statusCode).toBe(200);
    const completed = await waitFor(created.id, ended);
    expect(completed).toMatchObject({ status: 'COMPLETED', attempts: 4 });
    expect(processed.get('flaky')).toBe(2);

    const notAgain = await t.request({
      method: 'POST',
      url: `/api/v1/jobs/${created.id}/retry`,
      as: 'teacher',
    });
    expect(notAgain.statusCode).toBe(409);
  }, 30_000);

  it('resumes jobs left PROCESSING by a crash, and jobs a shutdown interrupted', async () => {
    const created = (await createJob({ label: 'orphan', items: 3 })).json();
    await waitFor(created.id, ended);
    // Make it look like a process died while running it.
    await t.database.db
      .update(jobs)
      .set({ status: 'PROCESSING', worker_id: 'dead-worker', completed_at: null, max_attempts: 5 })
      .where(eq(jobs.id, created.id));
    await t.services.jobEngine.stop(0);
    await t.services.jobEngine.start();
    const resumed = await waitFor(
      created.id,
      (job) => job.status === 'COMPLETED' && job.attempts === 2,
    );
    expect(resumed.attempts).toBe(2);

    const long = (await createJob({ label: 'interrupted', items: 100, delay_ms: 20 })).json();
    await waitFor(long.id, (job) => job.progress.current > 0);
    await t.services.jobEngine.stop(0);
    expect((await t.services.jobs.getJob(long.id)).status).toBe('PENDING');
    await t.services.jobEngine.start();
    expect((await waitFor(long.id, ended)).status).toBe('COMPLETED');
  }, 30_000);

  it('streams progress over Server-Sent Events, current state first', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const created = (await createJob({ label: 'watched', items: 5, delay_ms: 30 })).json();
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${created.id}/events`, {
      headers: { authorization: `Bearer ${t.tokens.teacher}` },
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text();
    const events = text
      .split('\n\n')
      .filter((block) => block.startsWith('event:'))
      .map((block) => JSON.parse(block.split('\ndata: ')[1] ?? '{}') as JobResponse);
    expect(events.length).toBeGreaterThan(2);
    expect(events.at(-1)?.status).toBe('COMPLETED');
    const currents = events.map((event) => event.progress.current);
    expect(currents).toEqual([...currents].sort((a, b) => a - b));
  });
});

describe('job permissions, visibility and limits', () => {
  it('refuses unknown types, bad metadata and types the caller may not start', async () => {
    const unknown = await createJob({}, { job_type: 'teleport' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].field).toBe('body.job_type');
    const recomputeWithoutScope = await createJob({}, { job_type: 'recompute' });
    expect(recomputeWithoutScope.statusCode).toBe(422);
    expect(recomputeWithoutScope.json().errors[0].field).toMatch(/^body\.metadata/);
    const badMetadata = await createJob({ label: 5 });
    expect(badMetadata.statusCode).toBe(422);
    expect(badMetadata.json().errors[0].field).toBe('body.metadata.label');
    const cleanupByTeacher = await createJob({}, { job_type: 'cleanup' });
    expect(cleanupByTeacher.statusCode).toBe(403);
    const viewer = await createJob({ label: 'viewer' }, { as: 'viewer' });
    expect(viewer.statusCode).toBe(403);
  });

  it('shows people their own jobs and admins everyone’s', async () => {
    const mine = (await createJob({ label: 'mine' })).json();
    const adminJob = (await createJob({ label: 'admins' }, { as: 'admin' })).json();
    const teacherList = await t.request({
      method: 'GET',
      url: '/api/v1/jobs?page_size=500',
      as: 'teacher',
    });
    const ids = teacherList.json().jobs.map((job: JobResponse) => job.id);
    expect(ids).toContain(mine.id);
    expect(ids).not.toContain(adminJob.id);
    expect(
      (await t.request({ method: 'GET', url: `/api/v1/jobs/${adminJob.id}`, as: 'teacher' }))
        .statusCode,
    ).toBe(404);
    const adminList = await t.request({
      method: 'GET',
      url: `/api/v1/jobs?user_id=${t.users.teacher}&page_size=500`,
    });
    expect(adminList.json().jobs.every((job: JobResponse) => job.user_id === t.users.teacher)).toBe(
      true,
    );
    const filtered = await t.request({
      method: 'GET',
      url: '/api/v1/jobs?status=CANCELLED',
      as: 'teacher',
    });
    expect(filtered.json().jobs.every((job: JobResponse) => job.status === 'CANCELLED')).toBe(true);
  });

  it('lets admins delete jobs that are not running', async () => {
    const job = (await createJob({ label: 'to-delete' })).json();
    await waitFor(job.id, ended);
    expect(
      (await t.request({ method: 'DELETE', url: `/api/v1/jobs/${job.id}`, as: 'teacher' }))
        .statusCode,
    ).toBe(403);
    expect((await t.request({ method: 'DELETE', url: `/api/v1/jobs/${job.id}` })).statusCode).toBe(
      204,
    );
    expect((await t.request({ method: 'GET', url: `/api/v1/jobs/${job.id}` })).statusCode).toBe(
      404,
    );
  });

  it('runs the cleanup job for admins', async () => {
    const job = (await createJob({}, { job_type: 'cleanup', as: 'admin' })).json();
    const done = await waitFor(job.id, ended);
    expect(done.status).toBe('COMPLETED');
    expect(done.result?.statistics).toHaveProperty('refresh_tokens');
  });

  it('answers 429 naming the limit past MAX_JOBS_PER_USER', async () => {
    const limited = await createTestApp({ env: { MAX_JOBS_PER_USER: '1' } });
    try {
      limited.services.jobRegistry.replace('data_migration', {
        payload: z.object({}),
        permission: 'jobs:create',
        run: async ({ signal }) => {
          while (!signal.aborted) await sleep(10);
          return { success: false };
        },
      });
      const first = await limited.request({
        method: 'POST',
        url: '/api/v1/jobs',
        as: 'teacher',
        payload: { job_type: 'data_migration' },
      });
      expect(first.statusCode).toBe(202);
      const second = await limited.request({
        method: 'POST',
        url: '/api/v1/jobs',
        as: 'teacher',
        payload: { job_type: 'data_migration' },
      });
      expect(second.statusCode).toBe(429);
      expect(second.json().detail).toContain('MAX_JOBS_PER_USER');
      await limited.services.jobs.cancelJob(first.json().id);
    } finally {
      await limited.close();
    }
  });
});

describe('job types', () => {
  it('has a handler for each of the eight job types, so startup can insist on it', () => {
    expect(t.services.jobRegistry.missing()).toEqual([]);
    expect(JOB_TYPES.every((type) => t.services.jobRegistry.has(type))).toBe(true);
  });
});
