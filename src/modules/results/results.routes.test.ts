import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCourse, makeStudent } from '../../../test/support/factories.ts';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { SYSTEM_CONTEXT } from '../../platform/http/request-context.ts';
import type { JobResponse } from '../jobs/jobs.manager.ts';
import { jobs } from '../jobs/jobs.table.ts';
import { DEFAULT_GRADE_SCALE } from './grade-scale.ts';
import { RecomputeScheduler } from './recompute-scheduler.ts';
import type { RecomputeScope } from './results.service.ts';

let t: TestApp;

beforeAll(async () => {
  // Automatic recomputes on, with a short quiet time.
  t = await createTestApp({ env: { RECOMPUTE_DEBOUNCE_MS: '100' } });
});
afterAll(async () => {
  await t.close();
});

const enroll = (studentId: number, courseId: number) =>
  t.services.enrollments.create({ student_id: studentId, course_id: courseId }, SYSTEM_CONTEXT);

async function postGrade(studentId: number, courseId: number, grade: number, category = 'Exam') {
  const response = await t.request({
    method: 'POST',
    url: '/api/v1/grades',
    payload: {
      student_id: studentId,
      course_id: courseId,
      assignment_name: `${category} ${grade}`,
      category,
      grade,
      max_grade: 100,
    },
    as: 'teacher',
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as { id: number };
}

/** Polls a GET until `done` holds for its JSON (results follow changes a moment later). */
async function eventually<T>(url: string, done: (body: T) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await t.request({ method: 'GET', url, as: 'viewer' });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as T;
    if (done(body) || Date.now() > deadline) return body;
    await sleep(50);
  }
}

type StudentResults = {
  items: Array<{ course_id: number; final_percentage: number | null; letter_grade: string }>;
};
const finalIn = (body: StudentResults, courseId: number) =>
  body.items.find((item) => item.course_id === courseId)?.final_percentage;

async function waitForJob(id: string, timeoutMs = 20_000): Promise<JobResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await t.services.jobs.getJob(id);
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status) || Date.now() > deadline) {
      return job;
    }
    await sleep(50);
  }
}

/** Waits until no recompute job is waiting or running. */
async function settled(timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await t.database.db
      .select({ n: sql<number>`count(*)`.mapWith(Number) })
      .from(jobs)
      .where(and(eq(jobs.job_type, 'recompute'), sql`${jobs.status} IN ('PENDING', 'PROCESSING')`));
    if (!row?.n || Date.now() > deadline) return;
    await sleep(50);
  }
}

/** Recompute jobs of a scope, as the database holds them. */
async function recomputeJobs(scope: RecomputeScope, status?: 'PENDING') {
  return t.database.db
    .select()
    .from(jobs)
    .where(
      and(
        eq(jobs.job_type, 'recompute'),
        sql`${jobs.metadata} = ${JSON.stringify(scope)}::jsonb`,
        status ? eq(jobs.status, status) : undefined,
      ),
    );
}

function multipart(fields: Record<string, string>, file: { name: string; text: string }) {
  const boundary = `----results${Math.random().toString(16).slice(2)}`;
  const parts = Object.entries(fields).map(
    ([name, value]) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  parts.push(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: text/csv\r\n\r\n${file.text}\r\n`,
    `--${boundary}--\r\n`,
  );
  return {
    payload: Buffer.from(parts.join('')),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

describe('GET /students/{id}/results and /courses/{id}/results', () => {
  it('follow a grade written through the API, with the class statistics', async () => {
    const course = await makeCourse(t.services, {
      evaluation_rules: [
        { category: 'Exam', weight: 70 },
        { category: 'Homework', weight: 30 },
      ],
    });
    const [ana, ben, cleo] = [
      await makeStudent(t.services, { last_name: 'Alpha' }),
      await makeStudent(t.services, { last_name: 'Beta' }),
      await makeStudent(t.services, { last_name: 'Gamma' }),
    ];
    for (const student of [ana, ben, cleo]) await enroll(student.id, course.id);
    // Ana: Exam 90 only (Homework missing) → 90, A-; Ben: 70 × 0.7 + 100 × 0.3 = 79, C+
    await postGrade(ana.id, course.id, 90);
    await postGrade(ben.id, course.id, 70);
    await postGrade(ben.id, course.id, 100, 'Homework');

    const mine = await eventually<StudentResults>(
      `/api/v1/students/${ben.id}/results`,
      (body) => finalIn(body, course.id) === 79,
    );
    expect(mine.items).toHaveLength(1);
    expect(mine.items[0]).toMatchObject({
      student_id: ben.id,
      course_id: course.id,
      weighted_percentage: 79,
      final_percentage: 79,
      letter_grade: 'C+',
      grade_count: 2,
      course: { id: course.id, course_code: course.course_code },
    });

    const classResults = await eventually<{
      statistics: Record<string, unknown>;
      items: Array<{ student: { last_name: string }; final_percentage: number | null }>;
    }>(`/api/v1/courses/${course.id}/results`, (body) =>
      body.items.some((item) => item.final_percentage === 90),
    );
    expect(classResults.items.map((item) => item.student.last_name)).toEqual([
      'Alpha',
      'Beta',
      'Gamma',
    ]);
    // Finals 90 and 79 (Cleo has no grade): mean 84.5, median 84.5
    expect(classResults.statistics).toMatchObject({
      students: 3,
      count: 2,
      mean: 84.5,
      median: 84.5,
      min: 79,
      max: 90,
      ungraded: 1,
    });
    const distribution = classResults.statistics.distribution as Array<{
      letter: string;
      count: number;
    }>;
    expect(distribution.filter((entry) => entry.count > 0)).toEqual([
      { letter: 'A-', count: 1 },
      { letter: 'C+', count: 1 },
    ]);

    // The system started the recomputes: no user owns them.
    const automatic = await t.database.db.select().from(jobs).where(eq(jobs.job_type, 'recompute'));
    expect(automatic.length).toBeGreaterThan(0);
    expect(automatic.every((job) => job.user_id === null)).toBe(true);
  });

  it('answer 404 problem+json for unknown or deleted ids', async () => {
    const gone = await makeStudent(t.services);
    await t.services.students.remove(gone.id, SYSTEM_CONTEXT);
    for (const url of [
      '/api/v1/students/999999/results',
      '/api/v1/courses/999999/results',
      `/api/v1/students/${gone.id}/results`,
    ]) {
      const response = await t.request({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    const bad = await t.request({ method: 'GET', url: '/api/v1/courses/abc/results' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('path.id');
  });
});

describe('automatic recompute', () => {
  it('follows an import of grades', async () => {
    const course = await makeCourse(t.services, { course_code: 'RES-IMP1' });
    const student = await makeStudent(t.services, { student_id: 'RES-S1' });
    await enroll(student.id, course.id);
    await eventually<StudentResults>(
      `/api/v1/students/${student.id}/results`,
      (body) => body.items.length === 1,
    );

    const csv = [
      'student_id,course_code,assignment_name,category,grade,max_grade,weight',
      'RES-S1,RES-IMP1,Quiz 1,Quiz,6,10,1',
      'RES-S1,RES-IMP1,Quiz 2,Quiz,9,10,1',
    ].join('\n');
    const preview = await t.request({
      method: 'POST',
      url: '/api/v1/imports/preview',
      ...multipart({ import_type: 'grades' }, { name: 'grades.csv', text: csv }),
    });
    expect(preview.statusCode, preview.body).toBe(200);
    const commit = await t.request({
      method: 'POST',
      url: `/api/v1/imports/${preview.json().preview_id}/commit`,
    });
    expect(commit.statusCode, commit.body).toBe(202);
    expect((await waitForJob(commit.json().id)).status).toBe('COMPLETED');

    // (6 + 9) / 20 = 75 %, C
    const after = await eventually<StudentResults>(
      `/api/v1/students/${student.id}/results`,
      (body) => finalIn(body, course.id) === 75,
    );
    expect(after.items[0]).toMatchObject({
      final_percentage: 75,
      letter_grade: 'C',
      grade_count: 2,
    });
  });

  it('creates one job per scope and never a second PENDING one, even from two processes', async () => {
    const course = await makeCourse(t.services);
    const other = await makeCourse(t.services);
    const [ana, ben] = [await makeStudent(t.services), await makeStudent(t.services)];
    const grades = [];
    for (const [student, target] of [
      [ana, course],
      [ben, course],
      [ana, other],
    ] as const) {
      await enroll(student.id, target.id);
      grades.push(
        await t.services.grades.create(
          {
            student_id: student.id,
            course_id: target.id,
            assignment_name: 'Test',
            grade: 5,
            max_grade: 10,
          },
          SYSTEM_CONTEXT,
        ),
      );
    }
    // The app's own scheduler has heard of these writes: let its jobs run first.
    await t.services.recompute.flush();
    await settled();
    // Jobs stay PENDING while the engine is stopped.
    await t.services.jobEngine.stop(5000);
    try {
      // Two processes: each its own scheduler, one database. Long quiet times: flushed by hand.
      const options = { debounceMs: 60_000, lockAcrossProcesses: t.database.kind === 'postgres' };
      const first = new RecomputeScheduler(t.database.db, t.services.jobs, options);
      const second = new RecomputeScheduler(t.database.db, t.services.jobs, options);
      const [g1, g2, g3] = grades.map((grade) => grade.id);
      // Two students of one course: the course. Ana's other grade alone: Ana.
      first.note('GRADE', [g1 as number, g2 as number, g3 as number]);
      second.note('GRADE', [g1 as number, g2 as number, g3 as number]);
      const [byFirst, bySecond] = await Promise.all([first.flush(), second.flush()]);
      const courseScope: RecomputeScope = { scope: 'course', course_id: course.id };
      const anaScope: RecomputeScope = { scope: 'student', student_id: ana.id };
      expect([...byFirst, ...bySecond]).toHaveLength(2);
      expect([...byFirst, ...bySecond]).toEqual(expect.arrayContaining([courseScope, anaScope]));
      expect(await recomputeJobs(courseScope, 'PENDING')).toHaveLength(1);
      expect(await recomputeJobs(anaScope, 'PENDING')).toHaveLength(1);

      // More changes while they wait: the pending jobs will see them.
      first.note('GRADE', [g1 as number, g2 as number]);
      expect(await first.flush()).toEqual([]);
      expect(await recomputeJobs(courseScope, 'PENDING')).toHaveLength(1);

      // Everything pending covers any narrower scope.
      first.requestAll();
      expect(await first.flush()).toEqual([{ scope: 'all' }]);
      second.note('COURSE', [other.id]);
      expect(await second.flush()).toEqual([]);
      await first.close();
      await second.close();
    } finally {
      await t.services.jobEngine.start();
    }
    // Started again, the engine runs what waited.
    const deadline = Date.now() + 20_000;
    while ((await recomputeJobs({ scope: 'all' }, 'PENDING')).length > 0 && Date.now() < deadline) {
      await sleep(50);
    }
    expect(await recomputeJobs({ scope: 'all' }, 'PENDING')).toHaveLength(0);
  });

  it('follows a new letter scale, which the settings validate', async () => {
    const course = await makeCourse(t.services);
    const student = await makeStudent(t.services);
    await enroll(student.id, course.id);
    await postGrade(student.id, course.id, 55);
    await eventually<StudentResults>(
      `/api/v1/students/${student.id}/results`,
      (body) => body.items[0]?.letter_grade === 'F',
    );

    const refused = await t.request({
      method: 'PATCH',
      url: '/api/v1/settings',
      payload: {
        grade_scale: [
          { letter: 'Pass', min: 50 },
          { letter: 'Merit', min: 80 },
        ],
      },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json().errors.map((issue: { field: string }) => issue.field)).toEqual([
      'body.grade_scale.1.min',
      'body.grade_scale.1.min',
    ]);

    const scale = [
      { letter: 'Pass', min: 50 },
      { letter: 'Fail', min: 0 },
    ];
    const changed = await t.request({
      method: 'PATCH',
      url: '/api/v1/settings',
      payload: { grade_scale: scale },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().grade_scale).toEqual(scale);
    const after = await eventually<StudentResults>(
      `/api/v1/students/${student.id}/results`,
      (body) => body.items[0]?.letter_grade === 'Pass',
    );
    expect(after.items[0]?.letter_grade).toBe('Pass');
    await t.services.settings.update({ grade_scale: [...DEFAULT_GRADE_SCALE] });
  });
});

describe('results after a restore', () => {
  it('are rebuilt from the restored grades', async () => {
    const course = await makeCourse(t.services);
    const student = await makeStudent(t.services);
    await enroll(student.id, course.id);
    const grade = await postGrade(student.id, course.id, 64);
    const url = `/api/v1/students/${student.id}/results`;
    await eventually<StudentResults>(url, (body) => finalIn(body, course.id) === 64);
    const backup = await t.services.backups.create('manual', {});

    await t.request({
      method: 'PATCH',
      url: `/api/v1/grades/${grade.id}`,
      payload: { grade: 95 },
    });
    await eventually<StudentResults>(url, (body) => finalIn(body, course.id) === 95);

    const restore = await t.request({
      method: 'POST',
      url: `/api/v1/backups/${backup.name}/restore`,
    });
    expect(restore.statusCode, restore.body).toBe(202);
    expect((await waitForJob(restore.json().id, 60_000)).status).toBe('COMPLETED');
    // The restore emptied course_results (it is not in backups); a recompute of everything
    // brings back the result of the restored grade.
    const after = await eventually<StudentResults>(url, (body) => finalIn(body, course.id) === 64);
    expect(after.items[0]).toMatchObject({ final_percentage: 64, letter_grade: 'D' });
    expect(await recomputeJobs({ scope: 'all' })).not.toHaveLength(0);
  });
});

describe('results in exports', () => {
  it('exports a course’s results and adds them to the student report', async () => {
    const course = await makeCourse(t.services);
    const student = await makeStudent(t.services, { last_name: 'Exported' });
    await enroll(student.id, course.id);
    await postGrade(student.id, course.id, 88);
    await eventually<StudentResults>(
      `/api/v1/students/${student.id}/results`,
      (body) => finalIn(body, course.id) === 88,
    );

    const exported = await t.request({
      method: 'GET',
      url: `/api/v1/exports/results?format=json&course_id=${course.id}`,
      as: 'viewer',
    });
    expect(exported.statusCode, exported.body).toBe(200);
    const rows = exported.json();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      student_id: student.student_id,
      student_last_name: 'Exported',
      course_code: course.course_code,
      final_percentage: 88,
      letter_grade: 'B+',
    });

    const report = await t.request({
      method: 'GET',
      url: `/api/v1/exports/students/${student.id}/report?format=json`,
    });
    expect(report.statusCode).toBe(200);
    expect(report.json().results).toEqual([
      expect.objectContaining({ course_code: course.course_code, final_percentage: 88 }),
    ]);
  });
});
