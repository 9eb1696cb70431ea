import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const student = (overrides: Record<string, unknown> = {}) => ({
  student_id: 'S-1001',
  first_name: 'Μαρία',
  last_name: 'Παπαδοπούλου',
  email: 'Maria.P@school.test',
  study_year: 2,
  enrollment_date: '2025-09-01',
  ...overrides,
});

describe('students API', () => {
  it('creates, reads, updates, deletes and restores a student', async () => {
    const created = await t.request({
      method: 'POST',
      url: '/api/v1/students',
      payload: student(),
    });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({
      student_id: 'S-1001',
      email: 'maria.p@school.test',
      is_active: true,
    });

    const fetched = await t.request({
      method: 'GET',
      url: `/api/v1/students/${body.id}`,
      as: 'viewer',
    });
    expect(fetched.json().last_name).toBe('Παπαδοπούλου');

    const patched = await t.request({
      method: 'PATCH',
      url: `/api/v1/students/${body.id}`,
      payload: { study_year: 3, note: 'moved up' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ study_year: 3, note: 'moved up' });

    const deleted = await t.request({ method: 'DELETE', url: `/api/v1/students/${body.id}` });
    expect(deleted.statusCode).toBe(204);
    expect(
      (await t.request({ method: 'GET', url: `/api/v1/students/${body.id}` })).statusCode,
    ).toBe(404);
    const list = await t.request({ method: 'GET', url: '/api/v1/students?search=S-1001' });
    expect(list.json().total).toBe(0);
    const withDeleted = await t.request({
      method: 'GET',
      url: '/api/v1/students?search=S-1001&include_deleted=true',
    });
    expect(withDeleted.json().items[0].deleted_at).not.toBeNull();

    const restored = await t.request({
      method: 'POST',
      url: `/api/v1/students/${body.id}/restore`,
    });
    expect(restored.statusCode).toBe(200);
    expect(restored.json().deleted_at).toBeNull();
  });

  it('answers 409 naming the field for a duplicate student_id', async () => {
    await t.request({
      method: 'POST',
      url: '/api/v1/students',
      payload: student({ student_id: 'DUP-1', email: null }),
    });
    const again = await t.request({
      method: 'POST',
      url: '/api/v1/students',
      payload: student({ student_id: 'DUP-1', email: 'other@school.test' }),
    });
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toContain('application/problem+json');
    expect(again.json().errors).toEqual([{ field: 'body.student_id', message: 'already exists' }]);
  });

  it('pages, filters, sorts and searches', async () => {
    for (let i = 0; i < 7; i++) {
      await t.request({
        method: 'POST',
        url: '/api/v1/students',
        payload: student({
          student_id: `PG-${i}`,
          email: `pg${i}@school.test`,
          last_name: `Zeta${i}`,
          study_year: i % 2 === 0 ? 1 : 4,
        }),
      });
    }
    const page = await t.request({
      method: 'GET',
      url: '/api/v1/students?search=zeta&study_year=1&sort=-last_name&page=1&page_size=2',
    });
    expect(page.statusCode).toBe(200);
    const body = page.json();
    expect(body).toMatchObject({ total: 4, page: 1, page_size: 2, has_next: true });
    expect(body.items.map((s: { last_name: string }) => s.last_name)).toEqual(['Zeta6', 'Zeta4']);
    const last = await t.request({
      method: 'GET',
      url: '/api/v1/students?search=zeta&study_year=1&sort=-last_name&page=2&page_size=2',
    });
    expect(last.json()).toMatchObject({ total: 4, has_next: false });
    const beyond = await t.request({ method: 'GET', url: '/api/v1/students?search=zeta&page=9' });
    expect(beyond.json()).toMatchObject({ items: [], total: 7, has_next: false });
  });

  it('lists the students named by ids in one request, and refuses a malformed list', async () => {
    const created = [];
    for (let i = 0; i < 3; i++) {
      const response = await t.request({
        method: 'POST',
        url: '/api/v1/students',
        payload: student({ student_id: `IDS-${i}`, email: `ids${i}@school.test` }),
      });
      created.push(response.json().id as number);
    }
    const [first, , third] = created;
    const page = await t.request({
      method: 'GET',
      url: `/api/v1/students?ids=${first},${third},999999&page_size=500`,
    });
    expect(page.statusCode).toBe(200);
    expect(
      page
        .json()
        .items.map((s: { id: number }) => s.id)
        .sort(),
    ).toEqual([first, third].sort());
    expect(page.json().total).toBe(2);

    for (const bad of [
      '1,,2',
      'a,b',
      '1;2',
      '1,9999999999',
      Array.from({ length: 501 }, (_, i) => i + 1).join(','),
    ]) {
      const refused = await t.request({ method: 'GET', url: `/api/v1/students?ids=${bad}` });
      expect(refused.statusCode, bad.slice(0, 20)).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(refused.json().errors[0].field).toBe('query.ids');
    }
  });

  it('treats LIKE wildcards and SQL metacharacters in search as plain text', async () => {
    const wildcard = await t.request({ method: 'GET', url: '/api/v1/students?search=%25' });
    expect(wildcard.statusCode).toBe(200);
    expect(wildcard.json().total).toBe(0);
    const injection = await t.request({
      method: 'GET',
      url: `/api/v1/students?search=${encodeURIComponent("'; DROP TABLE students; --")}`,
    });
    expect(injection.statusCode).toBe(200);
    expect(injection.json().total).toBe(0);
    const still = await t.request({ method: 'GET', url: '/api/v1/students' });
    expect(still.json().total).toBeGreaterThan(0);
  });
});
