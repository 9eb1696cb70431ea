import { desc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshTokens } from '../../src/modules/auth/auth.table.ts';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../support/test-app.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ env: { TRUSTED_PROXIES: '127.0.0.1' } });
});
afterAll(async () => {
  await t.close();
});

describe('system endpoints', () => {
  it('/health reports the database', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'ok',
      database: { status: 'up', kind: t.database.kind },
    });
  });

  it('/metrics counts requests per route template', async () => {
    await t.request({ method: 'GET', url: '/api/v1/students?page=1' });
    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain(
      'registrar_http_requests_total{method="GET",route="/api/v1/students",status_code="200"}',
    );
    expect(response.body).toContain('registrar_http_request_duration_seconds_bucket');
  });

  it('/openapi.json documents every API route with its schemas, and /docs serves Swagger UI', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(document.openapi).toBe('3.1.0');
    for (const route of t.app.apiRoutes.filter((apiRoute) => !apiRoute.websocket)) {
      const openApiPath = route.url.replace(/:(\w+)/g, '{$1}');
      const operation = document.paths[openApiPath]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.url}`).toBeDefined();
      expect(
        Object.keys(operation.responses).length,
        `${route.method} ${route.url}`,
      ).toBeGreaterThan(0);
    }
    expect(document.components.schemas).toHaveProperty('Student');
    expect(document.components.schemas).toHaveProperty('Problem');
    const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('sends the security headers on API answers, errors and the docs', async () => {
    for (const url of ['/api/v1/students', '/api/v1/no-such-route', '/docs/']) {
      const response = await t.app.inject({ method: 'GET', url });
      expect(response.headers['content-security-policy'], url).toContain("default-src 'self'");
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['strict-transport-security'], url).toContain('max-age=');
      expect(response.headers['x-frame-options'], url).toBe('SAMEORIGIN');
    }
  });

  it('honours X-Forwarded-For only from a trusted proxy', async () => {
    // The sign-in records the client address on the session, which makes it observable here.
    const signInFrom = async (app: TestApp, remoteAddress: string) => {
      await app.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress,
        headers: { 'x-forwarded-for': '203.0.113.9' },
        payload: { email: 'viewer@school.test', password: TEST_PASSWORD },
      });
      const [session] = await app.database.db
        .select({ ip: refreshTokens.ip_address })
        .from(refreshTokens)
        .orderBy(desc(refreshTokens.created_at))
        .limit(1);
      return session?.ip;
    };
    expect(await signInFrom(t, '127.0.0.1')).toBe('203.0.113.9');
    expect(await signInFrom(t, '198.51.100.7')).toBe('198.51.100.7');
    const untrusting = await createTestApp();
    try {
      expect(await signInFrom(untrusting, '127.0.0.1')).toBe('127.0.0.1');
    } finally {
      await untrusting.close();
    }
  });
});
