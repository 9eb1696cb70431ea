import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

let sequence = 0;
const course = (overrides: Record<string, unknown> = {}) => {
  sequence += 1;
  return {
    course_code: `CS-${sequence}`,
    course_name: 'Εισαγωγή στον Προγραμματισμό',
    semester: 'Fall 2025',
    credits: 6,
    evaluation_rules: [
      { category: 'Exam', weight: 60 },
      { category: 'Homework', weight: 40 },
    ],
    teaching_schedule: [{ day: 'Monday', start_time: '09:00', end_time: '10:45', room: 'A1' }],
    ...overrides,
  };
};

async function makeCourse(overrides: Record<string, unknown> = {}) {
  const response = await t.request({
    method: 'POST',
    url: '/api/v1/courses',
    payload: course(overrides),
  });
  expect(response.statusCode).toBe(201);
  return response.json() as { id: number; course_code: string };
}

/** The fields a problem+json answer names. */
function problemFields(response: LightMyRequestResponse): string[] {
  expect(response.headers['content-type']).toContain('application/problem+json');
  return (response.json().errors ?? []).map((issue: { field: string }) => issue.field);
}

describe('courses API', () => {
  it('creates, reads, updates, deletes and restores a course', async () => {
    const created = await t.request({
      method: 'POST',
      url: '/api/v1/courses',
      payload: { course_code: 'MATH-101', course_name: 'Calculus I', semester: 'Fall 2025' },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({
      course_code: 'MATH-101',
      credits: 0,
      description: null,
      evaluation_rules: [],
      absence_penalty: 0,
      hours_per_week: 0,
      teaching_schedule: [],
      deleted_at: null,
    });

    const fetched = await t.request({
      method: 'GET',
      url: `/api/v1/courses/${body.id}`,
      as: 'viewer',
    });
    expect(fetched.statusCode).toBe(200);
    expect(fetched.json().course_name).toBe('Calculus I');

    const patched = await t.request({
      method: 'PATCH',
      url: `/api/v1/courses/${body.id}`,
      payload: {
        credits: 5,
        hours_per_week: 4.5,
        absence_penalty: 0.5,
        evaluation_rules: [{ category: 'Exam', weight: 100 }],
        teaching_schedule: [{ day: 'Friday', start_time: '12:00', end_time: '13:30' }],
      },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      credits: 5,
      hours_per_week: 4.5,
      absence_penalty: 0.5,
      evaluation_rules: [{ category: 'Exam', weight: 100 }],
      teaching_schedule: [{ day: 'Friday', start_time: '12:00', end_time: '13:30' }],
    });
    expect(patched.json().teaching_schedule[0]).not.toHaveProperty('room');

    const deleted = await t.request({ method: 'DELETE', url: `/api/v1/courses/${body.id}` });
    expect(deleted.statusCode).toBe(204);
    expect((await t.request({ method: 'GET', url: `/api/v1/courses/${body.id}` })).statusCode).toBe(
      404,
    );
    const list = await t.request({ method: 'GET', url: '/api/v1/courses?search=MATH-101' });
    expect(list.json().total).toBe(0);
    const withDeleted = await t.request({
      method: 'GET',
      url: '/api/v1/courses?search=MATH-101&include_deleted=true',
    });
    expect(withDeleted.json().items[0].deleted_at).not.toBeNull();

    const restored = await t.request({ method: 'POST', url: `/api/v1/courses/${body.id}/restore` });
    expect(restored.statusCode).toBe(200);
    expect(restored.json().deleted_at).toBeNull();
  });

  it.each([
    ['a course code with spaces', { course_code: 'CS 101' }, 'body.course_code'],
    ['a course code over 32 characters', { course_code: 'C'.repeat(33) }, 'body.course_code'],
    ['an empty course name', { course_name: '  ' }, 'body.course_name'],
    ['credits over 60', { credits: 61 }, 'body.credits'],
    ['fractional credits', { credits: 1.5 }, 'body.credits'],
    ['a negative absence penalty', { absence_penalty: -1 }, 'body.absence_penalty'],
    ['more than 80 hours a week', { hours_per_week: 81 }, 'body.hours_per_week'],
    [
      'an evaluation rule without category',
      { evaluation_rules: [{ category: '', weight: 10 }] },
      'body.evaluation_rules.0.category',
    ],
    [
      'an evaluation weight over 100',
      { evaluation_rules: [{ category: 'Exam', weight: 101 }] },
      'body.evaluation_rules.0.weight',
    ],
    [
      'a negative evaluation weight',
      { evaluation_rules: [{ category: 'Exam', weight: -5 }] },
      'body.evaluation_rules.0.weight',
    ],
    [
      'a repeated evaluation category',
      {
        evaluation_rules: [
          { category: 'Exam', weight: 50 },
          { category: 'exam', weight: 10 },
        ],
      },
      'body.evaluation_rules.1.category',
    ],
    [
      'evaluation weights adding up to more than 100',
      {
        evaluation_rules: [
          { category: 'Exam', weight: 70 },
          { category: 'Homework', weight: 40 },
        ],
      },
      'body.evaluation_rules',
    ],
    [
      'a teaching day that is not a weekday name',
      { teaching_schedule: [{ day: 'Funday', start_time: '09:00', end_time: '10:00' }] },
      'body.teaching_schedule.0.day',
    ],
    [
      'a start time that is not HH:MM',
      { teaching_schedule: [{ day: 'Monday', start_time: '9am', end_time: '10:00' }] },
      'body.teaching_schedule.0.start_time',
    ],
    [
      'an end time of 24:00',
      { teaching_schedule: [{ day: 'Monday', start_time: '09:00', end_time: '24:00' }] },
      'body.teaching_schedule.0.end_time',
    ],
    [
      'an end time before the start time',
      { teaching_schedule: [{ day: 'Monday', start_time: '11:00', end_time: '10:00' }] },
      'body.teaching_schedule.0.end_time',
    ],
    ['an unknown field', { teacher: 'Mr Smith' }, 'body'],
  ])('refuses %s with a 400 naming the field', async (_name, overrides, field) => {
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/courses',
      payload: course(overrides),
    });
    expect(response.statusCode).toBe(400);
    expect(problemFields(response)).toContain(field);
  });

  it('explains why evaluation weights are refused', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/courses',
      payload: course({
        evaluation_rules: [
          { category: 'Exam', weight: 70 },
          { category: 'Homework', weight: 40 },
        ],
      }),
    });
    expect(response.json().errors).toEqual([
      {
        field: 'body.evaluation_rules',
        message: 'the weights add up to 110; they may add up to at most 100',
      },
    ]);
  });

  it('accepts weights that add up to exactly 100 despite rounding', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/courses',
      payload: course({
        evaluation_rules: [
          { category: 'Exam', weight: 33.3 },
          { category: 'Homework', weight: 33.3 },
          { category: 'Project', weight: 33.4 },
        ],
      }),
    });
    expect(response.statusCode).toBe(201);
  });

  it('validates the fields a PATCH sends', async () => {
    const { id } = await makeCourse();
    const response = await t.request({
      method: 'PATCH',
      url: `/api/v1/courses/${id}`,
      payload: { evaluation_rules: [{ category: 'Exam', weight: 150 }] },
    });
    expect(response.statusCode).toBe(400);
    expect(problemFields(response)).toContain('body.evaluation_rules.0.weight');
    const empty = await t.request({ method: 'PATCH', url: `/api/v1/courses/${id}`, payload: {} });
    expect(empty.statusCode).toBe(400);
  });

  it('answers 404 for unknown ids', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/courses/999999'],
      ['PATCH', '/api/v1/courses/999999'],
      ['DELETE', '/api/v1/courses/999999'],
      ['POST', '/api/v1/courses/999999/restore'],
    ] as const) {
      const response = await t.request({
        method,
        url,
        ...(method === 'PATCH' ? { payload: { credits: 1 } } : {}),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('answers 409 naming the field for a duplicate course code', async () => {
    await makeCourse({ course_code: 'DUP-1' });
    const again = await t.request({
      method: 'POST',
      url: '/api/v1/courses',
      payload: course({ course_code: 'DUP-1' }),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().errors).toEqual([{ field: 'body.course_code', message: 'already exists' }]);
  });

  it('searches code and name, filters by semester and sorts', async () => {
    await makeCourse({
      course_code: 'PHY-1',
      course_name: 'Physics',
      semester: 'Spring 2031',
      credits: 3,
    });
    await makeCourse({
      course_code: 'PHY-2',
      course_name: 'Optics',
      semester: 'Spring 2031',
      credits: 5,
    });
    await makeCourse({
      course_code: 'CHE-1',
      course_name: 'Physical chemistry',
      semester: 'Fall 2031',
    });

    const bySemester = await t.request({
      method: 'GET',
      url: '/api/v1/courses?semester=Spring%202031&sort=-credits',
    });
    expect(bySemester.statusCode).toBe(200);
    expect(bySemester.json().items.map((c: { course_code: string }) => c.course_code)).toEqual([
      'PHY-2',
      'PHY-1',
    ]);

    const byName = await t.request({ method: 'GET', url: '/api/v1/courses?search=physic' });
    expect(
      byName
        .json()
        .items.map((c: { course_code: string }) => c.course_code)
        .sort(),
    ).toEqual(['CHE-1', 'PHY-1']);
    const byCode = await t.request({ method: 'GET', url: '/api/v1/courses?search=phy-' });
    expect(byCode.json().total).toBe(2);

    const badSort = await t.request({ method: 'GET', url: '/api/v1/courses?sort=description' });
    expect(badSort.statusCode).toBe(400);
    expect(problemFields(badSort)).toEqual(['query.sort']);
  });

  it('lets viewers and teachers read but only admins write', async () => {
    const { id } = await makeCourse();
    expect(
      (await t.request({ method: 'GET', url: '/api/v1/courses', as: 'viewer' })).statusCode,
    ).toBe(200);
    for (const as of ['teacher', 'viewer'] as const) {
      const created = await t.request({
        method: 'POST',
        url: '/api/v1/courses',
        payload: course(),
        as,
      });
      expect(created.statusCode, as).toBe(403);
      const deleted = await t.request({ method: 'DELETE', url: `/api/v1/courses/${id}`, as });
      expect(deleted.statusCode, as).toBe(403);
    }
    expect((await t.request({ method: 'GET', url: '/api/v1/courses', as: null })).statusCode).toBe(
      401,
    );
  });
});
