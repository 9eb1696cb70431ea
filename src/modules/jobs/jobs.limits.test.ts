import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTestDatabase } from '../../../test/support/test-app.ts';
import { type DatabaseHandle, queryRows } from '../../platform/db/client.ts';
import { LocalEventBus } from '../../platform/events/event-bus.ts';
import { HttpProblem } from '../../platform/http/problems.ts';
import { AuditLogger } from '../audit/audit.logger.ts';
import { JobManager } from './jobs.manager.ts';

let database: DatabaseHandle;
let audit: AuditLogger;
let manager: JobManager;
const bus = new LocalEventBus();

beforeAll(async () => {
  database = await openTestDatabase();
  audit = new AuditLogger(database.db, { enabled: true });
  // No engine: the jobs stay PENDING, so every one counts against the limits.
  manager = new JobManager(database.db, bus, audit, {
    maxJobs: 5,
    maxJobsPerUser: 2,
    retentionHours: 1,
  });
});
afterAll(async () => {
  await audit.stop();
  await bus.close();
  await database?.close();
});

it('admits concurrent creates in arrival order up to each limit, and audits only the admitted ones', async () => {
  const users = [9, 1, 1, 1, 2, null, 2, null, 3];
  // The first call goes at once; the others arrive while it runs and go as one batch.
  const outcomes = await Promise.allSettled(
    users.map((userId, n) =>
      manager.createJob({ jobType: 'bulk_update', userId, metadata: { n }, priority: 1 + n }),
    ),
  );
  const refusals = outcomes.map((outcome) => {
    if (outcome.status === 'fulfilled') return null;
    const problem = outcome.reason as HttpProblem;
    expect(problem).toBeInstanceOf(HttpProblem);
    expect(problem.status).toBe(429);
    return problem.detail?.includes('MAX_JOBS_PER_USER') ? 'user' : 'overall';
  });
  // User 1's third job is over its own limit; the fifth admitted job fills MAX_JOBS, so the
  // rest are refused for it, whoever's they are.
  expect(refusals).toEqual([null, null, null, 'user', null, null, 'overall', 'overall', 'overall']);

  const created = outcomes.flatMap((outcome) =>
    outcome.status === 'fulfilled' ? [outcome.value] : [],
  );
  expect(created.map((job) => job.user_id)).toEqual([9, 1, 1, 2, null]);
  expect(created.map((job) => job.metadata.n)).toEqual([0, 1, 2, 4, 5]);
  for (const job of created) {
    expect(job).toMatchObject({ status: 'PENDING', job_type: 'bulk_update', attempts: 0 });
    expect(job.priority).toBe(1 + (job.metadata.n as number));
    expect(Number.isNaN(Date.parse(job.created_at))).toBe(false);
  }
  // Oldest first holds inside a batch: creation times follow arrival.
  const times = created.map((job) => job.created_at);
  expect([...times].sort()).toEqual(times);
  expect(await manager.getJob(created[3]?.id ?? '')).toEqual(created[3]);

  const entries = await queryRows<{ resource_id: string }>(
    database.db,
    sql`SELECT resource_id FROM audit_pending WHERE action = 'CREATE' AND resource = 'SYSTEM'
        UNION ALL
        SELECT resource_id FROM audit_logs WHERE action = 'CREATE' AND resource = 'SYSTEM'`,
  );
  expect(entries.map((entry) => entry.resource_id).sort()).toEqual(
    created.map((job) => job.id).sort(),
  );
});
