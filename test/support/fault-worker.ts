/**
 * A `registrar worker` for fault tests: the same services and BullMQ engine as the real
 * command, plus a bulk_update handler whose effects land in counter tables, and short
 * heartbeat/lock timings so a killed worker is noticed within seconds.
 * Run: node --import tsx test/support/fault-worker.ts (env as for `registrar worker`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { openConfiguredDatabase } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import { BullMqJobEngine } from '../../src/modules/jobs/engines/bullmq.engine.ts';
import { createServices } from '../../src/services.ts';

const config = loadConfig();
if (!config.redisUrl) throw new Error('REDIS_URL is required');
const database = await openConfiguredDatabase(config);
const services = createServices(database.db, config, { runWorker: true });
const workerId = `fault-${process.pid}`;

services.jobRegistry.register('bulk_update', {
  payload: z.object({ items: z.number().int().min(1), delay_ms: z.number().int().min(0) }),
  permission: 'jobs:create',
  async run({ job, payload, signal, progress }) {
    for (let item = 1; item <= payload.items; item++) {
      if (signal.aborted) return { success: false, message: 'stopped' };
      await sleep(payload.delay_ms);
      // Idempotent effect: an upsert on a natural key; `writes` shows how often it was redone.
      await database.db.execute(
        sql`INSERT INTO fault_effects (job_id, item, writes) VALUES (${job.id}, ${item}, 1)
            ON CONFLICT (job_id, item) DO UPDATE SET writes = fault_effects.writes + 1`,
      );
      await progress({ current: item, total: payload.items });
    }
    await database.db.execute(
      sql`INSERT INTO fault_completions (job_id, worker_id, completions) VALUES (${job.id}, ${workerId}, 1)
          ON CONFLICT (job_id) DO UPDATE SET completions = fault_completions.completions + 1`,
    );
    return { success: true, statistics: { processed: payload.items } };
  },
});

const engine = new BullMqJobEngine(services.jobs, services.jobRegistry, services.bus, {
  connection: config.redisUrl,
  concurrency: 2,
  runWorker: true,
  workerId,
  queueName: process.env.FAULT_QUEUE ?? 'registrar-jobs',
  ...(process.env.FAULT_PREFIX ? { prefix: process.env.FAULT_PREFIX } : {}),
  heartbeatTtlSeconds: 2,
  heartbeatIntervalMs: 500,
  sweepIntervalMs: 1000,
  lockDurationMs: 3000,
  stalledIntervalMs: 1000,
});

let closing = false;
const shutdown = async () => {
  if (closing) return;
  closing = true;
  await engine.stop(1000);
  await services.bus.close();
  await database.close();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());

await engine.start();
process.stdout.write(`ready ${workerId}\n`);
