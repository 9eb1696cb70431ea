import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import type { DatabaseHandle } from '../../src/platform/db/client.ts';
import { openTestDatabase, testConfig } from '../support/test-app.ts';

const INDEX_HTML = '<!doctype html><html><body><div id="root"></div></body></html>';
const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

let distDir: string;
let database: DatabaseHandle;
const apps = new Map<string | undefined, { app: FastifyInstance; dataDir: string }>();

/** One app per UI folder (undefined: the real web/dist), all on this file's database. */
async function appServing(webDistDir: string | undefined): Promise<FastifyInstance> {
  const existing = apps.get(webDistDir);
  if (existing) return existing.app;
  const config = testConfig();
  const { app } = await buildApp({ config, database, logger: false, webDistDir });
  apps.set(webDistDir, { app, dataDir: config.dataDir });
  return app;
}

beforeAll(() => {
  distDir = mkdtempSync(path.join(os.tmpdir(), 'registrar-web-'));
  mkdirSync(path.join(distDir, 'assets'));
  writeFileSync(path.join(distDir, 'index.html'), INDEX_HTML);
  writeFileSync(path.join(distDir, 'assets', 'app-abc123.js'), 'console.log("app");\n');
  writeFileSync(path.join(distDir, 'assets', 'app-abc123.css'), 'body{margin:0}\n');
  writeFileSync(path.join(distDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
});
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  for (const { app, dataDir } of apps.values()) {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  await database.close();
  rmSync(distDir, { recursive: true, force: true });
});

describe('the admin UI', () => {
  it('serves index.html at / and revalidates it every time', async () => {
    const app = await appServing(distDir);
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.body).toBe(INDEX_HTML);
  });

  it("answers a browser's deep link with index.html, so the UI's router takes over", async () => {
    const app = await appServing(distDir);
    for (const url of ['/students/42', '/courses/MATH-101/grades?tab=2']) {
      const response = await app.inject({ method: 'GET', url, headers: HTML });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['cache-control'], url).toBe('no-cache');
      expect(response.body, url).toBe(INDEX_HTML);
    }
    // Not a page request (a script, curl's */*): a missing file is a 404, not HTML.
    const script = await app.inject({ method: 'GET', url: '/students/42' });
    expect(script.statusCode).toBe(404);
  });

  it('caches hashed assets for a year and gives them their content type', async () => {
    const app = await appServing(distDir);
    const script = await app.inject({ method: 'GET', url: '/assets/app-abc123.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/^(text|application)\/javascript/);
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(script.body).toContain('console.log');
    const style = await app.inject({ method: 'GET', url: '/assets/app-abc123.css' });
    expect(style.headers['content-type']).toContain('text/css');
    expect(style.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // A stale hash after a new build must not come back as HTML, even to a browser.
    const stale = await app.inject({ method: 'GET', url: '/assets/app-old999.js', headers: HTML });
    expect(stale.statusCode).toBe(404);
    expect(stale.headers['content-type']).toContain('application/problem+json');
  });

  it('serves the other files of the build, revalidated, and nothing outside it', async () => {
    const app = await appServing(distDir);
    const icon = await app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toContain('image/svg+xml');
    expect(icon.headers['cache-control']).toBe('no-cache');
    for (const url of ['/../package.json', '/%2e%2e/package.json', '/assets/../../package.json']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.body, url).not.toContain('"name"');
    }
  });

  it('keeps unknown API and server paths as JSON 404 problems, even for a browser', async () => {
    const app = await appServing(distDir);
    for (const url of [
      '/api/v1/nope',
      '/api/v1/students/1/nope',
      '/api',
      '/docs/nope',
      '/health/x',
    ]) {
      const response = await app.inject({ method: 'GET', url, headers: HTML });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type'], url).toContain('application/problem+json');
      expect(response.json(), url).toMatchObject({
        type: 'urn:registrar:problem:not-found',
        status: 404,
        instance: url,
      });
    }
    const post = await app.inject({ method: 'POST', url: '/students/42', headers: HTML });
    expect(post.statusCode).toBe(404);
    const docs = await app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('explains how to build the UI when there is no build, and the API still answers', async () => {
    const app = await appServing(path.join(distDir, 'no-such-build'));
    for (const url of ['/', '/students/42']) {
      const response = await app.inject({ method: 'GET', url, headers: HTML });
      expect(response.statusCode, url).toBe(503);
      expect(response.headers['content-type'], url).toContain('application/problem+json');
      expect(response.json().detail, url).toContain('npm run build');
    }
    const openapi = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(openapi.statusCode).toBe(200);
  });

  it('sends a CSP that lets the built UI run and talk to the API and the job WebSocket', async () => {
    const app = await appServing(distDir);
    for (const url of ['/', '/assets/app-abc123.js', '/api/v1/nope']) {
      const csp = (await app.inject({ method: 'GET', url })).headers['content-security-policy'];
      const directives = new Map(
        String(csp)
          .split(';')
          .map((directive) => directive.trim().split(/\s+/))
          .map(([name = '', ...values]) => [name, values]),
      );
      expect(directives.get('default-src'), url).toEqual(["'self'"]);
      expect(directives.get('script-src'), url).toEqual(["'self'"]);
      expect(directives.get('style-src'), url).toEqual(["'self'"]);
      expect(directives.get('img-src'), url).toEqual(["'self'", 'data:']);
      expect(directives.get('connect-src'), url).toEqual(["'self'", 'ws:', 'wss:']);
      // The server often runs on plain http in a school; this would break every asset there.
      expect(directives.has('upgrade-insecure-requests'), url).toBe(false);
    }
    const docsCsp = (await app.inject({ method: 'GET', url: '/docs/' })).headers[
      'content-security-policy'
    ];
    expect(docsCsp).toContain("script-src 'self' 'unsafe-inline'");
  });

  it('starts and answers the API whether or not `npm run build` has run', async () => {
    // The app every other test builds serves the real web/dist, which may not exist.
    const app = await appServing(undefined);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/nope' })).statusCode).toBe(404);
    expect([200, 503]).toContain((await app.inject({ method: 'GET', url: '/' })).statusCode);
  });
});
