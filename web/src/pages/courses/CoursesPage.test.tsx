import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../app/App.tsx';
import { renderWithApp } from '../../test/render.tsx';

const slow = { timeout: 8000 };

function course(id: number) {
  return {
    id,
    course_code: `C-${id}`,
    course_name: `Course ${id}`,
    semester: '2025 Fall',
    credits: 5,
    description: null,
    evaluation_rules: [],
    absence_penalty: 0,
    hours_per_week: 3,
    teaching_schedule: [],
    created_at: '2025-09-01T08:00:00.000Z',
    updated_at: '2025-09-01T08:00:00.000Z',
    deleted_at: id === 2 ? '2025-10-01T08:00:00.000Z' : null,
  };
}

const lastQuery = (requests: { url: URL }[]) =>
  requests.filter((request) => request.url.pathname === '/api/v1/courses').at(-1)?.url.searchParams;

describe('Courses list', { timeout: 30_000 }, () => {
  beforeEach(() => {
    history.replaceState(null, '', '/courses');
  });

  it('filters by search and semester, and restores a deleted course', async () => {
    const { server } = renderWithApp(<App />, {
      routes: {
        'GET /api/v1/courses': (_request, url) => ({
          items:
            url.searchParams.get('include_deleted') === 'true'
              ? [course(1), course(2)]
              : [course(1)],
          total: 2,
          page: 1,
          page_size: 50,
          has_next: false,
        }),
        'GET /api/v1/sessions/semesters': () => ({
          semesters: ['2025 Fall', '2026 Spring'],
          count: 2,
        }),
        'POST /api/v1/courses/2/restore': () => course(1),
      },
    });
    const user = userEvent.setup();
    await screen.findByRole('link', { name: 'Course 1' }, slow);
    await user.type(screen.getByLabelText('Search courses'), 'alg{Enter}');
    await waitFor(() => expect(lastQuery(server.requests)?.get('search')).toBe('alg'));
    await screen.findByRole('option', { name: '2026 Spring' });
    await user.selectOptions(screen.getByLabelText('Semester'), '2026 Spring');
    await waitFor(() => expect(lastQuery(server.requests)?.get('semester')).toBe('2026 Spring'));
    expect(new URLSearchParams(location.search).get('semester')).toBe('2026 Spring');

    await user.click(screen.getByLabelText('Show deleted courses'));
    await user.click(await screen.findByRole('button', { name: 'Restore: C-2' }));
    await waitFor(() =>
      expect(
        server.requests.some((request) => request.url.pathname === '/api/v1/courses/2/restore'),
      ).toBe(true),
    );
  });
});
