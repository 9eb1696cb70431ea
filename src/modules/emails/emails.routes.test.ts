import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCourse, makeStudent } from '../../../test/support/factories.ts';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { SYSTEM_CONTEXT } from '../../platform/http/request-context.ts';
import { outboxDir } from '../../platform/mail/outbox.mailer.ts';
import type { JobResponse } from '../jobs/jobs.manager.ts';
import { parseMessage } from './emails.test-support.ts';

let t: TestApp;
let fallId: number;
/** Enrolled in a Fall 2025 course: two active students, one inactive. */
let active: Array<{ id: number; email: string | null }>;
let inactive: { id: number };

beforeAll(async () => {
  // No SMTP_URL: the embedded default writes the outbox.
  t = await createTestApp({
    env: { EMAIL_RATE_PER_MINUTE: '0', RATE_LIMIT_JOBS_PER_MINUTE: '1000' },
  });
  const fall = await makeCourse(t.services, { course_code: 'HIST-1', semester: 'Fall 2025' });
  fallId = fall.id;
  await makeCourse(t.services, { course_code: 'ART-9', semester: 'Spring 2026' });
  active = [];
  for (let index = 0; index < 2; index++) {
    const student = await makeStudent(t.services, {
      first_name: `Active${index}`,
      email: `active${index}@students.test`,
    });
    active.push(student);
    await t.services.enrollments.create(
      { student_id: student.id, course_id: fall.id },
      SYSTEM_CONTEXT,
    );
  }
  inactive = await makeStudent(t.services, {
    first_name: 'Gone',
    email: 'gone@students.test',
    is_active: false,
  });
  await t.services.enrollments.create(
    { student_id: inactive.id, course_id: fall.id },
    SYSTEM_CONTEXT,
  );
});

afterAll(async () => {
  await t?.close();
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

const send = (payload: unknown, as: 'admin' | 'teacher' | 'viewer' | null = 'admin') =>
  t.request({ method: 'POST', url: '/api/v1/emails', payload: payload as object, as });

const valid = {
  subject: 'Hello {{first_name}}',
  body: 'Dear {{student_name}},\n{{course_results}}',
};

describe('POST /api/v1/emails', () => {
  it('is for holders of emails:send: teachers and viewers get 403, anonymous 401', async () => {
    const body = { ...valid, recipients: { course_id: fallId } };
    expect((await send(body, null)).statusCode).toBe(401);
    for (const role of ['teacher', 'viewer'] as const) {
      const response = await send(body, role);
      expect(response.statusCode).toBe(403);
      expect(response.json().detail).toContain('emails:send');
    }
  });

  it('answers 400 problem+json naming unknown placeholders and other bad fields', async () => {
    const unknown = await send({
      recipients: { course_id: fallId },
      subject: 'Hi {{course_results}}',
      body: 'Hi {{ nickname }} and {{password}}',
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    const fields = unknown.json().errors as Array<{ field: string; message: string }>;
    expect(fields.find((issue) => issue.field === 'body.body')?.message).toContain(
      '{{nickname}}, {{password}}',
    );
    expect(fields.find((issue) => issue.field === 'body.subject')?.message).toContain(
      '{{course_results}}',
    );

    const cases: Array<[unknown, string]> = [
      [{ ...valid, recipients: {} }, 'body.recipients'],
      [{ ...valid, subject: 'two\nlines', recipients: { course_id: fallId } }, 'body.subject'],
      [{ ...valid, recipients: { course_id: 'x' } }, 'body.recipients.course_id'],
      [{ ...valid, recipients: { course_id: fallId }, attach_report: 'pdf' }, 'body.attach_report'],
      [{ ...valid, recipients: { course_id: fallId }, bcc: 'all@x.test' }, 'body'],
      [{ ...valid, body: '', recipients: { course_id: fallId } }, 'body.body'],
    ];
    for (const [payload, field] of cases) {
      const response = await send(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      const issues = response.json().errors as Array<{ field: string }>;
      expect(
        issues.some((issue) => issue.field === field),
        `${JSON.stringify(payload)} -> ${JSON.stringify(issues)}`,
      ).toBe(true);
    }
  });

  it('answers 422 for an unknown course, semester or student and for a selection that reaches nobody', async () => {
    const cases: Array<[object, string]> = [
      [{ course_id: 999_999 }, 'body.recipients.course_id'],
      [{ semester: 'Winter 1999' }, 'body.recipients.semester'],
      [{ student_ids: [active[0]!.id, 999_998] }, 'body.recipients.student_ids'],
      [{ class_division: 'Nobody' }, 'body.recipients'],
      // Spring has a course but nobody enrolled in it.
      [{ semester: 'Spring 2026' }, 'body.recipients'],
    ];
    for (const [recipients, field] of cases) {
      const response = await send({ ...valid, recipients });
      expect(response.statusCode, JSON.stringify(recipients)).toBe(422);
      expect(response.json().errors?.[0]?.field).toBe(field);
    }
    const unknownStudent = await send({ ...valid, recipients: { student_ids: [999_998] } });
    expect(unknownStudent.json().detail).toContain('999998');
  });

  it('resolves a semester to its active students when the job is created, and keeps them', async () => {
    const response = await send({ ...valid, recipients: { semester: 'Fall 2025' } });
    expect(response.statusCode).toBe(202);
    const job = response.json() as JobResponse;
    expect(job.metadata.student_ids).toEqual(active.map((student) => student.id));
    expect(job.metadata.results_course_ids).toEqual([fallId]);
    // Named explicitly, an inactive student is written to.
    const explicit = await send({ ...valid, recipients: { student_ids: [inactive.id] } });
    expect((explicit.json() as JobResponse).metadata.student_ids).toEqual([inactive.id]);
    await waitForJob(job.id);
    await waitForJob(explicit.json().id);
  });
});

describe('outbox mode (no SMTP_URL)', () => {
  it('writes each message as an .eml file in DATA_DIR/outbox and lists the deliveries', async () => {
    const response = await send({ ...valid, recipients: { course_id: fallId } });
    const job = await waitForJob(response.json().id);
    expect(job.status).toBe('COMPLETED');
    expect(job.result?.data?.transport).toBe('outbox');

    const dir = outboxDir(t.config.dataDir);
    const files = readdirSync(dir).filter((name) => name.includes(job.id));
    expect(files.sort()).toEqual(
      active.map((student) => `email-${job.id}.${student.id}@localhost.eml`).sort(),
    );
    const raw = readFileSync(path.join(dir, files[0]!), 'utf8');
    expect(raw).toContain('\r\n');
    const { headers, parts } = parseMessage(raw);
    expect(headers.from).toBe('Registrar <registrar@localhost>');
    expect(headers['message-id']).toBe(`<${files[0]!.replace(/\.eml$/, '')}>`);
    expect(headers.to).toMatch(/<active\d@students\.test>$/);
    expect(parts.map((part) => part.type)).toEqual(['text/plain', 'text/html']);
    expect(parts[0]!.content).toContain('HIST-1');

    const page = await t.request({
      method: 'GET',
      url: `/api/v1/emails/${job.id}/deliveries?page_size=1`,
    });
    expect(page.statusCode).toBe(200);
    expect(page.json()).toMatchObject({ total: 2, page: 1, page_size: 1, has_next: true });
    expect(page.json().items[0]).toMatchObject({ status: 'SENT', attempts: 1 });
    const failedOnly = await t.request({
      method: 'GET',
      url: `/api/v1/emails/${job.id}/deliveries?status=FAILED`,
    });
    expect(failedOnly.json()).toMatchObject({ total: 0, items: [] });

    // Someone else's batch is not found; neither is a job of another type or an unknown id.
    const teacher = await t.request({
      method: 'GET',
      url: `/api/v1/emails/${job.id}/deliveries`,
      as: 'teacher',
    });
    expect(teacher.statusCode).toBe(404);
    const other = await t.services.jobs.createJob({
      jobType: 'cleanup',
      userId: t.users.admin,
    });
    for (const id of [other.id, '00000000-0000-4000-8000-000000000000']) {
      const missing = await t.request({ method: 'GET', url: `/api/v1/emails/${id}/deliveries` });
      expect(missing.statusCode).toBe(404);
    }
    const badId = await t.request({ method: 'GET', url: '/api/v1/emails/nope/deliveries' });
    expect(badId.statusCode).toBe(400);
  });
});

describe('email_batch through POST /api/v1/jobs', () => {
  it('validates the placeholders of the metadata', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/jobs',
      payload: {
        job_type: 'email_batch',
        metadata: { subject: 'x', body: '{{secret}}', student_ids: [active[0]!.id] },
      },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().errors[0].field).toBe('body.metadata.body');
  });

  it('refuses to send for an owner without emails:send (a teacher holds jobs:create)', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/jobs',
      as: 'teacher',
      payload: {
        job_type: 'email_batch',
        metadata: { subject: 'x', body: 'y', student_ids: [active[0]!.id] },
      },
    });
    expect(response.statusCode).toBe(202);
    const job = await waitForJob(response.json().id);
    expect(job.status).toBe('FAILED');
    expect(job.error_message).toContain('emails:send');
    const files = readdirSync(outboxDir(t.config.dataDir)).filter((name) => name.includes(job.id));
    expect(files).toEqual([]);
  });
});

describe('OpenAPI', () => {
  it('documents the email routes', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(document.paths['/api/v1/emails']?.post).toBeDefined();
    expect(document.paths['/api/v1/emails/{job_id}/deliveries']?.get).toBeDefined();
  });
});
