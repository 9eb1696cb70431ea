import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { perUserKey } from '../../platform/http/auth.ts';
import { pageSchema } from '../../platform/http/pagination.ts';
import {
  commonErrorResponses,
  forbidden,
  notFound,
  problemSchema,
  unprocessable,
} from '../../platform/http/problems.ts';
import { changeContextFrom } from '../../platform/http/request-context.ts';
import type { JobManager, JobResponse } from '../jobs/jobs.manager.ts';
import type { JobRegistry } from '../jobs/jobs.registry.ts';
import { jobSchema } from '../jobs/jobs.routes.ts';
import { grants, type Permission } from '../roles/permissions.ts';
import { EMAIL_PERMISSION } from './email-batch.job.ts';
import { deliveriesQuery, deliverySchema, jobIdParams, sendEmailsBody } from './emails.schema.ts';
import type { EmailsService } from './emails.service.ts';

const tags = ['Emails'];

export interface EmailsRoutesOptions {
  emails: EmailsService;
  jobs: JobManager;
  registry: JobRegistry;
  jobsPerMinute: number;
}

/** Email batches (email_batch jobs) and their per-recipient outcomes. */
export function emailsRoutes(options: EmailsRoutesOptions) {
  const rateLimit = { max: options.jobsPerMinute, timeWindow: 60_000, keyGenerator: perUserKey };
  const holds = (request: FastifyRequest, permission: Permission) =>
    grants(request.actor?.permissions ?? [], permission);

  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.post(
      '/emails',
      {
        config: {
          access: EMAIL_PERMISSION,
          audit: { action: 'CREATE', resource: 'SYSTEM' },
          rateLimit,
        },
        schema: {
          tags,
          summary: 'Send an email to a selection of students (an email_batch job); answers 202',
          description:
            'The recipients are resolved now (at most 10,000) and kept in the job, so a retry writes to the same people and never twice to one already reached. Placeholders: {{student_name}}, {{first_name}}, {{last_name}}, {{student_id}}, and in the body {{course_results}}; any other is a 400. 422 when a course, semester or student does not exist or the selection reaches nobody. Needs emails:send and jobs:create. Messages go to SMTP_URL, or to DATA_DIR/outbox as .eml files without it.',
          body: sendEmailsBody,
          response: {
            202: jobSchema,
            ...commonErrorResponses,
            422: problemSchema,
            429: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const handler = options.registry.get('email_batch');
        if (!handler) {
          throw unprocessable('Email batches are not available in this version of Registrar.');
        }
        if (!holds(request, handler.permission)) {
          throw forbidden(`Starting email_batch jobs needs the permission ${handler.permission}.`);
        }
        const job = await options.emails.startBatch(
          request.body,
          request.actor?.id ?? null,
          changeContextFrom(request),
        );
        return reply.code(202).send(job);
      },
    );

    app.get(
      '/emails/:job_id/deliveries',
      {
        config: { access: 'jobs:read' },
        schema: {
          tags,
          summary: "An email batch's outcome per recipient (its owner or an admin)",
          description:
            'One row per recipient the batch has dealt with, in the order it did: SENT, FAILED (with the server’s answer), INVALID (no usable address) or SENDING (a run stopped mid-send; never resent). 404 for a job that is not yours (unless you are an admin) or not an email batch.',
          params: jobIdParams,
          querystring: deliveriesQuery,
          response: {
            200: pageSchema(deliverySchema),
            ...commonErrorResponses,
            404: problemSchema,
          },
        },
      },
      async (request) => {
        const { job_id: id } = request.params;
        let job: JobResponse;
        try {
          job = await options.jobs.getJob(id);
        } catch {
          throw notFound('Email batch', id);
        }
        const mine = job.user_id !== null && job.user_id === request.actor?.id;
        if (job.job_type !== 'email_batch' || (!mine && !holds(request, 'jobs:manage'))) {
          throw notFound('Email batch', id);
        }
        return options.emails.deliveries(id, request.query);
      },
    );
  };
}
