import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { RedisEventBus } from '../../platform/events/redis-event-bus.ts';
import { BullMqJobEngine, jobMirrorKey, MIRROR_TTL_SECONDS } from './engines/bullmq.engine.ts';
import { ended, registerEngineContract } from './jobs.engine-contract.ts';

const redisUrl = process.env.TEST_REDIS_URL;
/** Unique per file and per run, so parallel test files and projects never share a queue. */
const tag = `t${process.pid}${randomBytes(3).toString('hex')}`;
const prefix = `regtest-${tag}`;
const queueName = 'registrar-jobs';

/** Deletes every key this file created: the queue's keys and the mirrored jobs. */
async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

describe.skipIf(!redisUrl)('BullMqJobEngine', () => {
  const url = redisUrl ?? '';
  const mirrored: string[] = [];
  let redis: Redis;
  let engines: BullMqJobEngine[] = [];

  beforeAll(() => {
    redis = new Redis(url, { maxRetriesPerRequest: null });
  });

  const t = registerEngineContract('BullMqJobEngine', {
    makeBus: () => new RedisEventBus(url, { prefix: `${prefix}:` }),
    makeEngine: ({ manager, registry, bus, concurrency, retryBaseDelayMs }) => {
      const engine = new BullMqJobEngine(manager, registry, bus, {
        connection: url,
        concurrency,
        runWorker: true,
        queueName,
        prefix,
        retryBaseDelayMs,
        sweepIntervalMs: 250,
        heartbeatTtlSeconds: 1,
        onError: (error, where) => console.error(`[bullmq engine ${where}]`, error),
      });
      engines.push(engine);
      return engine;
    },
    async cleanup() {
      await deleteKeys(redis, `${prefix}:*`);
      for (const engine of engines) await redis.del(`registrar:worker:${engine.workerId}`);
      const ids = (await t.manager.listJobs({ page: 1, pageSize: 1000 })).items.map((j) => j.id);
      if (ids.length > 0) await redis.del(...[...ids, ...mirrored].map(jobMirrorKey));
      await redis.quit();
      engines = [];
    },
  });

  describe('BullMQ specifics', () => {
    it('mirrors the job JSON at job:{id}, kept 24 hours once it ends', async () => {
      const engine = await t.startEngine();
      const created = await t.createJob({ label: 'mirrored', items: 2 });
      mirrored.push(created.id);
      const job = await t.waitFor(created.id, ended);
      // The final write follows the status change; give it a moment.
      let raw: string | null = null;
      for (let i = 0; i < 40; i++) {
        raw = await redis.get(jobMirrorKey(created.id));
        if (raw && JSON.parse(raw).status === 'COMPLETED') break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(JSON.parse(raw ?? 'null')).toEqual(job);
      const ttl = await redis.ttl(jobMirrorKey(created.id));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(MIRROR_TTL_SECONDS);
      await engine.stop(0);
    });

    it('completes pending jobs after Redis lost the queue (sweep re-enqueues)', async () => {
      // An enqueue-only engine (an API process with RUN_WORKER=false) takes the jobs…
      const api = new BullMqJobEngine(t.manager, t.registry, t.bus, {
        connection: url,
        concurrency: 1,
        runWorker: false,
        queueName,
        prefix,
      });
      await api.start();
      const created = [];
      for (let i = 0; i < 5; i++) created.push(await t.createJob({ label: `lost-${i}`, items: 1 }));
      // …then Redis forgets them (FLUSHALL, restart without persistence).
      await deleteKeys(redis, `${prefix}:*`);
      await api.stop(0);
      const worker = await t.startEngine();
      for (const job of created) {
        expect((await t.waitFor(job.id, ended)).status).toBe('COMPLETED');
      }
      for (let i = 0; i < 5; i++) expect(t.processed.get(`lost-${i}`)).toBe(1);
      await worker.stop(0);
    });
  });
});
