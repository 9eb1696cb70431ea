import { createReadStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { perUserKey } from '../../platform/http/auth.ts';
import { commonErrorResponses, problemSchema } from '../../platform/http/problems.ts';
import { changeContextFrom } from '../../platform/http/request-context.ts';
import type { AuditLogger } from '../audit/audit.logger.ts';
import type { JobManager } from '../jobs/jobs.manager.ts';
import { jobSchema } from '../jobs/jobs.routes.ts';
import { BACKUP_NAME_PATTERN } from './backup.format.ts';
import { BACKUP_PERMISSION } from './backup-restore.job.ts';
import type { BackupService } from './backups.service.ts';

const tags = ['Backups'];

const backupSchema = z
  .object({
    name: z.string(),
    created_at: z.string(),
    kind: z.enum(['manual', 'safety']),
    size_bytes: z.number().int(),
    encrypted: z.boolean(),
    schema_version: z.number().int(),
    mode: z.enum(['pglite', 'postgres']),
    counts: z.record(z.string(), z.number().int()),
  })
  .meta({ id: 'Backup' });

const listQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  page_size: z.coerce.number().int().min(1).max(500).default(50),
});

const nameParams = z.object({
  name: z
    .string()
    .regex(BACKUP_NAME_PATTERN, 'must be a backup name: letters, digits, - and _ only'),
});

/** Backups in DATA_DIR/backups (admins only): list, make one, download one, restore one. */
export function backupsRoutes(options: {
  backups: BackupService;
  audit: AuditLogger;
  jobs: JobManager;
  jobsPerMinute: number;
}) {
  const rateLimit = { max: options.jobsPerMinute, timeWindow: 60_000, keyGenerator: perUserKey };
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/backups',
      {
        config: { access: BACKUP_PERMISSION },
        schema: {
          tags,
          summary: 'List backups, newest first',
          querystring: listQuery,
          response: {
            200: z.object({
              items: z.array(backupSchema),
              total: z.number().int(),
              page: z.number().int(),
              page_size: z.number().int(),
              has_next: z.boolean(),
            }),
            ...commonErrorResponses,
          },
        },
      },
      async (request) => {
        const { page, page_size } = request.query;
        const all = await options.backups.list();
        const start = (page - 1) * page_size;
        return {
          items: all.slice(start, start + page_size),
          total: all.length,
          page,
          page_size,
          has_next: start + page_size < all.length,
        };
      },
    );

    app.post(
      '/backups',
      {
        config: {
          access: BACKUP_PERMISSION,
          audit: { action: 'BACKUP_CREATE', resource: 'SYSTEM' },
          rateLimit,
        },
        schema: {
          tags,
          summary: 'Start a backup (a backup_restore job); answers 202 with the job',
          description:
            'The job writes DATA_DIR/backups/registrar-YYYYMMDD-HHMMSS.backup (gzip of JSON lines, AES-256-GCM encrypted when BACKUP_ENCRYPTION_KEY is set) and its .manifest.json; its result names the backup. Audited BACKUP_CREATE.',
          response: { 202: jobSchema, ...commonErrorResponses, 429: problemSchema },
        },
      },
      async (request, reply) => {
        const job = await options.jobs.createJob(
          {
            jobType: 'backup_restore',
            userId: request.actor?.id ?? null,
            metadata: { operation: 'backup' },
            maxAttempts: 1,
          },
          changeContextFrom(request),
        );
        return reply.code(202).send(job);
      },
    );

    app.get(
      '/backups/:name/download',
      {
        config: {
          access: BACKUP_PERMISSION,
          // The file holds the whole school: who took a copy is on record.
          audit: { action: 'EXPORT', resource: 'SYSTEM' },
          rateLimit,
        },
        schema: {
          tags,
          summary: 'Download a backup file (to keep a copy off this machine)',
          description:
            'The file exactly as stored (gzip of JSON lines, encrypted when it was made with BACKUP_ENCRYPTION_KEY); its manifest is in the list. Audited EXPORT on SYSTEM with the backup name.',
          params: nameParams,
          response: {
            200: z.unknown().describe('The backup file (application/octet-stream)'),
            ...commonErrorResponses,
            404: problemSchema,
            429: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        const file = await options.backups.file(name);
        await options.audit.logFromRequest(request, {
          action: 'EXPORT',
          resource: 'SYSTEM',
          resourceId: name,
          details: { backup: name, size_bytes: file.size },
        });
        reply.headers({
          'content-type': 'application/octet-stream',
          'content-disposition': `attachment; filename="${name}.backup"`,
          'content-length': String(file.size),
          'cache-control': 'no-store',
        });
        return reply.send(createReadStream(file.path));
      },
    );

    app.post(
      '/backups/:name/restore',
      {
        config: {
          access: BACKUP_PERMISSION,
          audit: { action: 'BACKUP_RESTORE', resource: 'SYSTEM' },
          rateLimit,
        },
        schema: {
          tags,
          summary: 'Restore a backup (a backup_restore job); answers 202 with the job',
          description:
            'The whole backup is checked first (manifest, size, SHA-256, key, content, schema version): a truncated or altered file, the wrong key or a newer schema answer 422 and nothing is written. The job then takes a safety backup and replaces all data in one transaction; a failure leaves the database as it was. Audited BACKUP_RESTORE.',
          params: nameParams,
          response: {
            202: jobSchema,
            ...commonErrorResponses,
            404: problemSchema,
            422: problemSchema,
            429: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        await options.backups.validate(name);
        const job = await options.jobs.createJob(
          {
            jobType: 'backup_restore',
            userId: request.actor?.id ?? null,
            metadata: { operation: 'restore', name },
            maxAttempts: 1,
          },
          changeContextFrom(request),
        );
        return reply.code(202).send(job);
      },
    );
  };
}
