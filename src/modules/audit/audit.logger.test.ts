import { and, asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../../../test/support/test-app.ts';
import type { Executor } from '../../platform/db/client.ts';
import { type AuditRow, auditLogs } from './audit.table.ts';

let t: TestApp;
let seq = 0;

beforeAll(async () => {
  t = await createTestApp({
    env: { TRUSTED_PROXIES: '10.0.0.0/8', AUDIT_READS: 'true' },
    // The real audit trail, plus a way to make the change fail after it was written.
    recorder: {
      async record(tx, change) {
        // `t` is unset while createTestApp makes its three users; those go unrecorded here.
        await t?.services.audit.record(tx, change);
        if (change.newValues?.note === 'explode after write') throw new Error('forced failure');
      },
    },
  });
});
afterAll(async () => {
  await t.close();
});

const requestId = () => `audit-test-${++seq}`;

/** The sealed entries of one request (its entries are chained first, as the API does). */
async function entriesFor(id: string, executor: Executor = t.database.db): Promise<AuditRow[]> {
  await t.services.audit.flush();
  return executor
    .select()
    .from(auditLogs)
    .where(eq(auditLogs.request_id, id))
    .orderBy(asc(auditLogs.id));
}

async function createStudent(
  payload: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return t.request({ method: 'POST', url: '/api/v1/students', payload, headers });
}

describe('automatic coverage', () => {
  it('every mutating API route writes an entry, whether it succeeds or fails', async () => {
    const mutating = t.app.apiRoutes.filter((route) => route.method !== 'GET');
    expect(mutating.length).toBeGreaterThan(30);
    for (const route of mutating) {
      const id = requestId();
      const response = await t.app.inject({
        method: route.method as 'POST',
        url: route.url.replace(':id', '1').replace(':name', 'clerk'),
        headers: { authorization: `Bearer ${t.tokens.admin}`, 'x-request-id': id },
        ...(route.method === 'DELETE' ? {} : { payload: {} }),
      });
      const entries = await entriesFor(id);
      expect(
        entries.length,
        `${route.method} ${route.url} answered ${response.statusCode} with no audit entry`,
      ).toBeGreaterThan(0);
      expect(entries.every((entry) => entry.success === response.statusCode < 400)).toBe(true);
    }
  });

  it('a change and its entry commit together, with only the changed fields', async () => {
    const id = requestId();
    const created = await createStudent(
      { student_id: 'AUD-1', first_name: 'Νίκος', last_name: 'Ρήγας' },
      { 'x-request-id': id },
    );
    expect(created.statusCode).toBe(201);
    const student = created.json();
    const [createEntry] = await entriesFor(id);
    expect(createEntry).toMatchObject({
      action: 'CREATE',
      resource: 'STUDENT',
      resource_id: String(student.id),
      user_id: t.users.admin,
      user_email: 'admin@school.test',
      success: true,
      old_values: null,
    });
    expect(createEntry?.new_values).toMatchObject({ student_id: 'AUD-1' });

    const patchId = requestId();
    await t.request({
      method: 'PATCH',
      url: `/api/v1/students/${student.id}`,
      payload: { study_year: 3, first_name: 'Νίκος' },
      headers: { 'x-request-id': patchId },
    });
    const [updateEntry] = await entriesFor(patchId);
    expect(updateEntry?.action).toBe('UPDATE');
    expect(updateEntry?.old_values).toEqual({ study_year: null });
    expect(updateEntry?.new_values).toEqual({ study_year: 3 });
  });

  it('keeps an entry whose text holds NUL characters, dropping only those, and a literal backslash-u0000', async () => {
    const id = requestId();
    await t.services.audit.logAction(
      {
        action: 'UPDATE',
        resource: 'STUDENT',
        resourceId: 'nul-test',
        details: { note: 'a\u0000b', path: 'C:\\u0000dir' },
        errorMessage: 'bad\u0000byte',
      },
      { requestId: id, userAgent: 'agent\u0000x' },
    );
    const [entry] = await entriesFor(id);
    expect(entry?.details).toEqual({ note: 'ab', path: 'C:\\u0000dir' });
    expect(entry?.error_message).toBe('badbyte');
    expect(entry?.user_agent).toBe('agentx');

    // Several entries at once (bulk work) take the other statement: the same cleaning.
    const bulkId = requestId();
    await t.database.db.transaction((tx) =>
      t.services.audit.append(tx, { requestId: bulkId, userAgent: 'bulk\u0000agent' }, [
        { action: 'BULK_UPDATE', resource: 'STUDENT', details: { note: 'c\u0000d' } },
        { action: 'UPDATE', resource: 'STUDENT', resourceId: 7, newValues: { path: 'C:\\u0000x' } },
      ]),
    );
    const bulk = await entriesFor(bulkId);
    expect(bulk.map((row) => [row.action, row.user_agent])).toEqual([
      ['BULK_UPDATE', 'bulkagent'],
      ['UPDATE', 'bulkagent'],
    ]);
    expect(bulk[0]?.details).toEqual({ note: 'cd' });
    expect(bulk[1]?.new_values).toEqual({ path: 'C:\\u0000x' });
    expect((await t.services.audit.verify()).valid).toBe(true);
  });

  it('a forced failure after the write leaves neither the change nor a success entry, and records the failure', async () => {
    const id = requestId();
    const response = await createStudent(
      { student_id: 'AUD-BOOM', first_name: 'A', last_name: 'B', note: 'explode after write' },
      { 'x-request-id': id },
    );
    expect(response.statusCode).toBe(500);
    const list = await t.request({
      method: 'GET',
      url: '/api/v1/students?search=AUD-BOOM&include_deleted=true',
    });
    expect(list.json().total).toBe(0);
    const entries = await entriesFor(id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ action: 'CREATE', resource: 'STUDENT', success: false });
    expect(entries[0]?.error_message).toBeTruthy();
    expect((await t.services.audit.verify()).valid).toBe(true);
  });

  it('a refused change (validation, conflict, permission) is recorded as a failure', async () => {
    const id = requestId();
    const response = await t.request({
      method: 'POST',
      url: '/api/v1/students',
      payload: { student_id: 'AUD-1', first_name: 'Again', last_name: 'Dup' },
      headers: { 'x-request-id': id },
    });
    expect(response.statusCode).toBe(409);
    const [entry] = await entriesFor(id);
    expect(entry).toMatchObject({ success: false, action: 'CREATE', resource: 'STUDENT' });
    expect(entry?.error_message).toContain('student_id');

    const forbiddenId = requestId();
    await t.request({
      method: 'DELETE',
      url: '/api/v1/students/1',
      as: 'viewer',
      headers: { 'x-request-id': forbiddenId },
    });
    const [refused] = await entriesFor(forbiddenId);
    expect(refused).toMatchObject({
      success: false,
      action: 'DELETE',
      user_email: 'viewer@school.test',
    });
  });
});

describe('sessions, permissions and configuration', () => {
  it('records sign-in success and failure without the password', async () => {
    const okId = requestId();
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'x-request-id': okId },
      payload: { email: 'teacher@school.test', password: TEST_PASSWORD },
    });
    expect((await entriesFor(okId))[0]).toMatchObject({
      action: 'LOGIN',
      resource: 'SESSION',
      success: true,
      user_id: t.users.teacher,
    });

    const badId = requestId();
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'x-request-id': badId },
      payload: { email: 'Teacher@school.test', password: 'guess-number-one' },
    });
    const [failure] = await entriesFor(badId);
    expect(failure).toMatchObject({
      action: 'LOGIN',
      success: false,
      user_id: null,
      user_email: 'teacher@school.test',
    });
    expect(JSON.stringify(failure)).not.toContain('guess-number-one');
  });

  it('records a role change as PERMISSION_CHANGE and a settings change as CONFIG_CHANGE', async () => {
    const roleId = requestId();
    await t.request({
      method: 'PATCH',
      url: `/api/v1/users/${t.users.viewer}`,
      payload: { role: 'teacher' },
      headers: { 'x-request-id': roleId },
    });
    expect((await entriesFor(roleId))[0]).toMatchObject({
      action: 'PERMISSION_CHANGE',
      resource: 'USER',
      old_values: { role: 'viewer' },
      new_values: { role: 'teacher' },
    });

    const configId = requestId();
    await t.request({
      method: 'PATCH',
      url: '/api/v1/settings',
      payload: { school_name: 'Audited School' },
      headers: { 'x-request-id': configId },
    });
    expect((await entriesFor(configId))[0]).toMatchObject({
      action: 'CONFIG_CHANGE',
      resource: 'SYSTEM',
      new_values: { school_name: 'Audited School' },
    });
  });

  it('records reads of students when AUDIT_READS is on', async () => {
    const searchId = requestId();
    await t.request({
      method: 'GET',
      url: '/api/v1/students?search=AUD',
      headers: { 'x-request-id': searchId },
    });
    expect((await entriesFor(searchId))[0]).toMatchObject({
      action: 'SEARCH',
      resource: 'STUDENT',
    });
    const viewId = requestId();
    const [student] = (
      await t.request({ method: 'GET', url: '/api/v1/students?search=AUD-1' })
    ).json().items;
    await t.request({
      method: 'GET',
      url: `/api/v1/students/${student.id}`,
      headers: { 'x-request-id': viewId },
    });
    expect((await entriesFor(viewId))[0]).toMatchObject({
      action: 'VIEW',
      resource_id: String(student.id),
    });
  });
});

describe('client address', () => {
  const addressOf = async (remoteAddress: string, headers: Record<string, string>) => {
    const id = requestId();
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/students',
      remoteAddress,
      headers: { authorization: `Bearer ${t.tokens.admin}`, 'x-request-id': id, ...headers },
      payload: {},
    });
    return (await entriesFor(id))[0]?.ip_address;
  };

  it('believes X-Forwarded-For and X-Real-IP only from a trusted proxy', async () => {
    expect(await addressOf('10.1.2.3', { 'x-forwarded-for': '203.0.113.7' })).toBe('203.0.113.7');
    expect(await addressOf('10.1.2.3', { 'x-real-ip': '203.0.113.8' })).toBe('203.0.113.8');
    expect(await addressOf('198.51.100.4', { 'x-forwarded-for': '203.0.113.7' })).toBe(
      '198.51.100.4',
    );
    expect(await addressOf('198.51.100.4', { 'x-real-ip': '203.0.113.8' })).toBe('198.51.100.4');
  });
});

describe('integrity', () => {
  const bypass = async (statement: ReturnType<typeof sql>) => {
    await t.database.db.transaction(async (tx) => {
      await tx.execute(sql`ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only`);
      await tx.execute(statement);
      await tx.execute(sql`ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_append_only`);
    });
  };

  it('refuses UPDATE and DELETE through SQL', async () => {
    await expect(
      t.database.db.execute(sql`UPDATE audit_logs SET success = false`),
    ).rejects.toThrow();
    await expect(t.database.db.execute(sql`DELETE FROM audit_logs`)).rejects.toThrow();
  });

  it('names each entry edited, deleted or inserted behind the API', async () => {
    expect((await t.services.audit.verify()).valid).toBe(true);
    const rows = await t.database.db
      .select({ id: auditLogs.id })
      .from(auditLogs)
      .orderBy(asc(auditLogs.id));
    const edited = rows[3]!.id;
    const deleted = rows[6]!.id;
    await bypass(sql`UPDATE audit_logs SET user_email = 'someone@else.test' WHERE id = ${edited}`);
    await bypass(sql`DELETE FROM audit_logs WHERE id = ${deleted}`);
    const last = rows.at(-1)!.id;
    await t.database.db.execute(
      sql`INSERT INTO audit_logs (id, action, resource, success, timestamp, prev_hash, hash)
          VALUES (${last + 1}, 'DELETE', 'STUDENT', true, now(), 'forged', 'forged')`,
    );
    const report = await t.services.audit.verify();
    expect(report.valid).toBe(false);
    expect(report.first_problem).toMatchObject({ id: edited, kind: 'altered' });
    const kinds = report.problems.map((problem) => `${problem.kind}:${problem.id}`);
    expect(kinds).toContain(`altered:${edited}`);
    expect(kinds).toContain(`missing:${deleted}`);
    expect(kinds).toContain(`inserted:${last + 1}`);
  });

  it('keeps the contract query working', async () => {
    const rows = await t.database.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.user_id, 1), eq(auditLogs.action, 'BULK_CREATE')));
    expect(Array.isArray(rows)).toBe(true);
  });
});
