import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ env: { BODY_LIMIT_BYTES: '4096' } });
  await t.request({
    method: 'POST',
    url: '/api/v1/students',
    payload: { student_id: 'KEEP-1', first_name: 'Keep', last_name: 'Me' },
  });
});
afterAll(async () => {
  await t.close();
});

async function studentCount(): Promise<number> {
  const response = await t.request({ method: 'GET', url: '/api/v1/students?include_deleted=true' });
  return response.json().total;
}

function expectProblem(
  response: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
) {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  const body = response.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^urn:registrar:problem:/) });
  expect(body.request_id).toEqual(response.headers['x-request-id']);
  return body as { errors?: Array<{ field: string; message: string }>; detail: string };
}

describe('bad input leaves the database unchanged and names what is wrong', () => {
  const cases: Array<{
    name: string;
    payload?: unknown;
    body?: string;
    contentType?: string;
    status: number;
    fields?: string[];
  }> = [
    {
      name: 'missing required fields',
      payload: { first_name: 'A' },
      status: 400,
      fields: ['body.student_id', 'body.last_name'],
    },
    {
      name: 'wrong types',
      payload: { student_id: 5, first_name: 'A', last_name: 'B', study_year: 'two' },
      status: 400,
      fields: ['body.student_id', 'body.study_year'],
    },
    {
      name: 'out-of-range number',
      payload: { student_id: 'X1', first_name: 'A', last_name: 'B', study_year: -3 },
      status: 400,
      fields: ['body.study_year'],
    },
    {
      name: 'impossible date',
      payload: { student_id: 'X2', first_name: 'A', last_name: 'B', enrollment_date: '2025-02-30' },
      status: 400,
      fields: ['body.enrollment_date'],
    },
    {
      name: 'bad e-mail',
      payload: { student_id: 'X3', first_name: 'A', last_name: 'B', email: 'not-an-email' },
      status: 400,
      fields: ['body.email'],
    },
    {
      name: 'unknown field',
      payload: { student_id: 'X4', first_name: 'A', last_name: 'B', grade_point: 4 },
      status: 400,
    },
    {
      name: 'empty names',
      payload: { student_id: 'X5', first_name: '  ', last_name: 'B' },
      status: 400,
      fields: ['body.first_name'],
    },
    {
      name: 'malformed JSON',
      body: '{"student_id": "X6",',
      contentType: 'application/json',
      status: 400,
    },
    {
      name: 'JSON that is not an object',
      body: '[1,2,3]',
      contentType: 'application/json',
      status: 400,
    },
    {
      name: 'unsupported media type',
      body: 'student_id=X7',
      contentType: 'text/plain',
      status: 415,
    },
    {
      name: 'oversized body',
      payload: { student_id: 'X8', first_name: 'A', last_name: 'B', note: 'x'.repeat(8000) },
      status: 413,
    },
  ];

  for (const testCase of cases) {
    it(testCase.name, async () => {
      const before = await studentCount();
      const response = await t.request({
        method: 'POST',
        url: '/api/v1/students',
        ...(testCase.body !== undefined
          ? {
              body: testCase.body,
              headers: { 'content-type': testCase.contentType ?? 'application/json' },
            }
          : { payload: testCase.payload as Record<string, unknown> }),
      });
      const problem = expectProblem(response, testCase.status);
      for (const field of testCase.fields ?? []) {
        expect(problem.errors?.map((error) => error.field)).toContain(field);
      }
      expect(await studentCount()).toBe(before);
    });
  }

  it('an unknown enum value in a filter', async () => {
    const response = await t.request({ method: 'GET', url: '/api/v1/students?is_active=maybe' });
    expect(expectProblem(response, 400).errors?.[0]?.field).toBe('query.is_active');
  });

  it('negative, zero and oversized page sizes', async () => {
    for (const size of ['-1', '0', '501', 'ten']) {
      const response = await t.request({
        method: 'GET',
        url: `/api/v1/students?page_size=${size}`,
      });
      expect(expectProblem(response, 400).errors?.[0]?.field).toBe('query.page_size');
    }
  });

  it('an unknown sort column', async () => {
    const response = await t.request({ method: 'GET', url: '/api/v1/students?sort=password' });
    expect(expectProblem(response, 400).errors?.[0]?.field).toBe('query.sort');
  });

  it('ids that are not positive integers', async () => {
    for (const id of ['abc', '0', '-5', '1.5', '99999999999']) {
      const response = await t.request({ method: 'GET', url: `/api/v1/students/${id}` });
      expect(expectProblem(response, 400).errors?.[0]?.field).toBe('path.id');
    }
  });

  it('unknown ids give 404 for get, update, delete and restore', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/students/424242'],
      ['PATCH', '/api/v1/students/424242'],
      ['DELETE', '/api/v1/students/424242'],
      ['POST', '/api/v1/students/424242/restore'],
    ] as const) {
      const response = await t.request({
        method,
        url,
        ...(method === 'PATCH' ? { payload: { note: 'x' } } : {}),
      });
      expect(expectProblem(response, 404).detail).toContain('424242');
    }
  });

  it('an empty PATCH', async () => {
    const [student] = (await t.request({ method: 'GET', url: '/api/v1/students' })).json().items;
    const response = await t.request({
      method: 'PATCH',
      url: `/api/v1/students/${student.id}`,
      payload: {},
    });
    expectProblem(response, 400);
  });

  it('an unknown route', async () => {
    const response = await t.request({ method: 'GET', url: '/api/v1/no-such-thing' });
    expectProblem(response, 404);
  });

  it('keeps a sane X-Request-ID and replaces a hostile one', async () => {
    const kept = await t.request({
      method: 'GET',
      url: '/api/v1/students',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await t.request({
      method: 'GET',
      url: '/api/v1/nothing',
      headers: { 'x-request-id': 'bad id\twith spaces' },
    });
    expect(replaced.headers['x-request-id']).not.toContain(' ');
    expect(replaced.json().request_id).toBe(replaced.headers['x-request-id']);
  });
});
