import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Database } from '../../platform/db/client.ts';
import { domainOf, MailError, type Mailer, type MailMessage } from '../../platform/mail/mailer.ts';
import type { MailRateLimiter } from '../../platform/mail/rate-limiter.ts';
import type { AuditLogger } from '../audit/audit.logger.ts';
import { auditOriginOf } from '../jobs/job-origin.ts';
import { jobOwner } from '../jobs/job-owner.ts';
import type { HandlerResult, JobHandler } from '../jobs/jobs.registry.ts';
import { grants, type Permission } from '../roles/permissions.ts';
import {
  type EmailBatchPayload,
  emailBatchPayload,
  type RecipientSelection,
} from './emails.schema.ts';
import {
  courseResultLines,
  type DeliveryOutcome,
  deliveriesByStudent,
  type RecipientRecord,
  recipientRecords,
  recordDelivery,
} from './emails.service.ts';
import {
  type CourseResultLine,
  compileTemplate,
  renderBody,
  renderReport,
  renderSubject,
  usesPlaceholder,
} from './emails.template.ts';

/** Who may send email batches (checked again when the job runs). */
export const EMAIL_PERMISSION: Permission = 'emails:send';

/** Students read from the database at a time. */
const CHUNK = 200;

const PROGRESS_INTERVAL_MS = 250;

const validAddress = z.email();

/** What happened to one recipient in this run. */
export interface RecipientOutcome {
  student_id: number;
  address: string | null;
  status: 'SENT' | 'ALREADY_SENT' | 'FAILED' | 'INVALID' | 'UNCERTAIN';
  attempts: number;
  error: string | null;
}

export interface EmailBatchDeps {
  db: Database;
  audit: AuditLogger;
  mailer: Mailer;
  limiter: MailRateLimiter;
  from: string;
  /** Tries per message on a temporary failure (4xx or no answer). */
  maxAttempts: number;
  /** Wait before the second try; doubles each time. */
  retryBaseMs: number;
  /** Messages in flight at once (the SMTP pool keeps as many connections). */
  concurrency: number;
}

interface ChunkData {
  records: Map<number, RecipientRecord>;
  results: Map<number, CourseResultLine[]>;
}

/** The Message-ID of a job's message to a student: the same on every try and every retry. */
export function messageIdFor(jobId: string, studentId: number, from: string): string {
  return `<email-${jobId}.${studentId}@${domainOf(from)}>`;
}

/**
 * email_batch: writes to each resolved recipient in order. A recipient already SENT (or left
 * SENDING by a run that died mid-send) is skipped, so a retry reaches only those not yet
 * reached; a missing or invalid address is recorded INVALID and the batch goes on; an SMTP 4xx
 * is tried again with backoff, a 5xx fails that recipient at once. Each outcome is written as
 * soon as it is known, progress counts every recipient, and a cancel stops before the next
 * message. The owner's emails:send is checked when the job runs, because POST /api/v1/jobs
 * can start this job type too.
 */
export function emailBatchHandler(deps: EmailBatchDeps): JobHandler<EmailBatchPayload> {
  return {
    payload: emailBatchPayload,
    permission: 'jobs:create',
    async run({ job, payload, signal, progress }): Promise<HandlerResult> {
      if (
        job.user_id !== null &&
        !grants((await jobOwner(deps.db, job.user_id))?.permissions ?? [], EMAIL_PERMISSION)
      ) {
        return {
          success: false,
          message: `Sending email needs the permission ${EMAIL_PERMISSION}, which the job's owner does not hold.`,
        };
      }
      const origin = auditOriginOf(job.user_id, payload.origin);
      const subject = compileTemplate(payload.subject);
      const body = compileTemplate(payload.body);
      const needsResults =
        usesPlaceholder(body, 'course_results') || payload.attach_report === 'html';
      const ids = payload.student_ids;
      const total = ids.length;
      const earlier = await deliveriesByStudent(deps.db, job.id);

      const byStudent = new Map<number, RecipientOutcome>();
      const counts = { sent: 0, already_sent: 0, failed: 0, invalid: 0, uncertain: 0 };
      /** Set when the server cannot be reached at all: the batch stops, a retry resumes it. */
      const stopped: { unreachable: MailError | null } = { unreachable: null };
      let reportedAt = 0;
      const report = async () => {
        reportedAt = performance.now();
        await progress({
          current: byStudent.size,
          total,
          message: `Processed ${byStudent.size} of ${total} recipients`,
          processed_items: counts.sent + counts.already_sent,
          failed_items: counts.failed + counts.invalid,
          skipped_items: counts.already_sent + counts.uncertain,
        });
      };
      // Counted per recipient, written at most every PROGRESS_INTERVAL_MS (and at the end):
      // a write per message would cost as much as the sending (docs/DECISIONS.md).
      const finished = async (studentId: number, outcome: RecipientOutcome) => {
        byStudent.set(studentId, outcome);
        if (performance.now() - reportedAt >= PROGRESS_INTERVAL_MS) await report();
      };
      const record = async (studentId: number, outcome: DeliveryOutcome) => {
        await recordDelivery(deps.db, job.id, studentId, outcome);
      };

      await progress({ current: 0, total, message: `Sending to ${total} recipients` });
      /** Whether a worker may start another recipient. */
      const going = () => !signal.aborted && stopped.unreachable === null;
      const handle = async (studentId: number, found: ChunkData): Promise<void> => {
        const before = earlier.get(studentId);
        if (before?.status === 'SENT' || before?.status === 'SENDING') {
          const sent = before.status === 'SENT';
          if (sent) counts.already_sent++;
          else counts.uncertain++;
          await finished(studentId, {
            student_id: studentId,
            address: before.address,
            status: sent ? 'ALREADY_SENT' : 'UNCERTAIN',
            attempts: before.attempts,
            error: sent
              ? null
              : 'An earlier run stopped while handing this message to the server; it is not sent again.',
          });
          return;
        }
        const student: RecipientRecord | undefined = found.records.get(studentId);
        const address = student?.email?.trim() || null;
        const problem = !student
          ? 'The student no longer exists.'
          : !address
            ? 'The student has no e-mail address.'
            : !validAddress.safeParse(address).success
              ? 'The e-mail address is not valid.'
              : null;
        if (problem !== null || !student || !address) {
          const error = problem ?? 'The student has no e-mail address.';
          await record(studentId, {
            status: 'INVALID',
            address,
            attempts: 0,
            messageId: null,
            error,
          });
          counts.invalid++;
          await finished(studentId, {
            student_id: studentId,
            address,
            status: 'INVALID',
            attempts: 0,
            error,
          });
          return;
        }

        const lines = found.results.get(studentId) ?? [];
        const rendered = renderBody(body, student, lines);
        const messageId = messageIdFor(job.id, studentId, deps.from);
        const message: MailMessage = {
          from: deps.from,
          to: { name: `${student.first_name} ${student.last_name}`, address },
          subject: renderSubject(subject, student),
          text: rendered.text,
          html: rendered.html,
          messageId,
          headers: { 'Auto-Submitted': 'auto-generated', 'X-Registrar-Job': job.id },
          ...(payload.attach_report === 'html'
            ? { attachments: [renderReport(student, lines, new Date())] }
            : {}),
        };
        const outcome = await deliver(deps, message, signal, async (attempts) => {
          await record(studentId, { status: 'SENDING', address, attempts, messageId, error: null });
        });
        // Cancelled before the message ever left: nothing to record, a retry sends it.
        if (outcome.cancelled && outcome.attempts === 0) return;
        const error = outcome.error?.message ?? null;
        await record(studentId, {
          status: outcome.sent ? 'SENT' : 'FAILED',
          address,
          attempts: outcome.attempts,
          messageId,
          error,
        });
        if (outcome.sent) counts.sent++;
        else counts.failed++;
        await finished(studentId, {
          student_id: studentId,
          address,
          status: outcome.sent ? 'SENT' : 'FAILED',
          attempts: outcome.attempts,
          error,
        });
        const noAnswer =
          outcome.error?.kind === 'temporary' && outcome.error.responseCode === undefined;
        if (noAnswer && !outcome.cancelled && outcome.error) stopped.unreachable = outcome.error;
      };

      for (let start = 0; start < total && going(); start += CHUNK) {
        const chunk = ids.slice(start, start + CHUNK);
        const pending = chunk.filter((id) => {
          const status = earlier.get(id)?.status;
          return status !== 'SENT' && status !== 'SENDING';
        });
        const found: ChunkData = {
          records: pending.length > 0 ? await recipientRecords(deps.db, pending) : new Map(),
          results:
            needsResults && pending.length > 0
              ? await courseResultLines(deps.db, pending, payload.results_course_ids)
              : new Map(),
        };
        // A few messages in flight at once: the server's answer for one overlaps the
        // database writes of the others. Each worker checks for a cancel before the next.
        let next = 0;
        const worker = async () => {
          while (going() && next < chunk.length) {
            const studentId = chunk[next++] as number;
            await handle(studentId, found);
          }
        };
        await Promise.all(Array.from({ length: Math.max(1, deps.concurrency) }, worker));
      }

      await report();
      // In the order of the batch, whatever order the workers finished in.
      const outcomes = ids.flatMap((id) => {
        const outcome = byStudent.get(id);
        return outcome ? [outcome] : [];
      });
      const notProcessed = total - outcomes.length;
      const cancelled = signal.aborted && notProcessed > 0;
      const statistics = { recipients: total, ...counts, not_processed: notProcessed };
      const reached = counts.sent + counts.already_sent;
      const { unreachable } = stopped;
      const message = unreachable
        ? `Stopped: the mail server could not be reached (${unreachable.message}). ${reached} of ${total} reached; retry the job to go on.`
        : cancelled
          ? `Cancelled after ${outcomes.length} of ${total} recipients; ${reached} reached. Retrying the job sends only to those not reached.`
          : `Sent ${counts.sent} messages${counts.already_sent ? ` (${counts.already_sent} reached earlier)` : ''}: ${counts.failed} failed, ${counts.invalid} without a usable address.`;
      const success = !cancelled && !unreachable && counts.failed === 0;
      await deps.audit.logAction(
        {
          action: 'OTHER',
          resource: 'SYSTEM',
          resourceId: job.id,
          details: {
            job_type: 'email_batch',
            operation: 'email_batch',
            transport: deps.mailer.kind,
            attach_report: payload.attach_report,
            ...(payload.selection ? { selection: selectionSummary(payload.selection) } : {}),
            ...statistics,
            ...(cancelled ? { cancelled: true } : {}),
          },
          success,
          errorMessage: success ? null : message,
        },
        origin,
      );
      return {
        success,
        message,
        data: {
          transport: deps.mailer.kind,
          ...statistics,
          cancelled,
          outcomes,
        },
        statistics,
        errors: outcomes.filter((outcome) => outcome.status === 'FAILED'),
        warnings: outcomes.filter(
          (outcome) => outcome.status === 'INVALID' || outcome.status === 'UNCERTAIN',
        ),
      };
    },
  };
}

/** The selection for the audit trail: a list of students is counted, not copied. */
function selectionSummary(selection: RecipientSelection): Record<string, unknown> {
  const { student_ids: ids, ...rest } = selection;
  return ids ? { ...rest, student_ids_count: ids.length } : rest;
}

/**
 * Hands one message to the mailer: waits for the rate limit, tries again after a temporary
 * failure (4xx, no answer) with a doubling wait, and gives up at once on a permanent one.
 * `beforeFirstTry` records SENDING just before the message first leaves.
 */
async function deliver(
  deps: EmailBatchDeps,
  message: MailMessage,
  signal: AbortSignal,
  beforeFirstTry: (attempts: number) => Promise<void>,
): Promise<{ sent: boolean; attempts: number; error?: MailError; cancelled?: boolean }> {
  let lastError: MailError | undefined;
  for (let attempt = 1; attempt <= deps.maxAttempts; attempt++) {
    try {
      if (attempt > 1) {
        await sleep(deps.retryBaseMs * 2 ** (attempt - 2), undefined, { signal });
      }
      await deps.limiter.take(signal);
    } catch {
      // Cancelled while waiting: the message did not leave on this try.
      const error = new MailError(
        lastError ? `Cancelled before retrying: ${lastError.message}` : 'Cancelled before sending.',
        'temporary',
        lastError?.responseCode,
      );
      return { sent: false, attempts: attempt - 1, error, cancelled: true };
    }
    if (attempt === 1) await beforeFirstTry(attempt);
    try {
      await deps.mailer.send(message);
      return { sent: true, attempts: attempt };
    } catch (error) {
      lastError =
        error instanceof MailError
          ? error
          : new MailError(error instanceof Error ? error.message : String(error), 'temporary');
      if (lastError.kind === 'permanent')
        return { sent: false, attempts: attempt, error: lastError };
    }
  }
  return {
    sent: false,
    attempts: deps.maxAttempts,
    ...(lastError ? { error: lastError } : {}),
  };
}
