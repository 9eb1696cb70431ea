import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { createStudentsService } from '../../modules/students/students.service.ts';
import { students } from '../../modules/students/students.table.ts';
import { ChangeFeed } from '../events/change-feed.ts';
import { type EventBus, LocalEventBus } from '../events/event-bus.ts';
import { RedisEventBus } from '../events/redis-event-bus.ts';
import { SYSTEM_CONTEXT } from '../http/request-context.ts';
import { ResultCache } from './result-cache.ts';

const NO_RECORDING = { record: async () => {} };

async function listedNames(t: TestApp, query = 'page_size=100') {
  const response = await t.request({ method: 'GET', url: `/api/v1/students?${query}` });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  return (response.json().items as Array<{ last_name: string }>).map((item) => item.last_name);
}

describe('cached lists', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('show every write made through Registrar at once', async () => {
    const created = await t.request({
      method: 'POST',
      url: '/api/v1/students',
      payload: { student_id: 'LC-1', first_name: 'Άννα', last_name: 'Cached' },
    });
    expect(created.statusCode).toBe(201);
    expect(await listedNames(t)).toEqual(['Cached']);
    expect(await listedNames(t, 'search=cach')).toEqual(['Cached']);

    // Written behind Registrar's back: the cached answers stand (for up to LIST_CACHE_SECONDS)…
    await t.database.db
      .insert(students)
      .values({ student_id: 'LC-2', first_name: 'Nikos', last_name: 'Outside' });
    expect(await listedNames(t)).toEqual(['Cached']);

    // …until a write through Registrar drops them: the list, its searches and its totals.
    const id = created.json().id;
    const patched = await t.request({
      method: 'PATCH',
      url: `/api/v1/students/${id}`,
      payload: { last_name: 'Changed' },
    });
    expect(patched.statusCode).toBe(200);
    expect(await listedNames(t)).toEqual(['Changed', 'Outside']);
    expect(await listedNames(t, 'search=cach')).toEqual([]);

    expect((await t.request({ method: 'DELETE', url: `/api/v1/students/${id}` })).statusCode).toBe(
      204,
    );
    const page = await t.request({ method: 'GET', url: '/api/v1/students?page_size=100' });
    expect(page.json()).toMatchObject({ total: 1, items: [{ last_name: 'Outside' }] });
  });

  it('are not cached with LIST_CACHE_SECONDS=0', async () => {
    const uncached = await createTestApp({ env: { LIST_CACHE_SECONDS: '0' } });
    try {
      expect(await listedNames(uncached)).toEqual([]);
      await uncached.database.db
        .insert(students)
        .values({ student_id: 'LC-3', first_name: 'Maria', last_name: 'Direct' });
      expect(await listedNames(uncached)).toEqual(['Direct']);
    } finally {
      await uncached.close();
    }
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
const buses: Array<{ name: string; make: () => EventBus[] }> = [
  {
    name: 'one process (local bus)',
    make: () => {
      const bus = new LocalEventBus();
      return [bus, bus];
    },
  },
];
if (redisUrl) {
  const prefix = `regtest-feed-${randomBytes(4).toString('hex')}:`;
  buses.push({
    name: 'two processes (Redis)',
    make: () => [new RedisEventBus(redisUrl, { prefix }), new RedisEventBus(redisUrl, { prefix })],
  });
}

describe.each(buses)('a change heard from another Registrar, $name', ({ make }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('drops the lists this one cached', async () => {
    const [busA, busB] = make() as [EventBus, EventBus];
    const a = createStudentsService(t.database.db, NO_RECORDING, {
      ttlMs: 60_000,
      changes: new ChangeFeed(busA),
    });
    const b = createStudentsService(t.database.db, NO_RECORDING, {
      ttlMs: 60_000,
      changes: new ChangeFeed(busB),
    });
    if (busA instanceof RedisEventBus) await busA.whenSubscribed();
    try {
      const query = {
        page: 1,
        page_size: 50,
        include_deleted: false,
        sort: { key: 'last_name', descending: false },
      };
      const names = async () =>
        (
          JSON.parse((await a.listBody(query, JSON.stringify)).toString()).items as Array<{
            last_name: string;
          }>
        ).map((item) => item.last_name);
      const before = await names();
      await b.create(
        { student_id: 'LC-9', first_name: 'Eva', last_name: 'Remote' },
        SYSTEM_CONTEXT,
      );
      const deadline = Date.now() + 5000;
      let after = await names();
      while (!after.includes('Remote') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        after = await names();
      }
      expect(before).not.toContain('Remote');
      expect(after).toContain('Remote');
    } finally {
      await busA.close();
      if (busB !== busA) await busB.close();
    }
  });
});

describe('ResultCache', () => {
  const budget = (maxBytes: number) =>
    new ResultCache<string>({ ttlMs: 60_000, maxBytes, sizeOf: (value) => value.length });

  it('shares one computation among callers asking at the same time', async () => {
    const cache = budget(100);
    let computed = 0;
    const compute = async () => {
      computed += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return 'value';
    };
    expect(await Promise.all([cache.get('k', compute), cache.get('k', compute)])).toEqual([
      'value',
      'value',
    ]);
    expect(await cache.get('k', compute)).toBe('value');
    expect(computed).toBe(1);
  });

  it('does not keep an answer computed across a change', async () => {
    const cache = budget(100);
    let release: (value: string) => void = () => {};
    const stale = cache.get('k', () => new Promise<string>((resolve) => (release = resolve)));
    cache.clear();
    release('old');
    expect(await stale).toBe('old');
    expect(await cache.get('k', async () => 'new')).toBe('new');
  });

  it('keeps within its budget, dropping the least recently used first', async () => {
    const cache = budget(10);
    await cache.get('a', async () => 'aaaa');
    await cache.get('b', async () => 'bbbb');
    await cache.get('a', async () => 'never');
    await cache.get('c', async () => 'cccc');
    expect(await cache.get('a', async () => 'recomputed')).toBe('aaaa');
    expect(await cache.get('b', async () => 'recomputed')).toBe('recomputed');
  });
});
