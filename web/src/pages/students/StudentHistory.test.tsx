import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../app/App.tsx';
import { renderWithApp } from '../../test/render.tsx';

const slow = { timeout: 8000 };

const student = {
  id: 5,
  student_id: 'S0005',
  first_name: 'Nikos',
  last_name: 'Georgiou',
  email: null,
  father_name: null,
  mobile_phone: null,
  phone: null,
  study_year: 3,
  enrollment_date: '2025-09-01',
  is_active: true,
  academic_year: '2025-2026',
  class_division: 'C2',
  health_issue: null,
  note: null,
  created_at: '2025-09-01T08:00:00.000Z',
  updated_at: '2025-10-01T08:00:00.000Z',
  deleted_at: null,
};

function entry(id: number, fields: Record<string, unknown>) {
  return {
    id,
    resource: 'STUDENT',
    resource_id: '5',
    user_id: 1,
    user_email: 'secretary@school.test',
    ip_address: null,
    user_agent: null,
    details: null,
    success: true,
    error_message: null,
    request_id: null,
    prev_hash: 'a',
    hash: 'b',
    old_values: null,
    new_values: null,
    ...fields,
  };
}

const emptyPage = { items: [], total: 0, page: 1, page_size: 200, has_next: false };

describe('Student detail', { timeout: 30_000 }, () => {
  beforeEach(() => {
    history.replaceState(null, '', '/students/5');
  });

  it('shows the History tab: who changed what, old → new', async () => {
    const { server } = renderWithApp(<App />, {
      routes: {
        'GET /api/v1/students/5': () => student,
        'GET /api/v1/audit/history/STUDENT/5': () => ({
          logs: [
            entry(10, {
              action: 'CREATE',
              timestamp: '2025-09-01T08:00:00.000Z',
              new_values: { first_name: 'Nikos', study_year: 2 },
            }),
            entry(11, {
              action: 'UPDATE',
              timestamp: '2025-10-01T08:00:00.000Z',
              old_values: { study_year: 2, class_division: null },
              new_values: { study_year: 3, class_division: 'C2' },
            }),
          ],
          total: 2,
          page: 1,
          page_size: 50,
          has_next: false,
        }),
      },
    });
    const user = userEvent.setup();
    await screen.findByRole('heading', { name: 'Nikos Georgiou' }, slow);
    await user.click(screen.getByRole('tab', { name: 'History' }));
    expect(location.search).toContain('tab=history');

    const changes = await screen.findAllByRole('table', { name: /Changed fields/ });
    expect(changes).toHaveLength(2);
    const update = changes[1] as HTMLElement;
    expect(update.textContent).toContain('Changed');
    const year = within(update).getByRole('row', { name: /Year of study/ });
    const cells = within(year).getAllByRole('cell');
    expect(cells[0]?.textContent).toBe('2');
    expect(cells.at(-1)?.textContent).toBe('3');
    const division = within(update).getByRole('row', { name: /Class/ });
    expect(within(division).getAllByRole('cell')[0]?.textContent).toBe('—');
    expect(within(division).getAllByRole('cell').at(-1)?.textContent).toBe('C2');
    expect(screen.getAllByText('by secretary@school.test')).toHaveLength(2);
    expect(
      server.requests.some((request) => request.url.pathname === '/api/v1/audit/history/STUDENT/5'),
    ).toBe(true);
  });

  it('moves between tabs with the arrow keys', async () => {
    renderWithApp(<App />, {
      routes: {
        'GET /api/v1/students/5': () => student,
        'GET /api/v1/students/5/enrollments': () => emptyPage,
        'GET /api/v1/courses': () => emptyPage,
      },
    });
    const user = userEvent.setup();
    const details = await screen.findByRole('tab', { name: 'Details' }, slow);
    expect(details.getAttribute('aria-selected')).toBe('true');
    expect(screen.getByRole('tabpanel').textContent).toContain('S0005');
    details.focus();
    await user.keyboard('{ArrowRight}');
    const courses = screen.getByRole('tab', { name: 'Courses' });
    expect(courses.getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(courses);
    expect(await screen.findByText('Not enrolled in any course.')).toBeTruthy();
    await user.keyboard('{End}');
    expect(screen.getByRole('tab', { name: 'History' }).getAttribute('aria-selected')).toBe('true');
  });

  it('hides the History tab and the write buttons from a viewer', async () => {
    renderWithApp(<App />, {
      user: {
        id: 3,
        email: 'viewer@school.test',
        full_name: 'Viewer',
        role: 'viewer',
        is_active: true,
        must_change_password: false,
        permissions: ['students:read', 'grades:read'],
      },
      routes: { 'GET /api/v1/students/5': () => student },
    });
    await screen.findByRole('tab', { name: 'Details' }, slow);
    expect(screen.queryByRole('tab', { name: 'History' })).toBeNull();
    expect(screen.getByRole('tab', { name: 'Grades' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
    expect(screen.queryByRole('link', { name: 'Edit' })).toBeNull();
  });

  it('deletes only after the confirmation, and restores a deleted student', async () => {
    let current: Record<string, unknown> = { ...student };
    const { server } = renderWithApp(<App />, {
      routes: {
        'GET /api/v1/students/5': () => current,
        'DELETE /api/v1/students/5': () => {
          current = { ...student, deleted_at: '2025-11-01T10:00:00.000Z' };
          return new Response(null, { status: 204 });
        },
        'POST /api/v1/students/5/restore': () => {
          current = { ...student };
          return current;
        },
        'GET /api/v1/students': () => ({ ...emptyPage, page_size: 50 }),
      },
    });
    const user = userEvent.setup();
    await screen.findByRole('heading', { name: 'Nikos Georgiou' }, slow);
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    const confirm = screen.getByRole('alertdialog');
    expect(confirm.textContent).toContain('Delete Nikos Georgiou?');
    await user.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(server.requests.some((request) => request.method === 'DELETE')).toBe(false);
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Delete' }));

    await user.click(screen.getByRole('button', { name: 'Delete' }));
    await user.click(
      within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Delete' }),
    );
    await screen.findByRole('heading', { name: 'Students' });
    expect(location.pathname).toBe('/students');

    history.pushState(null, '', '/students/5');
    dispatchEvent(new PopStateEvent('popstate'));
    expect(await screen.findByText(/This student was deleted on/)).toBeTruthy();
    expect(screen.queryByRole('tab', { name: 'Grades' })).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Restore' }));
    expect(await screen.findByText('The student is restored.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Delete' })).toBeTruthy();
  });

  it('speaks Greek: labels, dates and numbers', async () => {
    renderWithApp(<App />, {
      language: 'el',
      routes: { 'GET /api/v1/students/5': () => ({ ...student, study_year: 3 }) },
    });
    expect(await screen.findByRole('tab', { name: 'Στοιχεία' }, slow)).toBeTruthy();
    expect(screen.getByRole('tab', { name: 'Ιστορικό' })).toBeTruthy();
    const panel = screen.getByRole('tabpanel');
    expect(panel.textContent).toContain('Αριθμός μητρώου');
    expect(panel.textContent).toContain('Έτος φοίτησης');
    expect(panel.textContent).toContain('1 Σεπ 2025');
    expect(screen.getByRole('button', { name: 'Διαγραφή' })).toBeTruthy();
  });
});
