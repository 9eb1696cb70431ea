import { configure, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { renderWithApp } from '../../test/render.tsx';
import { AuditLogPage } from './AuditLogPage.tsx';
import type { AuditLog } from './messages.ts';

function makeLog(overrides: Partial<AuditLog> = {}): AuditLog {
  return {
    id: 1,
    action: 'UPDATE',
    resource: 'STUDENT',
    resource_id: '17',
    user_id: 3,
    user_email: 'secretary@school.test',
    ip_address: '10.0.0.8',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
    details: { source: 'form' },
    success: true,
    error_message: null,
    timestamp: '2025-12-03T09:15:00.000Z',
    request_id: 'req-abc-123',
    old_values: null,
    new_values: null,
    prev_hash: '0'.repeat(64),
    hash: 'f'.repeat(64),
    ...overrides,
  };
}

function page(
  logs: AuditLog[],
  extra: { next_cursor?: string | null; total?: number | null } = {},
) {
  const next = extra.next_cursor ?? null;
  return {
    logs,
    total: extra.total === undefined ? logs.length : extra.total,
    page: 1,
    page_size: 50,
    has_next: next !== null,
    next_cursor: next,
  };
}

const listRequests = (requests: { method: string; url: URL }[]) =>
  requests.filter((request) => request.url.pathname === '/api/v1/audit/logs');

// The shared test machine is slow: give the first fetch and render time to land.
configure({ asyncUtilTimeout: 5000 });

beforeEach(() => {
  history.replaceState(null, '', '/audit');
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Audit log viewer', { timeout: 30_000 }, () => {
  it('turns every filter into exactly the expected query, and keeps them in the URL', async () => {
    const { server } = renderWithApp(<AuditLogPage />, {
      routes: { 'GET /api/v1/audit/logs': () => page([makeLog()]) },
    });
    const user = userEvent.setup();
    await screen.findByRole('button', { name: 'Open entry #1' });
    expect([...listRequests(server.requests)[0]!.url.searchParams]).toEqual([['page_size', '50']]);

    await user.type(screen.getByLabelText('User'), '7');
    await user.selectOptions(screen.getByLabelText('Action'), 'Bulk create');
    await user.selectOptions(screen.getByLabelText('Record type'), 'Student');
    await user.type(screen.getByLabelText('Record ID'), 'S-100');
    await user.selectOptions(screen.getByLabelText('Result'), 'Failed');
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2025-12-01' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2025-12-31' } });
    await user.type(screen.getByLabelText('Text'), 'Maria');
    await user.selectOptions(screen.getByLabelText('Entries per page'), '500');
    await user.click(screen.getByRole('button', { name: 'Apply filters' }));

    await waitFor(() => expect(listRequests(server.requests)).toHaveLength(2));
    const params = listRequests(server.requests)[1]!.url.searchParams;
    // The chosen days are the user's local days: from local midnight to the day's last instant.
    const start = params.get('start_date') ?? '';
    const end = params.get('end_date') ?? '';
    expect(Date.parse(start)).toBe(new Date(2025, 11, 1, 0, 0, 0, 0).getTime());
    expect(Date.parse(end)).toBe(new Date(2025, 11, 31, 23, 59, 59, 999).getTime());
    expect([...params]).toEqual([
      ['user_id', '7'],
      ['action', 'BULK_CREATE'],
      ['resource', 'STUDENT'],
      ['resource_id', 'S-100'],
      ['success', 'false'],
      ['start_date', start],
      ['end_date', end],
      ['q', 'Maria'],
      ['page_size', '500'],
    ]);
    expect(Object.fromEntries(new URLSearchParams(location.search))).toEqual({
      user: '7',
      action: 'BULK_CREATE',
      resource: 'STUDENT',
      resource_id: 'S-100',
      success: 'false',
      start_date: '2025-12-01',
      end_date: '2025-12-31',
      q: 'Maria',
      page_size: '500',
    });
  });

  it('sends an e-mail address as user_email and refuses anything else', async () => {
    const { server } = renderWithApp(<AuditLogPage />, {
      routes: { 'GET /api/v1/audit/logs': () => page([makeLog()]) },
    });
    const user = userEvent.setup();
    await screen.findByRole('button', { name: 'Open entry #1' });
    await user.type(screen.getByLabelText('User', { selector: 'input' }), 'not a user');
    await user.click(screen.getByRole('button', { name: 'Apply filters' }));
    expect(
      await screen.findByText('Enter a user number (for example 12) or an e-mail address.'),
    ).toBeTruthy();
    expect(listRequests(server.requests)).toHaveLength(1);

    await user.clear(screen.getByLabelText('User', { selector: 'input' }));
    await user.type(screen.getByLabelText('User', { selector: 'input' }), 'Teacher@School.test');
    await user.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(listRequests(server.requests)).toHaveLength(2));
    expect([...listRequests(server.requests)[1]!.url.searchParams]).toEqual([
      ['user_email', 'Teacher@School.test'],
      ['page_size', '50'],
    ]);
  });

  it('reads the filters from the URL and pages older and newer by cursor', async () => {
    history.replaceState(null, '', '/audit?action=LOGIN&page_size=2');
    const { server } = renderWithApp(<AuditLogPage />, {
      routes: {
        'GET /api/v1/audit/logs': (_request, url) =>
          url.searchParams.get('cursor') === 'cursor-2'
            ? page([makeLog({ id: 8, action: 'LOGIN' })], { total: null })
            : page([makeLog({ id: 10, action: 'LOGIN' }), makeLog({ id: 9, action: 'LOGIN' })], {
                next_cursor: 'cursor-2',
                total: 3,
              }),
      },
    });
    const user = userEvent.setup();
    await screen.findByRole('button', { name: 'Open entry #10' });
    expect(screen.getByText(/Entries 1–2 of 3/)).toBeTruthy();
    expect(screen.getByRole('button', { name: '← Newer' })).toHaveProperty('disabled', true);

    await user.click(screen.getByRole('button', { name: 'Older →' }));
    await screen.findByRole('button', { name: 'Open entry #8' });
    const requests = listRequests(server.requests);
    expect([...requests.at(-1)!.url.searchParams]).toEqual([
      ['action', 'LOGIN'],
      ['page_size', '2'],
      ['cursor', 'cursor-2'],
    ]);
    expect(screen.getByText(/Page 2 · Entries 3–3 of 3/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Older →' })).toHaveProperty('disabled', true);

    await user.click(screen.getByRole('button', { name: '← Newer' }));
    await screen.findByRole('button', { name: 'Open entry #10' });
    expect(screen.queryByRole('button', { name: 'Open entry #8' })).toBeNull();
  });

  it('shows every field and the old / new values of an entry in the drawer', async () => {
    const log = makeLog({
      id: 41,
      old_values: { last_name: 'Papadopoulos', first_name: 'Maria', note: 'call parents' },
      new_values: { last_name: 'Papadopoulou', first_name: 'Maria', email: 'maria@school.test' },
    });
    renderWithApp(<AuditLogPage />, {
      routes: { 'GET /api/v1/audit/logs': () => page([log]) },
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Open entry #41' }));
    const drawer = screen.getByRole('dialog', { name: 'Audit entry #41' });
    expect(within(drawer).getByText('req-abc-123')).toBeTruthy();
    expect(within(drawer).getByText('10.0.0.8')).toBeTruthy();
    expect(within(drawer).getByText(/Firefox\/140\.0/)).toBeTruthy();
    expect(within(drawer).getByText(/"source": "form"/)).toBeTruthy();

    const diff = within(drawer).getByRole('table', { name: 'Old and new values' });
    const rowOf = (field: string) =>
      within(diff).getByRole('rowheader', { name: field }).closest('tr') as HTMLElement;
    const cells = (field: string) =>
      within(rowOf(field))
        .getAllByRole('cell')
        .map((cell) => cell.textContent?.trim());
    expect(cells('last_name')).toEqual(['Papadopoulos', 'Papadopoulou', '✎ Changed']);
    expect(cells('first_name')).toEqual(['Maria', 'Maria', '= Unchanged']);
    expect(cells('note')).toEqual(['call parents', '(not set)', '− Removed']);
    expect(cells('email')).toEqual(['(not set)', 'maria@school.test', '+ Added']);

    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('marks every field of a creation as added, and gives focus back on close', async () => {
    const log = makeLog({
      id: 42,
      action: 'CREATE',
      old_values: null,
      new_values: { student_id: 'S-7', is_active: true, note: null },
    });
    renderWithApp(<AuditLogPage />, {
      routes: { 'GET /api/v1/audit/logs': () => page([log]) },
    });
    const user = userEvent.setup();
    const opener = await screen.findByRole('button', { name: 'Open entry #42' });
    await user.click(opener);
    const diff = within(screen.getByRole('dialog')).getByRole('table', {
      name: 'Old and new values',
    });
    const rows = within(diff)
      .getAllByRole('row')
      .slice(1)
      .map((row) => row.textContent);
    expect(rows).toEqual([
      'student_id(not set)S-7+ Added',
      'is_active(not set)true+ Added',
      'note(not set)(empty)+ Added',
    ]);
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Close' }));
    await waitFor(() => expect(document.activeElement).toBe(opener));
  });

  it('exports CSV and JSON with the current filters and no paging', async () => {
    history.replaceState(null, '', '/audit?action=UPDATE&resource=STUDENT&q=grade&page_size=100');
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    const createObjectURL = vi.fn(() => 'blob:audit');
    Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() });
    const { server } = renderWithApp(<AuditLogPage />, {
      routes: {
        'GET /api/v1/audit/logs': () => page([makeLog()]),
        'GET /api/v1/audit/logs/export': (_request, url) =>
          new Response('id,timestamp\r\n', {
            headers: {
              'content-type': 'text/csv',
              'content-disposition': `attachment; filename="audit-20251203.${url.searchParams.get('format')}"`,
            },
          }),
      },
    });
    const user = userEvent.setup();
    await screen.findByRole('button', { name: 'Open entry #1' });
    await user.click(screen.getByRole('button', { name: 'Export CSV' }));
    expect(await screen.findByText('Saved audit-20251203.csv.')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Export JSON' }));
    expect(await screen.findByText('Saved audit-20251203.json.')).toBeTruthy();

    const exports = server.requests.filter((request) => request.url.pathname.endsWith('/export'));
    expect(exports.map((request) => [...request.url.searchParams])).toEqual([
      [
        ['action', 'UPDATE'],
        ['resource', 'STUDENT'],
        ['q', 'grade'],
        ['format', 'csv'],
      ],
      [
        ['action', 'UPDATE'],
        ['resource', 'STUDENT'],
        ['q', 'grade'],
        ['format', 'json'],
      ],
    ]);
    expect(createObjectURL).toHaveBeenCalledTimes(2);
  });

  it('verifies the chain: a clear result when intact, the first broken link when not', async () => {
    let valid = true;
    renderWithApp(<AuditLogPage />, {
      routes: {
        'GET /api/v1/audit/logs': () => page([makeLog()]),
        'GET /api/v1/audit/logs/57': () => makeLog({ id: 57, action: 'DELETE' }),
        'GET /api/v1/audit/verify': () =>
          valid
            ? {
                valid: true,
                checked: 1200,
                first_id: 1,
                last_id: 1200,
                first_problem: null,
                problems: [],
                duration_ms: 35,
              }
            : {
                valid: false,
                checked: 1200,
                first_id: 1,
                last_id: 1200,
                first_problem: {
                  id: 57,
                  kind: 'altered',
                  message: 'entry 57 was changed after it was written (hash differs)',
                },
                problems: [
                  { id: 57, kind: 'altered', message: 'entry 57 was changed (hash differs)' },
                  { id: 58, kind: 'relinked', message: 'prev_hash differs' },
                ],
                duration_ms: 40,
              },
      },
    });
    const user = userEvent.setup();
    await screen.findByRole('button', { name: 'Open entry #1' });
    await user.click(screen.getByRole('button', { name: 'Verify integrity' }));
    expect((await screen.findByText(/The audit trail is intact/)).textContent).toContain(
      '1,200 entries checked',
    );

    valid = false;
    await user.click(screen.getByRole('button', { name: 'Verify integrity' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('the first broken link is entry #57');
    expect(alert.textContent).toContain('Reason: the entry was changed after it was written.');
    expect(alert.textContent).toContain('(hash differs)');
    expect(alert.textContent).toContain('2 problems found in 1,200 entries.');
    await user.click(within(alert).getByRole('button', { name: 'Open entry #57' }));
    const drawer = await screen.findByRole('dialog', { name: 'Audit entry #57' });
    expect(await within(drawer).findByText('DELETE')).toBeTruthy();
  });

  it('speaks Greek', async () => {
    renderWithApp(<AuditLogPage />, {
      language: 'el',
      routes: { 'GET /api/v1/audit/logs': () => page([makeLog({ action: 'BULK_DELETE' })]) },
    });
    expect(await screen.findByRole('heading', { name: 'Αρχείο ελέγχου' })).toBeTruthy();
    const table = await screen.findByRole('table', {
      name: 'Εγγραφές ελέγχου, οι πιο πρόσφατες πρώτες',
    });
    expect(within(table).getByText('Μαζική διαγραφή')).toBeTruthy();
    expect(within(table).getByText('Επιτυχία')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Έλεγχος ακεραιότητας' })).toBeTruthy();
  });
});
