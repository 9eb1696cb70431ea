import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { grants } from './permissions.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('permission grants', () => {
  it('match exact keys, resource wildcards and the global wildcard', () => {
    expect(grants(['students:read'], 'students:read')).toBe(true);
    expect(grants(['students:read'], 'students:write')).toBe(false);
    expect(grants(['grades:*'], 'grades:write')).toBe(true);
    expect(grants(['grades:*'], 'students:write')).toBe(false);
    expect(grants(['*'], 'audit:read')).toBe(true);
    expect(grants([], 'students:read')).toBe(false);
  });
});

describe('roles API', () => {
  it('lists the built-in roles and the known permissions', async () => {
    const response = await t.request({ method: 'GET', url: '/api/v1/roles' });
    expect(response.json().items.map((r: { name: string }) => r.name)).toEqual([
      'admin',
      'teacher',
      'viewer',
    ]);
    expect(response.json().permissions).toContain('audit:read');
  });

  it('creates a custom role that takes effect for its users', async () => {
    const put = await t.request({
      method: 'PUT',
      url: '/api/v1/roles/secretary',
      payload: { description: 'Front office', permissions: ['students:*', 'courses:read'] },
    });
    expect(put.statusCode).toBe(200);
    const user = await t.request({
      method: 'POST',
      url: '/api/v1/users',
      payload: {
        email: 'sec@school.test',
        full_name: 'Sec',
        role: 'secretary',
        password: 'secretary-pass-1',
        must_change_password: false,
      },
    });
    expect(user.statusCode).toBe(201);
    const token = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'sec@school.test', password: 'secretary-pass-1' },
      })
    ).json().access_token;
    const headers = { authorization: `Bearer ${token}` };
    const create = await t.app.inject({
      method: 'POST',
      url: '/api/v1/students',
      headers,
      payload: { student_id: 'SEC-1', first_name: 'A', last_name: 'B' },
    });
    expect(create.statusCode).toBe(201);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/users', headers })).statusCode).toBe(
      403,
    );

    const inUse = await t.request({ method: 'DELETE', url: '/api/v1/roles/secretary' });
    expect(inUse.statusCode).toBe(409);
  });

  it('refuses unknown permission keys and changes to built-in roles', async () => {
    const bad = await t.request({
      method: 'PUT',
      url: '/api/v1/roles/odd',
      payload: { permissions: ['students:fly', 'DROP TABLE'] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual([
      'body.permissions.0',
      'body.permissions.1',
    ]);
    const builtin = await t.request({
      method: 'PUT',
      url: '/api/v1/roles/viewer',
      payload: { permissions: ['*'] },
    });
    expect(builtin.statusCode).toBe(403);
    const deleteBuiltin = await t.request({ method: 'DELETE', url: '/api/v1/roles/admin' });
    expect(deleteBuiltin.statusCode).toBe(403);
  });
});
