import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { perUserKey } from '../../platform/http/auth.ts';
import { MAX_PAGE_SIZE } from '../../platform/http/pagination.ts';
import {
  badRequest,
  commonErrorResponses,
  HttpProblem,
  problemSchema,
} from '../../platform/http/problems.ts';
import { changeContextFrom } from '../../platform/http/request-context.ts';
import { jobSchema } from '../jobs/jobs.routes.ts';
import type { ImportOptions } from './import-analysis.ts';
import type { ImportsService, Upload } from './imports.service.ts';
import { DATE_ORDERS, type Delimiter, ENCODINGS, IMPORT_TYPES } from './parsing/index.ts';

const flag = z
  .enum(['true', 'false', '1', '0', 'on', 'off'])
  .transform((value) => value === 'true' || value === '1' || value === 'on');

/** The form fields next to the file (multipart text fields). */
const previewFields = z.strictObject({
  import_type: z.enum(IMPORT_TYPES),
  allow_updates: flag.default(true),
  skip_duplicates: flag.default(false),
  mapping: z
    .string()
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'must be a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string(), z.string().nullable()))
    .optional(),
  encoding: z.enum(ENCODINGS).optional(),
  delimiter: z
    .enum([',', ';', '\t', '|', 'tab'])
    .transform((value): Delimiter => (value === 'tab' ? '\t' : value))
    .optional(),
  date_order: z.enum(DATE_ORDERS).default('DMY'),
  sheet: z.string().min(1).max(200).optional(),
});

const rowSchema = z.object({
  row_number: z.number().int(),
  action: z.enum(['create', 'update', 'skip']),
  data: z.record(z.string(), z.unknown()),
  validation_status: z.enum(['valid', 'warning', 'error']),
  issues: z.array(z.object({ field: z.string(), message: z.string() })),
});

const previewSchema = z
  .object({
    preview_id: z.uuid(),
    import_type: z.string(),
    file_name: z.string(),
    total_rows: z.number().int(),
    valid_rows: z.number().int(),
    rows_with_warnings: z.number().int(),
    rows_with_errors: z.number().int(),
    create: z.number().int(),
    update: z.number().int(),
    skip: z.number().int(),
    can_proceed: z.boolean(),
    summary: z.object({ create: z.number(), update: z.number(), skip: z.number() }),
    detected: z.record(z.string(), z.unknown()),
    estimated_duration_seconds: z.number().int(),
    expires_at: z.string(),
    items: z.array(rowSchema),
  })
  .meta({ id: 'ImportPreview' });

const previewParams = z.object({ id: z.uuid({ message: 'must be a preview id (UUID)' }) });

const rowsQuery = z.strictObject({
  status: z.enum(['valid', 'warning', 'error']).optional(),
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  page_size: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
});

const tags = ['Imports'];
const itemErrors = { ...commonErrorResponses, 404: problemSchema };

export function importsRoutes(
  service: ImportsService,
  limits: { maxBytes: number; previewsPerMinute: number },
) {
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    await app.register(multipart, {
      limits: { fileSize: limits.maxBytes, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 25 },
    });

    app.post(
      '/imports/preview',
      {
        config: {
          access: 'jobs:create',
          audit: { action: 'IMPORT', resource: 'SYSTEM' },
          rateLimit: {
            max: limits.previewsPerMinute,
            timeWindow: 60_000,
            keyGenerator: perUserKey,
          },
        },
        bodyLimit: limits.maxBytes + 1024 * 1024,
        schema: {
          tags,
          summary: 'Check an import file and show what committing it would do (changes nothing)',
          description:
            'multipart/form-data: `file` (CSV, XLSX or JSON) and the fields import_type, allow_updates, skip_duplicates, mapping (JSON object header → field or null), encoding, delimiter, date_order (DMY or MDY), sheet. Needs jobs:create and the write permission of the records imported.',
          consumes: ['multipart/form-data'],
          response: {
            200: previewSchema,
            ...commonErrorResponses,
            413: problemSchema,
            422: problemSchema,
            429: problemSchema,
          },
        },
      },
      async (request) => {
        if (!request.isMultipart()) {
          throw badRequest('Send the file as multipart/form-data with a part named "file".');
        }
        const fields: Record<string, string> = {};
        let file: { name: string; upload: Upload } | undefined;
        try {
          for await (const part of request.parts()) {
            if (part.type === 'file') {
              if (part.fieldname !== 'file' || file) {
                part.file.resume();
                throw badRequest('Send exactly one file, in the part named "file".');
              }
              file = {
                name: part.filename || 'upload',
                upload: await service.saveUpload(part.file),
              };
              if (part.file.truncated) throw tooLarge(limits.maxBytes);
            } else {
              fields[part.fieldname] = String(part.value);
            }
          }
          if (!file) throw badRequest('The form has no file; send it in the part named "file".');
          const parsed = previewFields.safeParse(fields);
          if (!parsed.success) {
            throw badRequest(
              'Some import options are not valid.',
              parsed.error.issues.map((issue) => ({
                field: ['body', ...issue.path.map(String)].join('.'),
                message: issue.message,
              })),
            );
          }
          const form = parsed.data;
          const options: ImportOptions = {
            importType: form.import_type,
            allowUpdates: form.allow_updates,
            skipDuplicates: form.skip_duplicates,
            dateOrder: form.date_order,
            mapping: form.mapping,
            encoding: form.encoding,
            delimiter: form.delimiter,
            sheet: form.sheet,
          };
          return await service.preview(file.upload, file.name, options, changeContextFrom(request));
        } finally {
          await file?.upload.remove();
        }
      },
    );

    app.get(
      '/imports/:id/rows',
      {
        config: { access: 'jobs:create' },
        schema: {
          tags,
          summary: 'Page through the rows of an import preview (e.g. status=error)',
          params: previewParams,
          querystring: rowsQuery,
          response: {
            200: z.object({
              items: z.array(rowSchema),
              total: z.number().int(),
              page: z.number().int(),
              page_size: z.number().int(),
              has_next: z.boolean(),
            }),
            ...itemErrors,
          },
        },
      },
      async (request) => service.rows(request.params.id, request.query, changeContextFrom(request)),
    );

    app.get(
      '/imports/:id/errors.csv',
      {
        config: { access: 'jobs:create' },
        schema: {
          tags,
          summary: "Download an import preview's problems as CSV, to fix them in a spreadsheet",
          params: previewParams,
          response: { 200: z.string(), ...itemErrors },
        },
      },
      async (request, reply) => {
        const { fileName, csv } = await service.errorsCsv(
          request.params.id,
          changeContextFrom(request),
        );
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${fileName}"`)
          .send(csv);
      },
    );

    app.post(
      '/imports/:id/commit',
      {
        config: {
          access: 'jobs:create',
          audit: { action: 'IMPORT', resource: 'SYSTEM' },
        },
        schema: {
          tags,
          summary: 'Start the bulk_import job of a preview; answers 202 with the job',
          description:
            'Rows with errors are never written. With {"skip_errors": false} a preview that has any answers 409 and starts nothing; without a body (or with true) they are skipped.',
          params: previewParams,
          body: z.strictObject({ skip_errors: z.boolean().optional() }).nullish(),
          response: { 202: jobSchema, ...itemErrors, 409: problemSchema, 429: problemSchema },
        },
      },
      async (request, reply) => {
        const job = await service.commit(request.params.id, changeContextFrom(request), {
          skipErrors: request.body?.skip_errors,
        });
        return reply.code(202).send(job);
      },
    );
  };
}

function tooLarge(maxBytes: number) {
  return new HttpProblem(
    413,
    'payload-too-large',
    'Payload Too Large',
    `The file is larger than the import limit of ${maxBytes} bytes (IMPORT_MAX_BYTES).`,
  );
}
