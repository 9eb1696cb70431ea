import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ env: { SCHOOL_NAME: 'Lykeio Patras', JOB_CONCURRENCY: '3' } });
});
afterAll(async () => {
  await t.close();
});

describe('runtime settings', () => {
  it('start from the environment and change without a restart', async () => {
    const initial = await t.request({ method: 'GET', url: '/api/v1/settings', as: 'viewer' });
    expect(initial.json()).toMatchObject({
      school_name: 'Lykeio Patras',
      job_concurrency: 3,
      default_language: 'en',
    });

    const patched = await t.request({
      method: 'PATCH',
      url: '/api/v1/settings',
      payload: { school_name: '1ο Γυμνάσιο Αθηνών', default_language: 'el' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      school_name: '1ο Γυμνάσιο Αθηνών',
      default_language: 'el',
      job_concurrency: 3,
    });
    expect((await t.request({ method: 'GET', url: '/api/v1/settings' })).json().school_name).toBe(
      '1ο Γυμνάσιο Αθηνών',
    );
  });

  it('accept null where a setting means "never" (keep the audit trail forever)', async () => {
    const set = await t.request({
      method: 'PATCH',
      url: '/api/v1/settings',
      payload: { audit_retention_days: 30 },
    });
    expect(set.json().audit_retention_days).toBe(30);
    const cleared = await t.request({
      method: 'PATCH',
      url: '/api/v1/settings',
      payload: { audit_retention_days: null },
    });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json().audit_retention_days).toBeNull();
    expect(
      (await t.request({ method: 'GET', url: '/api/v1/settings' })).json().audit_retention_days,
    ).toBeNull();
  });

  it('refuse unknown keys, wrong types and non-admins', async () => {
    const unknown = await t.request({
      method: 'PATCH',
      url: '/api/v1/settings',
      payload: { colour: 'red' },
    });
    expect(unknown.statusCode).toBe(400);
    const wrong = await t.request({
      method: 'PATCH',
      url: '/api/v1/settings',
      payload: { audit_retention_days: 0 },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors[0].field).toBe('body.audit_retention_days');
    const teacher = await t.request({
      method: 'PATCH',
      url: '/api/v1/settings',
      payload: { school_name: 'x' },
      as: 'teacher',
    });
    expect(teacher.statusCode).toBe(403);
  });
});
