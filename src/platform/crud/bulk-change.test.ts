import { setTimeout as sleep } from 'node:timers/promises';
import { and, asc, count, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCourse, makeStudent } from '../../../test/support/factories.ts';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { auditLogs } from '../../modules/audit/audit.table.ts';
import { bulkUpdateHandler } from '../../modules/jobs/handlers/bulk-update.job.ts';
import type { JobResponse } from '../../modules/jobs/jobs.manager.ts';
import { jobs } from '../../modules/jobs/jobs.table.ts';
import { students } from '../../modules/students/students.table.ts';
import { SYSTEM_CONTEXT } from '../http/request-context.ts';
import type { BulkChangePayload } from './bulk-change.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ env: { RATE_LIMIT_JOBS_PER_MINUTE: '1000' } });
});
afterAll(async () => {
  await t.close();
});

type Role = 'admin' | 'teacher' | 'viewer';

function post(url: string, payload: unknown, as: Role = 'admin') {
  return t.request({ method: 'POST', url: `/api/v1${url}`, payload: payload as object, as });
}

async function waitForJob(id: string, timeoutMs = 30_000): Promise<JobResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await t.services.jobs.getJob(id);
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status}`);
    await sleep(25);
  }
}

/** Starts a bulk job through the API and waits for it to end. */
async function runBulk(url: string, payload: unknown, as: Role = 'admin') {
  const response = await post(url, payload, as);
  expect(response.statusCode, response.body).toBe(202);
  return waitForJob(response.json().id);
}

/** Students in their own class division, so each test sees only its own records. */
async function studentsIn(division: string, count: number, overrides = {}) {
  const made = [];
  for (let index = 0; index < count; index++) {
    made.push(await makeStudent(t.services, { class_division: division, ...overrides }));
  }
  return made;
}

const rowsOf = (ids: number[]) =>
  t.database.db.select().from(students).where(inArray(students.id, ids)).orderBy(students.id);

async function auditEntries(conditions: Parameters<typeof and>) {
  await t.services.audit.flush();
  return t.database.db
    .select()
    .from(auditLogs)
    .where(and(...conditions))
    .orderBy(asc(auditLogs.id));
}

const jobCount = async () =>
  (await t.database.db.select({ n: count() }).from(jobs).where(eq(jobs.job_type, 'bulk_update')))[0]
    ?.n;

describe('dry run', () => {
  it('reports per-record diffs, skips and unknown ids, and writes nothing', async () => {
    const [first, second, same] = await studentsIn('DRY', 3, { study_year: 1 });
    if (!first || !second || !same) throw new Error('no students');
    await t.services.students.update(same.id, { study_year: 4 }, SYSTEM_CONTEXT);
    const before = await rowsOf([first.id, second.id, same.id]);
    const jobsBefore = await jobCount();

    const response = await post('/students/bulk-update', {
      ids: [second.id, first.id, same.id, 999_999, first.id],
      changes: { study_year: 4, note: 'moved' },
      dry_run: true,
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      dry_run: true,
      resource: 'students',
      operation: 'update',
      matched: 4,
      would_change: 3,
      counts: { change: 3, unchanged: 0, not_found: 1, refused: 0 },
      has_more: false,
    });
    // Ids come back deduplicated, in id order.
    expect(body.items.map((item: { id: number }) => item.id)).toEqual([
      first.id,
      second.id,
      same.id,
      999_999,
    ]);
    expect(body.items[0]).toMatchObject({
      outcome: 'change',
      old_values: { study_year: 1, note: null },
      new_values: { study_year: 4, note: 'moved' },
    });
    // Only the fields that differ are listed.
    expect(body.items[2]).toMatchObject({
      outcome: 'change',
      old_values: { note: null },
      new_values: { note: 'moved' },
    });
    expect(body.items[3]).toMatchObject({ outcome: 'not_found', record: null });

    expect(await rowsOf([first.id, second.id, same.id])).toEqual(before);
    expect(await jobCount()).toBe(jobsBefore);
    const entries = await auditEntries([
      eq(auditLogs.resource, 'STUDENT'),
      eq(auditLogs.action, 'UPDATE'),
      inArray(auditLogs.resource_id, [String(first.id), String(second.id)]),
    ]);
    expect(entries).toHaveLength(0);
  });

  it('shows what a delete or restore would skip', async () => {
    const [live, gone] = await studentsIn('DRY-DEL', 2);
    if (!live || !gone) throw new Error('no students');
    await t.services.students.remove(gone.id, SYSTEM_CONTEXT);
    const remove = await post('/students/bulk-delete', {
      ids: [live.id, gone.id],
      dry_run: true,
    });
    expect(remove.json()).toMatchObject({ would_change: 1, counts: { change: 1, deleted: 1 } });
    expect(remove.json().items[0].record).toMatchObject({ id: live.id, class_division: 'DRY-DEL' });

    const restore = await post('/students/bulk-restore', {
      filter: { class_division: 'DRY-DEL' },
      dry_run: true,
    });
    // A restore's filter matches deleted records.
    expect(restore.json()).toMatchObject({ matched: 1, would_change: 1 });
    expect(restore.json().items[0].id).toBe(gone.id);
  });
});

describe('bulk update', () => {
  it('changes the records named by id, with per-record and summary audit entries', async () => {
    const made = await studentsIn('UPD-IDS', 3, { study_year: 2 });
    const ids = made.map((student) => student.id);
    const job = await runBulk('/students/bulk-update', {
      ids: [...ids, 888_888],
      changes: { study_year: 3, is_active: false },
    });
    expect(job.status).toBe('COMPLETED');
    expect(job.job_type).toBe('bulk_update');
    expect(job.result?.statistics).toMatchObject({ requested: 4, changed: 3, not_found: 1 });
    expect(job.result?.data).toMatchObject({ not_found_ids: [888_888], refused_ids: [] });
    expect(job.progress).toMatchObject({ current: 4, total: 4, percentage: 100 });
    for (const row of await rowsOf(ids)) {
      expect(row).toMatchObject({ study_year: 3, is_active: false });
    }

    const perRecord = await auditEntries([
      eq(auditLogs.action, 'UPDATE'),
      sql`${auditLogs.details}->>'job_id' = ${job.id}`,
    ]);
    expect(perRecord.map((entry) => Number(entry.resource_id)).sort()).toEqual(ids);
    expect(perRecord[0]).toMatchObject({
      resource: 'STUDENT',
      user_id: t.users.admin,
      user_email: 'admin@school.test',
      old_values: { study_year: 2, is_active: true },
      new_values: { study_year: 3, is_active: false },
    });
    const [summary] = await auditEntries([
      eq(auditLogs.action, 'BULK_UPDATE'),
      sql`${auditLogs.details}->>'job_id' = ${job.id}`,
    ]);
    expect(summary).toMatchObject({ resource: 'STUDENT', success: true });
    expect(summary?.details).toMatchObject({ operation: 'update', changed: 3, not_found: 1 });
    // Cached lists heard of the change.
    const list = await t.request({
      method: 'GET',
      url: '/api/v1/students?class_division=UPD-IDS&is_active=false',
    });
    expect(list.json().total).toBe(3);
  });

  it('changes the records a filter matches when the job is created', async () => {
    await studentsIn('UPD-FILTER', 2, { study_year: 5 });
    const [other] = await studentsIn('UPD-FILTER', 1, { study_year: 6 });
    const job = await runBulk('/students/bulk-update', {
      filter: { class_division: 'UPD-FILTER', study_year: 5 },
      changes: { note: 'year five' },
    });
    expect(job.status).toBe('COMPLETED');
    expect(job.metadata).toMatchObject({
      resource: 'students',
      operation: 'update',
      filter: { class_division: 'UPD-FILTER', study_year: 5 },
    });
    expect(job.result?.statistics).toMatchObject({ requested: 2, changed: 2 });
    const rows = await t.database.db
      .select()
      .from(students)
      .where(eq(students.class_division, 'UPD-FILTER'));
    expect(rows.filter((row) => row.note === 'year five')).toHaveLength(2);
    expect(rows.find((row) => row.id === other?.id)?.note).toBeNull();
  });

  it('refuses an empty filter unless all is true', async () => {
    const refused = await post('/students/bulk-update', {
      filter: {},
      changes: { note: 'everyone' },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().errors).toEqual([expect.objectContaining({ field: 'body.filter' })]);
    const everyone = await post('/students/bulk-update', {
      filter: {},
      all: true,
      changes: { note: 'everyone' },
      dry_run: true,
    });
    expect(everyone.statusCode).toBe(200);
    const [live] = await t.database.db
      .select({ n: count() })
      .from(students)
      .where(sql`${students.deleted_at} IS NULL`);
    expect(everyone.json().matched).toBe(live?.n);
  });

  it('reports records a rule refuses by id and changes the rest', async () => {
    const [student] = await studentsIn('GRADES', 1);
    const course = await makeCourse(t.services);
    if (!student) throw new Error('no student');
    const grade = (maxGrade: number, name: string) =>
      t.services.grades.create(
        {
          student_id: student.id,
          course_id: course.id,
          assignment_name: name,
          grade: 5,
          max_grade: maxGrade,
        },
        SYSTEM_CONTEXT,
      );
    const low = await grade(10, 'Quiz');
    const high = await grade(20, 'Exam');

    const dryRun = await post(
      '/grades/bulk-update',
      { filter: { course_id: course.id }, changes: { grade: 15 }, dry_run: true },
      'teacher',
    );
    expect(dryRun.statusCode, dryRun.body).toBe(200);
    expect(dryRun.json()).toMatchObject({ would_change: 1, counts: { change: 1, refused: 1 } });
    const refusedItem = dryRun.json().items.find((item: { id: number }) => item.id === low.id);
    expect(refusedItem.outcome).toBe('refused');
    expect(refusedItem.errors[0].field).toBe('body.grade');

    const job = await runBulk(
      '/grades/bulk-update',
      { ids: [low.id, high.id], changes: { grade: 15 } },
      'teacher',
    );
    expect(job.status).toBe('COMPLETED');
    expect(job.result?.data).toMatchObject({ changed: 1, refused: 1, refused_ids: [low.id] });
    expect(job.result?.errors).toEqual([expect.objectContaining({ id: low.id })]);
    expect((await t.services.grades.get(low.id)).grade).toBe(5);
    expect((await t.services.grades.get(high.id)).grade).toBe(15);
  });
});

describe('bulk update of structured fields', () => {
  it('compares JSON and numbers as the database stores them, and skips a record a unique key refuses', async () => {
    const semester = 'Bulk Spring';
    const first = await makeCourse(t.services, { semester });
    const second = await makeCourse(t.services, { semester });
    const changes = {
      evaluation_rules: [{ category: 'Exam', weight: 60 }],
      hours_per_week: 2.5,
    };
    const job = await runBulk('/courses/bulk-update', { filter: { semester }, changes });
    expect(job.result?.statistics).toMatchObject({ requested: 2, changed: 2 });
    const again = await post('/courses/bulk-update', {
      filter: { semester },
      changes,
      dry_run: true,
    });
    expect(again.json()).toMatchObject({ would_change: 0, counts: { unchanged: 2 } });

    // The second record would repeat the first one's new code: the database refuses it alone.
    const clash = await runBulk('/courses/bulk-update', {
      ids: [first.id, second.id],
      changes: { course_code: `BULK-${first.id}` },
    });
    expect(clash.status).toBe('COMPLETED');
    expect(clash.result?.data).toMatchObject({ changed: 1, refused: 1, refused_ids: [second.id] });
    expect((await t.services.courses.get(first.id)).course_code).toBe(`BULK-${first.id}`);
    expect((await t.services.courses.get(second.id)).course_code).toBe(second.course_code);
  });
});

describe('bulk delete and restore', () => {
  it('soft-deletes and restores, each audited per record and as a whole', async () => {
    const made = await studentsIn('ROUND-TRIP', 3);
    const ids = made.map((student) => student.id);

    const deleted = await runBulk('/students/bulk-delete', { ids });
    expect(deleted.status).toBe('COMPLETED');
    expect(deleted.result?.statistics).toMatchObject({ changed: 3 });
    for (const id of ids) {
      const response = await t.request({ method: 'GET', url: `/api/v1/students/${id}` });
      expect(response.statusCode).toBe(404);
    }
    const deleteEntries = await auditEntries([
      eq(auditLogs.action, 'DELETE'),
      sql`${auditLogs.details}->>'job_id' = ${deleted.id}`,
    ]);
    expect(deleteEntries).toHaveLength(3);
    expect(deleteEntries[0]?.old_values).toMatchObject({ class_division: 'ROUND-TRIP' });
    const [deleteSummary] = await auditEntries([
      eq(auditLogs.action, 'BULK_DELETE'),
      sql`${auditLogs.details}->>'job_id' = ${deleted.id}`,
    ]);
    expect(deleteSummary?.details).toMatchObject({ operation: 'delete', changed: 3 });

    // Deleting again skips every record: they are deleted already.
    const again = await runBulk('/students/bulk-delete', { ids });
    expect(again.result?.statistics).toMatchObject({ changed: 0, deleted: 3 });

    const restored = await runBulk('/students/bulk-restore', {
      filter: { class_division: 'ROUND-TRIP' },
    });
    expect(restored.status).toBe('COMPLETED');
    expect(restored.result?.statistics).toMatchObject({ requested: 3, changed: 3 });
    for (const row of await rowsOf(ids)) expect(row.deleted_at).toBeNull();
    const restoreEntries = await auditEntries([
      eq(auditLogs.action, 'UPDATE'),
      sql`${auditLogs.details}->>'job_id' = ${restored.id}`,
    ]);
    expect(restoreEntries).toHaveLength(3);
    expect(restoreEntries[0]?.details).toMatchObject({ operation: 'restore' });
    const [restoreSummary] = await auditEntries([
      eq(auditLogs.action, 'BULK_UPDATE'),
      sql`${auditLogs.details}->>'job_id' = ${restored.id}`,
    ]);
    expect(restoreSummary?.details).toMatchObject({ operation: 'restore', changed: 3 });

    // Restoring records that are not deleted changes nothing.
    const notDeleted = await runBulk('/students/bulk-restore', { ids });
    expect(notDeleted.result?.statistics).toMatchObject({ changed: 0, not_deleted: 3 });
  });
});

describe('permissions', () => {
  it("needs the resource's write permission", async () => {
    const [student] = await studentsIn('PERM', 1);
    const body = { ids: [student?.id], changes: { note: 'x' } };
    expect((await post('/students/bulk-update', body, 'viewer')).statusCode).toBe(403);
    expect((await post('/students/bulk-delete', { ids: [student?.id] }, 'viewer')).statusCode).toBe(
      403,
    );
    expect((await post('/grades/bulk-restore', { ids: [1] }, 'viewer')).statusCode).toBe(403);
    // Teachers read students but do not write them.
    const teacher = await post('/students/bulk-update', { ...body, dry_run: true }, 'teacher');
    expect(teacher.statusCode).toBe(403);
    expect(teacher.headers['content-type']).toContain('application/problem+json');
  });

  it("checks the owner's write permission when started through POST /jobs", async () => {
    const [student] = await studentsIn('PERM-JOB', 1);
    const created = await post(
      '/jobs',
      {
        job_type: 'bulk_update',
        metadata: { resource: 'students', operation: 'delete', ids: [student?.id] },
      },
      'teacher',
    );
    expect(created.statusCode, created.body).toBe(202);
    const job = await waitForJob(created.json().id);
    expect(job.status).toBe('FAILED');
    expect(job.error_message).toContain('students:write');
    const [row] = await rowsOf([student?.id ?? 0]);
    expect(row?.deleted_at).toBeNull();
  });
});

describe('bad requests', () => {
  it('answers 400 problem+json naming the field, and writes nothing', async () => {
    const [student] = await studentsIn('BAD', 1, { study_year: 1 });
    if (!student) throw new Error('no student');
    const before = await rowsOf([student.id]);
    const jobsBefore = await jobCount();
    const cases: Array<[string, unknown, string]> = [
      [
        '/students/bulk-update',
        { ids: [student.id], filter: { study_year: 1 }, changes: { note: 'x' } },
        'body.filter',
      ],
      ['/students/bulk-update', { changes: { note: 'x' } }, 'body.ids'],
      ['/students/bulk-delete', {}, 'body.ids'],
      ['/students/bulk-update', { ids: [student.id], changes: {} }, 'body.changes'],
      ['/students/bulk-update', { ids: [student.id] }, 'body.changes'],
      ['/students/bulk-update', { ids: [student.id], changes: { colour: 'red' } }, 'body.changes'],
      ['/students/bulk-update', { ids: [student.id], changes: { id: 5 } }, 'body.changes'],
      [
        '/students/bulk-update',
        { ids: [student.id], changes: { study_year: 'three' } },
        'body.changes.study_year',
      ],
      ['/students/bulk-delete', { ids: ['one'] }, 'body.ids.0'],
      ['/students/bulk-delete', { ids: [] }, 'body.ids'],
      ['/students/bulk-delete', { ids: [0] }, 'body.ids.0'],
      ['/students/bulk-delete', { ids: [student.id], dry_run: 'yes' }, 'body.dry_run'],
      ['/students/bulk-delete', { ids: [student.id], all: true }, 'body.all'],
      ['/students/bulk-delete', { ids: [student.id], changes: { note: 'x' } }, 'body'],
      ['/students/bulk-delete', { filter: { study_year: 'first' } }, 'body.filter.study_year'],
      ['/students/bulk-delete', { filter: { colour: 'red' } }, 'body.filter'],
      ['/students/bulk-delete', { filter: { page: 2 } }, 'body.filter'],
      ['/grades/bulk-delete', { filter: { search: 'x' } }, 'body.filter.search'],
    ];
    for (const [url, payload, field] of cases) {
      const response = await post(url, payload);
      const label = `${url} ${JSON.stringify(payload)}`;
      expect(response.statusCode, `${label}: ${response.body}`).toBe(400);
      expect(response.headers['content-type'], label).toContain('application/problem+json');
      const fields = response.json().errors.map((error: { field: string }) => error.field);
      expect(
        fields.some((name: string) => name.startsWith(field)),
        `${label}: ${fields}`,
      ).toBe(true);
    }
    const nothing = await post('/students/bulk-delete', {
      filter: { class_division: 'NO-SUCH-DIVISION' },
    });
    expect(nothing.statusCode).toBe(422);
    expect(await rowsOf([student.id])).toEqual(before);
    expect(await jobCount()).toBe(jobsBefore);
  });
});

describe('an interrupted bulk job', () => {
  it('keeps its committed batches when cancelled, and a re-run changes each record once', async () => {
    const made = await studentsIn('CANCEL', 5, { study_year: 7 });
    const ids = made.map((student) => student.id);
    const handler = bulkUpdateHandler(t.database.db, t.services.bulkChanges, { batchSize: 2 });
    const job = {
      id: '00000000-0000-4000-8000-0000000000b1',
      user_id: t.users.admin,
    } as JobResponse;
    const payload: BulkChangePayload = {
      resource: 'students',
      operation: 'update',
      ids,
      changes: { study_year: 8 },
      filter: null,
      origin: { user_email: 'admin@school.test' },
    };
    const stop = new AbortController();
    let reports = 0;
    const first = await handler.run({
      job,
      payload,
      signal: stop.signal,
      // The first report comes before any batch: cancel once the first batch has committed.
      progress: async () => {
        reports += 1;
        if (reports === 2) stop.abort();
      },
    });
    expect(first.success).toBe(false);
    expect(first.message).toContain('the 2 changes already committed stay');
    expect(first.data).toMatchObject({ cancelled: true, changed: 2, not_processed: 3 });
    const changed = async () =>
      (await rowsOf(ids)).filter((row) => row.study_year === 8).map((row) => row.id);
    expect(await changed()).toEqual(ids.slice(0, 2));
    const [cancelledSummary] = await auditEntries([
      eq(auditLogs.action, 'BULK_UPDATE'),
      sql`${auditLogs.details}->>'job_id' = ${job.id}`,
    ]);
    expect(cancelledSummary).toMatchObject({ success: false });
    expect(cancelledSummary?.details).toMatchObject({ cancelled: true, changed: 2 });

    const run = () =>
      handler.run({ job, payload, signal: new AbortController().signal, progress: async () => {} });
    const retried = await run();
    expect(retried.success).toBe(true);
    expect(retried.statistics).toMatchObject({ changed: 3, unchanged: 2 });
    expect(await changed()).toEqual(ids);
    const third = await run();
    expect(third.statistics).toMatchObject({ changed: 0, unchanged: 5 });

    const perRecord = await auditEntries([
      eq(auditLogs.action, 'UPDATE'),
      sql`${auditLogs.details}->>'job_id' = ${job.id}`,
    ]);
    // Every record changed (and was recorded) exactly once over the three runs.
    expect(perRecord.map((entry) => Number(entry.resource_id)).sort()).toEqual(ids);
  });
});
