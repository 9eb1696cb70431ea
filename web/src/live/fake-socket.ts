import type { Job, ServerMessage, WebSocketClass, WebSocketLike } from './types.ts';

/**
 * Test support: a WebSocket class to pass to <LiveJobEvents WebSocket={…}>, with the server's
 * side in the test's hands (open, receive, fail). `failing: true` makes every connection fail
 * as a browser's does when the server cannot be reached.
 */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  /** Every message the client sent, parsed. */
  readonly sent: Record<string, unknown>[] = [];
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code = 1000): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code } as CloseEvent);
  }

  /** The server accepts the connection. */
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  /** The server sends a message. */
  receive(message: ServerMessage): void {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(message) }));
  }

  /** The server reports a change of one job. */
  receiveJob(job: Job, event: 'progress' | 'status'): void {
    this.receive({ type: 'job', event, job });
  }

  /** Opens, answers the auth with ready and the subscription with a snapshot. */
  accept(snapshot: Job[] = []): void {
    this.open();
    this.receive({ type: 'ready', user_id: 1 });
    this.receive({ type: 'snapshot', jobs: snapshot });
  }

  /** The connection fails (no server, a proxy without WebSocket support). */
  fail(): void {
    this.readyState = 3;
    this.onerror?.(new Event('error'));
    this.onclose?.({ code: 1006 } as CloseEvent);
  }
}

export function fakeSockets({ failing = false }: { failing?: boolean } = {}) {
  const sockets: FakeSocket[] = [];
  class Socket extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
      if (failing) queueMicrotask(() => this.fail());
    }
  }
  return {
    WebSocket: Socket as WebSocketClass,
    sockets,
    latest(): FakeSocket {
      const socket = sockets.at(-1);
      if (!socket) throw new Error('no socket was opened');
      return socket;
    },
  };
}

export const JOB_ID = '0b7c4a52-6d0e-4b8e-9c11-2f3a4b5c6d7e';

/** A job as the API answers it, with the fields a test cares about changed. */
export function makeJob(
  overrides: Partial<Omit<Job, 'progress'>> & { progress?: Partial<Job['progress']> } = {},
): Job {
  const { progress, ...rest } = overrides;
  return {
    id: JOB_ID,
    job_type: 'bulk_import',
    status: 'PENDING',
    priority: 5,
    user_id: 1,
    metadata: { import_type: 'students', file_name: 'students-greek.csv', preview_id: null },
    progress: {
      current: 0,
      total: 40,
      percentage: 0,
      message: null,
      processed_items: 0,
      failed_items: 0,
      skipped_items: 0,
      ...progress,
    },
    result: null,
    error_message: null,
    attempts: 1,
    max_attempts: 3,
    created_at: '2026-11-27T09:00:00.000Z',
    started_at: null,
    completed_at: null,
    expires_at: null,
    cancel_requested_at: null,
    ...rest,
  };
}
