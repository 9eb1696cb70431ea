import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeCourse as makeCourseWith,
  makeStudent as makeStudentWith,
} from '../../../test/support/factories.ts';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { SYSTEM_CONTEXT } from '../../platform/http/request-context.ts';

let t: TestApp;
let studentId: number;
let courseId: number;

beforeAll(async () => {
  t = await createTestApp();
  studentId = (await makeStudent()).id;
  courseId = (await makeCourse()).id;
});
afterAll(async () => {
  await t.close();
});

const makeStudent = () => makeStudentWith(t.services);
const makeCourse = () => makeCourseWith(t.services);

const grade = (overrides: Record<string, unknown> = {}) => ({
  student_id: studentId,
  course_id: courseId,
  assignment_name: 'Midterm',
  category: 'Exam',
  grade: 17.5,
  max_grade: 20,
  date_assigned: '2025-10-01',
  date_submitted: '2025-10-08',
  ...overrides,
});

function postGrade(payload: Record<string, unknown>, as: 'admin' | 'teacher' | 'viewer' = 'admin') {
  return t.request({ method: 'POST', url: '/api/v1/grades', payload, as });
}

async function makeGrade(overrides: Record<string, unknown> = {}) {
  const response = await postGrade(grade(overrides));
  expect(response.statusCode).toBe(201);
  return response.json() as { id: number };
}

/** The fields a problem+json answer names. */
function problemFields(response: LightMyRequestResponse): string[] {
  expect(response.headers['content-type']).toContain('application/problem+json');
  return (response.json().errors ?? []).map((issue: { field: string }) => issue.field);
}

const ids = (response: LightMyRequestResponse) =>
  response.json().items.map((item: { id: number }) => item.id);

describe('grades API', () => {
  it('creates, reads, updates, deletes and restores a grade', async () => {
    const created = await postGrade({
      student_id: studentId,
      course_id: courseId,
      assignment_name: 'Essay',
      grade: 88,
    });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({
      assignment_name: 'Essay',
      category: null,
      grade: 88,
      max_grade: 100,
      weight: 1,
      date_assigned: null,
      date_submitted: null,
      deleted_at: null,
    });

    const fetched = await t.request({
      method: 'GET',
      url: `/api/v1/grades/${body.id}`,
      as: 'viewer',
    });
    expect(fetched.json()).toEqual(body);

    const patched = await t.request({
      method: 'PATCH',
      url: `/api/v1/grades/${body.id}`,
      payload: { grade: 91.5, weight: 2, notes: 'regraded' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ grade: 91.5, weight: 2, notes: 'regraded' });

    expect(
      (await t.request({ method: 'DELETE', url: `/api/v1/grades/${body.id}` })).statusCode,
    ).toBe(204);
    expect((await t.request({ method: 'GET', url: `/api/v1/grades/${body.id}` })).statusCode).toBe(
      404,
    );
    const restored = await t.request({ method: 'POST', url: `/api/v1/grades/${body.id}/restore` });
    expect(restored.statusCode).toBe(200);
    expect(restored.json()).toMatchObject({ grade: 91.5, deleted_at: null });
    const again = await t.request({ method: 'POST', url: `/api/v1/grades/${body.id}/restore` });
    expect(again.statusCode).toBe(409);
  });

  it.each([
    ['a negative grade', { grade: -1 }, 'body.grade'],
    ['a max grade of 0', { max_grade: 0 }, 'body.max_grade'],
    ['a negative max grade', { max_grade: -10 }, 'body.max_grade'],
    ['a weight of 0', { weight: 0 }, 'body.weight'],
    ['an empty assignment name', { assignment_name: '' }, 'body.assignment_name'],
    ['a grade that is not a number', { grade: 'A+' }, 'body.grade'],
    ['a date written another way', { date_assigned: '01/10/2025' }, 'body.date_assigned'],
  ])('refuses %s with a 400 naming the field', async (_name, overrides, field) => {
    const response = await postGrade(grade(overrides));
    expect(response.statusCode).toBe(400);
    expect(problemFields(response)).toContain(field);
  });

  it('refuses a grade above max_grade with a 422 naming the field', async () => {
    const above = await postGrade(grade({ grade: 21, max_grade: 20 }));
    expect(above.statusCode).toBe(422);
    expect(above.json().errors).toEqual([
      { field: 'body.grade', message: 'must not be more than max_grade (20)' },
    ]);
    // Without max_grade the database default of 100 applies.
    const overDefault = await postGrade(grade({ grade: 101, max_grade: undefined }));
    expect(overDefault.statusCode).toBe(422);
    expect(problemFields(overDefault)).toEqual(['body.grade']);
    expect((await postGrade(grade({ grade: 20, max_grade: 20 }))).statusCode).toBe(201);
  });

  it('checks grade against max_grade on update, naming the field that changed', async () => {
    const { id } = await makeGrade({ grade: 15, max_grade: 20 });
    const lowerMax = await t.request({
      method: 'PATCH',
      url: `/api/v1/grades/${id}`,
      payload: { max_grade: 10 },
    });
    expect(lowerMax.statusCode).toBe(422);
    expect(problemFields(lowerMax)).toEqual(['body.max_grade']);
    const higherGrade = await t.request({
      method: 'PATCH',
      url: `/api/v1/grades/${id}`,
      payload: { grade: 25 },
    });
    expect(higherGrade.statusCode).toBe(422);
    expect(problemFields(higherGrade)).toEqual(['body.grade']);
    const both = await t.request({
      method: 'PATCH',
      url: `/api/v1/grades/${id}`,
      payload: { grade: 25, max_grade: 30 },
    });
    expect(both.statusCode).toBe(200);
  });

  it('refuses a submission date before the assignment date', async () => {
    const early = await postGrade(
      grade({ date_assigned: '2025-10-08', date_submitted: '2025-10-01' }),
    );
    expect(early.statusCode).toBe(422);
    expect(early.json().errors).toEqual([
      { field: 'body.date_submitted', message: 'must not be before date_assigned (2025-10-08)' },
    ]);
    expect(
      (await postGrade(grade({ date_assigned: '2025-10-08', date_submitted: '2025-10-08' })))
        .statusCode,
    ).toBe(201);

    const { id } = await makeGrade({ date_assigned: '2025-10-01', date_submitted: '2025-10-05' });
    const moved = await t.request({
      method: 'PATCH',
      url: `/api/v1/grades/${id}`,
      payload: { date_assigned: '2025-10-06' },
    });
    expect(moved.statusCode).toBe(422);
    expect(problemFields(moved)).toEqual(['body.date_assigned']);
  });

  it('answers 422 for a student or course that does not exist or is deleted', async () => {
    const missing = await postGrade(grade({ student_id: 999_999, course_id: 999_998, grade: 500 }));
    expect(missing.statusCode).toBe(422);
    expect(problemFields(missing)).toEqual(['body.grade', 'body.student_id', 'body.course_id']);

    const gone = await makeStudent();
    await t.services.students.remove(gone.id, SYSTEM_CONTEXT);
    const deleted = await postGrade(grade({ student_id: gone.id }));
    expect(deleted.statusCode).toBe(422);
    expect(deleted.json().errors).toEqual([
      { field: 'body.student_id', message: `Student ${gone.id} does not exist` },
    ]);
  });

  it('answers 404 for unknown ids', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/grades/999999'],
      ['PATCH', '/api/v1/grades/999999'],
      ['DELETE', '/api/v1/grades/999999'],
      ['POST', '/api/v1/grades/999999/restore'],
    ] as const) {
      const response = await t.request({
        method,
        url,
        ...(method === 'PATCH' ? { payload: { grade: 1 } } : {}),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
  });

  it('filters by student, course, category and date range, and lists under a parent', async () => {
    const student = (await makeStudent()).id;
    const course = (await makeCourse()).id;
    const quiz = await makeGrade({
      student_id: student,
      course_id: course,
      category: 'Quiz',
      date_assigned: '2026-01-10',
      date_submitted: null,
    });
    const exam = await makeGrade({
      student_id: student,
      course_id: course,
      category: 'Exam',
      date_assigned: '2026-02-10',
      date_submitted: null,
    });
    const other = await makeGrade({
      course_id: course,
      date_assigned: '2026-02-11',
      date_submitted: null,
    });

    const byCourse = await t.request({ method: 'GET', url: `/api/v1/grades?course_id=${course}` });
    expect(ids(byCourse)).toEqual([other.id, exam.id, quiz.id]);
    const byStudentAndCourse = await t.request({
      method: 'GET',
      url: `/api/v1/grades?student_id=${student}&course_id=${course}&sort=date_assigned`,
    });
    expect(ids(byStudentAndCourse)).toEqual([quiz.id, exam.id]);
    const byCategory = await t.request({
      method: 'GET',
      url: `/api/v1/grades?course_id=${course}&category=Quiz`,
    });
    expect(ids(byCategory)).toEqual([quiz.id]);
    const inRange = await t.request({
      method: 'GET',
      url: `/api/v1/grades?course_id=${course}&date_from=2026-02-01&date_to=2026-02-10`,
    });
    expect(ids(inRange)).toEqual([exam.id]);
    const from = await t.request({
      method: 'GET',
      url: `/api/v1/grades?course_id=${course}&date_from=2026-02-10`,
    });
    expect(ids(from)).toEqual([other.id, exam.id]);
    const badDate = await t.request({ method: 'GET', url: '/api/v1/grades?date_to=yesterday' });
    expect(badDate.statusCode).toBe(400);
    expect(problemFields(badDate)).toEqual(['query.date_to']);

    const ofStudent = await t.request({
      method: 'GET',
      url: `/api/v1/students/${student}/grades?sort=grade`,
      as: 'viewer',
    });
    expect(ofStudent.statusCode).toBe(200);
    expect(ofStudent.json().total).toBe(2);
    const ofCourse = await t.request({
      method: 'GET',
      url: `/api/v1/courses/${course}/grades?date_to=2026-01-31`,
    });
    expect(ids(ofCourse)).toEqual([quiz.id]);
    expect(
      (await t.request({ method: 'GET', url: '/api/v1/students/999999/grades' })).statusCode,
    ).toBe(404);
    expect(
      (await t.request({ method: 'GET', url: '/api/v1/courses/999999/grades' })).statusCode,
    ).toBe(404);
  });

  it('lets a teacher record grades while a viewer gets 403', async () => {
    const byTeacher = await postGrade(grade(), 'teacher');
    expect(byTeacher.statusCode).toBe(201);
    const id = byTeacher.json().id;
    const patched = await t.request({
      method: 'PATCH',
      url: `/api/v1/grades/${id}`,
      payload: { grade: 19 },
      as: 'teacher',
    });
    expect(patched.statusCode).toBe(200);

    expect((await postGrade(grade(), 'viewer')).statusCode).toBe(403);
    const viewerPatch = await t.request({
      method: 'PATCH',
      url: `/api/v1/grades/${id}`,
      payload: { grade: 1 },
      as: 'viewer',
    });
    expect(viewerPatch.statusCode).toBe(403);
    const viewerDelete = await t.request({
      method: 'DELETE',
      url: `/api/v1/grades/${id}`,
      as: 'viewer',
    });
    expect(viewerDelete.statusCode).toBe(403);
    expect(
      (await t.request({ method: 'GET', url: `/api/v1/grades/${id}`, as: 'viewer' })).statusCode,
    ).toBe(200);
  });
});
