import { z } from 'zod';
import { jobOriginSchema } from '../jobs/job-origin.ts';
import { EMAIL_DELIVERY_STATUSES } from './emails.table.ts';
import {
  PLACEHOLDERS,
  type Placeholder,
  SUBJECT_PLACEHOLDERS,
  unknownPlaceholders,
} from './emails.template.ts';

/** At most this many recipients in one batch: a school, not a newsletter. */
export const MAX_EMAIL_RECIPIENTS = 10_000;

const rowId = z.number().int().min(1).max(2_147_483_647);

export const recipientSelection = z
  .strictObject({
    course_id: rowId.optional().describe('Students actively enrolled in this course'),
    semester: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .describe("Students actively enrolled in any of this semester's courses"),
    class_division: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .describe('Students of this class division'),
    student_ids: z
      .array(rowId)
      .min(1)
      .max(MAX_EMAIL_RECIPIENTS)
      .optional()
      .describe('These students (their record ids), active or not'),
  })
  .refine(
    (value) =>
      value.course_id !== undefined ||
      value.semester !== undefined ||
      value.class_division !== undefined ||
      value.student_ids !== undefined,
    { message: 'name a course_id, semester, class_division or student_ids' },
  )
  .describe(
    'Who receives the message. Each criterion given narrows the selection (a course and a class division: that class in that course). Course, semester and class selections reach active students only.',
  );

export type RecipientSelection = z.infer<typeof recipientSelection>;

const subjectField = z
  .string()
  .trim()
  .min(1)
  .max(250)
  .refine((value) => !/[\r\n]/.test(value), { message: 'must be one line' });

const bodyField = z.string().min(1).max(100_000);

const attachReportField = z
  .enum(['none', 'html'])
  .default('none')
  .describe("html attaches each student's report (details and course results) as an HTML file");

/** Refuses placeholders the template language does not know, naming each one. */
function checkPlaceholders(
  value: { subject: string; body: string },
  ctx: z.RefinementCtx,
  at: { subject: string[]; body: string[] },
) {
  const report = (template: string, allowed: readonly Placeholder[], path: string[]) => {
    const unknown = unknownPlaceholders(template, allowed);
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `unknown placeholder${unknown.length === 1 ? '' : 's'} ${unknown.map((name) => `{{${name}}}`).join(', ')}; use ${allowed.map((name) => `{{${name}}}`).join(', ')}`,
      });
    }
  };
  report(value.subject, SUBJECT_PLACEHOLDERS, at.subject);
  report(value.body, PLACEHOLDERS, at.body);
}

export const sendEmailsBody = z
  .strictObject({
    recipients: recipientSelection,
    subject: subjectField.describe(
      'One line; may use {{student_name}}, {{first_name}}, {{last_name}}, {{student_id}}',
    ),
    body: bodyField.describe(
      'Plain text with placeholders: {{student_name}}, {{first_name}}, {{last_name}}, {{student_id}}, {{course_results}} (a table of the courses in the selection, or all of the student’s courses). Sent as text and as HTML.',
    ),
    attach_report: attachReportField,
  })
  .superRefine((value, ctx) =>
    checkPlaceholders(value, ctx, { subject: ['subject'], body: ['body'] }),
  );

export type SendEmailsBody = z.infer<typeof sendEmailsBody>;

/**
 * An email_batch job's metadata. The recipients were resolved when the job was created, so a
 * retry writes to the same people; names and addresses are read when each message goes out.
 */
export const emailBatchPayload = z
  .strictObject({
    subject: subjectField,
    body: bodyField,
    attach_report: attachReportField,
    student_ids: z.array(rowId).min(1).max(MAX_EMAIL_RECIPIENTS),
    /** The courses {{course_results}} and the report show; null: all of the student's courses. */
    results_course_ids: z.array(rowId).max(10_000).nullable().default(null),
    /** The selection as asked, for the record. */
    selection: recipientSelection.optional(),
    origin: jobOriginSchema,
  })
  .superRefine((value, ctx) =>
    checkPlaceholders(value, ctx, { subject: ['subject'], body: ['body'] }),
  );

export type EmailBatchPayload = z.infer<typeof emailBatchPayload>;

export const deliverySchema = z
  .object({
    student_id: z.number().int().describe('The student record id'),
    address: z.string().nullable(),
    status: z
      .enum(EMAIL_DELIVERY_STATUSES)
      .describe(
        'SENT: the server accepted it; FAILED: refused or still deferred after the retries; INVALID: no usable address; SENDING: a run stopped while handing it over (never resent)',
      ),
    attempts: z.number().int(),
    message_id: z.string().nullable(),
    error_message: z.string().nullable(),
    updated_at: z.string(),
  })
  .meta({ id: 'EmailDelivery' });

export type DeliveryResponse = z.infer<typeof deliverySchema>;

export const deliveriesQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  page_size: z.coerce.number().int().min(1).max(500).default(50),
  status: z.enum(EMAIL_DELIVERY_STATUSES).optional(),
});

export const jobIdParams = z.object({ job_id: z.uuid({ message: 'must be a job id (UUID)' }) });
