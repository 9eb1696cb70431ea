import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../../../test/support/test-app.ts';
import { ensureFirstAdmin } from './first-admin.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const login = (email: string, password: string) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });

describe('users API (admin)', () => {
  it('creates a user who must change the password, never exposing the hash', async () => {
    const created = await t.request({
      method: 'POST',
      url: '/api/v1/users',
      payload: {
        email: 'New.Teacher@School.test',
        full_name: 'New Teacher',
        role: 'teacher',
        password: 'initial-password-1',
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      email: 'new.teacher@school.test',
      must_change_password: true,
    });
    expect(JSON.stringify(created.json())).not.toContain('argon2');
    expect(
      (await login('new.teacher@school.test', 'initial-password-1')).json().must_change_password,
    ).toBe(true);
  });

  it('refuses an unknown role (422) and a duplicate e-mail (409)', async () => {
    const unknownRole = await t.request({
      method: 'POST',
      url: '/api/v1/users',
      payload: {
        email: 'r@school.test',
        full_name: 'R',
        role: 'wizard',
        password: 'initial-password-1',
      },
    });
    expect(unknownRole.statusCode).toBe(422);
    expect(unknownRole.json().errors[0].field).toBe('body.role');
    const duplicate = await t.request({
      method: 'POST',
      url: '/api/v1/users',
      payload: {
        email: 'TEACHER@school.test',
        full_name: 'T',
        role: 'teacher',
        password: 'initial-password-1',
      },
    });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json().errors[0].field).toBe('body.email');
  });

  it('lists and searches users', async () => {
    const list = await t.request({ method: 'GET', url: '/api/v1/users?role=viewer' });
    expect(list.json().items.map((u: { email: string }) => u.email)).toEqual([
      'viewer@school.test',
    ]);
    const search = await t.request({ method: 'GET', url: '/api/v1/users?search=teach' });
    expect(search.json().total).toBeGreaterThanOrEqual(1);
  });

  it('a password reset ends the sessions and forces a change', async () => {
    const pair = (await login('viewer@school.test', TEST_PASSWORD)).json();
    const reset = await t.request({
      method: 'PATCH',
      url: `/api/v1/users/${t.users.viewer}`,
      payload: { password: 'reset-by-admin-123' },
    });
    expect(reset.json().must_change_password).toBe(true);
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: pair.refresh_token },
    });
    expect(refresh.statusCode).toBe(401);
    expect((await login('viewer@school.test', 'reset-by-admin-123')).statusCode).toBe(200);
  });

  it('never removes the last active admin', async () => {
    const demote = await t.request({
      method: 'PATCH',
      url: `/api/v1/users/${t.users.admin}`,
      payload: { role: 'viewer' },
    });
    expect(demote.statusCode).toBe(409);
    const deactivate = await t.request({
      method: 'PATCH',
      url: `/api/v1/users/${t.users.admin}`,
      payload: { is_active: false },
    });
    expect(deactivate.statusCode).toBe(409);
    const remove = await t.request({ method: 'DELETE', url: `/api/v1/users/${t.users.admin}` });
    expect(remove.statusCode).toBe(409);
    expect((await t.request({ method: 'GET', url: '/api/v1/auth/me' })).json().role).toBe('admin');
  });

  it('teachers and viewers cannot manage users', async () => {
    for (const as of ['teacher', 'viewer'] as const) {
      expect((await t.request({ method: 'GET', url: '/api/v1/users', as })).statusCode).toBe(403);
    }
  });
});

describe('first admin', () => {
  it('is created only in an empty database, with a generated password when none is configured', async () => {
    expect(
      await ensureFirstAdmin(t.database.db, { adminEmail: undefined, adminPassword: undefined }),
    ).toBeUndefined();
  });
});
