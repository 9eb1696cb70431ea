import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../../../test/support/test-app.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({
    env: {
      LOGIN_MAX_FAILURES: '3',
      LOGIN_LOCKOUT_SECONDS: '600',
      RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
    },
  });
});
afterAll(async () => {
  await t.close();
});

const login = (email: string, password: string) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });

async function makeUser(email: string, mustChange = false) {
  return t.services.users.createUser(
    {
      email,
      full_name: 'Someone',
      role: 'teacher',
      password: TEST_PASSWORD,
      must_change_password: mustChange,
    },
    { actor: null, ipAddress: null, userAgent: null, requestId: null },
  );
}

describe('sign-in', () => {
  it('returns a bearer token pair and accepts the e-mail in any case', async () => {
    const response = await login('ADMIN@school.test', TEST_PASSWORD);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      token_type: 'bearer',
      expires_in: 900,
      must_change_password: false,
    });
    expect(body.refresh_token).toEqual(expect.any(String));
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(me.json()).toMatchObject({
      email: 'admin@school.test',
      role: 'admin',
      permissions: ['*'],
    });
    expect(me.json()).not.toHaveProperty('password_hash');
  });

  it('gives the same answer for an unknown e-mail and a wrong password', async () => {
    const unknown = await login('nobody@school.test', 'wrong-password-1');
    const wrong = await login('viewer@school.test', 'wrong-password-1');
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.json().detail).toBe(wrong.json().detail);
  });

  it('locks an address after repeated failures, existing or not, without telling which', async () => {
    await makeUser('locked@school.test');
    for (const email of ['locked@school.test', 'ghost@school.test']) {
      for (let i = 0; i < 3; i++)
        expect((await login(email, 'bad-password-x')).statusCode).toBe(401);
      const locked = await login(email, TEST_PASSWORD);
      expect(locked.statusCode).toBe(423);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(500);
      expect(locked.json().detail).toMatch(/Too many failed sign-ins/);
    }
  });

  it('refuses inactive and deleted accounts', async () => {
    const user = await makeUser('gone@school.test');
    await t.request({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      payload: { is_active: false },
    });
    expect((await login('gone@school.test', TEST_PASSWORD)).statusCode).toBe(401);
  });
});

describe('refresh tokens', () => {
  it('rotates, and a replayed token ends the whole session family', async () => {
    const first = (await login('teacher@school.test', TEST_PASSWORD)).json();
    const refresh = (token: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: token },
      });
    const second = await refresh(first.refresh_token);
    expect(second.statusCode).toBe(200);
    const rotated = second.json();
    expect(rotated.refresh_token).not.toBe(first.refresh_token);

    const replay = await refresh(first.refresh_token);
    expect(replay.statusCode).toBe(401);
    // The thief's replay revoked the family, so the legitimate newer token is dead too.
    expect((await refresh(rotated.refresh_token)).statusCode).toBe(401);
  });

  it('logout revokes the refresh token', async () => {
    const pair = (await login('viewer@school.test', TEST_PASSWORD)).json();
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { authorization: `Bearer ${pair.access_token}` },
      payload: { refresh_token: pair.refresh_token },
    });
    expect(out.statusCode).toBe(204);
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: pair.refresh_token },
    });
    expect(again.statusCode).toBe(401);
  });

  it('rejects a garbage token', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: 'not-a-token' },
    });
    expect(response.statusCode).toBe(401);
  });
});

describe('access tokens', () => {
  it('refuses missing, malformed and foreign-signed tokens with 401', async () => {
    for (const authorization of [undefined, 'Bearer', 'Bearer abc.def.ghi', 'Basic YTpi']) {
      const response = await t.app.inject({
        method: 'GET',
        url: '/api/v1/students',
        headers: authorization ? { authorization } : {},
      });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    }
  });
});

describe('password change', () => {
  it('forces a change before anything else, then works with the new password', async () => {
    await makeUser('fresh@school.test', true);
    const first = (await login('fresh@school.test', TEST_PASSWORD)).json();
    expect(first.must_change_password).toBe(true);
    const auth = { authorization: `Bearer ${first.access_token}` };

    const blocked = await t.app.inject({ method: 'GET', url: '/api/v1/students', headers: auth });
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().type).toContain('password-change-required');

    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/change-password',
      headers: auth,
      payload: { current_password: 'not-my-password', new_password: 'a-brand-new-secret' },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors[0].field).toBe('body.current_password');

    const short = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/change-password',
      headers: auth,
      payload: { current_password: TEST_PASSWORD, new_password: 'short' },
    });
    expect(short.statusCode).toBe(400);
    expect(short.json().errors[0].field).toBe('body.new_password');

    const changed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/change-password',
      headers: auth,
      payload: { current_password: TEST_PASSWORD, new_password: 'a-brand-new-secret' },
    });
    expect(changed.statusCode).toBe(200);
    const next = changed.json();
    expect(next.must_change_password).toBe(false);
    const allowed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/students',
      headers: { authorization: `Bearer ${next.access_token}` },
    });
    expect(allowed.statusCode).toBe(200);

    // The old session is gone and the old password no longer works.
    const oldRefresh = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: first.refresh_token },
    });
    expect(oldRefresh.statusCode).toBe(401);
    expect((await login('fresh@school.test', TEST_PASSWORD)).statusCode).toBe(401);
    expect((await login('fresh@school.test', 'a-brand-new-secret')).statusCode).toBe(200);
  });
});

describe('sign-in rate limit', () => {
  it('answers 429 with Retry-After past the per-minute limit', async () => {
    const limited = await createTestApp({ env: { RATE_LIMIT_LOGIN_PER_MINUTE: '2' } });
    try {
      const attempt = () =>
        limited.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: 'x@school.test', password: 'whatever-pass' },
        });
      await attempt();
      await attempt();
      const third = await attempt();
      expect(third.statusCode).toBe(429);
      expect(third.headers['retry-after']).toBeDefined();
      expect(third.headers['content-type']).toContain('application/problem+json');
    } finally {
      await limited.close();
    }
  });
});
