import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { fakeSockets, JOB_ID, makeJob } from '../../live/fake-socket.ts';
import { LiveJobEvents } from '../../live/LiveJobEvents.tsx';
import { renderWithApp } from '../../test/render.tsx';
import { ImportPage } from './ImportPage.tsx';

const PREVIEW_ID = '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f';

const PREVIEW = {
  preview_id: PREVIEW_ID,
  import_type: 'courses',
  file_name: 'courses.csv',
  total_rows: 10,
  valid_rows: 10,
  rows_with_warnings: 0,
  rows_with_errors: 0,
  create: 10,
  update: 0,
  skip: 0,
  can_proceed: true,
  summary: { create: 10, update: 0, skip: 0 },
  detected: {
    format: 'csv',
    encoding: 'utf-8',
    delimiter: ',',
    sheet: null,
    header_row: 1,
    mapping: [
      { header: 'course_code', field: 'course_code' },
      { header: 'course_name', field: 'course_name' },
      { header: 'semester', field: 'semester' },
    ],
    unknown_headers: [],
  },
  estimated_duration_seconds: 1,
  expires_at: '2026-11-27T13:00:00.000Z',
  items: [],
};

describe('ImportPage', { timeout: 20_000 }, () => {
  it('goes from choosing to a dropped file, its check, the commit and the live progress', async () => {
    const sockets = fakeSockets();
    const { server } = renderWithApp(
      <LiveJobEvents WebSocket={sockets.WebSocket}>
        <ImportPage />
      </LiveJobEvents>,
      {
        routes: {
          'POST /api/v1/imports/preview': () => PREVIEW,
          [`GET /api/v1/imports/${PREVIEW_ID}/rows`]: () => ({
            items: [],
            total: 0,
            page: 1,
            page_size: 25,
            has_next: false,
          }),
          [`POST /api/v1/imports/${PREVIEW_ID}/commit`]: () =>
            Response.json(
              makeJob({ metadata: { import_type: 'courses', preview_id: PREVIEW_ID } }),
              { status: 202 },
            ),
          [`GET /api/v1/jobs/${JOB_ID}`]: () => makeJob(),
        },
      },
    );
    const user = userEvent.setup();
    expect(screen.getByRole('heading', { name: 'Import' })).toBeTruthy();
    const steps = screen.getByRole('list', { name: 'Steps of the import' });
    expect(steps.querySelector('[aria-current="step"]')?.textContent).toContain('Step 1 of 4');

    await user.click(screen.getByLabelText(/^Courses/));
    await user.click(screen.getByRole('button', { name: 'Next' }));
    const check = screen.getByRole('button', { name: 'Check the file' }) as HTMLButtonElement;
    expect(check.disabled).toBe(true);

    const file = new File(['course_code,course_name,semester\n'], 'courses.csv', {
      type: 'text/csv',
    });
    const zone = screen.getByText('Drag the file here').closest('.dropzone') as HTMLElement;
    fireEvent.drop(zone, { dataTransfer: { files: [file] } });
    expect(await screen.findByText(/File: courses\.csv/)).toBeTruthy();
    await user.click(check);

    expect(await screen.findByRole('heading', { name: 'What the import will do' })).toBeTruthy();
    const sent = server.requests.find((request) => request.url.pathname.endsWith('/preview'));
    expect(sent?.body).toMatchObject({
      import_type: 'courses',
      allow_updates: 'true',
      skip_duplicates: 'false',
      date_order: 'DMY',
    });

    await user.click(screen.getByRole('button', { name: 'Import 10 rows' }));
    expect(await screen.findByRole('progressbar', { name: 'Progress of the job' })).toBeTruthy();
    expect(steps.querySelector('[aria-current="step"]')?.textContent).toContain('Step 4 of 4');
    const posted = server.requests.find((request) => request.url.pathname.endsWith('/commit'));
    expect(posted?.body).toEqual({ skip_errors: false });

    await waitFor(() => expect(sockets.sockets.length).toBe(1));
    const socket = sockets.latest();
    act(() => socket.accept());
    act(() =>
      socket.receiveJob(
        makeJob({
          status: 'COMPLETED',
          metadata: { import_type: 'courses', preview_id: PREVIEW_ID },
          started_at: '2026-11-27T09:00:00.000Z',
          completed_at: '2026-11-27T09:00:02.000Z',
          progress: { current: 10, total: 10, percentage: 100 },
          result: {
            success: true,
            message: 'Imported 10 rows: 10 created, 0 updated, 0 skipped, 0 with errors.',
            data: { preview_id: PREVIEW_ID, import_type: 'courses' },
            errors: [],
            warnings: [],
            statistics: { total_rows: 10, created: 10, updated: 0, skipped: 0, errors: 0 },
          },
        }),
        'status',
      ),
    );
    expect(await screen.findByText('The job is complete.')).toBeTruthy();
    expect(
      screen.getByRole('link', { name: 'View the imported records' }).getAttribute('href'),
    ).toBe('/courses');
    await user.click(screen.getByRole('button', { name: 'Import another file' }));
    expect(screen.getByRole('group', { name: 'What are you importing?' })).toBeTruthy();
  });
});
