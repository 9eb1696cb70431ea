import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { perUserKey } from '../../platform/http/auth.ts';
import { commonErrorResponses, problemSchema } from '../../platform/http/problems.ts';
import { changeContextFrom } from '../../platform/http/request-context.ts';
import type { JobManager } from '../jobs/jobs.manager.ts';
import { jobSchema } from '../jobs/jobs.routes.ts';
import { MIGRATION_PERMISSION } from './data-migration.job.ts';
import type { DataMigrationService } from './data-migration.service.ts';
import { parseTargetUrl, sealPassword } from './target-url.ts';

const migrateBody = z.object({
  target_url: z
    .string()
    .min(1)
    .max(2000)
    .describe('postgres://user:password@host:5432/database of a new, empty database'),
});

/** POST /system/migrate-data: the move from this database to an empty PostgreSQL one. */
export function migrationRoutes(options: {
  migration: DataMigrationService;
  jobs: JobManager;
  jwtSecret: string;
  jobsPerMinute: number;
}) {
  const rateLimit = { max: options.jobsPerMinute, timeWindow: 60_000, keyGenerator: perUserKey };
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.post(
      '/system/migrate-data',
      {
        config: {
          access: MIGRATION_PERMISSION,
          audit: { action: 'OTHER', resource: 'SYSTEM' },
          rateLimit,
        },
        schema: {
          tags: ['System'],
          summary: 'Copy all data into an empty PostgreSQL database (a data_migration job)',
          description:
            'Checks at once that the target answers (5 s) and holds no rows: an unreachable or non-empty target answers 422 and nothing is written. The job then migrates the target schema, copies every data table from one snapshot in one target transaction, and verifies the row counts and the audit chain on the target; its result is the report. This database is left as it was. The password is never shown: job metadata holds the URL without it and the password sealed under JWT_SECRET. Audited OTHER / SYSTEM.',
          body: migrateBody,
          response: {
            202: jobSchema,
            ...commonErrorResponses,
            422: problemSchema,
            429: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const target = parseTargetUrl(request.body.target_url);
        await options.migration.check(target);
        const job = await options.jobs.createJob(
          {
            jobType: 'data_migration',
            userId: request.actor?.id ?? null,
            metadata: {
              target_url: target.masked,
              ...(target.password
                ? { target_password: sealPassword(target.password, options.jwtSecret) }
                : {}),
            },
            maxAttempts: 1,
          },
          changeContextFrom(request),
        );
        return reply.code(202).send(job);
      },
    );
  };
}
