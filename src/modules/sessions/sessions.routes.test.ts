import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStudent } from '../../../test/support/factories.ts';
import { fixture } from '../../../test/support/fixtures.ts';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { attendance } from '../attendance/attendance.table.ts';
import { auditLogs } from '../audit/audit.table.ts';
import { courses } from '../courses/courses.table.ts';
import { courseEnrollments } from '../enrollments/enrollments.table.ts';
import { grades } from '../grades/grades.table.ts';
import { highlights } from '../highlights/highlights.table.ts';
import type { JobResponse } from '../jobs/jobs.manager.ts';
import { dailyPerformances } from '../performances/performances.table.ts';
import { students } from '../students/students.table.ts';
import { sessionImportHandler } from './session-import.job.ts';
import { sessionImports } from './sessions.table.ts';

type Bundle = Record<string, unknown> & {
  metadata: Record<string, unknown>;
  courses: Array<Record<string, unknown>>;
  students: Array<Record<string, unknown>>;
  enrollments: Array<Record<string, unknown>>;
  grades: Array<Record<string, unknown>>;
};

const original = (): Bundle =>
  JSON.parse(fixture('sessions/original-spring-2025.json').toString('utf8')) as Bundle;

/** Two installs: the one a semester leaves and an empty one it arrives in. */
let source: TestApp;
let target: TestApp;

beforeAll(async () => {
  // Roomy rate limits: this file calls the import and export routes many times a minute.
  const env = { RATE_LIMIT_JOBS_PER_MINUTE: '1000', RATE_LIMIT_EXPORTS_PER_MINUTE: '1000' };
  [source, target] = await Promise.all([createTestApp({ env }), createTestApp({ env })]);
});
afterAll(async () => {
  await Promise.all([source?.close(), target?.close()]);
});

async function rowCounts(t: TestApp) {
  const db = t.database.db;
  const n = async (query: Promise<Array<{ n: number }>>) => (await query)[0]?.n ?? 0;
  return {
    courses: await n(db.select({ n: count() }).from(courses)),
    students: await n(db.select({ n: count() }).from(students)),
    enrollments: await n(db.select({ n: count() }).from(courseEnrollments)),
    grades: await n(db.select({ n: count() }).from(grades)),
    attendance: await n(db.select({ n: count() }).from(attendance)),
    daily_performance: await n(db.select({ n: count() }).from(dailyPerformances)),
    highlights: await n(db.select({ n: count() }).from(highlights)),
    session_imports: await n(db.select({ n: count() }).from(sessionImports)),
  };
}

const ended = (job: JobResponse) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status);

async function waitForJob(t: TestApp, id: string): Promise<JobResponse> {
  // Generous: a loaded 2-core machine may take a while; the loop ends as soon as it is done.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = (await t.request({ method: 'GET', url: `/api/v1/jobs/${id}` })).json();
    if (ended(job) || Date.now() > deadline) return job;
    await sleep(50);
  }
}

function importRequest(
  t: TestApp,
  bundle: unknown,
  query: Record<string, string> = {},
  as: 'admin' | 'teacher' | 'viewer' = 'admin',
) {
  return t.request({
    method: 'POST',
    url: '/api/v1/sessions/import',
    query,
    payload: bundle as object,
    as,
  });
}

async function importBundle(t: TestApp, bundle: unknown, query: Record<string, string> = {}) {
  const started = await importRequest(t, bundle, query);
  expect(started.statusCode, started.body).toBe(202);
  const job = await waitForJob(t, started.json().id);
  expect(job.status, JSON.stringify(job.result ?? job.error_message)).toBe('COMPLETED');
  return job;
}

async function exportBundle(t: TestApp, semester: string): Promise<Bundle> {
  const response = await t.request({
    method: 'GET',
    url: '/api/v1/sessions/export',
    query: { semester },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

/** A bundle's content: everything but when and by whom it was exported. */
function content(bundle: Bundle) {
  const { exported_at: _at, exported_by: _by, ...metadata } = bundle.metadata;
  return { ...bundle, metadata };
}

describe('sessions: a semester moves between installs', () => {
  it('round-trips: export, import into an empty install, export again gives the same content', async () => {
    const post = async (url: string, payload: Record<string, unknown>) => {
      const response = await source.request({ method: 'POST', url: `/api/v1${url}`, payload });
      expect(response.statusCode, response.body).toBe(201);
      return response.json() as { id: number };
    };
    const semester = 'Fall 2025';
    const algebra = await post('/courses', {
      course_code: 'RT-ALG',
      course_name: 'Algebra',
      semester,
      credits: 4,
      evaluation_rules: [
        { category: 'Exam', weight: 60 },
        { category: 'Homework', weight: 40 },
      ],
      teaching_schedule: [{ day: 'Monday', start_time: '09:00', end_time: '10:30', room: 'A1' }],
      hours_per_week: 3,
    });
    const physics = await post('/courses', {
      course_code: 'RT-PHY',
      course_name: 'Φυσική',
      semester,
    });
    // Another semester's course stays out of the bundle.
    await post('/courses', {
      course_code: 'RT-OTHER',
      course_name: 'Other',
      semester: 'Spring 2026',
    });
    const anna = await post('/students', {
      student_id: 'RT-1',
      first_name: 'Anna',
      last_name: 'Ioannou',
      email: 'anna@rt.test',
      study_year: 2,
      academic_year: '2025-2026',
      class_division: 'B1',
      note: 'prefers Greek',
    });
    const nikos = await post('/students', {
      student_id: 'RT-2',
      first_name: 'Νίκος',
      last_name: 'Χριστοδούλου',
    });
    for (const [student, course] of [
      [anna, algebra],
      [anna, physics],
      [nikos, algebra],
    ] as const) {
      await post('/enrollments', {
        student_id: student.id,
        course_id: course.id,
        enrollment_date: '2025-09-15',
      });
    }
    await post('/grades', {
      student_id: anna.id,
      course_id: algebra.id,
      assignment_name: 'Quiz 1',
      category: 'Exam',
      grade: 18,
      max_grade: 20,
      date_assigned: '2025-10-01',
      notes: 'good',
    });
    await post('/grades', {
      student_id: nikos.id,
      course_id: algebra.id,
      assignment_name: 'Quiz 1',
      grade: 11,
      max_grade: 20,
    });
    await post('/attendance', {
      student_id: nikos.id,
      course_id: algebra.id,
      date: '2025-10-02',
      status: 'Absent',
      period_number: 2,
    });
    await post('/daily-performances', {
      student_id: anna.id,
      course_id: physics.id,
      date: '2025-10-03',
      category: 'Lab',
      score: 8,
    });
    await post('/highlights', {
      student_id: anna.id,
      semester,
      rating: 8,
      highlight_text: 'Helped classmates',
    });

    const first = await exportBundle(source, semester);
    expect(first.metadata).toMatchObject({ semester, version: '1.0' });
    expect(first.metadata.counts).toEqual({
      courses: 2,
      students: 2,
      enrollments: 3,
      grades: 2,
      attendance: 1,
      daily_performance: 1,
      highlights: 1,
    });
    expect(first.enrollments[0]).toMatchObject({
      student_id_ref: 'RT-1',
      course_code_ref: 'RT-ALG',
    });

    const semesters = await source.request({ method: 'GET', url: '/api/v1/sessions/semesters' });
    expect(semesters.json()).toEqual({ semesters: ['Fall 2025', 'Spring 2026'], count: 2 });

    await importBundle(target, first);
    const second = await exportBundle(target, semester);
    expect(content(second)).toEqual(content(first));

    // The same bundle again changes nothing: every record is skipped as unchanged.
    const again = await importRequest(target, first, { dry_run: 'true' });
    expect(again.statusCode).toBe(200);
    const counts = again.json().counts as Record<string, { create: number; update: number }>;
    for (const entity of Object.values(counts))
      expect(entity).toMatchObject({ create: 0, update: 0 });

    await source.services.audit.flush();
    const [exported] = await source.database.db
      .select({ n: count() })
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'EXPORT'), eq(auditLogs.resource, 'SESSION')));
    expect(exported?.n).toBeGreaterThanOrEqual(1);
  });

  it('imports a bundle of the original Python system with every record, audited', async () => {
    const bundle = original();
    const checked = await importRequest(target, bundle, { dry_run: 'true' });
    expect(checked.statusCode, checked.body).toBe(200);
    expect(checked.json()).toMatchObject({
      dry_run: true,
      valid: true,
      semester: 'Εαρινό 2025',
      counts: {
        courses: { create: 2 },
        students: { create: 3 },
        enrollments: { create: 5 },
        grades: { create: 4 },
        attendance: { create: 4 },
        daily_performance: { create: 3 },
        highlights: { create: 2 },
      },
      problems: [],
    });
    // The original's teaching_schedule shape is unknown here: left out, with a warning.
    expect(checked.json().warnings).toEqual([
      expect.objectContaining({ field: 'courses[0].teaching_schedule' }),
    ]);

    const before = await rowCounts(target);
    const job = await importBundle(target, bundle);
    expect(job.result?.statistics).toMatchObject({ created: 23, updated: 0, skipped: 0 });
    const after = await rowCounts(target);
    expect({
      courses: after.courses - before.courses,
      students: after.students - before.students,
      enrollments: after.enrollments - before.enrollments,
      grades: after.grades - before.grades,
      attendance: after.attendance - before.attendance,
      daily_performance: after.daily_performance - before.daily_performance,
      highlights: after.highlights - before.highlights,
    }).toEqual({
      courses: 2,
      students: 3,
      enrollments: 5,
      grades: 4,
      attendance: 4,
      daily_performance: 3,
      highlights: 2,
    });
    expect(after.session_imports).toBe(0);

    // Values survive the move: datetimes become dates, missing defaults apply.
    const exported = await exportBundle(target, 'Εαρινό 2025');
    expect(exported.enrollments).toContainEqual(
      expect.objectContaining({
        student_id_ref: 'AK123456',
        course_code_ref: 'MAT-202',
        enrolled_at: '2025-02-03',
      }),
    );
    expect(exported.grades).toContainEqual(
      expect.objectContaining({ student_id_ref: 'AK654321', weight: 1, grade: 12 }),
    );
    expect(exported.courses[0]).toMatchObject({
      course_code: 'MAT-202',
      evaluation_rules: [],
      absence_penalty: 0,
    });

    await target.services.audit.flush();
    const entries = await target.database.db
      .select()
      .from(auditLogs)
      .where(eq(auditLogs.request_id, (job.metadata.origin as { request_id: string }).request_id));
    const created = entries.filter((entry) => entry.action === 'CREATE');
    expect(created.length).toBeGreaterThanOrEqual(23);
    expect(created.map((entry) => entry.resource)).toEqual(
      expect.arrayContaining([
        'COURSE',
        'STUDENT',
        'ENROLLMENT',
        'GRADE',
        'ATTENDANCE',
        'PERFORMANCE',
        'HIGHLIGHT',
      ]),
    );
    const summary = entries.find(
      (entry) => entry.action === 'IMPORT' && entry.resource === 'SESSION',
    );
    expect(summary?.success).toBe(true);
    expect(summary?.details).toMatchObject({ semester: 'Εαρινό 2025', created: 23 });
  });

  it('merge_strategy skip leaves existing records; update changes only what differs', async () => {
    const bundle = original();
    const maria = bundle.students[0] as Record<string, unknown>;
    maria.first_name = 'Μαρίνα';
    (bundle.grades[0] as Record<string, unknown>).grade = 19;

    const skipCheck = await importRequest(target, bundle, {
      dry_run: 'true',
      merge_strategy: 'skip',
    });
    expect(skipCheck.json().counts.students).toEqual({ create: 0, update: 0, skip: 3 });
    await importBundle(target, bundle, { merge_strategy: 'skip' });
    const [kept] = await target.database.db
      .select()
      .from(students)
      .where(eq(students.student_id, 'AK123456'));
    expect(kept?.first_name).toBe('Μαρία');

    const updateCheck = await importRequest(target, bundle, { dry_run: 'true' });
    expect(updateCheck.json().counts).toMatchObject({
      students: { create: 0, update: 1, skip: 2 },
      grades: { create: 0, update: 1, skip: 3 },
      courses: { create: 0, update: 0, skip: 2 },
    });
    const job = await importBundle(target, bundle, { merge_strategy: 'update' });
    expect(job.result?.statistics).toMatchObject({ created: 0, updated: 2 });
    const [changed] = await target.database.db
      .select()
      .from(students)
      .where(eq(students.student_id, 'AK123456'));
    expect(changed?.first_name).toBe('Μαρίνα');
  });
});

describe('sessions: bad input changes nothing', () => {
  const cases: Array<[string, (bundle: Bundle) => unknown, string]> = [
    [
      'a missing metadata section',
      (bundle) => {
        const { metadata: _gone, ...rest } = bundle;
        return rest;
      },
      'metadata',
    ],
    [
      'a wrong version',
      (bundle) => ({ ...bundle, metadata: { ...bundle.metadata, version: '2.0' } }),
      'metadata.version',
    ],
    [
      'duplicate course codes',
      (bundle) => {
        bundle.courses[1] = { ...bundle.courses[1], course_code: 'ΠΛΗ101' };
        return bundle;
      },
      'courses[1].course_code',
    ],
    [
      'duplicate student ids',
      (bundle) => {
        bundle.students[2] = { ...bundle.students[2], student_id: 'AK123456' };
        return bundle;
      },
      'students[2].student_id',
    ],
    [
      'a reference that does not resolve',
      (bundle) => {
        bundle.grades[3] = { ...bundle.grades[3], student_id_ref: 'NOBODY-1' };
        return bundle;
      },
      'grades[3].student_id_ref',
    ],
    [
      'a count that disagrees with its list (a cut file)',
      (bundle) => {
        bundle.enrollments.pop();
        return bundle;
      },
      'metadata.counts.enrollments',
    ],
  ];

  it.each(cases)('refuses %s with a problem+json naming it', async (_name, spoil, field) => {
    // The source install holds a semester already: nothing of it may change either.
    const fresh = source;
    {
      const before = await rowCounts(fresh);
      const response = await importRequest(fresh, spoil(original()));
      expect(response.statusCode, response.body).toBe(422);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      const problem = response.json();
      expect(problem.errors.map((issue: { field: string }) => issue.field)).toContain(field);
      expect(await rowCounts(fresh)).toEqual(before);
      // The dry run names the same problem and answers 200.
      const checked = await importRequest(fresh, spoil(original()), { dry_run: 'true' });
      expect(checked.statusCode).toBe(200);
      expect(checked.json().valid).toBe(false);
      expect(await rowCounts(fresh)).toEqual(before);
    }
  });

  it('a dry run of a good bundle writes nothing', async () => {
    const fresh = source;
    {
      const before = await rowCounts(fresh);
      const response = await importRequest(fresh, original(), { dry_run: 'true' });
      expect(response.json()).toMatchObject({ valid: true, counts: { grades: { create: 4 } } });
      expect(await rowCounts(fresh)).toEqual(before);
    }
  });

  it('refuses callers without every permission, and unknown semesters', async () => {
    const viewer = await importRequest(source, original(), {}, 'viewer');
    expect(viewer.statusCode).toBe(403);
    const teacher = await importRequest(source, original(), { dry_run: 'true' }, 'teacher');
    expect(teacher.statusCode).toBe(403);
    expect(teacher.json().detail).toMatch(/courses:write/);
    const missing = await source.request({
      method: 'GET',
      url: '/api/v1/sessions/export',
      query: { semester: 'Never 1999' },
    });
    expect(missing.statusCode).toBe(404);
    const anonymous = await source.request({
      method: 'GET',
      url: '/api/v1/sessions/semesters',
      as: null,
    });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('sessions: the import job is all or nothing', () => {
  async function storeBundle(t: TestApp, bundle: unknown) {
    const [stored] = await t.database.db
      .insert(sessionImports)
      .values({
        user_id: t.users.admin,
        semester: 'Εαρινό 2025',
        bundle: bundle as Record<string, unknown>,
        merge_strategy: 'update',
      })
      .returning();
    if (!stored) throw new Error('no row');
    return stored.id;
  }

  function runJob(t: TestApp, id: string, signal: AbortSignal = new AbortController().signal) {
    const handler = sessionImportHandler(t.database.db, t.services, t.services.audit);
    return handler.run({
      job: { id: randomUUID(), user_id: t.users.admin } as JobResponse,
      payload: {
        kind: 'session',
        session_import_id: id,
        semester: 'Εαρινό 2025',
        merge_strategy: 'update',
        origin: {},
      },
      signal,
      progress: async () => {},
    });
  }

  it('rolls back every record written when it stops half way', async () => {
    // The source install: it holds another semester, which must not change either.
    const fresh = source;
    {
      const before = await rowCounts(fresh);
      // Aborted once courses and students are written: both must roll back.
      let checks = 0;
      const signal = {
        get aborted() {
          checks += 1;
          return checks > 2;
        },
      } as AbortSignal;
      const result = await runJob(fresh, await storeBundle(fresh, original()), signal);
      expect(result).toMatchObject({ success: false, message: expect.stringMatching(/nothing/) });
      expect(checks).toBeGreaterThan(2);
      expect(await rowCounts(fresh)).toEqual(before);
    }
  });

  it('refuses, writing nothing, when a reference vanished after the check', async () => {
    // The source install: it holds another semester, which must not change either.
    const fresh = source;
    {
      const outsider = await makeStudent(fresh.services, { student_id: 'EXT-1' });
      const bundle = original();
      bundle.grades[0] = { ...bundle.grades[0], student_id_ref: 'EXT-1' };
      const id = await storeBundle(fresh, bundle);
      await fresh.database.db
        .update(students)
        .set({ deleted_at: new Date() })
        .where(eq(students.id, outsider.id));
      const before = await rowCounts(fresh);
      const result = await runJob(fresh, id);
      expect(result).toMatchObject({ success: false, message: expect.stringMatching(/changed/) });
      expect(result.errors).toEqual([
        expect.objectContaining({ field: 'grades[0].student_id_ref' }),
      ]);
      expect(await rowCounts(fresh)).toEqual({ ...before, session_imports: 0 });
    }
  });
});
