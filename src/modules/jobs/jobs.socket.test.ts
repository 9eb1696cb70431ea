import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import type { JobResponse } from './jobs.manager.ts';

let t: TestApp;
let url: string;

beforeAll(async () => {
  t = await createTestApp();
  t.services.jobRegistry.replace('data_migration', {
    payload: z.object({ items: z.number().int(), delay_ms: z.number().int() }),
    permission: 'jobs:create',
    async run({ payload, progress }) {
      for (let i = 1; i <= payload.items; i++) {
        await sleep(payload.delay_ms);
        await progress({ current: i, total: payload.items });
      }
      return { success: true };
    },
  });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/v1/ws`;
});
afterAll(async () => {
  await t.close();
});

interface Message {
  type: string;
  event?: string;
  job?: JobResponse;
  jobs?: JobResponse[];
  message?: string;
}

/** A connected client that keeps every message it receives. */
async function connect() {
  const socket = new WebSocket(url);
  const messages: Message[] = [];
  let closed: { code: number } | null = null;
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as Message));
  socket.on('close', (code) => {
    closed = { code };
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const until = async (predicate: () => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(messages)}`);
      await sleep(10);
    }
  };
  return {
    socket,
    messages,
    closedWith: () => (closed as { code: number } | null)?.code,
    until,
    send: (message: unknown) => socket.send(JSON.stringify(message)),
  };
}

async function createJob(as: 'teacher' | 'admin', items = 5, delay = 20): Promise<JobResponse> {
  const response = await t.request({
    method: 'POST',
    url: '/api/v1/jobs',
    as,
    payload: { job_type: 'data_migration', metadata: { items, delay_ms: delay } },
  });
  return response.json();
}

describe('WebSocket /api/v1/ws', () => {
  it('sends the current state first, then every progress change until the job ends', async () => {
    const client = await connect();
    client.send({ type: 'auth', token: t.tokens.teacher });
    await client.until(() => client.messages.some((m) => m.type === 'ready'));
    const job = await createJob('teacher', 8, 25);
    client.send({ type: 'subscribe', job_ids: [job.id] });
    await client.until(() => client.messages.some((m) => m.job?.status === 'COMPLETED'));
    const afterReady = client.messages.slice(
      client.messages.findIndex((m) => m.type === 'ready') + 1,
    );
    const snapshotIndex = afterReady.findIndex((m) => m.type === 'snapshot');
    expect(afterReady[snapshotIndex]?.jobs?.[0]?.id).toBe(job.id);
    const progress = afterReady
      .filter((m) => m.type === 'job' && m.event === 'progress')
      .map((m) => m.job?.progress.current ?? 0);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(8);
    client.socket.close();
  });

  it('with mine=true follows the user’s own jobs only', async () => {
    const client = await connect();
    client.send({ type: 'auth', token: t.tokens.teacher });
    await client.until(() => client.messages.some((m) => m.type === 'ready'));
    client.send({ type: 'subscribe', mine: true });
    await client.until(() => client.messages.some((m) => m.type === 'snapshot'));
    const own = await createJob('teacher', 2, 5);
    const others = await createJob('admin', 2, 5);
    await client.until(() =>
      client.messages.some((m) => m.job?.id === own.id && m.job.status === 'COMPLETED'),
    );
    await sleep(100);
    expect(client.messages.some((m) => m.job?.id === others.id)).toBe(false);
    client.socket.close();
  });

  it('refuses clients that do not authenticate, bad tokens and roles without jobs:read', async () => {
    const anonymous = await connect();
    anonymous.send({ type: 'subscribe', mine: true });
    await anonymous.until(() => anonymous.closedWith() !== undefined);
    expect(anonymous.closedWith()).toBe(4401);

    const forged = await connect();
    forged.send({ type: 'auth', token: 'not.a.token' });
    await forged.until(() => forged.closedWith() !== undefined);
    expect(forged.closedWith()).toBe(4401);

    await t.services.roles.put('readonly-no-jobs', {
      description: '',
      permissions: ['students:read'],
    });
    await t.services.users.createUser(
      {
        email: 'nojobs@school.test',
        full_name: 'No Jobs',
        role: 'readonly-no-jobs',
        password: 'no-jobs-password-1',
        must_change_password: false,
      },
      { actor: null, ipAddress: null, userAgent: null, requestId: null },
    );
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'nojobs@school.test', password: 'no-jobs-password-1' },
    });
    const denied = await connect();
    denied.send({ type: 'auth', token: login.json().access_token });
    await denied.until(() => denied.closedWith() !== undefined);
    expect(denied.closedWith()).toBe(4403);
  });

  it('does not reveal other people’s jobs', async () => {
    const adminJob = await createJob('admin', 1, 1);
    const client = await connect();
    client.send({ type: 'auth', token: t.tokens.teacher });
    await client.until(() => client.messages.some((m) => m.type === 'ready'));
    client.send({ type: 'subscribe', job_ids: [adminJob.id] });
    await client.until(() => client.messages.some((m) => m.type === 'snapshot'));
    expect(client.messages.find((m) => m.type === 'snapshot')?.jobs).toEqual([]);
    expect(
      client.messages.some((m) => m.type === 'error' && m.message?.includes(adminJob.id)),
    ).toBe(true);
    client.send({ type: 'subscribe', all: true });
    await client.until(() => client.messages.some((m) => m.message?.includes('jobs:manage')));
    client.socket.close();
  });
});
