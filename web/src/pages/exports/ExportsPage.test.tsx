import { configure, fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JOB_ID, makeJob } from '../../live/fake-socket.ts';
import { ADMIN, renderWithApp } from '../../test/render.tsx';
import { ExportsPage } from './ExportsPage.tsx';

configure({ asyncUtilTimeout: 5000 });

const file = (name: string) =>
  new Response('data', {
    headers: { 'content-disposition': `attachment; filename="${name}"` },
  });

beforeEach(() => {
  history.replaceState(null, '', '/exports');
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
  Object.assign(URL, { createObjectURL: vi.fn(() => 'blob:export'), revokeObjectURL: vi.fn() });
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Exports page', { timeout: 30_000 }, () => {
  it('downloads the chosen list directly with its filters, format and headings', async () => {
    const { server } = renderWithApp(<ExportsPage />, {
      routes: {
        'GET /api/v1/exports/attendance': () => file('attendance-20251203-101500.csv'),
      },
    });
    const user = userEvent.setup();
    await user.selectOptions(await screen.findByLabelText('What to export'), 'Attendance');
    await user.selectOptions(
      screen.getByLabelText('File format'),
      'CSV (plain text, any spreadsheet)',
    );
    await user.selectOptions(screen.getByLabelText('Column headings in'), 'Greek');
    await user.type(screen.getByLabelText('Course (record number)'), '12');
    await user.selectOptions(screen.getByLabelText('Status'), 'Absent');
    fireEvent.change(screen.getByLabelText('From date'), { target: { value: '2025-10-01' } });
    await user.click(screen.getByRole('button', { name: 'Download' }));

    expect(await screen.findByText('Saved attendance-20251203-101500.csv.')).toBeTruthy();
    const request = server.requests.find((item) => item.url.pathname.startsWith('/api/v1/exports'));
    expect(request?.url.pathname).toBe('/api/v1/exports/attendance');
    expect([...(request?.url.searchParams ?? [])]).toEqual([
      ['course_id', '12'],
      ['status', 'Absent'],
      ['date_from', '2025-10-01'],
      ['format', 'csv'],
      ['lang', 'el'],
    ]);
  });

  it('turns a too-large export into a background job with the same settings', async () => {
    const { server } = renderWithApp(<ExportsPage />, {
      routes: {
        'GET /api/v1/exports/students': () =>
          Response.json(
            {
              type: 'https://registrar.dev/problems/export-too-large',
              title: 'Unprocessable Content',
              status: 422,
              detail: 'More than 10000 students match (EXPORT_SYNC_LIMIT).',
            },
            { status: 422, headers: { 'content-type': 'application/problem+json' } },
          ),
        'POST /api/v1/exports': () =>
          Response.json(makeJob({ job_type: 'export_large', metadata: { resource: 'students' } }), {
            status: 202,
          }),
        [`GET /api/v1/jobs/${JOB_ID}`]: () =>
          makeJob({
            job_type: 'export_large',
            status: 'COMPLETED',
            metadata: { resource: 'students' },
            result: {
              success: true,
              message: 'Exported 25,000 rows',
              data: { format: 'xlsx', resource: 'students', file: 'students.xlsx' },
              errors: [],
              warnings: [],
              statistics: null,
            },
          }),
        [`GET /api/v1/exports/${JOB_ID}/download`]: () => file('students-20251203.xlsx'),
      },
    });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Search'), 'Pap');
    await user.selectOptions(screen.getByLabelText('Active'), 'Yes');
    await user.click(screen.getByLabelText('Include deleted records'));
    await user.click(screen.getByRole('button', { name: 'Download' }));

    expect(await screen.findByText(/more records than a direct download allows/)).toBeTruthy();
    await waitFor(() =>
      expect(server.requests.some((request) => request.method === 'POST')).toBe(true),
    );
    const post = server.requests.find((request) => request.method === 'POST');
    expect(post?.body).toEqual({
      resource: 'students',
      format: 'xlsx',
      lang: 'en',
      filters: { search: 'Pap', is_active: 'true', include_deleted: 'true' },
    });
    expect(new URLSearchParams(location.search).get('job')).toBe(JOB_ID);

    await user.click(await screen.findByRole('button', { name: 'Download the file' }));
    await waitFor(() =>
      expect(
        server.requests.some((request) => request.url.pathname.endsWith(`${JOB_ID}/download`)),
      ).toBe(true),
    );
  });

  it('offers only the lists the role may read, and no background export without jobs:create', async () => {
    renderWithApp(<ExportsPage />, {
      user: { ...ADMIN, role: 'viewer', permissions: ['students:read', 'grades:read'] },
    });
    const select = (await screen.findByLabelText('What to export')) as HTMLSelectElement;
    expect([...select.options].map((option) => option.value)).toEqual([
      'students',
      'grades',
      'results',
    ]);
    expect(screen.queryByRole('button', { name: 'Prepare in the background' })).toBeNull();
  });
});
