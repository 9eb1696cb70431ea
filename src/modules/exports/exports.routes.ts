import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../platform/db/client.ts';
import { perUserKey } from '../../platform/http/auth.ts';
import {
  commonErrorResponses,
  conflict,
  forbidden,
  HttpProblem,
  notFound,
  problemSchema,
  unprocessable,
} from '../../platform/http/problems.ts';
import { changeContextFrom } from '../../platform/http/request-context.ts';
import type { AuditLogger } from '../audit/audit.logger.ts';
import type { JobManager, JobResponse } from '../jobs/jobs.manager.ts';
import type { JobRegistry } from '../jobs/jobs.registry.ts';
import { jobSchema } from '../jobs/jobs.routes.ts';
import { grants, type Permission } from '../roles/permissions.ts';
import { exportFilePath } from './export-large.job.ts';
import {
  EXPORT_RESOURCES,
  EXPORT_SPECS,
  type ExportResource,
  REPORT_PARTS,
} from './exports.resources.ts';
import {
  type ExportFilters,
  ExportService,
  filterSchema,
  filtersBody,
  parseFilters,
} from './exports.service.ts';
import {
  EXPORT_CONTENT_TYPES,
  EXPORT_FORMATS,
  EXPORT_LANGUAGES,
  type ExportFormat,
  writeExport,
} from './exports.writers.ts';

const tags = ['Exports'];

const formatField = z
  .enum(EXPORT_FORMATS, { message: 'must be csv, xlsx or json' })
  .default('csv')
  .describe('csv (UTF-8 with BOM, default), xlsx or json');
const langField = z
  .enum(EXPORT_LANGUAGES, { message: 'must be en or el' })
  .default('en')
  .describe('Column headers (and sheet names) in English or Greek; values are never translated');

const reportParams = z.object({ id: z.coerce.number().int().min(1).max(2_147_483_647) });
const downloadParams = z.object({ job_id: z.uuid({ message: 'must be a job id (UUID)' }) });

const createExportBody = z.strictObject({
  resource: z.enum(EXPORT_RESOURCES),
  format: z.enum(EXPORT_FORMATS).default('xlsx'),
  lang: z.enum(EXPORT_LANGUAGES).default('en'),
  filters: filtersBody
    .default({})
    .describe('The list filters of the resource, as in its query string (search, study_year, …)'),
});

const fileResponse = z
  .unknown()
  .describe('The file: text/csv, application/json or an XLSX workbook');

/** resource-YYYYMMDD-HHMMSS.ext, in UTC; only [A-Za-z0-9_.-] so every browser keeps it. */
export function exportFileName(base: string, format: ExportFormat, at: Date): string {
  const stamp = at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  const safe = base.replace(/[^\w.-]+/g, '_').slice(0, 80);
  return `${safe}-${stamp}.${format}`;
}

function attachmentHeaders(format: ExportFormat, fileName: string) {
  return {
    'content-type': EXPORT_CONTENT_TYPES[format],
    'content-disposition': `attachment; filename="${fileName}"`,
    'cache-control': 'no-store',
  };
}

/**
 * The body as it streams, with its EXPORT entry written when the last chunk is ready and
 * before it is sent (so a client that got the whole file can always find the record, as the
 * audit export does); an export cut short is recorded with success=false.
 */
async function* auditedBody(
  body: AsyncGenerator<string | Uint8Array>,
  record: (complete: boolean) => Promise<void>,
  request: FastifyRequest,
): AsyncGenerator<string | Uint8Array> {
  let finished = false;
  try {
    let current = await body.next();
    while (!current.done) {
      const next = await body.next();
      if (next.done) {
        finished = true;
        await record(true);
      }
      yield current.value;
      current = next;
    }
  } finally {
    if (!finished) {
      await body.return(undefined);
      await record(false).catch((error: unknown) => {
        request.log.error({ err: error }, 'could not record an export that was cut short');
      });
    }
  }
}

export interface ExportsRoutesOptions {
  db: Database;
  audit: AuditLogger;
  jobs: JobManager;
  registry: JobRegistry;
  dataDir: string;
  /** Above this many rows, GET answers 422 and points to POST /exports. */
  syncLimit: number;
  exportsPerMinute: number;
}

/** Downloads of lists and reports, and background exports (export_large jobs) for large ones. */
export function exportsRoutes(options: ExportsRoutesOptions) {
  const service = new ExportService(options.db);
  const rateLimit = {
    max: options.exportsPerMinute,
    timeWindow: 60_000,
    keyGenerator: perUserKey,
  };
  const holds = (request: FastifyRequest, permission: Permission) =>
    grants(request.actor?.permissions ?? [], permission);

  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    // One route per resource: each declares that resource's read permission.
    for (const resource of EXPORT_RESOURCES) {
      const spec = EXPORT_SPECS[resource];
      app.get(
        `/exports/${resource}`,
        {
          config: { access: spec.permission, rateLimit },
          schema: {
            tags,
            summary: `Download ${spec.sheet.en.toLowerCase()} as CSV, XLSX or JSON (streamed)`,
            description: `The list's filters and search apply; rows come in id order. Up to EXPORT_SYNC_LIMIT rows (default 10,000); more answer 422 (export-too-large): start a background export with POST /api/v1/exports.`,
            querystring: filterSchema(spec).extend({ format: formatField, lang: langField }),
            response: {
              200: fileResponse,
              ...commonErrorResponses,
              422: problemSchema,
              429: problemSchema,
            },
          },
        },
        async (request, reply) => {
          const { format, lang, ...filters } = request.query as ExportFilters & {
            format: ExportFormat;
            lang: 'en' | 'el';
          };
          const maxId = await service.maxId(spec);
          // Counting stops one past the limit: enough to refuse, cheap on a million rows.
          const matching = await service.count(spec, filters, { maxId, limit: options.syncLimit });
          if (matching > options.syncLimit) {
            throw new HttpProblem(
              422,
              'export-too-large',
              'Unprocessable Content',
              `More than ${options.syncLimit} ${resource} match (EXPORT_SYNC_LIMIT); start a background export with POST /api/v1/exports and download the file when the job has finished.`,
            );
          }
          let rows = 0;
          const sheet = await service.sheet(resource, filters, lang, {
            maxId,
            onBatch: (read) => {
              rows = read.rows;
            },
          });
          const record = (complete: boolean) =>
            options.audit.logFromRequest(request, {
              action: 'EXPORT',
              resource: spec.auditResource,
              details: { format, lang, filters, rows, complete },
              success: complete,
              errorMessage: complete ? null : `The export stopped after ${rows} rows.`,
            });
          reply.headers(attachmentHeaders(format, exportFileName(resource, format, new Date())));
          return reply.send(
            Readable.from(auditedBody(writeExport(format, [sheet]), record, request), {
              objectMode: false,
            }),
          );
        },
      );
    }

    app.get(
      '/exports/students/:id/report',
      {
        config: { access: 'students:read', rateLimit },
        schema: {
          tags,
          summary:
            "One student's report: the student, grades, attendance, highlights and course results",
          description:
            'XLSX: one sheet each. CSV: one section each (a title line, a header, the rows, an empty line). JSON: {"student": [..], "grades": [..], "attendance": [..], "highlights": [..], "results": [..]}. Needs grades:read, attendance:read and highlights:read too (results need grades:read).',
          params: reportParams,
          querystring: z.object({ format: formatField, lang: langField }),
          response: {
            200: fileResponse,
            ...commonErrorResponses,
            404: problemSchema,
            429: problemSchema,
          },
        },
      },
      async (request, reply) => {
        for (const part of REPORT_PARTS) {
          const needed = EXPORT_SPECS[part].permission;
          if (!holds(request, needed)) {
            throw forbidden(
              `A student report includes ${part}; it needs the permission ${needed}.`,
            );
          }
        }
        const { format, lang } = request.query;
        const report = await service.report(request.params.id, lang, {});
        const record = (complete: boolean) =>
          options.audit.logFromRequest(request, {
            action: 'EXPORT',
            resource: 'STUDENT',
            resourceId: String(report.student.id),
            details: { report: true, format, lang, rows: report.rows(), complete },
            success: complete,
            errorMessage: complete ? null : `The report stopped after ${report.rows()} rows.`,
          });
        const fileName = exportFileName(
          `student-${report.student.student_id}-report`,
          format,
          new Date(),
        );
        reply.headers(attachmentHeaders(format, fileName));
        return reply.send(
          Readable.from(auditedBody(writeExport(format, report.sheets), record, request), {
            objectMode: false,
          }),
        );
      },
    );

    app.post(
      '/exports',
      {
        config: {
          access: 'jobs:create',
          audit: { action: 'CREATE', resource: 'SYSTEM' },
          rateLimit,
        },
        schema: {
          tags,
          summary: 'Start a background export (an export_large job); answers 202 with the job',
          description:
            "Needs jobs:create and the resource's read permission. When the job has COMPLETED, GET /api/v1/exports/{job_id}/download serves the file (to its owner or an admin) until the job expires.",
          body: createExportBody,
          response: {
            202: jobSchema,
            ...commonErrorResponses,
            422: problemSchema,
            429: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { resource, format, lang, filters } = request.body;
        const spec = EXPORT_SPECS[resource as ExportResource];
        // The same rule as POST /jobs: the job type's handler names the permission it needs.
        const handler = options.registry.get('export_large');
        if (!handler) {
          throw unprocessable('Background exports are not available in this version of Registrar.');
        }
        if (!holds(request, handler.permission)) {
          throw forbidden(`Starting export_large jobs needs the permission ${handler.permission}.`);
        }
        if (!holds(request, spec.permission)) {
          throw forbidden(`Exporting ${resource} needs the permission ${spec.permission}.`);
        }
        parseFilters(spec, filters, 'body.filters');
        const job = await options.jobs.createJob(
          {
            jobType: 'export_large',
            userId: request.actor?.id ?? null,
            metadata: { resource, format, lang, filters },
          },
          changeContextFrom(request),
        );
        return reply.code(202).send(job);
      },
    );

    app.get(
      '/exports/:job_id/download',
      {
        config: { access: 'jobs:read', rateLimit },
        schema: {
          tags,
          summary: "Download a background export's file (its owner or an admin)",
          description:
            '404 for a job that is not yours (unless you are an admin), not an export, expired or removed; 409 while it has not COMPLETED.',
          params: downloadParams,
          response: {
            200: fileResponse,
            ...commonErrorResponses,
            404: problemSchema,
            409: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { job_id: id } = request.params;
        let job: JobResponse;
        try {
          job = await options.jobs.getJob(id);
        } catch {
          throw notFound('Export', id);
        }
        const mine = job.user_id !== null && job.user_id === request.actor?.id;
        const expired = job.expires_at !== null && new Date(job.expires_at) < new Date();
        if (
          job.job_type !== 'export_large' ||
          (!mine && !holds(request, 'jobs:manage')) ||
          expired
        ) {
          throw notFound('Export', id);
        }
        if (job.status !== 'COMPLETED') {
          throw conflict(`Export ${id} is ${job.status}; its file is ready once it has COMPLETED.`);
        }
        const format = job.result?.data?.format as ExportFormat | undefined;
        if (!format || !EXPORT_FORMATS.includes(format)) throw notFound('Export', id);
        const file = exportFilePath(options.dataDir, job.id, format);
        const info = await stat(file).catch(() => undefined);
        if (!info) throw notFound('Export', id);
        const resource = String(job.result?.data?.resource ?? job.metadata.resource ?? 'export');
        const at = job.completed_at ? new Date(job.completed_at) : new Date();
        reply.headers({
          ...attachmentHeaders(format, exportFileName(resource, format, at)),
          'content-length': String(info.size),
        });
        return reply.send(createReadStream(file));
      },
    );
  };
}
