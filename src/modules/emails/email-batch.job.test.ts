import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeCourse, makeStudent } from '../../../test/support/factories.ts';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { SYSTEM_CONTEXT } from '../../platform/http/request-context.ts';
import { MailRateLimiter } from '../../platform/mail/rate-limiter.ts';
import { SmtpMailer } from '../../platform/mail/smtp.mailer.ts';
import { auditLogs } from '../audit/audit.table.ts';
import { type JobResponse, toJobResponse } from '../jobs/jobs.manager.ts';
import { jobs } from '../jobs/jobs.table.ts';
import { courseResults } from '../results/results.table.ts';
import { students } from '../students/students.table.ts';
import { emailBatchHandler, type RecipientOutcome } from './email-batch.job.ts';
import { emailDeliveries } from './emails.table.ts';
import { parseMessage, startSmtpServer, type TestSmtpServer } from './emails.test-support.ts';

let smtp: TestSmtpServer;
let t: TestApp;
/** Five students in course MATH-1, class A, each with an address. */
let classA: Array<{ id: number; student_id: string; email: string | null }>;
let mathId: number;

beforeAll(async () => {
  smtp = await startSmtpServer();
  t = await createTestApp({
    env: {
      SMTP_URL: smtp.url,
      EMAIL_FROM: 'Registrar Office <office@school.test>',
      EMAIL_RATE_PER_MINUTE: '0',
      EMAIL_MAX_ATTEMPTS: '3',
      EMAIL_RETRY_BASE_MS: '20',
      RATE_LIMIT_JOBS_PER_MINUTE: '1000',
    },
  });
  const math = await makeCourse(t.services, { course_code: 'MATH-1', course_name: 'Algebra' });
  mathId = math.id;
  classA = [];
  for (let index = 0; index < 5; index++) {
    const student = await makeStudent(t.services, {
      first_name: index === 0 ? 'Ελένη' : `First${index}`,
      last_name: `Class${index}`,
      email: `class${index}@students.test`,
      class_division: 'A',
    });
    classA.push(student);
    await t.services.enrollments.create(
      { student_id: student.id, course_id: math.id },
      SYSTEM_CONTEXT,
    );
  }
  // The recompute job's figures for the first student (written directly: that job is not under test).
  await t.database.db.insert(courseResults).values({
    student_id: classA[0]!.id,
    course_id: math.id,
    final_percentage: 87.5,
    letter_grade: 'B+',
    attendance_rate: 0.95,
  });
});

afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

beforeEach(() => {
  smtp.received.length = 0;
  smtp.tries.clear();
  smtp.rcpt = () => null;
  smtp.dataDelayMs = 0;
});

async function waitForJob(id: string, timeoutMs = 20_000): Promise<JobResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await t.services.jobs.getJob(id);
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status}`);
    await sleep(20);
  }
}

async function startBatch(payload: Record<string, unknown>): Promise<JobResponse> {
  const response = await t.request({ method: 'POST', url: '/api/v1/emails', payload });
  expect(response.statusCode, response.body).toBe(202);
  return response.json();
}

const outcomesOf = (job: JobResponse) => (job.result?.data?.outcomes ?? []) as RecipientOutcome[];

/** How many messages each address received over the whole test. */
function receivedPerAddress(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of smtp.received) {
    for (const to of message.to) counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
}

describe('email_batch over SMTP', () => {
  it('sends one message per student with the headers and placeholders filled in, and audits the batch', async () => {
    const job = await startBatch({
      recipients: { course_id: mathId },
      subject: 'Results for {{ student_name }}',
      body: 'Dear {{first_name}} {{last_name}} ({{student_id}}),\n\n{{course_results}}\n\n<b>not markup</b>',
      attach_report: 'html',
    });
    expect(job.job_type).toBe('email_batch');
    expect(job.progress.total).toBe(5);
    const done = await waitForJob(job.id);
    expect(done.status, done.error_message ?? '').toBe('COMPLETED');
    expect(done.progress.current).toBe(5);
    expect(done.result?.statistics).toMatchObject({
      recipients: 5,
      sent: 5,
      failed: 0,
      invalid: 0,
    });

    expect(smtp.received).toHaveLength(5);
    expect([...receivedPerAddress().keys()].sort()).toEqual(
      classA.map((student) => student.email).sort(),
    );
    const first = smtp.received.find((message) => message.to[0] === classA[0]!.email)!;
    const { headers, parts } = parseMessage(first.raw);
    expect(first.from).toBe('office@school.test');
    expect(headers.from).toBe('Registrar Office <office@school.test>');
    expect(headers.to).toBe(`Ελένη Class0 <${classA[0]!.email}>`);
    expect(headers.subject).toBe('Results for Ελένη Class0');
    expect(headers['message-id']).toBe(`<email-${job.id}.${classA[0]!.id}@school.test>`);
    expect(headers['auto-submitted']).toBe('auto-generated');
    const text = parts.find((part) => part.type === 'text/plain')!.content;
    expect(text).toContain(`Dear Ελένη Class0 (${classA[0]!.student_id}),`);
    expect(text).toMatch(/MATH-1\s+Algebra\s+Fall 2025\s+87\.5%\s+B\+\s+95%/);
    const html = parts.find((part) => part.type === 'text/html')!.content;
    expect(html).toContain('<td>87.5%</td>');
    expect(html).toContain('&lt;b&gt;not markup&lt;/b&gt;');
    expect(html).not.toContain('<b>not markup</b>');
    const report = parts.find((part) => part.filename !== null)!;
    expect(report.filename).toBe(`report-${classA[0]!.student_id}.html`);
    expect(report.content).toContain('<h1>Ελένη Class0</h1>');
    expect(report.content).toContain('<td>B+</td>');
    // A student without results yet gets the table with blanks, not someone else's figures.
    const second = smtp.received.find((message) => message.to[0] === classA[1]!.email)!;
    const secondText = parseMessage(second.raw).parts.find((p) => p.type === 'text/plain')!;
    expect(secondText.content).toMatch(/MATH-1\s+Algebra\s+Fall 2025\s+—\s+—\s+—/);

    const rows = await t.database.db
      .select()
      .from(emailDeliveries)
      .where(eq(emailDeliveries.job_id, job.id));
    expect(rows.map((row) => row.status)).toEqual(Array(5).fill('SENT'));

    await t.services.audit.flush();
    const [entry] = await t.database.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'OTHER'), eq(auditLogs.resource_id, job.id)));
    expect(entry?.resource).toBe('SYSTEM');
    expect(entry?.success).toBe(true);
    expect(entry?.user_id).toBe(t.users.admin);
    expect(entry?.details).toMatchObject({ job_type: 'email_batch', recipients: 5, sent: 5 });
    // The batch is recorded, not the messages.
    expect(JSON.stringify(entry?.details)).not.toContain('87.5');
    expect(JSON.stringify(entry?.details)).not.toContain('Dear');
  });

  it('retries a 451 with backoff and delivers the message once', async () => {
    const target = classA[2]!.email!;
    smtp.rcpt = (address, tries) =>
      address === target && tries === 1 ? { code: 451, text: '4.7.1 Greylisted, try again' } : null;
    const job = await startBatch({
      recipients: { student_ids: [classA[2]!.id, classA[3]!.id] },
      subject: 'Hello',
      body: 'Hello {{student_name}}',
    });
    const done = await waitForJob(job.id);
    expect(done.status).toBe('COMPLETED');
    expect(smtp.tries.get(target)).toBe(2);
    expect(receivedPerAddress().get(target)).toBe(1);
    expect(smtp.received).toHaveLength(2);
    const outcome = outcomesOf(done).find((item) => item.address === target);
    expect(outcome).toMatchObject({ status: 'SENT', attempts: 2, error: null });
  });

  it('fails only the address the server refuses with 550, and a retry of the job reaches it without resending the others', async () => {
    const refused = classA[1]!.email!;
    smtp.rcpt = (address) =>
      address === refused ? { code: 550, text: '5.1.1 No such mailbox' } : null;
    const job = await startBatch({
      recipients: { class_division: 'A' },
      subject: 'Notice',
      body: 'Hello {{first_name}}',
    });
    const failed = await waitForJob(job.id);
    expect(failed.status).toBe('FAILED');
    // A permanent refusal is not retried.
    expect(smtp.tries.get(refused)).toBe(1);
    expect(failed.result?.statistics).toMatchObject({ recipients: 5, sent: 4, failed: 1 });
    const refusedOutcome = outcomesOf(failed).find((item) => item.address === refused);
    expect(refusedOutcome?.status).toBe('FAILED');
    expect(refusedOutcome?.error).toContain('550');
    expect(smtp.received).toHaveLength(4);

    // The mailbox exists now: a retry sends to that one student only.
    smtp.rcpt = () => null;
    await t.services.jobs.retryJob(job.id);
    const retried = await waitForJob(job.id);
    expect(retried.status).toBe('COMPLETED');
    expect(retried.result?.statistics).toMatchObject({ sent: 1, already_sent: 4, failed: 0 });
    expect(smtp.received).toHaveLength(5);
    for (const student of classA) expect(receivedPerAddress().get(student.email!)).toBe(1);
  });

  it('reports missing and invalid addresses per recipient and goes on with the others', async () => {
    const noAddress = await makeStudent(t.services, { last_name: 'NoMail', class_division: 'B' });
    const badAddress = await makeStudent(t.services, {
      last_name: 'BadMail',
      class_division: 'B',
      email: 'placeholder@students.test',
    });
    const fine = await makeStudent(t.services, {
      last_name: 'Fine',
      class_division: 'B',
      email: 'fine@students.test',
    });
    // Legacy data the API would refuse today.
    await t.database.db
      .update(students)
      .set({ email: 'not an address' })
      .where(eq(students.id, badAddress.id));

    const job = await startBatch({
      recipients: { class_division: 'B' },
      subject: 'Hi',
      body: 'Hi {{first_name}}',
    });
    const done = await waitForJob(job.id);
    // Unusable addresses are warnings; the batch itself did its work.
    expect(done.status).toBe('COMPLETED');
    expect(done.result?.statistics).toMatchObject({ sent: 1, invalid: 2, failed: 0 });
    const byStudent = new Map(outcomesOf(done).map((item) => [item.student_id, item]));
    expect(byStudent.get(noAddress.id)).toMatchObject({ status: 'INVALID', address: null });
    expect(byStudent.get(badAddress.id)).toMatchObject({
      status: 'INVALID',
      address: 'not an address',
    });
    expect(byStudent.get(fine.id)?.status).toBe('SENT');
    expect(smtp.received.map((message) => message.to)).toEqual([['fine@students.test']]);
    expect(done.result?.warnings).toHaveLength(2);
  });

  it('stops before the next message when cancelled, and a retry sends exactly once to everyone', async () => {
    const many = [];
    for (let index = 0; index < 12; index++) {
      many.push(
        await makeStudent(t.services, {
          last_name: `Many${index}`,
          class_division: 'C',
          email: `many${index}@students.test`,
        }),
      );
    }
    smtp.dataDelayMs = 60;
    const job = await startBatch({
      recipients: { class_division: 'C' },
      subject: 'Hi',
      body: 'Hi {{student_name}}',
    });
    const deadline = Date.now() + 10_000;
    while (smtp.received.length < 3 && Date.now() < deadline) await sleep(5);
    await t.services.jobs.cancelJob(job.id);
    const cancelled = await waitForJob(job.id);
    expect(cancelled.status).toBe('CANCELLED');
    const sentBeforeCancel = smtp.received.length;
    expect(sentBeforeCancel).toBeGreaterThanOrEqual(3);
    expect(sentBeforeCancel).toBeLessThan(12);
    // Every message that went out is recorded SENT; nobody else has a row.
    const rows = await t.database.db
      .select()
      .from(emailDeliveries)
      .where(eq(emailDeliveries.job_id, job.id));
    expect(rows.filter((row) => row.status === 'SENT')).toHaveLength(sentBeforeCancel);
    expect(rows).toHaveLength(sentBeforeCancel);
    await sleep(200);
    expect(smtp.received).toHaveLength(sentBeforeCancel);

    smtp.dataDelayMs = 0;
    await t.services.jobs.retryJob(job.id);
    const retried = await waitForJob(job.id);
    expect(retried.status).toBe('COMPLETED');
    expect(retried.result?.statistics).toMatchObject({
      recipients: 12,
      sent: 12 - sentBeforeCancel,
      already_sent: sentBeforeCancel,
    });
    expect(smtp.received).toHaveLength(12);
    const perAddress = receivedPerAddress();
    for (const student of many) expect(perAddress.get(student.email!)).toBe(1);
  });

  it('does not resend a message a crashed run was handing over (SENDING), and reports it', async () => {
    const job = await startBatch({
      recipients: { student_ids: [classA[3]!.id, classA[4]!.id] },
      subject: 'Hi',
      body: 'Hi',
    });
    await waitForJob(job.id);
    expect(smtp.received).toHaveLength(2);
    // As if a run had died between handing classA[4]'s message over and hearing the answer,
    // and classA[3]'s had failed; the job ended FAILED.
    const setStatus = (studentId: number, status: 'FAILED' | 'SENDING') =>
      t.database.db
        .update(emailDeliveries)
        .set({ status })
        .where(and(eq(emailDeliveries.job_id, job.id), eq(emailDeliveries.student_id, studentId)));
    await setStatus(classA[3]!.id, 'FAILED');
    await setStatus(classA[4]!.id, 'SENDING');
    await t.database.db.update(jobs).set({ status: 'FAILED' }).where(eq(jobs.id, job.id));
    await t.services.jobs.retryJob(job.id);
    const retried = await waitForJob(job.id);
    expect(retried.result?.statistics).toMatchObject({ sent: 1, uncertain: 1 });
    // The first run sent both (concurrently, in either order); the retry only classA[3]'s.
    const received = smtp.received.map((message) => message.to[0]);
    expect(received.slice(0, 2).sort()).toEqual([classA[3]!.email, classA[4]!.email].sort());
    expect(received.slice(2)).toEqual([classA[3]!.email]);
  });

  it('stops the batch when the server cannot be reached, recording only the recipient it tried', async () => {
    const closed = await startSmtpServer();
    await closed.close();
    const mailer = new SmtpMailer({ url: closed.url });
    const handler = emailBatchHandler({
      db: t.database.db,
      audit: t.services.audit,
      mailer,
      limiter: new MailRateLimiter(0),
      from: 'office@school.test',
      maxAttempts: 2,
      retryBaseMs: 5,
      concurrency: 1,
    });
    // A job row for the deliveries to belong to, run here rather than by the engine.
    const [row] = await t.database.db
      .insert(jobs)
      .values({ id: randomUUID(), job_type: 'email_batch', status: 'PROCESSING', metadata: {} })
      .returning();
    const result = await handler.run({
      job: toJobResponse(row!),
      payload: handler.payload.parse({
        subject: 'Hi',
        body: 'Hi',
        student_ids: classA.map((student) => student.id),
      }),
      signal: new AbortController().signal,
      progress: async () => {},
    });
    await mailer.close();
    expect(result.success).toBe(false);
    expect(result.message).toContain('could not be reached');
    expect(result.statistics).toMatchObject({ recipients: 5, failed: 1, not_processed: 4 });
    const rows = await t.database.db
      .select()
      .from(emailDeliveries)
      .where(eq(emailDeliveries.job_id, row!.id));
    expect(
      rows.map((delivery) => [delivery.student_id, delivery.status, delivery.attempts]),
    ).toEqual([[classA[0]!.id, 'FAILED', 2]]);
  });

  it('classifies a server that cannot be reached as a temporary failure without a reply code', async () => {
    const closed = await startSmtpServer();
    const url = closed.url;
    await closed.close();
    const mailer = new SmtpMailer({ url });
    await expect(
      mailer.send({
        from: 'a@school.test',
        to: { name: 'B', address: 'b@school.test' },
        subject: 's',
        text: 't',
        html: 'h',
        messageId: '<m@school.test>',
      }),
    ).rejects.toMatchObject({ kind: 'temporary', responseCode: undefined });
    await mailer.close();
  });
});
