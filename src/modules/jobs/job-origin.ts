import { z } from 'zod';
import type { ChangeContext } from '../../platform/http/request-context.ts';
import type { AuditOrigin } from '../audit/audit.logger.ts';

/**
 * Who started a job and from where, carried in its metadata so the audit entries the job
 * writes later, on any worker, name the person and request that asked for it.
 */
export const jobOriginSchema = z
  .object({
    user_email: z.string().nullable(),
    ip_address: z.string().nullable(),
    user_agent: z.string().nullable(),
    request_id: z.string().nullable(),
  })
  .partial()
  .default({});
export type JobOrigin = z.infer<typeof jobOriginSchema>;

/** The origin of a request, for a job's metadata. */
export function jobOriginFrom(context: ChangeContext): JobOrigin {
  return {
    user_email: context.actor?.email ?? null,
    ip_address: context.ipAddress,
    user_agent: context.userAgent,
    request_id: context.requestId,
  };
}

/** The audit origin of a job's entries: its owner and the request that started it. */
export function auditOriginOf(userId: number | null, origin: JobOrigin): AuditOrigin {
  return {
    userId,
    userEmail: origin.user_email ?? null,
    ipAddress: origin.ip_address ?? null,
    userAgent: origin.user_agent ?? null,
    requestId: origin.request_id ?? null,
  };
}
