import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type FakeSocket, fakeSockets, JOB_ID, makeJob } from '../live/fake-socket.ts';
import { LiveJobEvents } from '../live/LiveJobEvents.tsx';
import type { Job } from '../live/types.ts';
import { renderWithApp } from '../test/render.tsx';
import { JobProgressMonitor } from './JobProgressMonitor.tsx';

const JOB_PATH = `GET /api/v1/jobs/${JOB_ID}`;
const EVENTS_PATH = `GET /api/v1/jobs/${JOB_ID}/events`;

function progressBar() {
  return screen.getByRole('progressbar', { name: 'Progress of the job' });
}

async function connected(sockets: ReturnType<typeof fakeSockets>, snapshot: Job[] = []) {
  await waitFor(() => expect(sockets.sockets.length).toBe(1), { timeout: 5_000 });
  const socket = sockets.latest();
  act(() => socket.accept(snapshot));
  return socket;
}

function sendJob(socket: FakeSocket, job: Job, event: 'progress' | 'status' = 'progress') {
  act(() => socket.receiveJob(job, event));
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

// The machine running the tests is shared: allow for a slow first render.
describe('JobProgressMonitor', { timeout: 20_000 }, () => {
  it('authenticates, subscribes and moves the bar with live socket events', async () => {
    const sockets = fakeSockets();
    renderWithApp(
      <LiveJobEvents WebSocket={sockets.WebSocket} url="ws://test/api/v1/ws">
        <JobProgressMonitor jobId={JOB_ID} />
      </LiveJobEvents>,
      { routes: { [JOB_PATH]: () => makeJob() } },
    );
    expect(await screen.findByRole('heading', { name: 'Import' }, { timeout: 5_000 })).toBeTruthy();
    expect(progressBar().getAttribute('aria-valuetext')).toBe('Waiting to start');

    const socket = await connected(sockets);
    expect(socket.url).toBe('ws://test/api/v1/ws');
    expect(socket.sent[0]).toEqual({ type: 'auth', token: 'test-access' });
    // An admin watches every job; the job on screen is named so its state comes back too.
    expect(socket.sent[1]).toMatchObject({ type: 'subscribe', all: true });
    await waitFor(() =>
      expect(
        socket.sent.some(
          (message) =>
            message.type === 'subscribe' &&
            Array.isArray(message.job_ids) &&
            message.job_ids.includes(JOB_ID),
        ),
      ).toBe(true),
    );
    expect(await screen.findByText('Live')).toBeTruthy();

    const startedAt = new Date(Date.now() - 10_000).toISOString();
    sendJob(
      socket,
      makeJob({
        status: 'PROCESSING',
        started_at: startedAt,
        progress: { current: 10, total: 40, percentage: 25, message: 'Imported 10 of 40 rows' },
      }),
    );
    await waitFor(() => expect(progressBar().getAttribute('aria-valuenow')).toBe('25'));
    expect(progressBar().getAttribute('aria-valuetext')).toBe('25% — 10 of 40');
    expect(screen.getByText('Imported 10 of 40 rows')).toBeTruthy();
    expect(screen.getByText('Running')).toBeTruthy();
    // 10 rows in about 10 seconds: 30 more take about 30 seconds.
    expect(screen.getByText(/^about 3\d seconds$/)).toBeTruthy();

    sendJob(
      socket,
      makeJob({
        status: 'PROCESSING',
        started_at: startedAt,
        progress: { current: 30, total: 40, percentage: 75 },
      }),
    );
    await waitFor(() => expect(progressBar().getAttribute('aria-valuenow')).toBe('75'));
  });

  it('falls back to Server-Sent Events when the socket cannot connect, and still updates', async () => {
    const sockets = fakeSockets({ failing: true });
    let push: (text: string) => void = () => undefined;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const encoder = new TextEncoder();
        push = (text) => controller.enqueue(encoder.encode(text));
      },
    });
    const { server } = renderWithApp(
      <LiveJobEvents WebSocket={sockets.WebSocket} retryDelaysMs={[60_000]}>
        <JobProgressMonitor jobId={JOB_ID} />
      </LiveJobEvents>,
      {
        routes: {
          [JOB_PATH]: () => makeJob({ status: 'PROCESSING', started_at: new Date().toISOString() }),
          [EVENTS_PATH]: () =>
            new Response(stream, { headers: { 'content-type': 'text/event-stream' } }),
        },
      },
    );
    expect(await screen.findByText('Live (backup connection)')).toBeTruthy();
    expect(server.requests.some((request) => request.url.pathname.endsWith('/events'))).toBe(true);

    const job = makeJob({
      status: 'PROCESSING',
      started_at: new Date().toISOString(),
      progress: { current: 20, total: 40, percentage: 50 },
    });
    act(() => push(`: keep-alive\n\nevent: progress\ndata: ${JSON.stringify(job)}\n\n`));
    await waitFor(() => expect(progressBar().getAttribute('aria-valuenow')).toBe('50'));
  });

  it('polls GET /jobs/{id} when neither the socket nor Server-Sent Events work', async () => {
    const sockets = fakeSockets({ failing: true });
    let current = makeJob({ status: 'PROCESSING', started_at: new Date().toISOString() });
    const { server } = renderWithApp(
      <LiveJobEvents WebSocket={sockets.WebSocket} retryDelaysMs={[60_000]} pollMs={20}>
        <JobProgressMonitor jobId={JOB_ID} />
      </LiveJobEvents>,
      {
        routes: {
          [JOB_PATH]: () => current,
          [EVENTS_PATH]: () =>
            Response.json({ title: 'Bad Gateway', status: 502 }, { status: 502 }),
        },
      },
    );
    expect(await screen.findByText('Refreshing every few seconds')).toBeTruthy();
    current = makeJob({
      status: 'COMPLETED',
      started_at: current.started_at,
      completed_at: new Date().toISOString(),
      progress: { current: 40, total: 40, percentage: 100 },
      result: {
        success: true,
        message: 'Imported 40 rows: 38 created, 0 updated, 0 skipped, 2 with errors.',
        data: null,
        errors: [],
        warnings: [],
        statistics: { created: 38, errors: 2 },
      },
    });
    expect(await screen.findByText('The job is complete.')).toBeTruthy();
    expect(progressBar().getAttribute('aria-valuenow')).toBe('100');
    const polls = server.requests.filter((request) => request.url.pathname.endsWith(JOB_ID));
    expect(polls.length).toBeGreaterThan(1);
  });

  it('Cancel posts the cancel and shows that it was asked for', async () => {
    const sockets = fakeSockets();
    const running = makeJob({
      status: 'PROCESSING',
      started_at: new Date().toISOString(),
      progress: { current: 5, total: 40, percentage: 12.5 },
    });
    const { server } = renderWithApp(
      <LiveJobEvents WebSocket={sockets.WebSocket}>
        <JobProgressMonitor jobId={JOB_ID} />
      </LiveJobEvents>,
      {
        routes: {
          [JOB_PATH]: () => running,
          [`POST /api/v1/jobs/${JOB_ID}/cancel`]: () => ({
            ...running,
            cancel_requested_at: new Date().toISOString(),
          }),
        },
      },
    );
    const socket = await connected(sockets, [running]);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Cancel job' }));
    expect(
      server.requests.some(
        (request) => request.method === 'POST' && request.url.pathname.endsWith('/cancel'),
      ),
    ).toBe(true);
    expect(await screen.findByText(/Cancellation requested/)).toBeTruthy();
    expect(
      (screen.getByRole('button', { name: 'Cancelling…' }) as HTMLButtonElement).disabled,
    ).toBe(true);

    sendJob(
      socket,
      makeJob({
        status: 'CANCELLED',
        started_at: running.started_at,
        completed_at: new Date().toISOString(),
        cancel_requested_at: new Date().toISOString(),
        progress: { current: 5, total: 40, percentage: 12.5 },
        result: {
          success: false,
          message: 'Cancelled after 5 of 40 rows; the 5 rows already committed stay.',
          data: null,
          errors: [],
          warnings: [],
          statistics: null,
        },
      }),
      'status',
    );
    expect(await screen.findByText(/The job was cancelled/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Cancel job' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Run again' })).toBeTruthy();
  });

  it('stays cancelled when the answer to Cancel arrives after the event saying so', async () => {
    // A job that stops at once (embedded mode, between batches) is CANCELLED on the socket
    // before the cancel request's own answer (still PROCESSING) reaches the page.
    const sockets = fakeSockets();
    const running = makeJob({
      status: 'PROCESSING',
      attempts: 1,
      started_at: new Date().toISOString(),
      progress: { current: 5, total: 40, percentage: 12.5 },
    });
    let answerCancel: (() => void) | undefined;
    renderWithApp(
      <LiveJobEvents WebSocket={sockets.WebSocket}>
        <JobProgressMonitor jobId={JOB_ID} />
      </LiveJobEvents>,
      {
        routes: {
          [JOB_PATH]: () => running,
          [`POST /api/v1/jobs/${JOB_ID}/cancel`]: async () => {
            await new Promise<void>((resolve) => {
              answerCancel = resolve;
            });
            return { ...running, cancel_requested_at: new Date().toISOString() };
          },
        },
      },
    );
    const socket = await connected(sockets, [running]);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Cancel job' }));
    await waitFor(() => expect(answerCancel).toBeDefined());
    const now = new Date().toISOString();
    sendJob(
      socket,
      { ...running, status: 'CANCELLED', cancel_requested_at: now, completed_at: now },
      'status',
    );
    expect(await screen.findByText(/The job was cancelled/)).toBeTruthy();
    act(() => answerCancel?.());
    // The late answer changes nothing: still cancelled, nothing left to cancel.
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Cancelling…' })).toBeNull());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen.getByText(/The job was cancelled/)).toBeTruthy();
    expect(screen.queryByText(/Cancellation requested/)).toBeNull();
    expect(screen.getByRole('button', { name: 'Run again' })).toBeTruthy();
  });

  it('summarises a completed import with links to the records and the error report', async () => {
    const sockets = fakeSockets();
    const createObjectURL = vi.fn(() => 'blob:errors');
    Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() });
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    const done = makeJob({
      status: 'COMPLETED',
      started_at: '2026-11-27T09:00:00.000Z',
      completed_at: '2026-11-27T09:01:05.000Z',
      metadata: { import_type: 'students', preview_id: 'a1b2c3d4-0000-4000-8000-000000000001' },
      progress: { current: 38, total: 38, percentage: 100 },
      result: {
        success: true,
        message: 'Imported 40 rows: 38 created, 0 updated, 0 skipped, 2 with errors.',
        data: { preview_id: 'a1b2c3d4-0000-4000-8000-000000000001', import_type: 'students' },
        errors: [
          { row_number: 13, issues: [{ field: 'email', message: 'Invalid email address' }] },
        ],
        warnings: [],
        statistics: { total_rows: 40, created: 38, updated: 0, errors: 2 },
      },
    });
    const { server } = renderWithApp(
      <LiveJobEvents WebSocket={sockets.WebSocket}>
        <JobProgressMonitor jobId={JOB_ID} />
      </LiveJobEvents>,
      {
        routes: {
          [JOB_PATH]: () => done,
          'GET /api/v1/imports/a1b2c3d4-0000-4000-8000-000000000001/errors.csv': () =>
            new Response('row_number,status,field,message\r\n', {
              headers: {
                'content-type': 'text/csv',
                'content-disposition': 'attachment; filename="students-greek-problems.csv"',
              },
            }),
        },
      },
    );
    expect(await screen.findByText('The job is complete.')).toBeTruthy();
    expect(screen.getByText('1 minute 5 seconds')).toBeTruthy();
    const figures = screen.getByText('Created').closest('div');
    expect(within(figures as HTMLElement).getByText('38')).toBeTruthy();
    expect(
      screen.getByRole('link', { name: 'View the imported records' }).getAttribute('href'),
    ).toBe('/students');
    expect(screen.getByText('Errors (1)')).toBeTruthy();
    expect(screen.getByText('Invalid email address', { exact: false })).toBeTruthy();

    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Download the error report' }));
    expect(await screen.findByText('Downloaded students-greek-problems.csv.')).toBeTruthy();
    const download = server.requests.find((request) => request.url.pathname.endsWith('.csv'));
    expect(download?.method).toBe('GET');
    expect(createObjectURL).toHaveBeenCalled();
  });

  it('summarises a failed job with its error and offers to run it again', async () => {
    const sockets = fakeSockets();
    const failed = makeJob({
      status: 'FAILED',
      job_type: 'export_large',
      started_at: '2026-11-27T09:00:00.000Z',
      completed_at: '2026-11-27T09:00:03.000Z',
      error_message: 'The disk is full.',
    });
    const { server } = renderWithApp(
      <LiveJobEvents WebSocket={sockets.WebSocket}>
        <JobProgressMonitor jobId={JOB_ID} />
      </LiveJobEvents>,
      {
        language: 'el',
        routes: {
          [JOB_PATH]: () => failed,
          [`POST /api/v1/jobs/${JOB_ID}/retry`]: () => makeJob({ job_type: 'export_large' }),
        },
      },
    );
    expect(await screen.findByText('Η εργασία απέτυχε.')).toBeTruthy();
    expect(screen.getByText('The disk is full.')).toBeTruthy();
    expect(screen.getByText('Απέτυχε')).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Εξαγωγή δεδομένων' })).toBeTruthy();
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Εκτέλεση ξανά' }));
    await waitFor(() =>
      expect(server.requests.some((request) => request.url.pathname.endsWith('/retry'))).toBe(true),
    );
    expect(await screen.findByText('Σε αναμονή')).toBeTruthy();
  });
});
