import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { queryRows } from '../../platform/db/client.ts';
import { openPassword, parseTargetUrl, sealPassword } from './target-url.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ env: { RATE_LIMIT_JOBS_PER_MINUTE: '1000' } });
});
afterAll(async () => {
  await t?.close();
});

async function jobCount(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    t.database.db,
    sql`SELECT count(*)::int AS n FROM jobs WHERE job_type = 'data_migration'`,
  );
  return Number(row?.n);
}

const migrate = (target_url: unknown, as: 'admin' | 'teacher' | 'viewer' = 'admin') =>
  t.request({ method: 'POST', url: '/api/v1/system/migrate-data', payload: { target_url }, as });

describe('target URLs', () => {
  it('keeps the password apart from the URL, and seals it under the secret', () => {
    const target = parseTargetUrl('postgresql://school:p%40ss%2Fword@db.example:6432/registrar');
    expect(target).toEqual({
      masked: 'postgresql://school@db.example:6432/registrar',
      label: 'db.example:6432/registrar',
      password: 'p@ss/word',
    });
    const sealed = sealPassword(target.password, 'secret-one');
    expect(sealed).not.toContain('word');
    expect(openPassword(sealed, 'secret-one')).toBe('p@ss/word');
    expect(() => openPassword(sealed, 'secret-two')).toThrow();
    expect(parseTargetUrl('postgres://h/db').label).toBe('h:5432/db');
  });
});

describe('POST /api/v1/system/migrate-data refusals (nothing written, no job)', () => {
  it('answers 400 naming target_url for a URL that is not a PostgreSQL database URL', async () => {
    for (const bad of [
      'not a url',
      'mysql://root@localhost/school',
      'http://localhost:5432/registrar',
      'postgres://localhost:5432',
      'postgres://localhost:5432/',
      '',
      42,
    ]) {
      const response = await migrate(bad);
      expect(response.statusCode, `${String(bad)}: ${response.body}`).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(JSON.stringify(response.json().errors ?? [])).toContain('target_url');
    }
    expect(await jobCount()).toBe(0);
  });

  it('answers 422 naming host:port, never the password, for a target that does not answer', async () => {
    const response = await migrate('postgres://school:hunter2-secret@127.0.0.1:1/registrar');
    expect(response.statusCode, response.body).toBe(422);
    expect(response.headers['content-type']).toContain('application/problem+json');
    const body = response.json();
    expect(body.detail).toContain('127.0.0.1:1');
    expect(response.body).not.toContain('hunter2');
    expect(await jobCount()).toBe(0);
    // The refusal is audited, without the password.
    await t.services.audit.flush();
    const entries = await queryRows<{ line: string }>(
      t.database.db,
      sql`SELECT to_jsonb(a)::text AS line FROM audit_logs a
          WHERE action = 'OTHER' AND resource = 'SYSTEM' AND success = false`,
    );
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.map((entry) => entry.line).join('\n')).not.toContain('hunter2');
  }, 30_000);

  it('is for admins only (settings:write): teachers and viewers get 403', async () => {
    for (const role of ['teacher', 'viewer'] as const) {
      const response = await migrate('postgres://127.0.0.1:1/registrar', role);
      expect(response.statusCode, response.body).toBe(403);
    }
    expect(await jobCount()).toBe(0);
  });

  it('refuses a data_migration job through POST /jobs whose URL holds the password', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/jobs',
      payload: {
        job_type: 'data_migration',
        metadata: { target_url: 'postgres://u:pw@127.0.0.1:1/registrar' },
      },
    });
    expect(response.statusCode, response.body).toBe(422);
    expect(response.body).toContain('must not hold the password');
    expect(await jobCount()).toBe(0);
  });
});
