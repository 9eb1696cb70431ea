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

const performance = (overrides: Record<string, unknown> = {}) => ({
  student_id: studentId,
  course_id: courseId,
  date: '2025-10-01',
  category: 'Participation',
  score: 8,
  ...overrides,
});

function postPerformance(
  payload: Record<string, unknown>,
  as: 'admin' | 'teacher' | 'viewer' = 'admin',
) {
  return t.request({ method: 'POST', url: '/api/v1/daily-performances', payload, as });
}

async function makePerformance(overrides: Record<string, unknown> = {}) {
  const response = await postPerformance(performance(overrides));
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

describe('daily performance API', () => {
  it('creates, reads, updates, deletes and restores a daily performance', async () => {
    const created = await postPerformance(performance());
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({
      date: '2025-10-01',
      category: 'Participation',
      score: 8,
      max_score: 10,
      notes: null,
      deleted_at: null,
    });

    const fetched = await t.request({
      method: 'GET',
      url: `/api/v1/daily-performances/${body.id}`,
      as: 'viewer',
    });
    expect(fetched.json()).toEqual(body);

    const patched = await t.request({
      method: 'PATCH',
      url: `/api/v1/daily-performances/${body.id}`,
      payload: { score: 18, max_score: 20 },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ score: 18, max_score: 20 });

    const deleted = await t.request({
      method: 'DELETE',
      url: `/api/v1/daily-performances/${body.id}`,
    });
    expect(deleted.statusCode).toBe(204);
    expect(
      (await t.request({ method: 'GET', url: `/api/v1/daily-performances/${body.id}` })).statusCode,
    ).toBe(404);
    const restored = await t.request({
      method: 'POST',
      url: `/api/v1/daily-performances/${body.id}/restore`,
    });
    expect(restored.statusCode).toBe(200);
    expect(restored.json().deleted_at).toBeNull();
  });

  it.each([
    ['a negative score', { score: -0.5 }, 'body.score'],
    ['a max score of 0', { max_score: 0 }, 'body.max_score'],
    ['an empty category', { category: ' ' }, 'body.category'],
    ['a missing date', { date: undefined }, 'body.date'],
  ])('refuses %s with a 400 naming the field', async (_name, overrides, field) => {
    const response = await postPerformance(performance(overrides));
    expect(response.statusCode).toBe(400);
    expect(problemFields(response)).toContain(field);
  });

  it('refuses a score above max_score with a 422 naming the field', async () => {
    const above = await postPerformance(performance({ score: 11 }));
    expect(above.statusCode).toBe(422);
    expect(above.json().errors).toEqual([
      { field: 'body.score', message: 'must not be more than max_score (10)' },
    ]);
    expect((await postPerformance(performance({ score: 11, max_score: 20 }))).statusCode).toBe(201);

    const { id } = await makePerformance({ score: 9 });
    const lowered = await t.request({
      method: 'PATCH',
      url: `/api/v1/daily-performances/${id}`,
      payload: { max_score: 5 },
    });
    expect(lowered.statusCode).toBe(422);
    expect(problemFields(lowered)).toEqual(['body.max_score']);
  });

  it('answers 422 for a student or course that does not exist or is deleted', async () => {
    const missing = await postPerformance(performance({ course_id: 999_999 }));
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors).toEqual([
      { field: 'body.course_id', message: 'Course 999999 does not exist' },
    ]);
    const student = await makeStudent();
    await t.services.students.remove(student.id, SYSTEM_CONTEXT);
    const deleted = await postPerformance(performance({ student_id: student.id }));
    expect(deleted.statusCode).toBe(422);
    expect(problemFields(deleted)).toEqual(['body.student_id']);
  });

  it('answers 404 for unknown ids', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/daily-performances/999999'],
      ['PATCH', '/api/v1/daily-performances/999999'],
      ['DELETE', '/api/v1/daily-performances/999999'],
      ['POST', '/api/v1/daily-performances/999999/restore'],
    ] as const) {
      const response = await t.request({
        method,
        url,
        ...(method === 'PATCH' ? { payload: { score: 1 } } : {}),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
  });

  it('filters by student, course, category and date range, and lists under a parent', async () => {
    const student = (await makeStudent()).id;
    const course = (await makeCourse()).id;
    const early = await makePerformance({
      student_id: student,
      course_id: course,
      date: '2026-04-01',
      category: 'Homework',
    });
    const late = await makePerformance({
      student_id: student,
      course_id: course,
      date: '2026-04-15',
      score: 4,
    });
    const classmate = await makePerformance({ course_id: course, date: '2026-04-10' });

    const byCourse = await t.request({
      method: 'GET',
      url: `/api/v1/daily-performances?course_id=${course}`,
    });
    expect(ids(byCourse)).toEqual([late.id, classmate.id, early.id]);
    const homework = await t.request({
      method: 'GET',
      url: `/api/v1/daily-performances?course_id=${course}&category=Homework`,
    });
    expect(ids(homework)).toEqual([early.id]);
    const range = await t.request({
      method: 'GET',
      url: `/api/v1/daily-performances?course_id=${course}&date_from=2026-04-02&date_to=2026-04-14`,
    });
    expect(ids(range)).toEqual([classmate.id]);
    const byStudent = await t.request({
      method: 'GET',
      url: `/api/v1/daily-performances?student_id=${student}&sort=score`,
    });
    expect(ids(byStudent)).toEqual([late.id, early.id]);

    const ofStudent = await t.request({
      method: 'GET',
      url: `/api/v1/students/${student}/daily-performances`,
      as: 'viewer',
    });
    expect(ofStudent.json().total).toBe(2);
    const ofCourse = await t.request({
      method: 'GET',
      url: `/api/v1/courses/${course}/daily-performances?date_to=2026-04-10`,
    });
    expect(ids(ofCourse)).toEqual([classmate.id, early.id]);
    expect(
      (await t.request({ method: 'GET', url: '/api/v1/students/999999/daily-performances' }))
        .statusCode,
    ).toBe(404);
    expect(
      (await t.request({ method: 'GET', url: '/api/v1/courses/999999/daily-performances' }))
        .statusCode,
    ).toBe(404);
  });

  it('lets a teacher record daily performance while a viewer gets 403', async () => {
    expect((await postPerformance(performance(), 'teacher')).statusCode).toBe(201);
    expect((await postPerformance(performance(), 'viewer')).statusCode).toBe(403);
  });
});
