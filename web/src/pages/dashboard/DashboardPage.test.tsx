import { screen, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../app/App.tsx';
import { renderWithApp } from '../../test/render.tsx';

const slow = { timeout: 8000 };
const stamp = '2025-11-03T08:00:00.000Z';

const total = (count: number) => () => ({
  items: [],
  total: count,
  page: 1,
  page_size: 1,
  has_next: count > 1,
});

const job = {
  id: '0b7c4a52-6d0e-4b8e-9c11-2f3a4b5c6d7e',
  job_type: 'bulk_import',
  status: 'PROCESSING',
  priority: 5,
  user_id: 1,
  metadata: {},
  progress: {
    current: 40,
    total: 100,
    percentage: 40,
    message: null,
    processed_items: 40,
    failed_items: 0,
    skipped_items: 0,
  },
  result: null,
  error_message: null,
  attempts: 1,
  max_attempts: 3,
  created_at: stamp,
  started_at: stamp,
  completed_at: null,
  expires_at: null,
  cancel_requested_at: null,
};

function audit(id: number, fields: Record<string, unknown>) {
  return {
    id,
    action: 'UPDATE',
    resource: 'STUDENT',
    resource_id: '5',
    user_id: 1,
    user_email: 'admin@school.test',
    ip_address: '10.0.0.9',
    user_agent: null,
    details: null,
    success: true,
    error_message: null,
    timestamp: stamp,
    request_id: null,
    old_values: null,
    new_values: null,
    prev_hash: 'a',
    hash: 'b',
    ...fields,
  };
}

describe('Dashboard', { timeout: 30_000 }, () => {
  beforeEach(() => {
    history.replaceState(null, '', '/');
  });

  it('shows the counts, my jobs with their progress, recent changes and failed sign-ins', async () => {
    const { server } = renderWithApp(<App />, {
      routes: {
        'GET /api/v1/students': (_request, url) =>
          total(url.searchParams.get('is_active') === 'true' ? 1180 : 1234)(),
        'GET /api/v1/courses': total(48),
        'GET /api/v1/enrollments': total(5210),
        'GET /api/v1/jobs': (_request, url) =>
          url.searchParams.get('status')
            ? { jobs: [], total: 1, page: 1, page_size: 1, has_next: false }
            : { jobs: [job], total: 1, page: 1, page_size: 5, has_next: false },
        'GET /api/v1/audit/logs': (_request, url) =>
          url.searchParams.get('action') === 'LOGIN'
            ? {
                logs: [
                  audit(9, {
                    action: 'LOGIN',
                    resource: 'SESSION',
                    resource_id: null,
                    user_id: null,
                    user_email: 'intruder@example.test',
                    success: false,
                    error_message: 'Wrong e-mail or password.',
                  }),
                ],
                total: 1,
                page: 1,
                page_size: 8,
                has_next: false,
                next_cursor: null,
              }
            : {
                logs: [audit(8, {})],
                total: 1,
                page: 1,
                page_size: 8,
                has_next: false,
                next_cursor: null,
              },
      },
    });
    expect(await screen.findByRole('link', { name: /1,234\s*Students/ }, slow)).toBeTruthy();
    expect(await screen.findByRole('link', { name: /1,180\s*Active students/ })).toBeTruthy();
    expect(await screen.findByRole('link', { name: /48\s*Courses/ })).toBeTruthy();
    expect(await screen.findByRole('link', { name: /5,210\s*Enrolments/ })).toBeTruthy();
    const counted = server.requests.find((request) => request.url.pathname === '/api/v1/courses');
    expect(counted?.url.searchParams.get('page_size')).toBe('1');

    const jobs = await screen.findByRole('region', { name: 'My recent jobs' });
    expect(await within(jobs).findByText('Running')).toBeTruthy();
    const progress = within(jobs).getByRole('progressbar', { name: 'Progress of Import' });
    expect(progress.getAttribute('value')).toBe('40');
    const mine = server.requests.find(
      (request) =>
        request.url.pathname === '/api/v1/jobs' &&
        request.url.searchParams.get('page_size') === '5',
    );
    expect(mine?.url.searchParams.get('user_id')).toBe('1');

    const changes = screen.getByRole('region', { name: 'Recent activity' });
    expect(await within(changes).findByText('Student #5')).toBeTruthy();
    const failed = screen.getByRole('region', { name: 'Failed sign-ins' });
    expect(await within(failed).findByText('intruder@example.test')).toBeTruthy();
    const query = server.requests.find(
      (request) =>
        request.url.pathname === '/api/v1/audit/logs' &&
        request.url.searchParams.get('action') === 'LOGIN',
    )?.url.searchParams;
    expect(query?.get('success')).toBe('false');
  });

  it('leaves the audit panels out for a role without audit:read', async () => {
    const { server } = renderWithApp(<App />, {
      user: {
        id: 4,
        email: 'teacher@school.test',
        full_name: 'Teacher',
        role: 'teacher',
        is_active: true,
        must_change_password: false,
        permissions: ['students:read', 'courses:read', 'jobs:read'],
      },
      routes: {
        'GET /api/v1/students': total(10),
        'GET /api/v1/courses': total(2),
        'GET /api/v1/jobs': () => ({ jobs: [], total: 0, page: 1, page_size: 5, has_next: false }),
      },
    });
    expect(await screen.findByRole('link', { name: /10\s*Students/ }, slow)).toBeTruthy();
    expect(await screen.findByText('You have not started any jobs yet.')).toBeTruthy();
    expect(screen.queryByRole('region', { name: 'Recent activity' })).toBeNull();
    expect(screen.queryByRole('region', { name: 'Failed sign-ins' })).toBeNull();
    expect(
      server.requests.some((request) => request.url.pathname.startsWith('/api/v1/audit')),
    ).toBe(false);
  });
});
