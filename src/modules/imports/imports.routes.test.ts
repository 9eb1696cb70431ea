import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, count, eq, isNull, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../../../test/support/fixtures.ts';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { attendance } from '../attendance/attendance.table.ts';
import { auditLogs } from '../audit/audit.table.ts';
import { courses } from '../courses/courses.table.ts';
import { courseEnrollments } from '../enrollments/enrollments.table.ts';
import { grades } from '../grades/grades.table.ts';
import type { JobResponse } from '../jobs/jobs.manager.ts';
import { students } from '../students/students.table.ts';
import { bulkImportHandler } from './bulk-import.job.ts';
import { importPreviews } from './imports.table.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ env: { IMPORT_MAX_BYTES: String(256 * 1024) } });
});
afterAll(async () => {
  await t.close();
});

/** A multipart/form-data body by hand: light-my-request sends whatever bytes it is given. */
function form(fields: Record<string, string>, file?: { name: string; bytes: Buffer }) {
  const boundary = `----registrar${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      file.bytes,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(parts),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

async function preview(
  importType: string,
  file: { name: string; bytes: Buffer },
  fields: Record<string, string> = {},
  as: 'admin' | 'teacher' | 'viewer' = 'admin',
) {
  const body = form({ import_type: importType, ...fields }, file);
  return t.request({ method: 'POST', url: '/api/v1/imports/preview', as, ...body });
}

const ended = (job: JobResponse) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status);

async function waitForJob(id: string, timeoutMs = 30_000): Promise<JobResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await t.request({ method: 'GET', url: `/api/v1/jobs/${id}` })).json();
    if (ended(job) || Date.now() > deadline) return job;
    await sleep(50);
  }
}

/** Preview, commit, wait: the whole path a secretary takes. */
async function importFile(importType: string, name: string, fields: Record<string, string> = {}) {
  const checked = await preview(importType, { name, bytes: fixture(name) }, fields);
  expect(checked.statusCode, checked.body).toBe(200);
  const commit = await t.request({
    method: 'POST',
    url: `/api/v1/imports/${checked.json().preview_id}/commit`,
  });
  expect(commit.statusCode, commit.body).toBe(202);
  const job = await waitForJob(commit.json().id);
  expect(job.status, JSON.stringify(job)).toBe('COMPLETED');
  return { preview: checked.json(), job };
}

const errorRows = (previewBody: {
  items: Array<{ row_number: number; validation_status: string }>;
}) =>
  previewBody.items
    .filter((item) => item.validation_status === 'error')
    .map((item) => item.row_number);

const live = async (table: typeof students | typeof courses | typeof grades) =>
  (await t.database.db.select({ n: count() }).from(table).where(isNull(table.deleted_at)))[0]?.n;

describe('importing the sample files in order', () => {
  it('courses: 10 created', async () => {
    const { preview: checked, job } = await importFile('courses', 'courses.csv');
    expect(checked).toMatchObject({ total_rows: 10, rows_with_errors: 0, create: 10 });
    expect(job.result?.statistics).toMatchObject({ created: 10, errors: 0 });
    const [cs101] = await t.database.db
      .select()
      .from(courses)
      .where(eq(courses.course_code, 'CS101'));
    expect(cs101?.evaluation_rules).toHaveLength(3);
  });

  it('students.csv: 115 created, the five bad rows named', async () => {
    const { preview: checked, job } = await importFile('students', 'students.csv');
    expect(checked).toMatchObject({ total_rows: 120, rows_with_errors: 5, create: 115 });
    const problems = await t.request({
      method: 'GET',
      url: `/api/v1/imports/${checked.preview_id}/rows?status=error`,
    });
    expect(problems.json().items.map((item: { row_number: number }) => item.row_number)).toEqual([
      11, 21, 31, 41, 51,
    ]);
    expect(job.result?.statistics).toMatchObject({ created: 115, errors: 5 });
    expect(await live(students)).toBe(115);

    const csv = await t.request({
      method: 'GET',
      url: `/api/v1/imports/${checked.preview_id}/errors.csv`,
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.startsWith('\uFEFFrow_number,status,field,message')).toBe(true);
    expect(csv.body).toContain('\r\n21,error,row,');
  });

  it('students-greek.csv: Greek headers, semicolons and a BOM; 38 created', async () => {
    const { preview: checked, job } = await importFile('students', 'students-greek.csv');
    expect(checked.detected).toMatchObject({ delimiter: ';' });
    expect(checked).toMatchObject({ total_rows: 40, rows_with_errors: 2, create: 38 });
    expect(errorRows(checked)).toEqual([13, 26]);
    expect(job.result?.statistics).toMatchObject({ created: 38 });
    expect(await live(students)).toBe(153);
  });

  it('a commit that refuses to skip error rows starts nothing (409); skipping them is a choice', async () => {
    const checked = await preview('students', {
      name: 'students-greek.csv',
      bytes: fixture('students-greek.csv'),
    });
    expect(checked.json()).toMatchObject({ rows_with_errors: 2 });
    const url = `/api/v1/imports/${checked.json().preview_id}/commit`;
    const jobsBefore = (await t.request({ method: 'GET', url: '/api/v1/jobs' })).json().total;
    const refused = await t.request({ method: 'POST', url, payload: { skip_errors: false } });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().detail).toContain('2 rows have errors');
    expect((await t.request({ method: 'GET', url: '/api/v1/jobs' })).json().total).toBe(jobsBefore);
    const accepted = await t.request({ method: 'POST', url, payload: { skip_errors: true } });
    expect(accepted.statusCode, accepted.body).toBe(202);
    expect((await waitForJob(accepted.json().id)).status).toBe('COMPLETED');
    expect(await live(students)).toBe(153);
  });

  it('students.xlsx: the same students, so nothing is created', async () => {
    const { preview: checked } = await importFile('students', 'students.xlsx');
    expect(checked).toMatchObject({ total_rows: 50, create: 0, rows_with_errors: 0 });
    expect(await live(students)).toBe(153);
  });

  it('enrollments, grades and attendance: 240, 298 and 180 created', async () => {
    const enrolled = await importFile('enrollments', 'enrollments.csv');
    expect(enrolled.job.result?.statistics).toMatchObject({ created: 240 });
    const graded = await importFile('grades', 'grades.csv');
    expect(graded.preview).toMatchObject({ total_rows: 300, rows_with_errors: 2, create: 298 });
    expect(errorRows(graded.preview)).toEqual([9, 17]);
    const present = await importFile('attendance', 'attendance.csv');
    expect(present.job.result?.statistics).toMatchObject({ created: 180 });
    expect(await live(grades)).toBe(298);
    const [enrollments] = await t.database.db.select({ n: count() }).from(courseEnrollments);
    const [marks] = await t.database.db.select({ n: count() }).from(attendance);
    expect([enrollments?.n, marks?.n]).toEqual([240, 180]);
  });

  it('importing a file a second time changes nothing', async () => {
    // students.xlsx came after students.csv (and moves some enrollment dates), so it is the
    // students file whose second import must be a no-op.
    for (const [type, name] of [
      ['courses', 'courses.csv'],
      ['students', 'students.xlsx'],
      ['enrollments', 'enrollments.csv'],
      ['grades', 'grades.csv'],
      ['attendance', 'attendance.csv'],
    ] as const) {
      const checked = await preview(type, { name, bytes: fixture(name) });
      expect(checked.json(), name).toMatchObject({ create: 0, update: 0 });
    }
    expect(await live(students)).toBe(153);
  });

  it('records the import, its summary and every created record in the audit trail', async () => {
    await t.services.audit.flush?.();
    const entries = await t.database.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.resource, 'COURSE')));
    expect(entries.filter((entry) => entry.action === 'CREATE')).toHaveLength(10);
    expect(entries.filter((entry) => entry.action === 'BULK_CREATE')).toHaveLength(1);
    const [imported] = entries.filter((entry) => entry.action === 'IMPORT');
    expect(imported?.details).toMatchObject({ file_name: 'courses.csv', created: 10 });
    expect(imported?.user_email).toBe('admin@school.test');
  });
});

describe('an interrupted import', () => {
  it('keeps its committed batches when cancelled, and a retry applies every row once', async () => {
    const header = 'student_id,first_name,last_name,email';
    const lines = Array.from(
      { length: 1200 },
      (_, index) => `R${100000 + index},Ρένα,Batch${index},r${index}@retry.example`,
    );
    const bytes = Buffer.from(`${header}\n${lines.join('\n')}\n`);
    const checked = await preview('students', { name: 'retry.csv', bytes });
    expect(checked.json()).toMatchObject({ create: 1200 });
    const previewId = checked.json().preview_id;
    const handler = bulkImportHandler(t.database.db, t.services, t.services.audit);
    const job = {
      id: '00000000-0000-4000-8000-000000000001',
      user_id: t.users.admin,
    } as JobResponse;
    const payload = {
      preview_id: previewId,
      import_type: 'students',
      file_name: 'retry.csv',
      origin: {},
    };
    const stop = new AbortController();
    let reports = 0;
    const first = await handler.run({
      job,
      payload,
      signal: stop.signal,
      // The first report is before any batch; stop after the first batch is committed.
      progress: async () => {
        reports += 1;
        if (reports === 2) stop.abort();
      },
    });
    expect(first.success).toBe(false);
    expect(first.message).toContain('500 rows already committed stay');
    const batchOwners = () =>
      t.database.db.select({ n: count() }).from(students).where(eq(students.first_name, 'Ρένα'));
    expect((await batchOwners())[0]?.n).toBe(500);

    const retried = await handler.run({
      job,
      payload,
      signal: new AbortController().signal,
      progress: async () => {},
    });
    expect(retried.success).toBe(true);
    expect(retried.statistics).toMatchObject({ created: 700, skipped: 500 });
    expect((await batchOwners())[0]?.n).toBe(1200);
    await t.services.audit.flush?.();
    const created = await t.database.db
      .select({ n: count() })
      .from(auditLogs)
      .where(and(eq(auditLogs.resource, 'STUDENT'), eq(auditLogs.action, 'CREATE')));
    // 115 + 38 sample students, then each of the 1,200 exactly once.
    expect(created[0]?.n).toBe(153 + 1200);
  });
});

describe('a file with a long run of refused rows', () => {
  it('imports the rows on both sides of it and lists every refused one', async () => {
    const header = 'student_id,first_name,last_name,email';
    // Rows 2 to 1701 of the file; 1,100 in a row in the middle (more than two batches) have
    // no last name.
    const lines = Array.from({ length: 1700 }, (_, index) => {
      const lastName = index >= 100 && index < 1200 ? '' : `Gap${index}`;
      return `G${200000 + index},Άννα,${lastName},g${index}@gap.example`;
    });
    const bytes = Buffer.from(`${header}\n${lines.join('\n')}\n`);
    const checked = await preview('students', { name: 'gap.csv', bytes });
    expect(checked.json()).toMatchObject({ rows_with_errors: 1100, create: 600 });
    const commit = await t.request({
      method: 'POST',
      url: `/api/v1/imports/${checked.json().preview_id}/commit`,
      payload: { skip_errors: true },
    });
    expect(commit.statusCode, commit.body).toBe(202);
    const job = await waitForJob(commit.json().id);
    expect(job.status, JSON.stringify(job)).toBe('COMPLETED');
    expect(job.result?.statistics).toMatchObject({ created: 600, errors: 1100, not_written: 0 });
    // The result lists the first thousand; the preview keeps them all.
    expect(job.result?.errors).toHaveLength(1000);
    expect(job.result?.errors[0]).toMatchObject({ row_number: 102 });
    const imported = await t.database.db
      .select({ n: count() })
      .from(students)
      .where(like(students.email, '%@gap.example'));
    expect(imported[0]?.n).toBe(600);
  });
});

describe('header mapping', () => {
  it('takes the mapping the user chose over the detected one, and ignores unknown columns', async () => {
    const checked = await preview(
      'courses',
      {
        name: 'mapped.csv',
        bytes: Buffer.from('Κωδικός,Τίτλος,Περίοδος,Σχόλιο\nMAP1,Mapped course,Spring,x\n'),
      },
      {
        mapping: JSON.stringify({
          Κωδικός: 'course_code',
          Τίτλος: 'course_name',
          Περίοδος: 'semester',
        }),
      },
    );
    expect(checked.statusCode, checked.body).toBe(200);
    const body = checked.json();
    expect(body).toMatchObject({ create: 1, rows_with_errors: 0 });
    expect(body.detected.mapping).toEqual(
      expect.arrayContaining([{ header: 'Κωδικός', field: 'course_code' }]),
    );
    expect(body.detected.unknown_headers).toEqual(['Σχόλιο']);
    expect(body.items[0].data).toMatchObject({ course_code: 'MAP1', course_name: 'Mapped course' });
  });
});

describe('refusals', () => {
  const csv = (text: string) => ({ name: 'x.csv', bytes: Buffer.from(text) });

  it('checks the write permission of the records imported', async () => {
    const teacherStudents = await preview(
      'students',
      csv('student_id,first_name,last_name\nA,B,C\n'),
      {},
      'teacher',
    );
    expect(teacherStudents.statusCode).toBe(403);
    const viewer = await preview('grades', csv('a\n'), {}, 'viewer');
    expect(viewer.statusCode).toBe(403);
  });

  it('answers precise problems for bad files and options, and stores nothing', async () => {
    const cases: Array<[string, Awaited<ReturnType<typeof preview>>, number]> = [
      ['empty file', await preview('students', csv('')), 422],
      ['header only', await preview('students', csv('student_id,first_name,last_name\n')), 422],
      [
        'missing required column',
        await preview('students', csv('student_id,first_name\nA,B\n')),
        422,
      ],
      ['unknown import type', await preview('wizards', csv('a,b\n1,2\n')), 400],
      ['bad date order', await preview('students', csv('a\n'), { date_order: 'YMD' }), 400],
      ['bad mapping', await preview('students', csv('a\n'), { mapping: '{nope' }), 400],
      [
        'too large',
        await preview('students', { name: 'big.csv', bytes: Buffer.alloc(300 * 1024, 'a') }),
        413,
      ],
    ];
    for (const [name, response, status] of cases) {
      expect(response.statusCode, `${name}: ${response.body}`).toBe(status);
      expect(response.headers['content-type'], name).toContain('application/problem+json');
    }
    const noFile = await t.request({
      method: 'POST',
      url: '/api/v1/imports/preview',
      ...form({ import_type: 'students' }),
    });
    expect(noFile.statusCode).toBe(400);
  });

  it('forgets a preview once it has expired', async () => {
    const checked = await preview(
      'courses',
      csv('course_code,course_name,semester\nEXP1,Old,Fall\n'),
    );
    const id = checked.json().preview_id;
    expect((await t.request({ method: 'GET', url: `/api/v1/imports/${id}/rows` })).statusCode).toBe(
      200,
    );
    await t.database.db
      .update(importPreviews)
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where(eq(importPreviews.id, id));
    for (const request of [
      { method: 'GET' as const, url: `/api/v1/imports/${id}/rows` },
      { method: 'POST' as const, url: `/api/v1/imports/${id}/commit` },
    ]) {
      const response = await t.request(request);
      expect(response.statusCode, request.url).toBe(404);
      expect(response.json().detail).toContain(id);
    }
  });

  it("hides another user's preview, and commits a preview once", async () => {
    const checked = await preview(
      'grades',
      csv('student_id,course_code,assignment_name,grade\nS2025001,CS101,Quiz 9,7\n'),
      {},
      'teacher',
    );
    expect(checked.statusCode, checked.body).toBe(200);
    const id = checked.json().preview_id;
    for (const url of [`/api/v1/imports/${id}/rows`, `/api/v1/imports/${id}/errors.csv`]) {
      expect((await t.request({ method: 'GET', url, as: 'admin' })).statusCode).toBe(404);
    }
    expect(
      (await t.request({ method: 'POST', url: `/api/v1/imports/${id}/commit`, as: 'admin' }))
        .statusCode,
    ).toBe(404);
    const first = await t.request({
      method: 'POST',
      url: `/api/v1/imports/${id}/commit`,
      as: 'teacher',
    });
    expect(first.statusCode).toBe(202);
    const again = await t.request({
      method: 'POST',
      url: `/api/v1/imports/${id}/commit`,
      as: 'teacher',
    });
    expect(again.statusCode).toBe(409);
    expect((await waitForJob(first.json().id)).status).toBe('COMPLETED');
  });
});

describe('the database changing between preview and commit', () => {
  it('checks every row again when committing: a record edited since the preview is updated', async () => {
    const suffix = Date.now().toString(36);
    const created = await t.request({
      method: 'POST',
      url: '/api/v1/students',
      payload: {
        student_id: `RC${suffix}`,
        first_name: 'Ελένη',
        last_name: 'Recheck',
        email: `recheck-${suffix}@school.test`,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const header = 'student_id,first_name,last_name,email';
    const rows = [
      `RC${suffix},Ελένη,Recheck,recheck-${suffix}@school.test`,
      `RCN${suffix},Νίκος,Recheck,recheck-n-${suffix}@school.test`,
    ];
    const checked = await preview(
      'students',
      { name: 'recheck.csv', bytes: Buffer.from(`${header}\n${rows.join('\n')}\n`) },
      { allow_updates: 'true' },
    );
    // The first row matches its record exactly: nothing to do, at preview time.
    expect(checked.json()).toMatchObject({ create: 1, update: 0, skip: 1 });

    const edited = await t.request({
      method: 'PATCH',
      url: `/api/v1/students/${created.json().id}`,
      payload: { last_name: 'Edited' },
    });
    expect(edited.statusCode, edited.body).toBe(200);
    const commit = await t.request({
      method: 'POST',
      url: `/api/v1/imports/${checked.json().preview_id}/commit`,
    });
    const job = await waitForJob(commit.json().id);
    expect(job.status, JSON.stringify(job)).toBe('COMPLETED');
    // The file's value wins over the edit made after the preview; the new student is created.
    expect(job.result?.statistics).toMatchObject({ created: 1, updated: 1, errors: 0 });
    const [after] = await t.database.db
      .select({ last_name: students.last_name })
      .from(students)
      .where(eq(students.id, created.json().id));
    expect(after?.last_name).toBe('Recheck');
  });

  it('refuses at commit a row whose student was deleted after the preview', async () => {
    const suffix = Date.now().toString(36);
    const created = await t.request({
      method: 'POST',
      url: '/api/v1/students',
      payload: {
        student_id: `RD${suffix}`,
        first_name: 'Άννα',
        last_name: 'Gone',
        email: `gone-${suffix}@school.test`,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const file = `student_id,course_code,status\nRD${suffix},CS101,active\n`;
    const checked = await preview('enrollments', { name: 'gone.csv', bytes: Buffer.from(file) });
    expect(checked.json()).toMatchObject({ create: 1, rows_with_errors: 0 });
    await t.request({ method: 'DELETE', url: `/api/v1/students/${created.json().id}` });
    const commit = await t.request({
      method: 'POST',
      url: `/api/v1/imports/${checked.json().preview_id}/commit`,
    });
    const job = await waitForJob(commit.json().id);
    expect(job.status, JSON.stringify(job)).toBe('COMPLETED');
    expect(job.result?.statistics).toMatchObject({ created: 0, errors: 1 });
    expect(job.result?.errors).toEqual([
      {
        row_number: 2,
        issues: [{ field: 'student_id', message: `no student has student_id "RD${suffix}"` }],
      },
    ]);
  });
});

describe('uploads', () => {
  it('leaves no uploaded file behind, whether the preview succeeds, fails or is refused', async () => {
    const uploads = path.join(t.config.dataDir, 'uploads');
    const good = await preview('courses', { name: 'courses.csv', bytes: fixture('courses.csv') });
    expect(good.statusCode, good.body).toBe(200);
    const bad = await preview('students', { name: 'empty.csv', bytes: Buffer.alloc(0) });
    expect(bad.statusCode, bad.body).toBe(422);
    const tooLarge = await preview('students', {
      name: 'large.csv',
      bytes: Buffer.alloc(300 * 1024, 'a'),
    });
    expect(tooLarge.statusCode, tooLarge.body).toBe(413);
    expect(existsSync(uploads) ? readdirSync(uploads) : []).toEqual([]);
  });
});

describe('date order', () => {
  it('reports how the file writes its dates and warns when the chosen order contradicts it', async () => {
    const suffix = Date.now().toString(36);
    const file = Buffer.from(
      [
        'student_id,first_name,last_name,email,enrollment_date',
        `DO1${suffix},Ιωάννα,Dates,do1-${suffix}@school.test,12/25/2024`,
        `DO2${suffix},Ιωάννα,Dates,do2-${suffix}@school.test,03/04/2024`,
      ].join('\n'),
    );
    const dayFirst = await preview('students', { name: 'dates.csv', bytes: file });
    expect(dayFirst.statusCode, dayFirst.body).toBe(200);
    expect(dayFirst.json()).toMatchObject({ rows_with_errors: 1, create: 1 });
    expect(dayFirst.json().detected.date_order).toMatchObject({
      chosen: 'DMY',
      day_first_dates: 0,
      month_first_dates: 1,
    });
    expect(dayFirst.json().detected.date_order.warning).toContain('date_order=MDY');

    const monthFirst = await preview(
      'students',
      { name: 'dates.csv', bytes: file },
      { date_order: 'MDY' },
    );
    expect(monthFirst.json()).toMatchObject({ rows_with_errors: 0, create: 2 });
    expect(monthFirst.json().detected.date_order).toMatchObject({ chosen: 'MDY', warning: null });
    expect(monthFirst.json().items[1].data.enrollment_date).toBe('2024-03-04');
  });
});
