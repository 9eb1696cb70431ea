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

/** Each call marks a different day unless told otherwise, so marks do not collide. */
let day = 0;
const mark = (overrides: Record<string, unknown> = {}) => {
  day += 1;
  const date = new Date(Date.UTC(2025, 8, 1) + day * 86_400_000).toISOString().slice(0, 10);
  return { student_id: studentId, course_id: courseId, date, status: 'Present', ...overrides };
};

function postMark(payload: Record<string, unknown>, as: 'admin' | 'teacher' | 'viewer' = 'admin') {
  return t.request({ method: 'POST', url: '/api/v1/attendance', payload, as });
}

async function makeMark(overrides: Record<string, unknown> = {}) {
  const response = await postMark(mark(overrides));
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

describe('attendance API', () => {
  it('creates, reads, updates, deletes and restores an attendance mark', async () => {
    const created = await postMark(mark({ date: '2025-10-20', status: 'Late' }));
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({
      student_id: studentId,
      course_id: courseId,
      date: '2025-10-20',
      status: 'Late',
      period_number: 1,
      notes: null,
      deleted_at: null,
    });

    const fetched = await t.request({
      method: 'GET',
      url: `/api/v1/attendance/${body.id}`,
      as: 'viewer',
    });
    expect(fetched.json()).toEqual(body);

    const patched = await t.request({
      method: 'PATCH',
      url: `/api/v1/attendance/${body.id}`,
      payload: { status: 'Excused', notes: 'doctor’s note' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ status: 'Excused', notes: 'doctor’s note' });

    const deleted = await t.request({ method: 'DELETE', url: `/api/v1/attendance/${body.id}` });
    expect(deleted.statusCode).toBe(204);
    expect(
      (await t.request({ method: 'DELETE', url: `/api/v1/attendance/${body.id}` })).statusCode,
    ).toBe(404);
    const restored = await t.request({
      method: 'POST',
      url: `/api/v1/attendance/${body.id}/restore`,
    });
    expect(restored.statusCode).toBe(200);
    expect(restored.json().deleted_at).toBeNull();
  });

  it.each([
    ['a status outside Present/Absent/Late/Excused', { status: 'present' }, 'body.status'],
    ['a period number of 0', { period_number: 0 }, 'body.period_number'],
    ['a period number over 20', { period_number: 21 }, 'body.period_number'],
    ['a fractional period number', { period_number: 1.5 }, 'body.period_number'],
    ['a missing date', { date: undefined }, 'body.date'],
    ['a date that does not exist', { date: '2025-13-01' }, 'body.date'],
  ])('refuses %s with a 400 naming the field', async (_name, overrides, field) => {
    const response = await postMark(mark(overrides));
    expect(response.statusCode).toBe(400);
    expect(problemFields(response)).toContain(field);
  });

  it('answers 409 for a second mark of the same student, course, day and period', async () => {
    const first = mark({ date: '2025-11-03', period_number: 2 });
    expect((await postMark(first)).statusCode).toBe(201);
    const again = await postMark({ ...first, status: 'Absent' });
    expect(again.statusCode).toBe(409);
    expect(problemFields(again)).toEqual([
      'body.student_id',
      'body.course_id',
      'body.date',
      'body.period_number',
    ]);
    expect((await postMark({ ...first, period_number: 3 })).statusCode).toBe(201);
  });

  it('answers 422 for a student or course that does not exist or is deleted', async () => {
    const missing = await postMark(mark({ student_id: 999_999 }));
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors).toEqual([
      { field: 'body.student_id', message: 'Student 999999 does not exist' },
    ]);

    const course = await makeCourse();
    await t.services.courses.remove(course.id, SYSTEM_CONTEXT);
    const deleted = await postMark(mark({ course_id: course.id }));
    expect(deleted.statusCode).toBe(422);
    expect(problemFields(deleted)).toEqual(['body.course_id']);

    const { id } = await makeMark();
    const moved = await t.request({
      method: 'PATCH',
      url: `/api/v1/attendance/${id}`,
      payload: { student_id: 999_999 },
    });
    expect(moved.statusCode).toBe(422);
    expect(problemFields(moved)).toEqual(['body.student_id']);
  });

  it('answers 404 for unknown ids', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/attendance/999999'],
      ['PATCH', '/api/v1/attendance/999999'],
      ['DELETE', '/api/v1/attendance/999999'],
      ['POST', '/api/v1/attendance/999999/restore'],
    ] as const) {
      const response = await t.request({
        method,
        url,
        ...(method === 'PATCH' ? { payload: { status: 'Absent' } } : {}),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
  });

  it('filters by student, course, status and date range, and lists under a parent', async () => {
    const student = (await makeStudent()).id;
    const course = (await makeCourse()).id;
    const monday = await makeMark({ student_id: student, course_id: course, date: '2026-03-02' });
    const tuesday = await makeMark({
      student_id: student,
      course_id: course,
      date: '2026-03-03',
      status: 'Absent',
    });
    const classmate = await makeMark({ course_id: course, date: '2026-03-03', status: 'Absent' });

    const byCourse = await t.request({
      method: 'GET',
      url: `/api/v1/attendance?course_id=${course}&sort=date`,
    });
    expect(ids(byCourse)).toEqual([monday.id, tuesday.id, classmate.id]);
    const absent = await t.request({
      method: 'GET',
      url: `/api/v1/attendance?course_id=${course}&status=Absent`,
    });
    expect(ids(absent).sort()).toEqual([tuesday.id, classmate.id].sort());
    const onMonday = await t.request({
      method: 'GET',
      url: `/api/v1/attendance?course_id=${course}&date_from=2026-03-02&date_to=2026-03-02`,
    });
    expect(ids(onMonday)).toEqual([monday.id]);
    const byStudent = await t.request({
      method: 'GET',
      url: `/api/v1/attendance?student_id=${student}`,
    });
    expect(ids(byStudent)).toEqual([tuesday.id, monday.id]);

    const ofStudent = await t.request({
      method: 'GET',
      url: `/api/v1/students/${student}/attendance?status=Present`,
      as: 'viewer',
    });
    expect(ids(ofStudent)).toEqual([monday.id]);
    const ofCourse = await t.request({
      method: 'GET',
      url: `/api/v1/courses/${course}/attendance?date_from=2026-03-03`,
    });
    expect(ofCourse.json().total).toBe(2);
    expect(
      (await t.request({ method: 'GET', url: '/api/v1/students/999999/attendance' })).statusCode,
    ).toBe(404);
    expect(
      (await t.request({ method: 'GET', url: '/api/v1/courses/999999/attendance' })).statusCode,
    ).toBe(404);
  });

  it('lets a teacher record attendance while a viewer gets 403', async () => {
    const byTeacher = await postMark(mark(), 'teacher');
    expect(byTeacher.statusCode).toBe(201);
    const id = byTeacher.json().id;
    const deleted = await t.request({
      method: 'DELETE',
      url: `/api/v1/attendance/${id}`,
      as: 'teacher',
    });
    expect(deleted.statusCode).toBe(204);

    expect((await postMark(mark(), 'viewer')).statusCode).toBe(403);
    const viewerRestore = await t.request({
      method: 'POST',
      url: `/api/v1/attendance/${id}/restore`,
      as: 'viewer',
    });
    expect(viewerRestore.statusCode).toBe(403);
    expect(
      (await t.request({ method: 'GET', url: '/api/v1/attendance', as: 'viewer' })).statusCode,
    ).toBe(200);
  });
});
