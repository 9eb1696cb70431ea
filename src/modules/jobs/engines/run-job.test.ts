import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { openTestDatabase } from '../../../../test/support/test-app.ts';
import type { DatabaseHandle } from '../../../platform/db/client.ts';
import { LocalEventBus } from '../../../platform/events/event-bus.ts';
import { AuditLogger } from '../../audit/audit.logger.ts';
import { JobManager } from '../jobs.manager.ts';
import { JobRegistry } from '../jobs.registry.ts';
import { LocalJobEngine } from './local.engine.ts';

let database: DatabaseHandle;
let manager: JobManager;
const bus = new LocalEventBus();

beforeAll(async () => {
  database = await openTestDatabase();
  manager = new JobManager(database.db, bus, new AuditLogger(database.db, { enabled: true }), {
    maxJobs: 100,
    maxJobsPerUser: 100,
    retentionHours: 1,
  });
});
afterAll(async () => {
  await bus.close();
  await database?.close();
});

// In embedded mode the database answers through promises only; without a yield between
// batches a job's loop of queries kept every HTTP request (a cancel included) waiting until
// the job had finished.
it('lets the event loop run between the batches of a job that only queries the database', async () => {
  const batches = 40;
  let batchWhenTimerFired: number | null = null;
  let batch = 0;
  const registry = new JobRegistry().register('bulk_update', {
    payload: z.object({}),
    permission: 'jobs:create',
    async run({ progress }) {
      setTimeout(() => {
        batchWhenTimerFired ??= batch;
      }, 1);
      for (batch = 1; batch <= batches; batch++) {
        for (let query = 0; query < 20; query++) await database.db.execute(sql`SELECT 1`);
        await progress({ current: batch, total: batches });
      }
      return { success: true };
    },
  });
  const engine = new LocalJobEngine(manager, registry, bus, {
    concurrency: () => 1,
    pollIntervalMs: 20,
  });
  await engine.start();
  try {
    const created = await manager.createJob({ jobType: 'bulk_update', userId: null, metadata: {} });
    const deadline = Date.now() + 20_000;
    while ((await manager.getJob(created.id)).status !== 'COMPLETED') {
      if (Date.now() > deadline) throw new Error('the job did not complete');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(batchWhenTimerFired).not.toBeNull();
    expect(batchWhenTimerFired!).toBeLessThan(batches);
  } finally {
    await engine.stop(0);
  }
});
