import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCourse, makeStudent } from '../../../test/support/factories.ts';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { SYSTEM_CONTEXT } from '../../platform/http/request-context.ts';
import { grades } from '../grades/grades.table.ts';
import type { JobResponse } from '../jobs/jobs.manager.ts';
import { DEFAULT_GRADE_SCALE } from './grade-scale.ts';
import { courseResults } from './results.table.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const scale = DEFAULT_GRADE_SCALE;

async function enroll(studentId: number, courseId: number) {
  return t.services.enrollments.create(
    { student_id: studentId, course_id: courseId },
    SYSTEM_CONTEXT,
  );
}

async function addGrade(
  studentId: number,
  courseId: number,
  category: string | null,
  grade: number,
  maxGrade: number,
  weight = 1,
) {
  return t.services.grades.create(
    {
      student_id: studentId,
      course_id: courseId,
      assignment_name: `${category ?? 'Work'} ${grade}`,
      category,
      grade,
      max_grade: maxGrade,
      weight,
    },
    SYSTEM_CONTEXT,
  );
}

async function mark(studentId: number, courseId: number, statuses: string[]) {
  for (const [index, status] of statuses.entries()) {
    await t.services.attendance.create(
      {
        student_id: studentId,
        course_id: courseId,
        date: '2025-10-01',
        period_number: index + 1,
        status: status as 'Present',
      },
      SYSTEM_CONTEXT,
    );
  }
}

async function resultOf(studentId: number, courseId: number) {
  const [row] = await t.database.db
    .select()
    .from(courseResults)
    .where(and(eq(courseResults.student_id, studentId), eq(courseResults.course_id, courseId)));
  return row;
}

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

describe('recomputing results through the database', () => {
  it('matches the hand-computed example from real grades, attendance and performances', async () => {
    const student = await makeStudent(t.services);
    const course = await makeCourse(t.services, {
      evaluation_rules: [
        { category: 'Exams', weight: 60 },
        { category: 'Homework', weight: 40 },
      ],
      absence_penalty: 1.5,
    });
    await enroll(student.id, course.id);
    // Exams 85 %, Homework 90 % → 87; 2 absences × 1.5 → 84, B (see results.formula.test.ts)
    await addGrade(student.id, course.id, 'Exams', 45, 50, 2);
    await addGrade(student.id, course.id, 'Exams', 30, 40, 1);
    await addGrade(student.id, course.id, 'Homework', 8, 10);
    await addGrade(student.id, course.id, 'Homework', 10, 10);
    await mark(student.id, course.id, [
      ...Array<string>(15).fill('Present'),
      'Late',
      'Absent',
      'Absent',
      'Excused',
      'Excused',
    ]);
    for (const score of [8, 6]) {
      await t.services.performances.create(
        {
          student_id: student.id,
          course_id: course.id,
          date: `2025-10-0${score}`,
          category: 'Participation',
          score,
          max_score: 10,
        },
        SYSTEM_CONTEXT,
      );
    }

    const report = await t.services.results.recompute(
      { scope: 'student', student_id: student.id },
      { scale },
    );
    expect(report).toMatchObject({ students: 1, results: 1, removed: 0, cancelled: false });
    expect(await resultOf(student.id, course.id)).toMatchObject({
      weighted_percentage: 87,
      absence_penalty: 3,
      final_percentage: 84,
      letter_grade: 'B',
      grade_count: 4,
      present_count: 15,
      late_count: 1,
      absent_count: 2,
      excused_count: 2,
      attendance_rate: 80,
      excused_rate: 10,
      average_performance: 70,
    });
  });

  it('leaves out grades with max_grade 0 and deleted grades, and floors the penalty at 0', async () => {
    const student = await makeStudent(t.services);
    const course = await makeCourse(t.services, { absence_penalty: 5 });
    await enroll(student.id, course.id);
    await addGrade(student.id, course.id, null, 1, 10);
    const deleted = await addGrade(student.id, course.id, null, 10, 10);
    await t.services.grades.remove(deleted.id, SYSTEM_CONTEXT);
    // The API refuses max_grade 0; older data (a migration) can still hold one.
    await t.database.db.insert(grades).values({
      student_id: student.id,
      course_id: course.id,
      assignment_name: 'Legacy',
      grade: 0,
      max_grade: 0,
    });
    await mark(student.id, course.id, ['Absent', 'Absent', 'Absent', 'Absent', 'Present']);
    await t.services.results.recompute({ scope: 'course', course_id: course.id }, { scale });
    // 1/10 = 10 %; 4 absences × 5 = 20 → 0, F
    expect(await resultOf(student.id, course.id)).toMatchObject({
      weighted_percentage: 10,
      absence_penalty: 20,
      final_percentage: 0,
      letter_grade: 'F',
      grade_count: 1,
      attendance_rate: 20,
    });
  });

  it('gives an enrolled student without grades a row with no percentage', async () => {
    const student = await makeStudent(t.services);
    const course = await makeCourse(t.services);
    await enroll(student.id, course.id);
    await t.services.results.recompute({ scope: 'student', student_id: student.id }, { scale });
    expect(await resultOf(student.id, course.id)).toMatchObject({
      weighted_percentage: null,
      final_percentage: null,
      letter_grade: null,
      grade_count: 0,
      attendance_rate: null,
    });
  });

  it('is idempotent, keeps to its scope and removes results whose enrollment is gone', async () => {
    const [ana, ben] = [await makeStudent(t.services), await makeStudent(t.services)];
    const [math, art] = [await makeCourse(t.services), await makeCourse(t.services)];
    const enrollments = [];
    for (const student of [ana, ben]) {
      for (const course of [math, art]) {
        enrollments.push(await enroll(student.id, course.id));
        await addGrade(student.id, course.id, null, 50, 100);
      }
    }
    await t.services.results.recompute({ scope: 'all' }, { scale });
    const first = await resultOf(ana.id, math.id);
    const again = await t.services.results.recompute({ scope: 'all' }, { scale });
    expect(again.removed).toBe(0);
    const second = await resultOf(ana.id, math.id);
    expect(second?.id).toBe(first?.id);
    expect(second?.final_percentage).toBe(50);

    // A new grade in art, then a recompute of math only: art keeps its old result.
    await addGrade(ana.id, art.id, null, 100, 100);
    await t.services.results.recompute({ scope: 'course', course_id: math.id }, { scale });
    expect((await resultOf(ana.id, art.id))?.final_percentage).toBe(50);
    await t.services.results.recompute({ scope: 'student', student_id: ana.id }, { scale });
    expect((await resultOf(ana.id, art.id))?.final_percentage).toBe(75);

    // Ana leaves math; a recompute of Ben changes nothing of hers, one of math removes it.
    const anaMath = enrollments[0];
    if (!anaMath) throw new Error('no enrollment');
    await t.services.enrollments.remove(anaMath.id, SYSTEM_CONTEXT);
    await t.services.results.recompute({ scope: 'student', student_id: ben.id }, { scale });
    expect(await resultOf(ana.id, math.id)).toBeDefined();
    const removal = await t.services.results.recompute(
      { scope: 'course', course_id: math.id },
      { scale },
    );
    expect(removal).toMatchObject({ students: 2, results: 1, removed: 1 });
    expect(await resultOf(ana.id, math.id)).toBeUndefined();
    expect(await resultOf(ana.id, art.id)).toBeDefined();

    // A deleted course takes its results with it at the next recompute.
    await t.services.courses.remove(art.id, SYSTEM_CONTEXT);
    await t.services.results.recompute({ scope: 'all' }, { scale });
    expect(await resultOf(ben.id, art.id)).toBeUndefined();
    expect(await resultOf(ben.id, math.id)).toBeDefined();
  });

  it('never overwrites or removes a row from a later reading with an earlier one', async () => {
    const student = await makeStudent(t.services);
    const course = await makeCourse(t.services);
    const enrollment = await enroll(student.id, course.id);
    await addGrade(student.id, course.id, null, 6, 10);
    await t.services.results.recompute({ scope: 'student', student_id: student.id }, { scale });
    expect((await resultOf(student.id, course.id))?.final_percentage).toBe(60);

    // As if an overlapping recompute that read later (an hour from now) had written the row.
    const later = new Date(Date.now() + 3_600_000);
    await t.database.db
      .update(courseResults)
      .set({ final_percentage: 1, computed_at: later })
      .where(eq(courseResults.student_id, student.id));
    await t.services.enrollments.remove(enrollment.id, SYSTEM_CONTEXT);
    const report = await t.services.results.recompute(
      { scope: 'student', student_id: student.id },
      { scale },
    );
    expect(report.removed).toBe(0);
    expect(await resultOf(student.id, course.id)).toMatchObject({
      final_percentage: 1,
      computed_at: later,
    });

    // Once that reading is in the past, the next recompute removes the row.
    await t.database.db
      .update(courseResults)
      .set({ computed_at: new Date(Date.now() - 3_600_000) })
      .where(eq(courseResults.student_id, student.id));
    const after = await t.services.results.recompute(
      { scope: 'student', student_id: student.id },
      { scale },
    );
    expect(after.removed).toBe(1);
    expect(await resultOf(student.id, course.id)).toBeUndefined();
  });

  it('stops between batches when aborted, keeping what it committed', async () => {
    const course = await makeCourse(t.services);
    for (let n = 0; n < 3; n++) {
      const student = await makeStudent(t.services);
      await enroll(student.id, course.id);
    }
    const controller = new AbortController();
    const batches: number[] = [];
    const report = await t.services.results.recompute(
      { scope: 'course', course_id: course.id },
      {
        scale,
        batchSize: 1,
        signal: controller.signal,
        onBatch: async ({ students }) => {
          batches.push(students);
          controller.abort();
        },
      },
    );
    expect(batches).toEqual([1]);
    expect(report).toMatchObject({ students: 1, total_students: 3, results: 1, cancelled: true });
  });
});

describe('the recompute job', () => {
  it('runs from POST /jobs with a scope and reports its work', async () => {
    const student = await makeStudent(t.services);
    const course = await makeCourse(t.services);
    await enroll(student.id, course.id);
    await addGrade(student.id, course.id, null, 9, 10);
    const created = await t.request({
      method: 'POST',
      url: '/api/v1/jobs',
      payload: { job_type: 'recompute', metadata: { scope: 'course', course_id: course.id } },
      as: 'teacher',
    });
    expect(created.statusCode, created.body).toBe(202);
    const job = await waitForJob(created.json().id);
    expect(job.status, JSON.stringify(job)).toBe('COMPLETED');
    expect(job.result?.statistics).toEqual({
      students: 1,
      total_students: 1,
      results: 1,
      removed: 0,
    });
    expect(job.progress).toMatchObject({ current: 1, total: 1, percentage: 100 });
    expect((await resultOf(student.id, course.id))?.letter_grade).toBe('A-');
  });

  it('refuses a scope it does not know with a 422 naming the field', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/jobs',
      payload: { job_type: 'recompute', metadata: { scope: 'course' } },
    });
    expect(response.statusCode).toBe(422);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(JSON.stringify(response.json().errors)).toContain('course_id');
  });
});
