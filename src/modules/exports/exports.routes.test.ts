import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq } from 'drizzle-orm';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCourse, makeStudent } from '../../../test/support/factories.ts';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../../../test/support/test-app.ts';
import { SYSTEM_CONTEXT } from '../../platform/http/request-context.ts';
import { auditLogs } from '../audit/audit.table.ts';
import type { JobResponse } from '../jobs/jobs.manager.ts';
import {
  exportFilePath,
  exportLargeHandler,
  exportsDir,
  removeOrphanExports,
} from './export-large.job.ts';

const SYNC_LIMIT = 6;
const FORMULA = '=HYPERLINK("http://evil.test","click")';

let t: TestApp;
/** A second teacher: not the owner of the first teacher's exports, not an admin. */
let otherTeacherToken: string;
let greek: { id: number; student_id: string };

beforeAll(async () => {
  t = await createTestApp({
    env: { EXPORT_SYNC_LIMIT: String(SYNC_LIMIT), RATE_LIMIT_EXPORTS_PER_MINUTE: '1000' },
  });
  // Eight students: three in year 1 (a Greek name, a formula payload, an inactive one), five in year 2.
  greek = await makeStudent(t.services, {
    first_name: 'Ελένη',
    last_name: 'Παπαδοπούλου',
    father_name: 'Γιώργος',
    study_year: 1,
    enrollment_date: '2024-09-11',
  });
  await makeStudent(t.services, { first_name: FORMULA, last_name: 'Injector', study_year: 1 });
  await makeStudent(t.services, { last_name: 'Inactive', study_year: 1, is_active: false });
  for (let index = 0; index < 5; index++) {
    await makeStudent(t.services, { last_name: `Second${index}`, study_year: 2 });
  }
  const course = await makeCourse(t.services, { course_code: 'MATH-101' });
  await t.services.grades.create(
    {
      student_id: greek.id,
      course_id: course.id,
      assignment_name: 'Τεστ 1',
      grade: 18,
      max_grade: 20,
    },
    SYSTEM_CONTEXT,
  );
  await t.services.attendance.create(
    { student_id: greek.id, course_id: course.id, date: '2025-10-01', status: 'Present' },
    SYSTEM_CONTEXT,
  );

  await t.services.users.createUser(
    {
      email: 'teacher2@school.test',
      full_name: 'Other Teacher',
      role: 'teacher',
      password: TEST_PASSWORD,
      must_change_password: false,
    },
    SYSTEM_CONTEXT,
  );
  const login = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: 'teacher2@school.test', password: TEST_PASSWORD },
  });
  otherTeacherToken = login.json().access_token;
});
afterAll(async () => {
  await t.close();
});

function readWorkbook(bytes: Uint8Array): Record<string, string> {
  return Object.fromEntries(
    Object.entries(unzipSync(bytes)).map(([name, data]) => [name, strFromU8(data)]),
  );
}

const csvLines = (body: Buffer) => body.subarray(3).toString('utf8').split('\r\n');

async function waitForJob(id: string, timeoutMs = 15_000): Promise<JobResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await t.services.jobs.getJob(id);
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status}`);
    await sleep(25);
  }
}

describe('GET /exports/{resource}', () => {
  it('streams CSV with a BOM, the list filters applied, formulas neutralised, as an attachment', async () => {
    const response = await t.request({
      method: 'GET',
      url: '/api/v1/exports/students?format=csv&study_year=1',
      as: 'viewer',
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toMatch(
      /^attachment; filename="students-\d{8}-\d{6}\.csv"$/,
    );
    const body = response.rawPayload;
    expect([...body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = csvLines(body);
    expect(lines[0]?.startsWith('ID,Student ID,Last name,First name,')).toBe(true);
    expect(lines.filter((line) => line !== '')).toHaveLength(4);
    expect(lines.some((line) => line.includes('Παπαδοπούλου,Ελένη,Γιώργος'))).toBe(true);
    expect(body.toString('utf8')).toContain(`"'=HYPERLINK(""http://evil.test"",""click"")"`);
  });

  it('writes XLSX that opens: frozen header, Greek text, neutralised formula, typed cells', async () => {
    const response = await t.request({
      method: 'GET',
      url: '/api/v1/exports/students?format=xlsx&study_year=1',
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(response.headers['content-disposition']).toMatch(/filename="students-.*\.xlsx"/);
    const parts = readWorkbook(response.rawPayload);
    const sheet = parts['xl/worksheets/sheet1.xml'] as string;
    expect(sheet.match(/<row /g)).toHaveLength(4);
    expect(sheet).toContain('<t>Student ID</t>');
    expect(sheet).toContain('<t>Παπαδοπούλου</t>');
    expect(sheet).toContain('state="frozen"');
    expect(sheet).toMatch(/t="inlineStr" s="4"><is><t>=HYPERLINK\(&quot;/);
    expect(sheet).not.toContain('<f>');
    // study_year 1 as a number, enrollment date 2024-09-11 as a date serial.
    expect(sheet).toMatch(/<c r="I2"><v>1<\/v><\/c>/);
    expect(sheet).toContain('s="2"><v>45546</v>');
    expect(parts['xl/workbook.xml']).toContain('name="Students"');
  });

  it('writes JSON as an array of typed records, values exact', async () => {
    const response = await t.request({
      method: 'GET',
      url: '/api/v1/exports/students?format=json&study_year=1&is_active=true',
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const rows = response.json();
    expect(rows).toHaveLength(2);
    expect(rows.map((row: { first_name: string }) => row.first_name)).toEqual(['Ελένη', FORMULA]);
    expect(rows[0]).toMatchObject({
      study_year: 1,
      is_active: true,
      enrollment_date: '2024-09-11',
    });
    expect(rows[0]).not.toHaveProperty('deleted_at');
  });

  it('applies the text search', async () => {
    const response = await t.request({
      method: 'GET',
      url: `/api/v1/exports/students?format=json&search=${encodeURIComponent('Παπαδο')}`,
    });
    expect(response.json().map((row: { id: number }) => row.id)).toEqual([greek.id]);
  });

  it('gives Greek headers with lang=el (the original system’s, for students)', async () => {
    const response = await t.request({
      method: 'GET',
      url: '/api/v1/exports/students?format=csv&lang=el&study_year=1',
    });
    expect(csvLines(response.rawPayload)[0]).toBe(
      'Α/Α,Αριθμός Δελτίου Ταυτότητας:,Επώνυμο:,Όνομα:,Όνομα Πατέρα:,Ηλ. Ταχυδρομείο:,Αρ. Κινητού Τηλεφώνου:,Αρ. Σταθερού Τηλεφώνου:,Έτος Σπουδών:,Ημερομηνία εγγραφής,Ενεργός,Ακαδημαϊκό έτος,Τμήμα,Τυχόν πρόβλημα υγείας,Σημείωση,Δημιουργία (UTC),Τελευταία αλλαγή (UTC)',
    );
    const xlsx = await t.request({
      method: 'GET',
      url: '/api/v1/exports/grades?format=xlsx&lang=el',
    });
    const parts = readWorkbook(xlsx.rawPayload);
    expect(parts['xl/workbook.xml']).toContain('name="Βαθμοί"');
    expect(parts['xl/worksheets/sheet1.xml']).toContain('<t>Βαθμός</t>');
  });

  it('answers 422 problem+json above EXPORT_SYNC_LIMIT, pointing to POST /exports', async () => {
    const response = await t.request({ method: 'GET', url: '/api/v1/exports/students' });
    expect(response.statusCode).toBe(422);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({
      type: 'urn:registrar:problem:export-too-large',
      status: 422,
      detail: expect.stringContaining('POST /api/v1/exports'),
    });
  });

  it('refuses bad filters and formats with 400 naming the field', async () => {
    const response = await t.request({
      method: 'GET',
      url: '/api/v1/exports/students?format=pdf&study_year=abc',
    });
    expect(response.statusCode).toBe(400);
    const fields = response.json().errors.map((error: { field: string }) => error.field);
    expect(fields).toEqual(expect.arrayContaining(['query.format', 'query.study_year']));
  });

  it('lets a viewer export students (read permission) but not users', async () => {
    const students = await t.request({
      method: 'GET',
      url: '/api/v1/exports/students?format=json&study_year=2',
      as: 'viewer',
    });
    expect(students.statusCode).toBe(200);
    expect(students.json()).toHaveLength(5);
    const users = await t.request({ method: 'GET', url: '/api/v1/exports/users', as: 'viewer' });
    expect(users.statusCode).toBe(403);
    const asAdmin = await t.request({ method: 'GET', url: '/api/v1/exports/users?format=json' });
    expect(asAdmin.statusCode).toBe(200);
    const exported = asAdmin.json();
    expect(exported.length).toBeGreaterThanOrEqual(4);
    expect(Object.keys(exported[0])).not.toContain('password_hash');
  });

  it('names related records by their business keys (grades, attendance)', async () => {
    const grades = await t.request({ method: 'GET', url: '/api/v1/exports/grades?format=json' });
    expect(grades.json()).toEqual([
      expect.objectContaining({
        student_id: greek.student_id,
        student_last_name: 'Παπαδοπούλου',
        course_code: 'MATH-101',
        assignment_name: 'Τεστ 1',
        grade: 18,
      }),
    ]);
    const attendance = await t.request({
      method: 'GET',
      url: `/api/v1/exports/attendance?format=csv&student_id=${greek.id}`,
    });
    expect(csvLines(attendance.rawPayload)[1]).toContain('MATH-101,');
  });

  it('records an EXPORT audit entry with the resource, filters and row count', async () => {
    const response = await t.request({
      method: 'GET',
      url: '/api/v1/exports/students?format=csv&study_year=2&class_division=%CE%911',
      as: 'teacher',
    });
    expect(response.statusCode).toBe(200);
    await t.services.audit.flush();
    const entries = await t.database.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'EXPORT'), eq(auditLogs.user_id, t.users.teacher)));
    const entry = entries.find(
      (candidate) =>
        (candidate.details as { filters?: Record<string, unknown> }).filters?.class_division ===
        'Α1',
    );
    expect(entry).toMatchObject({ resource: 'STUDENT', success: true });
    expect(entry?.details).toMatchObject({
      format: 'csv',
      rows: 0,
      complete: true,
      filters: { study_year: 2, class_division: 'Α1' },
    });
  });
});

describe('GET /exports/students/{id}/report', () => {
  it('puts the student, grades, attendance and highlights on separate sheets', async () => {
    const response = await t.request({
      method: 'GET',
      url: `/api/v1/exports/students/${greek.id}/report?format=xlsx&lang=el`,
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-disposition']).toMatch(
      new RegExp(`filename="student-${greek.student_id}-report-\\d{8}-\\d{6}\\.xlsx"`),
    );
    const parts = readWorkbook(response.rawPayload);
    for (const name of ['Μαθητής', 'Βαθμοί', 'Παρουσίες', 'Επισημάνσεις']) {
      expect(parts['xl/workbook.xml']).toContain(`name="${name}"`);
    }
    expect(parts['xl/worksheets/sheet1.xml']?.match(/<row /g)).toHaveLength(2);
    expect(parts['xl/worksheets/sheet2.xml']).toContain('<t>Τεστ 1</t>');
    expect(parts['xl/worksheets/sheet4.xml']?.match(/<row /g)).toHaveLength(1);
  });

  it('gives JSON with one property per part, and 404 for an unknown student', async () => {
    const response = await t.request({
      method: 'GET',
      url: `/api/v1/exports/students/${greek.id}/report?format=json`,
      as: 'viewer',
    });
    const report = response.json();
    expect(Object.keys(report)).toEqual([
      'student',
      'grades',
      'attendance',
      'highlights',
      'results',
    ]);
    expect(report.student[0].last_name).toBe('Παπαδοπούλου');
    expect(report.grades).toHaveLength(1);
    expect(report.attendance).toHaveLength(1);
    const missing = await t.request({
      method: 'GET',
      url: '/api/v1/exports/students/999999/report',
    });
    expect(missing.statusCode).toBe(404);
  });
});

describe('POST /exports (export_large job)', () => {
  let jobId: string;

  it('writes the file in a job, served to its owner and admins only', async () => {
    const created = await t.request({
      method: 'POST',
      url: '/api/v1/exports',
      as: 'teacher',
      payload: { resource: 'students', format: 'xlsx', lang: 'el', filters: { study_year: 2 } },
    });
    expect(created.statusCode).toBe(202);
    expect(created.json()).toMatchObject({ job_type: 'export_large', user_id: t.users.teacher });
    jobId = created.json().id;
    const job = await waitForJob(jobId);
    expect(job.status).toBe('COMPLETED');
    expect(job.progress).toMatchObject({ current: 5, total: 5, percentage: 100 });
    const data = job.result?.data as { file: string; rows: number; bytes: number; format: string };
    expect(data).toMatchObject({ file: `${jobId}.xlsx`, rows: 5, format: 'xlsx' });
    const file = exportFilePath(t.config.dataDir, jobId, 'xlsx');
    expect(readFileSync(file).length).toBe(data.bytes);

    const download = await t.request({
      method: 'GET',
      url: `/api/v1/exports/${jobId}/download`,
      as: 'teacher',
    });
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-disposition']).toMatch(/filename="students-.*\.xlsx"/);
    const sheet = readWorkbook(download.rawPayload)['xl/worksheets/sheet1.xml'] as string;
    expect(sheet.match(/<row /g)).toHaveLength(6);
    expect(sheet).toContain('<t>Επώνυμο:</t>');

    const asAdmin = await t.request({ method: 'GET', url: `/api/v1/exports/${jobId}/download` });
    expect(asAdmin.statusCode).toBe(200);
    const asOther = await t.app.inject({
      method: 'GET',
      url: `/api/v1/exports/${jobId}/download`,
      headers: { authorization: `Bearer ${otherTeacherToken}` },
    });
    expect(asOther.statusCode).toBe(404);

    await t.services.audit.flush();
    const [entry] = await t.database.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'EXPORT'), eq(auditLogs.resource, 'STUDENT')))
      .then((rows) => rows.filter((row) => (row.details as { job_id?: string }).job_id === jobId));
    expect(entry).toMatchObject({ user_id: t.users.teacher, success: true });
    expect(entry?.details).toMatchObject({ rows: 5, format: 'xlsx', filters: { study_year: 2 } });
  });

  it('refuses a viewer (no jobs:create), bad filters, and a resource the caller cannot read', async () => {
    const viewer = await t.request({
      method: 'POST',
      url: '/api/v1/exports',
      as: 'viewer',
      payload: { resource: 'students' },
    });
    expect(viewer.statusCode).toBe(403);
    const badFilter = await t.request({
      method: 'POST',
      url: '/api/v1/exports',
      as: 'teacher',
      payload: { resource: 'students', filters: { study_year: 'first', colour: 'red' } },
    });
    expect(badFilter.statusCode).toBe(400);
    expect(
      badFilter
        .json()
        .errors.map((error: { field: string }) => error.field)
        .sort(),
    ).toEqual(['body.filters', 'body.filters.study_year']);
    const users = await t.request({
      method: 'POST',
      url: '/api/v1/exports',
      as: 'teacher',
      payload: { resource: 'users' },
    });
    expect(users.statusCode).toBe(403);
  });

  it("checks the owner's read permission when started through POST /jobs too", async () => {
    const created = await t.request({
      method: 'POST',
      url: '/api/v1/jobs',
      as: 'teacher',
      payload: { job_type: 'export_large', metadata: { resource: 'users', format: 'csv' } },
    });
    expect(created.statusCode).toBe(202);
    const job = await waitForJob(created.json().id);
    expect(job.status).toBe('FAILED');
    expect(job.error_message).toContain('users:read');
    expect(existsSync(exportFilePath(t.config.dataDir, job.id, 'csv'))).toBe(false);
    const download = await t.request({
      method: 'GET',
      url: `/api/v1/exports/${job.id}/download`,
      as: 'teacher',
    });
    expect(download.statusCode).toBe(409);
  });

  it('answers 404 for a job that is not an export', async () => {
    const pending = await t.services.jobs.createJob({
      jobType: 'recompute',
      userId: t.users.admin,
    });
    const notExport = await t.request({
      method: 'GET',
      url: `/api/v1/exports/${pending.id}/download`,
    });
    expect(notExport.statusCode).toBe(404);
  });

  it('stops at a batch boundary when cancelled and removes the partial file', async () => {
    const handler = exportLargeHandler({
      db: t.database.db,
      dataDir: t.config.dataDir,
      audit: t.services.audit,
      batchSize: 2,
    });
    const controller = new AbortController();
    const job = await t.services.jobs.getJob(jobId);
    const fakeJob = { ...job, id: '00000000-0000-4000-8000-000000000001', user_id: t.users.admin };
    let batches = 0;
    let sawPartial = false;
    const result = await handler.run({
      job: fakeJob,
      payload: handler.payload.parse({ resource: 'students', format: 'csv' }),
      signal: controller.signal,
      async progress(update) {
        if (update.current > 0) batches++;
        if (batches === 2) {
          // The write stream opens its file asynchronously: give it a moment to appear.
          const partial = `${exportFilePath(t.config.dataDir, fakeJob.id, 'csv')}.part`;
          for (let tries = 0; tries < 200 && !sawPartial; tries++) {
            sawPartial = existsSync(partial);
            if (!sawPartial) await new Promise((resolve) => setTimeout(resolve, 10));
          }
          controller.abort();
        }
      },
    });
    expect(result).toMatchObject({ success: false, statistics: { rows: 4 } });
    expect(result.message).toContain('partial file was removed');
    expect(sawPartial).toBe(true);
    const left = readdirSync(exportsDir(t.config.dataDir)).filter((name) =>
      name.startsWith(fakeJob.id),
    );
    expect(left).toEqual([]);
  });

  it('cleanup removes the files of removed jobs', async () => {
    const file = exportFilePath(t.config.dataDir, jobId, 'xlsx');
    expect(await removeOrphanExports(t.database.db, t.config.dataDir)).toBe(0);
    expect(existsSync(file)).toBe(true);
    const deleted = await t.request({ method: 'DELETE', url: `/api/v1/jobs/${jobId}` });
    expect(deleted.statusCode).toBe(204);
    expect(await removeOrphanExports(t.database.db, t.config.dataDir)).toBe(1);
    expect(existsSync(file)).toBe(false);
  });
});
