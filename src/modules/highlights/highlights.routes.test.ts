import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStudent as makeStudentWith } from '../../../test/support/factories.ts';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { SYSTEM_CONTEXT } from '../../platform/http/request-context.ts';

let t: TestApp;
let studentId: number;

beforeAll(async () => {
  t = await createTestApp();
  studentId = (await makeStudent()).id;
});
afterAll(async () => {
  await t.close();
});

const makeStudent = () => makeStudentWith(t.services);

const highlight = (overrides: Record<string, unknown> = {}) => ({
  student_id: studentId,
  semester: 'Fall 2025',
  highlight_text: 'Helped classmates prepare for the exam',
  ...overrides,
});

function postHighlight(
  payload: Record<string, unknown>,
  as: 'admin' | 'teacher' | 'viewer' = 'admin',
) {
  return t.request({ method: 'POST', url: '/api/v1/highlights', payload, as });
}

async function makeHighlight(overrides: Record<string, unknown> = {}) {
  const response = await postHighlight(highlight(overrides));
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

describe('highlights API', () => {
  it('creates, reads, updates, deletes and restores a highlight', async () => {
    const created = await postHighlight(highlight());
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({
      student_id: studentId,
      semester: 'Fall 2025',
      rating: null,
      category: null,
      is_positive: true,
      date_created: null,
      deleted_at: null,
    });

    const fetched = await t.request({
      method: 'GET',
      url: `/api/v1/highlights/${body.id}`,
      as: 'viewer',
    });
    expect(fetched.json()).toEqual(body);

    const patched = await t.request({
      method: 'PATCH',
      url: `/api/v1/highlights/${body.id}`,
      payload: { rating: 9, category: 'Teamwork', date_created: '2025-11-02' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ rating: 9, category: 'Teamwork' });
    const cleared = await t.request({
      method: 'PATCH',
      url: `/api/v1/highlights/${body.id}`,
      payload: { rating: null, category: '' },
    });
    expect(cleared.json()).toMatchObject({ rating: null, category: null });

    const deleted = await t.request({ method: 'DELETE', url: `/api/v1/highlights/${body.id}` });
    expect(deleted.statusCode).toBe(204);
    expect(
      (await t.request({ method: 'GET', url: `/api/v1/highlights/${body.id}` })).statusCode,
    ).toBe(404);
    const restored = await t.request({
      method: 'POST',
      url: `/api/v1/highlights/${body.id}/restore`,
    });
    expect(restored.statusCode).toBe(200);
    expect(restored.json().deleted_at).toBeNull();
  });

  it.each([
    ['a rating of 0', { rating: 0 }, 'body.rating'],
    ['a rating over 10', { rating: 11 }, 'body.rating'],
    ['a fractional rating', { rating: 7.5 }, 'body.rating'],
    ['a missing highlight text', { highlight_text: undefined }, 'body.highlight_text'],
    ['an empty highlight text', { highlight_text: '   ' }, 'body.highlight_text'],
    [
      'a highlight text over 2000 characters',
      { highlight_text: 'x'.repeat(2001) },
      'body.highlight_text',
    ],
    ['a missing semester', { semester: undefined }, 'body.semester'],
    ['an is_positive that is text', { is_positive: 'yes' }, 'body.is_positive'],
  ])('refuses %s with a 400 naming the field', async (_name, overrides, field) => {
    const response = await postHighlight(highlight(overrides));
    expect(response.statusCode).toBe(400);
    expect(problemFields(response)).toContain(field);
  });

  it('answers 422 for a student that does not exist or is deleted', async () => {
    const missing = await postHighlight(highlight({ student_id: 999_999 }));
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors).toEqual([
      { field: 'body.student_id', message: 'Student 999999 does not exist' },
    ]);
    const student = await makeStudent();
    await t.services.students.remove(student.id, SYSTEM_CONTEXT);
    const deleted = await postHighlight(highlight({ student_id: student.id }));
    expect(deleted.statusCode).toBe(422);
    expect(problemFields(deleted)).toEqual(['body.student_id']);
  });

  it('answers 404 for unknown ids', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/highlights/999999'],
      ['PATCH', '/api/v1/highlights/999999'],
      ['DELETE', '/api/v1/highlights/999999'],
      ['POST', '/api/v1/highlights/999999/restore'],
    ] as const) {
      const response = await t.request({
        method,
        url,
        ...(method === 'PATCH' ? { payload: { rating: 1 } } : {}),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
  });

  it('filters by student, semester, category and is_positive, and lists under a student', async () => {
    const student = (await makeStudent()).id;
    const praise = await makeHighlight({ student_id: student, category: 'Leadership', rating: 8 });
    const concern = await makeHighlight({
      student_id: student,
      category: 'Behaviour',
      is_positive: false,
      rating: 3,
    });
    const spring = await makeHighlight({ student_id: student, semester: 'Spring 2026' });

    const byStudent = await t.request({
      method: 'GET',
      url: `/api/v1/highlights?student_id=${student}&semester=Fall%202025&sort=-rating`,
    });
    expect(ids(byStudent)).toEqual([praise.id, concern.id]);
    const negative = await t.request({
      method: 'GET',
      url: `/api/v1/highlights?student_id=${student}&is_positive=false`,
    });
    expect(ids(negative)).toEqual([concern.id]);
    const leadership = await t.request({
      method: 'GET',
      url: `/api/v1/highlights?category=Leadership&student_id=${student}`,
    });
    expect(ids(leadership)).toEqual([praise.id]);
    const badBoolean = await t.request({ method: 'GET', url: '/api/v1/highlights?is_positive=1' });
    expect(badBoolean.statusCode).toBe(400);
    expect(problemFields(badBoolean)).toEqual(['query.is_positive']);

    const ofStudent = await t.request({
      method: 'GET',
      url: `/api/v1/students/${student}/highlights?semester=Spring%202026`,
      as: 'viewer',
    });
    expect(ids(ofStudent)).toEqual([spring.id]);
    const all = await t.request({ method: 'GET', url: `/api/v1/students/${student}/highlights` });
    expect(all.json().total).toBe(3);
    expect(
      (await t.request({ method: 'GET', url: '/api/v1/students/999999/highlights' })).statusCode,
    ).toBe(404);
  });

  it('lets a teacher write highlights while a viewer gets 403', async () => {
    expect((await postHighlight(highlight(), 'teacher')).statusCode).toBe(201);
    expect((await postHighlight(highlight(), 'viewer')).statusCode).toBe(403);
  });
});
