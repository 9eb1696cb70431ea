/**
 * A `registrar worker` for fault tests: the same services and BullMQ engine as the real
 * command, plus a stand-in data_migration handler (swapped in with JobRegistry.replace)
 * whose effects land in counter tables, and short
 * heartbeat/lock timings so a killed worker is noticed within seconds.
 * Run: node --import tsx test/support/fault-worker.ts (env as for `registrar worker`).
 * Test-only env: FAULT_QUEUE, FAULT_PREFIX (BullMQ queue and key prefix), FAULT_CONCURRENCY
 * (default 2), FAULT_RETRY_BASE_MS (first retry delay, default the engine's 1 s).
 * Payload extras: fail_times (attempts up to this one throw), record_starts (each attempt's
 * start goes to the fault_starts table the test created, in start order).
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

services.jobRegistry.replace('data_migration', {
  payload: z.object({
    items: z.number().int().min(1),
    delay_ms: z.number().int().min(0),
    fail_times: z.number().int().min(0).default(0),
    record_starts: z.boolean().default(false),
  }),
  permission: 'jobs:create',
  async run({ job, payload, signal, progress }) {
    if (payload.record_starts) {
      await database.db.execute(
        sql`INSERT INTO fault_starts (job_id, attempt, worker_id) VALUES (${job.id}, ${job.attempts}, ${workerId})`,
      );
    }
    // job.attempts counts this run, so the state survives any worker.
    if (job.attempts <= payload.fail_times) throw new Error(`planned failure ${job.attempts}`);
    for (let item = 1; item <= payload.items; item++) {
      if (signal.aborted) {
        return { success: false, message: 'stopped', statistics: { processed: item - 1 } };
      }
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
  concurrency: Number(process.env.FAULT_CONCURRENCY ?? 2),
  runWorker: true,
  workerId,
  queueName: process.env.FAULT_QUEUE ?? 'registrar-jobs',
  ...(process.env.FAULT_PREFIX ? { prefix: process.env.FAULT_PREFIX } : {}),
  ...(process.env.FAULT_RETRY_BASE_MS
    ? { retryBaseDelayMs: Number(process.env.FAULT_RETRY_BASE_MS) }
    : {}),
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
  await services.audit.stop();
  await database.close();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());

await engine.start();
services.audit.start();
process.stdout.write(`ready ${workerId}\n`);
