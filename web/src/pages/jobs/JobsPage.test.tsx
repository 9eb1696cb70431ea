import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeSockets, makeJob } from '../../live/fake-socket.ts';
import { LiveJobEvents } from '../../live/LiveJobEvents.tsx';
import { ADMIN, renderWithApp } from '../../test/render.tsx';
import { JobsPage } from './JobsPage.tsx';

/** The machine running the tests is shared: give the first render time. */
const SLOW = { timeout: 5_000 };

const RUNNING_ID = '11111111-1111-4111-8111-111111111111';
const FAILED_ID = '22222222-2222-4222-8222-222222222222';

const running = makeJob({
  id: RUNNING_ID,
  status: 'PROCESSING',
  user_id: 2,
  started_at: new Date().toISOString(),
  metadata: { import_type: 'students', file_name: 'students-greek.csv' },
  progress: { current: 10, total: 40, percentage: 25 },
});
const failed = makeJob({
  id: FAILED_ID,
  job_type: 'export_large',
  status: 'FAILED',
  user_id: 1,
  metadata: { resource: 'students', format: 'csv' },
  error_message: 'The disk is full.',
});

const USERS = {
  items: [
    { id: 1, email: 'admin@school.test', full_name: 'Admin Person' },
    { id: 2, email: 'secretary@school.test', full_name: 'Ελένη Παπαδοπούλου' },
  ],
  total: 2,
  page: 1,
  page_size: 500,
  has_next: false,
};

function listRequests(server: { requests: { method: string; url: URL }[] }) {
  return server.requests.filter(
    (request) => request.method === 'GET' && request.url.pathname === '/api/v1/jobs',
  );
}

function render(user: unknown = ADMIN) {
  const sockets = fakeSockets();
  const rendered = renderWithApp(
    <LiveJobEvents WebSocket={sockets.WebSocket}>
      <JobsPage />
    </LiveJobEvents>,
    {
      user,
      routes: {
        'GET /api/v1/jobs': () => ({
          jobs: [running, failed],
          total: 2,
          page: 1,
          page_size: 25,
          has_next: false,
        }),
        'GET /api/v1/users': () => USERS,
        [`GET /api/v1/jobs/${RUNNING_ID}`]: () => running,
        [`POST /api/v1/jobs/${RUNNING_ID}/cancel`]: () => ({
          ...running,
          cancel_requested_at: new Date().toISOString(),
        }),
        [`POST /api/v1/jobs/${FAILED_ID}/retry`]: () => ({ ...failed, status: 'PENDING' }),
        [`DELETE /api/v1/jobs/${FAILED_ID}`]: () => new Response(null, { status: 204 }),
      },
    },
  );
  return { ...rendered, sockets };
}

beforeEach(() => {
  history.replaceState(null, '', '/jobs');
});

// The machine running the tests is shared: allow for a slow first render.
describe('JobsPage', { timeout: 20_000 }, () => {
  it("lists everyone's jobs for an admin and turns the filters into the list query", async () => {
    const { server } = render();
    expect(await screen.findByRole('heading', { name: 'Jobs' }, SLOW)).toBeTruthy();
    expect(await screen.findByText('students-greek.csv', undefined, SLOW)).toBeTruthy();
    const table = screen.getByRole('table');
    expect(within(table).getByText('Ελένη Παπαδοπούλου')).toBeTruthy();
    expect(listRequests(server)[0]?.url.searchParams.toString()).toBe('page=1&page_size=25');

    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText('Status'), 'Failed');
    await user.selectOptions(screen.getByLabelText('Type'), 'Export');
    await user.selectOptions(await screen.findByLabelText('User'), 'Ελένη Παπαδοπούλου');
    // A date picker gives its value whole.
    fireEvent.change(screen.getByLabelText('Created from'), { target: { value: '2026-11-01' } });
    fireEvent.change(screen.getByLabelText('Created until'), { target: { value: '2026-11-27' } });

    await waitFor(() => {
      const query = listRequests(server).at(-1)?.url.searchParams;
      expect(query?.get('created_to')).toBe(new Date(2026, 10, 27, 23, 59, 59, 999).toISOString());
    });
    const query = listRequests(server).at(-1)?.url.searchParams;
    expect(query?.get('status')).toBe('FAILED');
    expect(query?.get('job_type')).toBe('export_large');
    expect(query?.get('user_id')).toBe('2');
    expect(query?.get('created_from')).toBe(new Date(2026, 10, 1).toISOString());
    expect(query?.get('page')).toBe('1');
    // The filters are in the address, so reload and Back keep them.
    expect(location.search).toContain('status=FAILED');
  });

  it('cancels a running job, runs a failed one again and updates rows live', async () => {
    const { server, sockets } = render();
    await screen.findByText('students-greek.csv', undefined, SLOW);
    const user = userEvent.setup();
    const rows = screen.getAllByRole('row');
    const runningRow = rows.find((row) => row.textContent?.includes('students-greek.csv'));
    const failedRow = rows.find((row) => row.textContent?.includes('Failed'));
    if (!runningRow || !failedRow) throw new Error('rows missing');

    await user.click(within(runningRow).getByRole('button', { name: 'Cancel' }));
    await waitFor(() =>
      expect(
        server.requests.some(
          (request) =>
            request.method === 'POST' && request.url.pathname.endsWith(`${RUNNING_ID}/cancel`),
        ),
      ).toBe(true),
    );
    await user.click(within(failedRow).getByRole('button', { name: 'Run again' }));
    await waitFor(() =>
      expect(
        server.requests.some(
          (request) =>
            request.method === 'POST' && request.url.pathname.endsWith(`${FAILED_ID}/retry`),
        ),
      ).toBe(true),
    );

    // A progress event reaches the row without a reload (the job was asked to stop, so the
    // server's copy says so; it finishes its batch first).
    await waitFor(() => expect(sockets.sockets.length).toBe(1));
    const socket = sockets.latest();
    act(() => socket.accept());
    expect(await screen.findByText('Updated live')).toBeTruthy();
    act(() =>
      socket.receiveJob(
        {
          ...running,
          cancel_requested_at: new Date().toISOString(),
          progress: { ...running.progress, current: 30, percentage: 75 },
        },
        'progress',
      ),
    );
    expect(await screen.findByText('30 of 40')).toBeTruthy();
    expect(screen.getByText('75%')).toBeTruthy();
  });

  it('deletes a job after confirmation (admins) and opens the details drawer', async () => {
    const { server } = render();
    await screen.findByText('students-greek.csv', undefined, SLOW);
    const user = userEvent.setup();
    const failedRow = screen
      .getAllByRole('row')
      .find((row) => row.textContent?.includes('Failed')) as HTMLElement;
    await user.click(within(failedRow).getByRole('button', { name: 'Delete' }));
    await user.click(screen.getByRole('alertdialog').querySelector('button.danger') as HTMLElement);
    await waitFor(() =>
      expect(server.requests.some((request) => request.method === 'DELETE')).toBe(true),
    );
    expect(await screen.findByText('The job was deleted.')).toBeTruthy();

    const runningRow = screen
      .getAllByRole('row')
      .find((row) => row.textContent?.includes('students-greek.csv')) as HTMLElement;
    await user.click(within(runningRow).getByRole('button', { name: /^Details/ }));
    const drawer = await screen.findByRole('dialog');
    expect(within(drawer).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('25');
    expect(within(drawer).getByText(RUNNING_ID)).toBeTruthy();
    expect(location.search).toContain(`job=${RUNNING_ID}`);
  });

  it('shows a teacher only their own jobs, without the user filter or Delete', async () => {
    render({ ...ADMIN, role: 'teacher', permissions: ['jobs:read', 'jobs:create'] });
    expect(await screen.findByRole('heading', { name: 'My jobs' }, SLOW)).toBeTruthy();
    await screen.findByText('students-greek.csv', undefined, SLOW);
    expect(screen.queryByLabelText('User')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
  });
});
