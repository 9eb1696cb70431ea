import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { perUserKey } from '../../platform/http/auth.ts';
import { commonErrorResponses, problemSchema } from '../../platform/http/problems.ts';
import { changeContextFrom } from '../../platform/http/request-context.ts';
import type { AuditLogger } from '../audit/audit.logger.ts';
import { jobSchema } from '../jobs/jobs.routes.ts';
import { SESSION_ENTITIES } from './session-bundle.ts';
import { MERGE_STRATEGIES } from './session-plan.ts';
import type { SessionsService } from './sessions.service.ts';

const tags = ['Sessions'];

const issueSchema = z.object({ field: z.string(), message: z.string() });
const countsSchema = z.object({ create: z.number(), update: z.number(), skip: z.number() });

const checkSchema = z
  .object({
    dry_run: z.literal(true),
    semester: z.string().nullable(),
    merge_strategy: z.enum(MERGE_STRATEGIES),
    valid: z.boolean(),
    counts: z.object(
      Object.fromEntries(SESSION_ENTITIES.map((name) => [name, countsSchema])) as Record<
        (typeof SESSION_ENTITIES)[number],
        typeof countsSchema
      >,
    ),
    problems: z.array(issueSchema),
    warnings: z.array(issueSchema),
  })
  .meta({ id: 'SessionImportCheck' });

const bundleSchema = z.record(z.string(), z.unknown()).meta({
  id: 'SessionBundle',
  description:
    'metadata {semester, version "1.0", counts}, then courses, students, enrollments, grades, attendance, daily_performance and highlights; records refer to each other by student_id_ref and course_code_ref. The original Python system\'s export is read as is.',
});

const importQuery = z.strictObject({
  merge_strategy: z.enum(MERGE_STRATEGIES).default('update'),
  dry_run: z
    .enum(['true', 'false', '1', '0'])
    .transform((value) => value === 'true' || value === '1')
    .default(false),
});

/** A file name for the semester, plain ASCII (header-safe). */
function bundleFileName(semester: string): string {
  const safe = semester.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'semester';
  return `session-${safe}-${new Date().toISOString().slice(0, 10)}.json`;
}

export function sessionsRoutes(
  service: SessionsService,
  options: {
    audit: AuditLogger;
    maxBytes: number;
    importsPerMinute: number;
    exportsPerMinute: number;
  },
) {
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/sessions/semesters',
      {
        config: { access: 'courses:read' },
        schema: {
          tags,
          summary: 'Every semester label that live courses carry, sorted',
          response: {
            200: z.object({ semesters: z.array(z.string()), count: z.number().int() }),
            ...commonErrorResponses,
          },
        },
      },
      async () => {
        const semesters = await service.semesters();
        return { semesters, count: semesters.length };
      },
    );

    app.get(
      '/sessions/export',
      {
        config: {
          access: 'courses:read',
          rateLimit: {
            max: options.exportsPerMinute,
            timeWindow: 60_000,
            keyGenerator: perUserKey,
          },
        },
        schema: {
          tags,
          summary:
            "Download a semester's courses and everything attached to them as one JSON bundle",
          description:
            'Needs the read permission of every kind of record in the bundle. Audited as EXPORT (SESSION).',
          querystring: z.strictObject({ semester: z.string().trim().min(1).max(50) }),
          response: {
            200: bundleSchema,
            ...commonErrorResponses,
            404: problemSchema,
            429: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { semester } = request.query;
        const bundle = await service.export(semester, changeContextFrom(request));
        await options.audit.logFromRequest(request, {
          action: 'EXPORT',
          resource: 'SESSION',
          resourceId: semester,
          details: { semester, counts: bundle.metadata.counts },
        });
        reply.header('content-disposition', `attachment; filename="${bundleFileName(semester)}"`);
        return bundle;
      },
    );

    app.post(
      '/sessions/import',
      {
        config: {
          // A session is courses first; the service checks the other six kinds and jobs:create.
          access: 'courses:write',
          audit: { action: 'IMPORT', resource: 'SESSION' },
          rateLimit: {
            max: options.importsPerMinute,
            timeWindow: 60_000,
            keyGenerator: perUserKey,
          },
        },
        bodyLimit: options.maxBytes,
        schema: {
          tags,
          summary: 'Import a semester bundle, all or nothing, as a bulk_import job',
          description:
            'Body: the bundle (application/json, at most IMPORT_MAX_BYTES). Every record and reference is checked first. dry_run=true answers 200 with what would be created, updated and skipped per list and every problem, and changes nothing; otherwise a bundle with any problem answers 422 naming each, and a clean one 202 with the job. merge_strategy "update" (default) updates records that exist and differ; "skip" leaves them. Needs the write permission of every kind of record and jobs:create.',
          querystring: importQuery,
          body: bundleSchema,
          response: {
            200: checkSchema,
            202: jobSchema,
            ...commonErrorResponses,
            413: problemSchema,
            422: problemSchema,
            429: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { merge_strategy: strategy, dry_run: dryRun } = request.query;
        const context = changeContextFrom(request);
        if (dryRun) {
          const checked = await service.check(request.body, strategy, context);
          return reply.code(200).send({ dry_run: true as const, ...checked });
        }
        const job = await service.import(request.body, strategy, context);
        return reply.code(202).send(job);
      },
    );
  };
}
