import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grants } from '../../src/modules/roles/permissions.ts';
import { registerAuthentication } from '../../src/platform/http/auth.ts';
import { TokenSigner } from '../../src/platform/security/tokens.ts';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../support/test-app.ts';

let t: TestApp;
let nobodyToken: string;

beforeAll(async () => {
  t = await createTestApp();
  // A role that grants nothing: every route that needs a permission must refuse it.
  await t.services.roles.put('nobody', { description: 'no grants', permissions: [] });
  await t.services.users.createUser(
    {
      email: 'nobody@school.test',
      full_name: 'No Body',
      role: 'nobody',
      password: TEST_PASSWORD,
      must_change_password: false,
    },
    { actor: null, ipAddress: null, userAgent: null, requestId: null },
  );
  const login = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: 'nobody@school.test', password: TEST_PASSWORD },
  });
  nobodyToken = login.json().access_token;
});
afterAll(async () => {
  await t.close();
});

const concreteUrl = (url: string) => url.replace(':id', '1').replace(':name', 'somerole');

describe('permission matrix', () => {
  it('covers every API route', () => {
    expect(t.app.apiRoutes.length).toBeGreaterThan(20);
  });

  it('guards the derived results with grades:read', () => {
    for (const url of ['/api/v1/students/:id/results', '/api/v1/courses/:id/results']) {
      const route = t.app.apiRoutes.find((item) => item.method === 'GET' && item.url === url);
      expect(route?.access, url).toBe('grades:read');
    }
  });

  it('refuses every non-public route without a token (401)', async () => {
    const protectedRoutes = t.app.apiRoutes.filter((route) => route.access !== 'public');
    for (const route of protectedRoutes) {
      const response = await t.app.inject({
        method: route.method as 'GET',
        url: concreteUrl(route.url),
      });
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(401);
    }
  });

  it('refuses every route to each role that lacks its permission (403)', async () => {
    const rolePermissions = {
      admin: (await t.services.roles.permissionsFor('admin')) ?? [],
      teacher: (await t.services.roles.permissionsFor('teacher')) ?? [],
      viewer: (await t.services.roles.permissionsFor('viewer')) ?? [],
      nobody: [] as string[],
    };
    const tokens = { ...t.tokens, nobody: nobodyToken };
    let refusals = 0;
    for (const route of t.app.apiRoutes) {
      if (route.access === 'public' || route.access === 'signed-in') continue;
      for (const role of ['admin', 'teacher', 'viewer', 'nobody'] as const) {
        const allowed = grants(rolePermissions[role], route.access);
        const response = await t.app.inject({
          method: route.method as 'GET',
          url: concreteUrl(route.url),
          headers: { authorization: `Bearer ${tokens[role]}` },
          payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
        });
        if (allowed) {
          expect(response.statusCode, `${role} ${route.method} ${route.url}`).not.toBe(403);
        } else {
          expect(response.statusCode, `${role} ${route.method} ${route.url}`).toBe(403);
          refusals++;
        }
      }
    }
    expect(refusals).toBeGreaterThan(20);
  });

  it('admins hold every permission; viewers only read', async () => {
    const viewer = (await t.services.roles.permissionsFor('viewer')) ?? [];
    expect(viewer.every((grant) => grant.endsWith(':read'))).toBe(true);
    expect(await t.services.roles.permissionsFor('admin')).toEqual(['*']);
  });

  it('lists the email routes: sending needs emails:send (admins only by default)', async () => {
    const routes = t.app.apiRoutes.filter((route) => route.url.startsWith('/api/v1/emails'));
    expect(routes.map((route) => `${route.method} ${route.url} ${route.access}`).sort()).toEqual([
      'GET /api/v1/emails/:job_id/deliveries jobs:read',
      'POST /api/v1/emails emails:send',
    ]);
    const teacher = (await t.services.roles.permissionsFor('teacher')) ?? [];
    expect(grants(teacher, 'emails:send')).toBe(false);
  });
});

describe('route declarations', () => {
  it('refuses to start when an API route declares no access rule', async () => {
    const app = Fastify();
    registerAuthentication(app, {
      signer: new TokenSigner('x'.repeat(40), 60),
      permissionsFor: async () => [],
    });
    expect(() => app.get('/api/v1/forgotten', async () => 'open')).toThrow(
      /declares no access rule/,
    );
    await app.close();
  });
});
