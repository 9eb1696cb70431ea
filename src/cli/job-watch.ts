import { setTimeout as sleep } from 'node:timers/promises';
import { FINISHED_STATUSES, type JobStatus } from '../modules/jobs/jobs.constants.ts';
import type { JobResponse } from '../modules/jobs/jobs.manager.ts';
import { ApiError, type RegistrarClient } from './client.ts';
import { type CliIo, Interrupted } from './io.ts';
import { ProgressBar } from './progress.ts';

export type { JobResponse };

const POLL_MS = 500;
/** While the WebSocket is live, polling only checks now and then that no event was lost. */
const SAFETY_POLL_MS = 5_000;
/** Consecutive failed polls (server restarting, network blip) before giving up. */
const MAX_POLL_FAILURES = 10;

export const isFinished = (status: JobStatus) => FINISHED_STATUSES.includes(status);

export interface WatchOptions {
  /** Shown before the bar; defaults to "Job <id>". */
  label?: string;
  /**
   * true: the first Ctrl-C asks the server to cancel the job and keeps watching until it
   * ends, a second one stops watching. false (default): Ctrl-C stops watching, the job goes on.
   */
  cancelOnInterrupt?: boolean;
  /** Live updates over /api/v1/ws (default true); polling GET /jobs/{id} runs either way. */
  webSocket?: boolean;
}

interface SocketMessage {
  type: string;
  job?: JobResponse;
  jobs?: JobResponse[];
}

/** Subscribes to one job over the WebSocket; returns how to close it. Best effort. */
async function openSocket(
  client: RegistrarClient,
  jobId: string,
  onJob: (job: JobResponse) => void,
  onLive: (live: boolean) => void,
): Promise<() => void> {
  let WebSocket: typeof import('ws').default;
  try {
    // ws comes with @fastify/websocket; without it, polling alone does the job.
    WebSocket = (await import('ws')).default;
  } catch {
    return () => undefined;
  }
  const socket = new WebSocket(client.socketUrl());
  const send = (message: unknown) => socket.send(JSON.stringify(message));
  // The token goes in the first message, never in the URL (URLs end up in logs).
  socket.on('open', () => send({ type: 'auth', token: client.accessToken }));
  socket.on('message', (data) => {
    let message: SocketMessage;
    try {
      message = JSON.parse(String(data)) as SocketMessage;
    } catch {
      return;
    }
    if (message.type === 'ready') send({ type: 'subscribe', job_ids: [jobId] });
    if (message.type === 'snapshot') {
      onLive(true);
      for (const job of message.jobs ?? []) onJob(job);
    }
    if (message.type === 'job' && message.job) onJob(message.job);
  });
  socket.on('error', () => undefined);
  socket.on('close', () => onLive(false));
  return () => socket.terminate();
}

/**
 * Shows a job's progress until it ends and returns its final state. Updates come over the
 * WebSocket when it connects and from polling otherwise.
 */
export async function watchJob(
  client: RegistrarClient,
  jobId: string,
  io: CliIo,
  options: WatchOptions = {},
): Promise<JobResponse> {
  const path = `/jobs/${encodeURIComponent(jobId)}`;
  const bar = new ProgressBar(io.stderr, options.label ?? `Job ${jobId}`);
  bar.start();

  let latest: JobResponse | undefined;
  let done = false;
  let settle: { resolve(job: JobResponse): void; reject(error: unknown): void } | undefined;
  const ended = new Promise<JobResponse>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const end = (outcome: { job: JobResponse } | { error: unknown }) => {
    if (done) return;
    done = true;
    if ('job' in outcome) settle?.resolve(outcome.job);
    else settle?.reject(outcome.error);
  };
  const apply = (job: JobResponse) => {
    if (done || job.id !== jobId) return;
    // A poll answer can arrive after a newer WebSocket event: never go backwards.
    const older =
      latest !== undefined &&
      job.status === latest.status &&
      job.progress.percentage < latest.progress.percentage;
    if (older) return;
    latest = job;
    bar.update(job);
    if (isFinished(job.status)) end({ job });
  };

  let interrupts = 0;
  const stopListening = io.onInterrupt?.(() => {
    interrupts += 1;
    if (options.cancelOnInterrupt && interrupts === 1) {
      bar.note(
        `Cancelling job ${jobId}… (press Ctrl-C again to stop watching; the job still ends)`,
      );
      client.send('POST', `${path}/cancel`).then(
        (response) => response.body?.cancel(),
        (error: unknown) => bar.note(error instanceof Error ? error.message : String(error)),
      );
      return;
    }
    end({
      error: new Interrupted(
        `Stopped watching job ${jobId} (${latest?.status ?? 'status unknown'}); watch it again with: registrar jobs watch ${jobId}`,
      ),
    });
  });

  let socketLive = false;
  let closeSocket: () => void = () => undefined;
  if (options.webSocket !== false) {
    void openSocket(client, jobId, apply, (live) => {
      socketLive = live;
    }).then((close) => {
      if (done) close();
      else closeSocket = close;
    });
  }

  const stopPolling = new AbortController();
  const poll = async () => {
    let failures = 0;
    let lastPoll = 0;
    while (!done) {
      if (lastPoll > 0) {
        await sleep(POLL_MS, undefined, { signal: stopPolling.signal }).catch(() => undefined);
      }
      if (done || (socketLive && Date.now() - lastPoll < SAFETY_POLL_MS)) continue;
      lastPoll = Date.now();
      try {
        apply(await client.json<JobResponse>('GET', path));
        failures = 0;
      } catch (error) {
        const fatal = error instanceof ApiError && error.status < 500 && error.status !== 429;
        failures += 1;
        if (fatal || failures >= MAX_POLL_FAILURES) end({ error });
      }
    }
  };
  void poll();

  try {
    return await ended;
  } finally {
    stopPolling.abort();
    closeSocket();
    stopListening?.();
    bar.stop();
  }
}
