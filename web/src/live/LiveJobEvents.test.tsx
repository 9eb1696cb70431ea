import { act, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderWithApp } from '../test/render.tsx';
import { fakeSockets, JOB_ID, makeJob } from './fake-socket.ts';
import { LiveJobEvents, useJob } from './LiveJobEvents.tsx';

function Probe() {
  const { job, transport } = useJob(JOB_ID);
  return (
    <p>
      <span data-testid="transport">{transport}</span>
      <span data-testid="current">{job?.progress.current ?? '-'}</span>
      <span data-testid="status">{job?.status ?? '-'}</span>
    </p>
  );
}

const transport = () => screen.getByTestId('transport').textContent;

describe('LiveJobEvents', { timeout: 20_000 }, () => {
  it('falls back while the socket is down, reconnects with backoff and goes live again', async () => {
    const sockets = fakeSockets();
    let polled = makeJob({ status: 'PROCESSING', progress: { current: 1 } });
    const { queryClient } = renderWithApp(
      <LiveJobEvents WebSocket={sockets.WebSocket} retryDelaysMs={[50, 100]} pollMs={20}>
        <Probe />
      </LiveJobEvents>,
      {
        routes: {
          [`GET /api/v1/jobs/${JOB_ID}`]: () => polled,
          [`GET /api/v1/jobs/${JOB_ID}/events`]: () =>
            Response.json({ title: 'Not Found', status: 404 }, { status: 404 }),
          'GET /api/v1/jobs': () => ({
            jobs: [polled],
            total: 1,
            page: 1,
            page_size: 50,
            has_next: false,
          }),
        },
      },
    );
    await waitFor(() => expect(sockets.sockets.length).toBe(1), { timeout: 5_000 });
    act(() => sockets.latest().accept());
    await waitFor(() => expect(transport()).toBe('websocket'));

    // The connection drops: the job is polled meanwhile, and it still moves.
    act(() => sockets.latest().fail());
    await waitFor(() => expect(transport()).toBe('polling'));
    polled = makeJob({ status: 'PROCESSING', progress: { current: 7 } });
    await waitFor(() => expect(screen.getByTestId('current').textContent).toBe('7'));

    // After the first wait a new socket authenticates again and the job is live again.
    await waitFor(() => expect(sockets.sockets.length).toBe(2));
    const second = sockets.latest();
    act(() => second.accept([makeJob({ status: 'PROCESSING', progress: { current: 9 } })]));
    expect(second.sent[0]).toEqual({ type: 'auth', token: 'test-access' });
    await waitFor(() => expect(transport()).toBe('websocket'));
    await waitFor(() => expect(screen.getByTestId('current').textContent).toBe('9'));

    // A list that shows the job is patched in place by the next event.
    queryClient.setQueryData(['jobs', { page: 1 }], {
      jobs: [makeJob({ status: 'PROCESSING', progress: { current: 9 } })],
      total: 1,
      page: 1,
      page_size: 50,
      has_next: false,
    });
    act(() =>
      second.receiveJob(makeJob({ status: 'PROCESSING', progress: { current: 12 } }), 'progress'),
    );
    const list = queryClient.getQueryData<{ jobs: { progress: { current: number } }[] }>([
      'jobs',
      { page: 1 },
    ]);
    expect(list?.jobs[0]?.progress.current).toBe(12);
    await waitFor(() => expect(screen.getByTestId('current').textContent).toBe('12'));
  });

  it('keeps the newest progress when a late copy arrives', async () => {
    const sockets = fakeSockets();
    renderWithApp(
      <LiveJobEvents WebSocket={sockets.WebSocket}>
        <Probe />
      </LiveJobEvents>,
      { routes: { [`GET /api/v1/jobs/${JOB_ID}`]: () => makeJob({ status: 'PROCESSING' }) } },
    );
    await waitFor(() => expect(sockets.sockets.length).toBe(1), { timeout: 5_000 });
    const socket = sockets.latest();
    act(() => socket.accept());
    const send = (current: number) =>
      act(() =>
        socket.receiveJob(makeJob({ status: 'PROCESSING', progress: { current } }), 'progress'),
      );
    send(20);
    send(10);
    await waitFor(() => expect(screen.getByTestId('current').textContent).toBe('20'));
  });

  it('keeps the ending an event brought when the first read of the job answers after it', async () => {
    const sockets = fakeSockets();
    // The read happens while the job is at 100%, and its answer is slower than the socket.
    let answerRead: (job: unknown) => void = () => undefined;
    const read = new Promise((resolve) => {
      answerRead = resolve;
    });
    renderWithApp(
      <LiveJobEvents WebSocket={sockets.WebSocket}>
        <Probe />
      </LiveJobEvents>,
      { routes: { [`GET /api/v1/jobs/${JOB_ID}`]: () => read } },
    );
    await waitFor(() => expect(sockets.sockets.length).toBe(1), { timeout: 5_000 });
    const socket = sockets.latest();
    act(() => socket.accept());
    act(() =>
      socket.receiveJob(
        makeJob({ status: 'COMPLETED', progress: { current: 40, percentage: 100 } }),
        'status',
      ),
    );
    await act(async () => {
      answerRead(makeJob({ status: 'PROCESSING', progress: { current: 40, percentage: 100 } }));
      await read;
    });
    await waitFor(() => expect(screen.getByTestId('current').textContent).toBe('40'));
    expect(screen.getByTestId('status').textContent).toBe('COMPLETED');
  });
});
