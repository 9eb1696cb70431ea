import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../app/App.tsx';
import { renderWithApp } from '../../test/render.tsx';

function student(id: number, overrides: Record<string, unknown> = {}) {
  return {
    id,
    student_id: `S${String(id).padStart(4, '0')}`,
    first_name: `First${id}`,
    last_name: `Last${id}`,
    email: null,
    father_name: null,
    mobile_phone: null,
    phone: null,
    study_year: 2,
    enrollment_date: '2025-09-01',
    is_active: true,
    academic_year: '2025-2026',
    class_division: 'B1',
    health_issue: null,
    note: null,
    created_at: '2025-09-01T08:00:00.000Z',
    updated_at: '2025-09-01T08:00:00.000Z',
    deleted_at: null,
    ...overrides,
  };
}

/** A list endpoint that pages 120 students 50 at a time. */
function studentsRoute(_request: Request, url: URL) {
  const page = Number(url.searchParams.get('page') ?? 1);
  const pageSize = Number(url.searchParams.get('page_size') ?? 50);
  const total = 120;
  const start = (page - 1) * pageSize;
  const items = Array.from({ length: Math.max(0, Math.min(pageSize, total - start)) }, (_, index) =>
    student(start + index + 1),
  );
  return { items, total, page, page_size: pageSize, has_next: start + pageSize < total };
}

const lastListQuery = (requests: { method: string; url: URL }[]) =>
  requests.filter((request) => request.url.pathname === '/api/v1/students').at(-1)?.url
    .searchParams;

/** The first render of a test pays for loading the app's modules. */
const slow = { timeout: 8000 };

describe('Students list', { timeout: 30_000 }, () => {
  beforeEach(() => {
    history.replaceState(null, '', '/students');
  });

  it('shows the students and pages through them', async () => {
    const { server } = renderWithApp(<App />, {
      routes: { 'GET /api/v1/students': studentsRoute },
    });
    const user = userEvent.setup();
    expect(await screen.findByRole('link', { name: 'Last1' }, slow)).toBeTruthy();
    expect(screen.getByText('Page 1 of 3 · 120 in all')).toBeTruthy();
    expect(lastListQuery(server.requests)?.get('sort')).toBe('last_name');

    await user.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByRole('link', { name: 'Last51' })).toBeTruthy();
    expect(lastListQuery(server.requests)?.get('page')).toBe('2');
    expect(location.search).toContain('page=2');

    await user.selectOptions(screen.getByLabelText('Rows per page'), '100');
    await screen.findByText('Page 1 of 2 · 120 in all');
    expect(lastListQuery(server.requests)?.get('page_size')).toBe('100');
    expect(lastListQuery(server.requests)?.get('page')).toBe('1');
  });

  it('sends the search and the filters as the query and keeps them in the URL', async () => {
    const { server } = renderWithApp(<App />, {
      routes: { 'GET /api/v1/students': studentsRoute },
    });
    const user = userEvent.setup();
    await screen.findByRole('link', { name: 'Last1' }, slow);

    await user.type(screen.getByLabelText('Search students'), 'maria{Enter}');
    await waitFor(() => expect(lastListQuery(server.requests)?.get('search')).toBe('maria'));

    await user.selectOptions(screen.getByLabelText('Year of study'), '3');
    await waitFor(() => expect(lastListQuery(server.requests)?.get('study_year')).toBe('3'));
    await user.selectOptions(screen.getByLabelText('Status'), 'false');
    await waitFor(() => expect(lastListQuery(server.requests)?.get('is_active')).toBe('false'));
    await user.click(screen.getByLabelText('Show deleted students'));
    await waitFor(() =>
      expect(lastListQuery(server.requests)?.get('include_deleted')).toBe('true'),
    );

    const query = lastListQuery(server.requests);
    expect(query?.get('search')).toBe('maria');
    expect(query?.get('study_year')).toBe('3');
    expect(query?.get('page')).toBe('1');
    const url = new URLSearchParams(location.search);
    expect(url.get('search')).toBe('maria');
    expect(url.get('study_year')).toBe('3');
    expect(url.get('is_active')).toBe('false');

    // Sorting by a column header asks the API for that order, then the reverse.
    const table = screen.getByRole('table');
    await user.click(within(table).getByRole('button', { name: /Student ID/ }));
    await waitFor(() => expect(lastListQuery(server.requests)?.get('sort')).toBe('student_id'));
    await user.click(within(table).getByRole('button', { name: /Student ID/ }));
    await waitFor(() => expect(lastListQuery(server.requests)?.get('sort')).toBe('-student_id'));
    expect(
      within(table)
        .getByRole('columnheader', { name: /Student ID/ })
        .getAttribute('aria-sort'),
    ).toBe('descending');
  });

  it('reads the filters from the URL on load', async () => {
    history.replaceState(null, '', '/students?search=nik&class_division=A2&page=2');
    const { server } = renderWithApp(<App />, {
      routes: { 'GET /api/v1/students': studentsRoute },
    });
    await screen.findByRole('link', { name: 'Last51' }, slow);
    const query = lastListQuery(server.requests);
    expect(query?.get('search')).toBe('nik');
    expect(query?.get('class_division')).toBe('A2');
    expect(query?.get('page')).toBe('2');
    expect((screen.getByLabelText('Search students') as HTMLInputElement).value).toBe('nik');
  });

  it('hides the create button from a role that cannot write', async () => {
    renderWithApp(<App />, {
      user: {
        id: 3,
        email: 'viewer@school.test',
        full_name: 'Viewer',
        role: 'viewer',
        is_active: true,
        must_change_password: false,
        permissions: ['students:read', 'courses:read'],
      },
      routes: { 'GET /api/v1/students': studentsRoute },
    });
    await screen.findByRole('link', { name: 'Last1' }, slow);
    expect(screen.queryByRole('link', { name: 'New student' })).toBeNull();
  });
});
