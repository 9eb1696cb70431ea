import { type Api, unwrap } from '../api/client.ts';
import { baseUrl } from '../api/session.ts';
import { readServerSentEvents } from './sse.ts';
import {
  isFinished,
  type Job,
  type ServerMessage,
  type SocketState,
  type Transport,
  type WebSocketClass,
  type WebSocketLike,
} from './types.ts';

export interface LiveJobsOptions {
  api: Api;
  /** The WebSocket class (the browser's, or a fake in tests); undefined: fallbacks only. */
  WebSocket: WebSocketClass | undefined;
  /** ws(s)://…/api/v1/ws */
  url: string;
  /** 'all' for admins (jobs:manage), 'mine' for everyone else. */
  scope: 'mine' | 'all';
  /** Every job the server reports, from any transport. */
  onJob(job: Job): void;
  /** Waits before reconnecting, one per failed attempt; the last repeats. */
  retryDelaysMs?: readonly number[];
  /** A socket not ready after this long counts as down (its jobs fall back meanwhile). */
  connectTimeoutMs?: number;
  /** Between two GET /jobs/{id} when polling. */
  pollMs?: number;
}

interface Watch {
  count: number;
  fallback: { controller: AbortController; transport: 'sse' | 'polling' } | null;
}

const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;

/** The socket's address for a page served from `origin`. */
export function socketUrl(origin: string = baseUrl()): string {
  const url = new URL('/api/v1/ws', origin);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/**
 * One live connection for the signed-in app. It authenticates with the session's access token,
 * subscribes to the user's jobs (an admin's: everyone's) and hands every job event to onJob;
 * it reconnects with growing waits when the connection drops. While the socket is down, every
 * job a screen watches (watch(id)) follows the job by Server-Sent Events, or by polling when
 * those fail too, until the socket is back or the job has ended.
 */
export class LiveJobs {
  private state: SocketState = 'off';
  private socket: WebSocketLike | null = null;
  private attempt = 0;
  private stopped = true;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly watches = new Map<string, Watch>();
  private readonly statuses = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private readonly retryDelays: readonly number[];
  private readonly connectTimeoutMs: number;
  private readonly pollMs: number;

  constructor(private readonly options: LiveJobsOptions) {
    this.retryDelays = options.retryDelaysMs ?? [1_000, 2_000, 5_000, 10_000, 30_000];
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.pollMs = options.pollMs ?? 3_000;
  }

  get socketState(): SocketState {
    return this.state;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'signed out');
    for (const watch of this.watches.values()) {
      watch.fallback?.controller.abort();
      watch.fallback = null;
    }
    this.setState('off');
  }

  /** Follows one job while a screen shows it; returns the function that stops following. */
  watch(id: string): () => void {
    const existing = this.watches.get(id);
    if (existing) existing.count += 1;
    else {
      this.watches.set(id, { count: 1, fallback: null });
      if (this.state === 'open') this.send({ type: 'subscribe', job_ids: [id] });
      // Down, or reconnecting after a failure: do not wait for the socket.
      else if (this.state === 'down' || this.attempt > 0) this.startFallback(id);
    }
    return () => {
      const watch = this.watches.get(id);
      if (!watch) return;
      watch.count -= 1;
      if (watch.count > 0) return;
      watch.fallback?.controller.abort();
      this.watches.delete(id);
      this.emit();
    };
  }

  /** How the job's changes arrive now. */
  transportOf(id: string): Transport {
    if (this.state === 'open') return 'websocket';
    const fallback = this.watches.get(id)?.fallback;
    if (fallback) return fallback.transport;
    return this.state === 'down' ? 'polling' : 'connecting';
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }

  private setState(state: SocketState): void {
    if (this.state === state) return;
    this.state = state;
    if (state === 'open') {
      for (const watch of this.watches.values()) {
        watch.fallback?.controller.abort();
        watch.fallback = null;
      }
    }
    if (state === 'down') {
      for (const id of this.watches.keys()) this.startFallback(id);
    }
    this.emit();
  }

  private receive(job: Job): void {
    this.statuses.set(job.id, job.status);
    this.options.onJob(job);
  }

  private send(message: unknown): void {
    const socket = this.socket;
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(message));
  }

  private connect(): void {
    this.reconnectTimer = null;
    if (this.stopped) return;
    const SocketClass = this.options.WebSocket;
    if (!SocketClass) {
      this.setState('down');
      return;
    }
    this.setState('connecting');
    let socket: WebSocketLike;
    try {
      socket = new SocketClass(this.options.url);
    } catch {
      this.failed(true);
      return;
    }
    this.socket = socket;
    let ready = false;
    const timeout = setTimeout(() => {
      if (ready || this.socket !== socket) return;
      // Still trying: fall back meanwhile, and keep the attempt going.
      this.setState('down');
    }, this.connectTimeoutMs);

    socket.onopen = () => {
      const token = this.options.api.session.token;
      socket.send(JSON.stringify({ type: 'auth', token: token ?? '' }));
    };
    socket.onmessage = (event) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(String(event.data)) as ServerMessage;
      } catch {
        return;
      }
      if (message.type === 'ready') {
        ready = true;
        clearTimeout(timeout);
        this.attempt = 0;
        const jobIds = [...this.watches.keys()].filter((id) => !isFinished(this.statuses.get(id)));
        socket.send(
          JSON.stringify({
            type: 'subscribe',
            [this.options.scope]: true,
            ...(jobIds.length ? { job_ids: jobIds.slice(0, 500) } : {}),
          }),
        );
        this.setState('open');
      } else if (message.type === 'snapshot') {
        for (const job of message.jobs) this.receive(job);
      } else if (message.type === 'job') {
        this.receive(message.job);
      }
    };
    socket.onerror = () => {
      // A close event follows; the reconnect is decided there.
    };
    socket.onclose = (event) => {
      clearTimeout(timeout);
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (event.code === CLOSE_UNAUTHENTICATED) {
        // An expired access token: any API call renews the session before the next attempt.
        void this.options.api.client.GET('/api/v1/auth/me').catch(() => undefined);
      }
      this.failed(event.code !== CLOSE_FORBIDDEN);
    };
  }

  private failed(retry: boolean): void {
    this.setState('down');
    if (!retry || this.stopped) return;
    const base = this.retryDelays[Math.min(this.attempt, this.retryDelays.length - 1)] ?? 30_000;
    this.attempt += 1;
    // Spread the reconnects of many tabs after a server restart.
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** While the socket is down: Server-Sent Events for the job, else polling. */
  private startFallback(id: string): void {
    const watch = this.watches.get(id);
    if (!watch || watch.fallback || isFinished(this.statuses.get(id))) return;
    const controller = new AbortController();
    watch.fallback = { controller, transport: 'sse' };
    this.emit();
    void this.followEvents(id, controller.signal).then((followed) => {
      if (controller.signal.aborted || isFinished(this.statuses.get(id))) return;
      if (followed) {
        // The stream ended with the job still running (a proxy timeout): start again.
        watch.fallback = null;
        if (this.state === 'down' && this.watches.get(id) === watch) this.startFallback(id);
        return;
      }
      watch.fallback = { controller, transport: 'polling' };
      this.emit();
      void this.poll(id, controller.signal);
    });
  }

  /** True when the stream was read to its end; false when it could not be opened. */
  private async followEvents(id: string, signal: AbortSignal): Promise<boolean> {
    try {
      const response = await this.options.api.fetch(
        new Request(new URL(`/api/v1/jobs/${encodeURIComponent(id)}/events`, baseUrl()), {
          headers: { accept: 'text/event-stream' },
          signal,
        }),
      );
      const type = response.headers.get('content-type') ?? '';
      if (!response.ok || !response.body || !type.includes('text/event-stream')) {
        await response.body?.cancel().catch(() => undefined);
        return false;
      }
      await readServerSentEvents(response.body, signal, (event) => {
        try {
          this.receive(JSON.parse(event.data) as Job);
        } catch {
          // A keep-alive or an unreadable event: nothing to apply.
        }
      });
      return true;
    } catch {
      return false;
    }
  }

  private async poll(id: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const job = unwrap(
          await this.options.api.client.GET('/api/v1/jobs/{id}', {
            params: { path: { id } },
            signal,
          }),
        );
        if (signal.aborted) return;
        this.receive(job);
        if (isFinished(job.status)) return;
      } catch {
        if (signal.aborted) return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }
}
