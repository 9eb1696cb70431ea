import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { queryRows } from '../../platform/db/client.ts';
import { AuditLogger } from './audit.logger.ts';
import { type AuditLogResponse, AuditQuery, encodeCursor } from './audit.query.ts';
import { CSV_COLUMNS, csvCell } from './audit.routes.ts';

interface LogPage {
  logs: AuditLogResponse[];
  total: number | null;
  page: number | null;
  page_size: number;
  has_next: boolean;
  next_cursor: string | null;
}

interface ProblemBody {
  status: number;
  errors?: Array<{ field: string; message: string }>;
}

let t: TestApp;
let studentId = 0;
const HYPERLINK = '=HYPERLINK("x")';
const FAILED_PASSWORD = 'Not-The-Password-42!';

async function get(url: string, as: 'admin' | 'teacher' | 'viewer' | null = 'admin') {
  return t.request({ method: 'GET', url, as });
}

async function list(query: string): Promise<LogPage> {
  const response = await get(`/api/v1/audit/logs?${query}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as LogPage;
}

async function expectBadField(url: string, field: string) {
  const response = await get(url);
  expect(response.statusCode, response.body).toBe(400);
  expect(response.headers['content-type']).toContain('application/problem+json');
  const body = response.json() as ProblemBody;
  expect(body.errors?.map((error) => error.field)).toContain(field);
}

/** A small RFC 4180 reader, enough to check what the export wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        cell += '"';
        index++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\r' && text[index + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      index++;
    } else cell += char;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

/** Back-dated BULK_CREATE entries by user 1, to pin the date filters to exact instants. */
const BACKDATED = [
  ['bulk-0', '2025-11-29T12:00:00.000Z'],
  ['bulk-1', '2025-12-01T00:00:00.000Z'],
  ['bulk-2', '2025-12-01T23:59:59.999Z'],
  ['bulk-3', '2025-12-02T00:00:00.000Z'],
  ['bulk-4', '2025-12-03T12:00:00.000Z'],
] as const;

beforeAll(async () => {
  t = await createTestApp();

  const create = await t.request({
    method: 'POST',
    url: '/api/v1/students',
    headers: { 'x-request-id': 'rq-create-a', 'user-agent': '=cmd' },
    payload: {
      student_id: 'AUDR-1',
      first_name: 'Ελένη',
      last_name: HYPERLINK,
      study_year: 2,
    },
  });
  expect(create.statusCode, create.body).toBe(201);
  studentId = create.json().id;
  const url = `/api/v1/students/${studentId}`;
  const steps = [
    {
      method: 'PATCH',
      url,
      payload: { study_year: 3 },
      headers: { 'x-request-id': 'rq-update-a' },
    },
    { method: 'DELETE', url, as: 'teacher', headers: { 'x-request-id': 'rq-teacher-delete' } },
    { method: 'PATCH', url, payload: { study_year: 3, note: 'moved up' } },
    { method: 'DELETE', url },
    { method: 'POST', url: `${url}/restore` },
    {
      method: 'POST',
      url: '/api/v1/students',
      as: 'teacher',
      payload: { student_id: 'AUDR-T', first_name: 'T', last_name: 'T' },
    },
    {
      method: 'POST',
      url: '/api/v1/highlights',
      as: 'teacher',
      payload: { student_id: studentId, semester: '2025-26 A', highlight_text: 'Helps others' },
    },
  ] as const;
  const expected = [200, 403, 200, 204, 200, 403, 201];
  for (const [index, step] of steps.entries()) {
    const response = await t.request(step);
    expect(response.statusCode, `${step.method} ${step.url}: ${response.body}`).toBe(
      expected[index],
    );
  }
  const failedLogin = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: { 'x-request-id': 'rq-failed-login' },
    payload: { email: 'Nobody@School.test', password: FAILED_PASSWORD },
  });
  expect(failedLogin.statusCode).toBe(401);

  for (const [resourceId, at] of BACKDATED) {
    const backdated = new AuditLogger(t.database.db, { enabled: true, now: () => new Date(at) });
    await backdated.logAction(
      { action: 'BULK_CREATE', resource: 'STUDENT', resourceId, details: { count: 3 } },
      { userId: 1, userEmail: 'admin@school.test' },
    );
  }
});
afterAll(async () => {
  await t.close();
});

describe('audit log filters', () => {
  it('answers the contract example, and the contract SQL runs as written', async () => {
    expect(t.users.admin).toBe(1);
    const page = await list('user_id=1&action=BULK_CREATE&start_date=2025-12-01');
    expect(page.logs.map((log) => log.resource_id)).toEqual([
      'bulk-4',
      'bulk-3',
      'bulk-2',
      'bulk-1',
    ]);
    expect(page).toMatchObject({ total: 4, page: 1, page_size: 50, has_next: false });
    expect(page.next_cursor).toBeNull();

    const rows = await queryRows<{ resource_id: string; timestamp: Date | string }>(
      t.database.db,
      sql.raw(
        "SELECT * FROM audit_logs WHERE user_id = 1 AND action = 'BULK_CREATE' AND timestamp >= '2025-12-01' ORDER BY timestamp DESC LIMIT 100;",
      ),
    );
    const ids = rows.map((row) => row.resource_id);
    // The literal date is read in the session's time zone, so the edges of 1 December may differ.
    expect(ids.slice(0, 2)).toEqual(['bulk-4', 'bulk-3']);
    expect(ids).not.toContain('bulk-0');
  });

  it('narrows by date: plain dates are whole UTC days, date-times are inclusive', async () => {
    const ids = async (query: string) =>
      (await list(`action=BULK_CREATE&${query}`)).logs.map((log) => log.resource_id);
    expect(await ids('start_date=2025-12-01&end_date=2025-12-01')).toEqual(['bulk-2', 'bulk-1']);
    expect(await ids('end_date=2025-12-01T23:59:59.998Z')).toEqual(['bulk-1', 'bulk-0']);
    expect(await ids('start_date=2025-12-02T00:00:00Z&end_date=2025-12-02T00:00:00.000Z')).toEqual([
      'bulk-3',
    ]);
    expect(await ids(`start_date=${encodeURIComponent('2025-12-02T02:00:00+02:00')}`)).toEqual([
      'bulk-4',
      'bulk-3',
    ]);
    expect(await ids('start_date=2025-12-04')).toEqual([]);
  });

  it('narrows by user_id, and the per-user route agrees', async () => {
    const page = await list(`user_id=${t.users.teacher}&page_size=500`);
    expect(page.logs.length).toBeGreaterThanOrEqual(4); // sign-in, two refusals, a highlight
    expect(page.logs.every((log) => log.user_id === t.users.teacher)).toBe(true);
    expect(page.logs.some((log) => log.resource === 'HIGHLIGHT' && log.action === 'CREATE')).toBe(
      true,
    );
    const byRoute = await get(`/api/v1/audit/logs/user/${t.users.teacher}?page_size=500`);
    expect(byRoute.statusCode).toBe(200);
    expect((byRoute.json() as LogPage).logs.map((log) => log.id)).toEqual(
      page.logs.map((log) => log.id),
    );
    const refused = await get(
      `/api/v1/audit/logs/user/${t.users.teacher}?success=false&resource=STUDENT`,
    );
    expect((refused.json() as LogPage).logs.map((log) => log.action).sort()).toEqual([
      'CREATE',
      'DELETE',
    ]);
  });

  it('narrows by repeated or comma-separated actions, and by resource and resource_id', async () => {
    const base = `resource=STUDENT&resource_id=${studentId}`;
    const all = await list(base);
    expect(all.logs.map((log) => log.action)).toEqual([
      'UPDATE',
      'DELETE',
      'UPDATE',
      'DELETE',
      'UPDATE',
      'CREATE',
    ]);
    const repeated = await list(`${base}&action=CREATE&action=DELETE`);
    expect(repeated.logs.map((log) => log.action)).toEqual(['DELETE', 'DELETE', 'CREATE']);
    const comma = await list(`${base}&action=create,delete`);
    expect(comma.logs.map((log) => log.id)).toEqual(repeated.logs.map((log) => log.id));
    const byEmail = await list(`${base}&user_email=ADMIN@school.test`);
    expect(byEmail.total).toBe(5);
  });

  it('finds the failed sign-in with the address tried and never the password', async () => {
    const page = await list('success=false&action=LOGIN');
    const entry = page.logs.find((log) => log.request_id === 'rq-failed-login');
    expect(entry).toMatchObject({
      action: 'LOGIN',
      resource: 'SESSION',
      success: false,
      user_email: 'nobody@school.test',
      user_id: null,
    });
    expect(entry?.error_message).toBeTruthy();
    expect(JSON.stringify(entry)).not.toContain(FAILED_PASSWORD);
    expect(page.logs.every((log) => log.success === false)).toBe(true);
    const byEmail = await list('user_email=nobody@school.test');
    expect(byEmail.logs.map((log) => log.request_id)).toEqual(['rq-failed-login']);
  });

  it('narrows by request_id (the X-Request-ID the client sent)', async () => {
    const page = await list('request_id=rq-create-a');
    expect(page.total).toBe(1);
    expect(page.logs[0]).toMatchObject({
      action: 'CREATE',
      resource: 'STUDENT',
      resource_id: String(studentId),
      user_id: t.users.admin,
      user_agent: '=cmd',
      old_values: null,
    });
    expect(page.logs[0]?.new_values).toMatchObject({ student_id: 'AUDR-1', last_name: HYPERLINK });
  });

  it('searches details and error_message case-insensitively, with % and _ as plain text', async () => {
    const refusals = await list('q=STUDENTS:WRITE');
    expect(refusals.logs.map((log) => log.request_id)).toContain('rq-teacher-delete');
    expect(refusals.logs.every((log) => log.error_message?.includes('students:write'))).toBe(true);
    expect((await list('q=students_write')).total).toBe(0);
    expect((await list('q=%25')).total).toBe(0);
    const restores = await list('q=restore&resource=STUDENT');
    expect(restores.logs.map((log) => log.details)).toContainEqual({ operation: 'restore' });
  });

  it('gets one entry by id, and 404 for an unknown id', async () => {
    const [first] = (await list('request_id=rq-update-a')).logs;
    const one = await get(`/api/v1/audit/logs/${first?.id}`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(first);
    expect(first).toMatchObject({ old_values: { study_year: 2 }, new_values: { study_year: 3 } });
    expect(first?.hash).toMatch(/^[0-9a-f]{64}$/);
    const missing = await get('/api/v1/audit/logs/987654321');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
  });
});

describe('paging', () => {
  it('page mode and cursor mode agree, and the cursor walks every entry once', async () => {
    const byPage: number[] = [];
    let total = 0;
    for (let page = 1; ; page++) {
      const answer = await list(`page=${page}&page_size=4`);
      total = answer.total ?? -1;
      byPage.push(...answer.logs.map((log) => log.id));
      if (!answer.has_next) break;
      expect(answer.next_cursor).toBeTruthy();
    }
    expect(byPage).toHaveLength(total);
    expect(total).toBeGreaterThan(12);

    const byCursor: number[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 1000; guard++) {
      const answer: LogPage = await list(
        `page_size=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      if (cursor) expect(answer).toMatchObject({ total: null, page: null });
      byCursor.push(...answer.logs.map((log) => log.id));
      cursor = answer.next_cursor;
      expect(cursor === null).toBe(!answer.has_next);
      if (!cursor) break;
    }
    expect(byCursor).toEqual(byPage);
    expect(new Set(byCursor).size).toBe(byCursor.length);
    // Every id the chain holds, no gaps (ids are consecutive).
    expect([...byCursor].sort((a, b) => a - b)).toEqual(
      Array.from({ length: total }, (_, index) => index + 1),
    );
  });

  it('orders newest first by timestamp, then id', async () => {
    const all = await list('page_size=500');
    for (let index = 1; index < all.logs.length; index++) {
      const previous = all.logs[index - 1]!;
      const current = all.logs[index]!;
      const order = previous.timestamp.localeCompare(current.timestamp);
      expect(order > 0 || (order === 0 && previous.id > current.id)).toBe(true);
    }
    // The back-dated entries sort by when they happened, not by when they were written.
    expect(all.logs.at(-1)?.resource_id).toBe('bulk-0');
  });

  it('a page-mode next_cursor continues where the page ended', async () => {
    const first = await list('page=1&page_size=3');
    const second = await list('page=2&page_size=3');
    const continued = await list(`page_size=3&cursor=${first.next_cursor}`);
    expect(continued.logs).toEqual(second.logs);
  });

  it('reads every matching entry in keyset batches', async () => {
    const query = new AuditQuery(t.database.db);
    const maxId = await query.maxId();
    const seen: number[] = [];
    const sizes: number[] = [];
    for await (const batch of query.batches({ resource: ['STUDENT'] }, { batchSize: 3, maxId })) {
      sizes.push(batch.length);
      seen.push(...batch.map((row) => row.id));
    }
    const listed = await list('resource=STUDENT&page_size=500');
    expect(seen).toEqual(listed.logs.map((log) => log.id));
    expect(sizes.slice(0, -1).every((size) => size === 3)).toBe(true);
  });
});

describe('history', () => {
  it('lists every entry about one record, oldest first, with only the changed fields', async () => {
    const response = await get(`/api/v1/audit/history/student/${studentId}`);
    expect(response.statusCode, response.body).toBe(200);
    const history = response.json() as Omit<LogPage, 'next_cursor'>;
    expect(history.logs.map((log) => [log.action, log.success])).toEqual([
      ['CREATE', true],
      ['UPDATE', true],
      ['DELETE', false],
      ['UPDATE', true],
      ['DELETE', true],
      ['UPDATE', true],
    ]);
    const ids = history.logs.map((log) => log.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(history.logs[1]).toMatchObject({
      old_values: { study_year: 2 },
      new_values: { study_year: 3 },
    });
    // study_year was sent again unchanged: only the note is recorded.
    expect(history.logs[3]).toMatchObject({
      old_values: { note: null },
      new_values: { note: 'moved up' },
    });
    expect(history.logs[2]).toMatchObject({
      user_id: t.users.teacher,
      request_id: 'rq-teacher-delete',
    });
    expect(history.logs[5]?.details).toEqual({ operation: 'restore' });

    const paged = await get(`/api/v1/audit/history/STUDENT/${studentId}?page=2&page_size=4`);
    expect(paged.json()).toMatchObject({ total: 6, page: 2, page_size: 4, has_next: false });
    expect((paged.json() as LogPage).logs.map((log) => log.id)).toEqual(ids.slice(4));
  });
});

describe('export', () => {
  const filter = () => `resource=STUDENT&resource_id=${studentId}`;

  it('streams CSV with every matching row and neutralised formulas', async () => {
    const response = await get(`/api/v1/audit/logs/export?format=csv&${filter()}`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toMatch(
      /^attachment; filename="audit-\d{8}-\d{6}\.csv"$/,
    );
    const [header, ...rows] = parseCsv(response.body);
    expect(header).toEqual([...CSV_COLUMNS]);
    const listed = await list(filter());
    expect(rows.map((row) => Number(row[0]))).toEqual(listed.logs.map((log) => log.id));
    for (const row of rows) {
      expect(row).toHaveLength(CSV_COLUMNS.length);
      for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    }
    const column = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    const created = rows.find((row) => row[column('action')] === 'CREATE')!;
    expect(created[column('user_agent')]).toBe("'=cmd");
    expect(JSON.parse(created[column('new_values')]!)).toMatchObject({ last_name: HYPERLINK });
    expect(created[column('timestamp')]).toBe(listed.logs.at(-1)?.timestamp);
    expect(created[column('success')]).toBe('true');
    expect(created[column('old_values')]).toBe('');
  });

  it('neutralises and quotes single cells', () => {
    expect(csvCell('=1+2')).toBe("'=1+2");
    expect(csvCell('+30 210')).toBe("'+30 210");
    expect(csvCell('-5')).toBe("'-5");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('\rx')).toBe('"\'\rx"');
    expect(csvCell('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(false)).toBe('false');
    expect(csvCell({ a: '=x' })).toBe('"{""a"":""=x""}"');
  });

  it('streams JSON and JSON Lines with every matching row', async () => {
    const listed = await list(filter());
    const json = await get(`/api/v1/audit/logs/export?format=json&${filter()}`);
    expect(json.statusCode).toBe(200);
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json.headers['content-disposition']).toMatch(/filename="audit-\d{8}-\d{6}\.json"/);
    expect(JSON.parse(json.body)).toEqual(listed.logs);

    const jsonl = await get(`/api/v1/audit/logs/export?format=jsonl&${filter()}`);
    expect(jsonl.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const lines = jsonl.body.split('\n').filter((line) => line !== '');
    expect(lines.map((line) => JSON.parse(line))).toEqual(listed.logs);

    const empty = await get('/api/v1/audit/logs/export?format=json&resource_id=no-such-record');
    expect(JSON.parse(empty.body)).toEqual([]);
  });

  it('records each export as an EXPORT entry with its filters and row count', async () => {
    const response = await t.request({
      method: 'GET',
      url: `/api/v1/audit/logs/export?format=jsonl&action=UPDATE,CREATE&${filter()}`,
      headers: { 'x-request-id': 'rq-export' },
    });
    expect(response.statusCode).toBe(200);
    const rows = response.body.split('\n').filter((line) => line !== '').length;
    expect(rows).toBe(4);
    const page = await list('action=EXPORT&request_id=rq-export');
    expect(page.logs).toHaveLength(1);
    expect(page.logs[0]).toMatchObject({
      action: 'EXPORT',
      resource: 'SYSTEM',
      user_id: t.users.admin,
      success: true,
      details: {
        format: 'jsonl',
        rows: 4,
        complete: true,
        filters: {
          action: ['UPDATE', 'CREATE'],
          resource: ['STUDENT'],
          resource_id: `${studentId}`,
        },
      },
    });
  });
});

describe('verification', () => {
  it('reports an intact chain', async () => {
    const response = await get('/api/v1/audit/verify');
    expect(response.statusCode).toBe(200);
    const report = response.json();
    expect(report).toMatchObject({ valid: true, first_problem: null, problems: [], first_id: 1 });
    expect(report.checked).toBe(report.last_id);
  });
});

describe('access and bad input', () => {
  const routes = [
    '/api/v1/audit/logs',
    '/api/v1/audit/logs/1',
    '/api/v1/audit/logs/user/1',
    '/api/v1/audit/logs/export',
    '/api/v1/audit/history/STUDENT/1',
    '/api/v1/audit/verify',
  ];

  it('refuses teachers and viewers (403) and callers without a token (401)', async () => {
    for (const url of routes) {
      expect((await get(url, 'teacher')).statusCode, url).toBe(403);
      expect((await get(url, 'viewer')).statusCode, url).toBe(403);
      const anonymous = await get(url, null);
      expect(anonymous.statusCode, url).toBe(401);
      expect(anonymous.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('answers 400 naming the field', async () => {
    const logs = '/api/v1/audit/logs';
    await expectBadField(`${logs}?action=NOPE`, 'query.action.0');
    await expectBadField(`${logs}?action=CREATE,NOPE`, 'query.action.1');
    await expectBadField(`${logs}?action=CREATE&action=DROP`, 'query.action.1');
    await expectBadField(`${logs}?resource=PLANET`, 'query.resource.0');
    await expectBadField(`${logs}?start_date=2025-12-02&end_date=2025-12-01`, 'query.start_date');
    await expectBadField(
      `${logs}?start_date=2025-12-01T10:00:00Z&end_date=2025-12-01T09:59:59Z`,
      'query.start_date',
    );
    await expectBadField(`${logs}?start_date=2025-13-01`, 'query.start_date');
    await expectBadField(`${logs}?end_date=yesterday`, 'query.end_date');
    await expectBadField(`${logs}?page_size=501`, 'query.page_size');
    await expectBadField(`${logs}?page=0`, 'query.page');
    await expectBadField(`${logs}?cursor=not*base64`, 'query.cursor');
    await expectBadField(`${logs}?cursor=bm9wZQ`, 'query.cursor'); // "nope"
    const wrongShape = Buffer.from(JSON.stringify({ id: 1 })).toString('base64url');
    await expectBadField(`${logs}?cursor=${wrongShape}`, 'query.cursor');
    const badTimestamp = Buffer.from(JSON.stringify(['2025-12-01', 5])).toString('base64url');
    await expectBadField(`${logs}?cursor=${badTimestamp}`, 'query.cursor');
    const valid = encodeCursor({ timestamp: '2025-12-01T00:00:00.000000Z', id: 5 });
    await expectBadField(`${logs}?cursor=${valid}&page=2`, 'query.page');
    await expectBadField(`${logs}?user_id=abc`, 'query.user_id');
    await expectBadField(`${logs}?success=yes`, 'query.success');
    await expectBadField(`${logs}?usr_id=1`, 'query');
    await expectBadField(`${logs}/export?format=xml`, 'query.format');
    await expectBadField(`${logs}/export?resource=PLANET`, 'query.resource.0');
    await expectBadField(`${logs}/user/1?user_id=2`, 'query');
    await expectBadField(`${logs}/user/1?page_size=1000`, 'query.page_size');
    await expectBadField('/api/v1/audit/history/STUDENTS/1', 'path.resource');
    await expectBadField('/api/v1/audit/history/STUDENT/1?page_size=501', 'query.page_size');
    await expectBadField(`${logs}/0`, 'path.id');
  });

  it('documents the routes in the OpenAPI document', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const path of [
      '/api/v1/audit/logs',
      '/api/v1/audit/logs/{id}',
      '/api/v1/audit/logs/user/{user_id}',
      '/api/v1/audit/logs/export',
      '/api/v1/audit/history/{resource}/{resource_id}',
      '/api/v1/audit/verify',
    ]) {
      expect(document.paths[path], path).toBeDefined();
    }
    expect(document.components.schemas.AuditLog).toBeDefined();
  });
});

describe('export rate limit', () => {
  it('answers 429 with Retry-After past RATE_LIMIT_EXPORTS_PER_MINUTE for one user', async () => {
    const limited = await createTestApp({ env: { RATE_LIMIT_EXPORTS_PER_MINUTE: '1' } });
    try {
      const exportOnce = () =>
        limited.request({ method: 'GET', url: '/api/v1/audit/logs/export?format=json' });
      expect((await exportOnce()).statusCode).toBe(200);
      const refused = await exportOnce();
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBeDefined();
      expect(refused.headers['content-type']).toContain('application/problem+json');
    } finally {
      await limited.close();
    }
  });
});
