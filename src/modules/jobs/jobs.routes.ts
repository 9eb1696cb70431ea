import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { EventBus } from '../../platform/events/event-bus.ts';
import { perUserKey } from '../../platform/http/auth.ts';
import { MAX_PAGE_SIZE } from '../../platform/http/pagination.ts';
import {
  commonErrorResponses,
  forbidden,
  notFound,
  problemSchema,
  unprocessable,
} from '../../platform/http/problems.ts';
import { changeContextFrom } from '../../platform/http/request-context.ts';
import { grants } from '../roles/permissions.ts';
import { JOB_STATUSES, JOB_TYPES } from './jobs.constants.ts';
import { JOB_EVENTS, type JobEvent, type JobManager, type JobResponse } from './jobs.manager.ts';
import type { JobRegistry } from './jobs.registry.ts';

const progressSchema = z.object({
  current: z.number(),
  total: z.number(),
  percentage: z.number(),
  message: z.string().nullable(),
  processed_items: z.number(),
  failed_items: z.number(),
  skipped_items: z.number(),
});

export const jobSchema = z
  .object({
    id: z.string(),
    job_type: z.enum(JOB_TYPES),
    status: z.enum(JOB_STATUSES),
    priority: z.number().int(),
    user_id: z.number().int().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    progress: progressSchema,
    result: z
      .object({
        success: z.boolean(),
        message: z.string().nullable(),
        data: z.record(z.string(), z.unknown()).nullable(),
        errors: z.array(z.unknown()),
        warnings: z.array(z.unknown()),
        statistics: z.record(z.string(), z.number()).nullable(),
      })
      .nullable(),
    error_message: z.string().nullable(),
    attempts: z.number().int(),
    max_attempts: z.number().int(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    expires_at: z.string().nullable(),
    cancel_requested_at: z.string().nullable(),
  })
  .meta({ id: 'Job' });

const jobIdParams = z.object({ id: z.uuid({ message: 'must be a job id (UUID)' }) });

const createJobBody = z.strictObject({
  job_type: z.enum(JOB_TYPES),
  priority: z.number().int().min(1).max(10).default(5),
  metadata: z.record(z.string(), z.unknown()).default({}),
  total_items: z.number().int().min(0).max(100_000_000).optional(),
});

const listQuery = z
  .strictObject({
    user_id: z.coerce.number().int().min(1).optional(),
    status: z.enum(JOB_STATUSES).optional(),
    job_type: z.enum(JOB_TYPES).optional(),
    created_from: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
    created_to: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
    page: z.coerce.number().int().min(1).max(1_000_000).default(1),
    page_size: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  })
  .refine(
    (query) => !query.created_from || !query.created_to || query.created_from <= query.created_to,
    {
      message: 'created_from must not be after created_to',
      path: ['created_from'],
    },
  );

const jobListSchema = z.object({
  jobs: z.array(jobSchema),
  total: z.number().int(),
  page: z.number().int(),
  page_size: z.number().int(),
  has_next: z.boolean(),
});

const tags = ['Jobs'];
const itemErrors = { ...commonErrorResponses, 404: problemSchema };

/** Admins (jobs:manage) see and control every job; everyone else only their own. */
function canManage(request: FastifyRequest): boolean {
  return grants(request.actor?.permissions ?? [], 'jobs:manage');
}

export function jobsRoutes(
  manager: JobManager,
  registry: JobRegistry,
  bus: EventBus,
  createsPerMinute: number,
) {
  /** A job the caller may see; others' jobs are 404, not 403, so their ids leak nothing. */
  async function visibleJob(request: FastifyRequest, id: string): Promise<JobResponse> {
    const job = await manager.getJob(id);
    if (!canManage(request) && job.user_id !== request.actor?.id) throw notFound('Job', id);
    return job;
  }

  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.post(
      '/jobs',
      {
        config: {
          access: 'jobs:create',
          audit: { action: 'CREATE', resource: 'SYSTEM' },
          rateLimit: { max: createsPerMinute, timeWindow: 60_000, keyGenerator: perUserKey },
        },
        schema: {
          tags,
          summary: 'Start a background job; answers 202 with the job',
          body: createJobBody,
          response: {
            202: jobSchema,
            ...commonErrorResponses,
            422: problemSchema,
            429: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { job_type, priority, metadata, total_items } = request.body;
        const handler = registry.get(job_type);
        if (!handler) {
          throw unprocessable(
            `Job type ${job_type} is not available in this version of Registrar.`,
            [{ field: 'body.job_type', message: 'has no handler yet' }],
          );
        }
        if (!grants(request.actor?.permissions ?? [], handler.permission)) {
          throw forbidden(`Starting ${job_type} jobs needs the permission ${handler.permission}.`);
        }
        const payload = handler.payload.safeParse(metadata);
        if (!payload.success) {
          throw unprocessable(
            'The job metadata is not valid for this job type.',
            payload.error.issues.map((issue) => ({
              field: ['body', 'metadata', ...issue.path.map(String)].join('.'),
              message: issue.message,
            })),
          );
        }
        const job = await manager.createJob(
          {
            jobType: job_type,
            userId: request.actor?.id ?? null,
            priority,
            metadata: payload.data as Record<string, unknown>,
            ...(total_items === undefined ? {} : { totalItems: total_items }),
          },
          changeContextFrom(request),
        );
        return reply.code(202).send(job);
      },
    );

    app.get(
      '/jobs',
      {
        config: { access: 'jobs:read' },
        schema: {
          tags,
          summary: 'List jobs, newest first (your own; admins everyone’s)',
          querystring: listQuery,
          response: { 200: jobListSchema, ...commonErrorResponses },
        },
      },
      async (request) => {
        const query = request.query;
        const userId = canManage(request) ? query.user_id : request.actor?.id;
        const page = await manager.listJobs({
          userId,
          status: query.status,
          jobType: query.job_type,
          createdFrom: query.created_from,
          createdTo: query.created_to,
          page: query.page,
          pageSize: query.page_size,
        });
        return {
          jobs: page.items,
          total: page.total,
          page: page.page,
          page_size: page.page_size,
          has_next: page.has_next,
        };
      },
    );

    app.get(
      '/jobs/:id',
      {
        config: { access: 'jobs:read' },
        schema: {
          tags,
          summary: 'One job with its status and progress',
          params: jobIdParams,
          response: { 200: jobSchema, ...itemErrors },
        },
      },
      async (request) => visibleJob(request, request.params.id),
    );

    app.post(
      '/jobs/:id/cancel',
      {
        config: { access: 'jobs:read', audit: { action: 'UPDATE', resource: 'SYSTEM' } },
        schema: {
          tags,
          summary: 'Cancel a job (409 when it has already ended)',
          params: jobIdParams,
          response: { 200: jobSchema, ...itemErrors, 409: problemSchema },
        },
      },
      async (request) => {
        await visibleJob(request, request.params.id);
        return manager.cancelJob(request.params.id, changeContextFrom(request));
      },
    );

    app.post(
      '/jobs/:id/retry',
      {
        config: { access: 'jobs:read', audit: { action: 'UPDATE', resource: 'SYSTEM' } },
        schema: {
          tags,
          summary: 'Run a FAILED or CANCELLED job again as a new attempt',
          params: jobIdParams,
          response: { 200: jobSchema, ...itemErrors, 409: problemSchema },
        },
      },
      async (request) => {
        await visibleJob(request, request.params.id);
        return manager.retryJob(request.params.id, changeContextFrom(request));
      },
    );

    app.delete(
      '/jobs/:id',
      {
        config: { access: 'jobs:manage', audit: { action: 'DELETE', resource: 'SYSTEM' } },
        schema: {
          tags,
          summary: 'Delete a job that is not running (admins)',
          params: jobIdParams,
          response: { 204: z.null(), ...itemErrors, 409: problemSchema },
        },
      },
      async (request, reply) => {
        await manager.deleteJob(request.params.id, changeContextFrom(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/jobs/:id/events',
      {
        config: { access: 'jobs:read' },
        schema: {
          tags,
          summary: 'Server-Sent Events: the job now, then every change until it ends',
          params: jobIdParams,
          response: { ...itemErrors },
        },
      },
      async (request, reply) => {
        const job = await visibleJob(request, request.params.id);
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-request-id': String(request.id),
        });
        const send = (event: string, data: JobResponse) => {
          raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        };
        let ended = false;
        const end = () => {
          if (ended) return;
          ended = true;
          unsubscribe();
          clearInterval(keepAlive);
          raw.end();
        };
        const unsubscribe = bus.subscribe(JOB_EVENTS, (message) => {
          const event = message as JobEvent;
          if (event.job.id !== job.id) return;
          send(event.type, event.job);
          if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(event.job.status)) end();
        });
        const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
        keepAlive.unref();
        request.raw.on('close', end);
        // The current state first, so a client that reconnects misses nothing.
        const current = await manager.getJob(job.id);
        send('status', current);
        if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(current.status)) end();
      },
    );
  };
}
