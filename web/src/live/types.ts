import type { QueryOf, ResponseBody } from '../api/types.ts';

/** A job as GET /api/v1/jobs/{id} answers it. */
export type Job = ResponseBody<'/api/v1/jobs/{id}', 'get'>;
/** A page of jobs as GET /api/v1/jobs answers it. */
export type JobList = ResponseBody<'/api/v1/jobs', 'get'>;
export type JobListQuery = QueryOf<'/api/v1/jobs', 'get'>;
export type JobStatus = Job['status'];
export type JobType = Job['job_type'];

export const JOB_STATUSES = [
  'PENDING',
  'PROCESSING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const satisfies readonly JobStatus[];

export const JOB_TYPES = [
  'bulk_import',
  'bulk_update',
  'export_large',
  'backup_restore',
  'data_migration',
  'cleanup',
  'recompute',
  'email_batch',
] as const satisfies readonly JobType[];

/** A job in one of these states will not change again unless someone retries it. */
export function isFinished(status: string | undefined): boolean {
  return status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED';
}

/** How a screen is getting a job's changes: live over the socket, or a fallback. */
export type Transport = 'connecting' | 'websocket' | 'sse' | 'polling';

/** The job socket: off (signed out), connecting, open (authenticated), down (cannot connect). */
export type SocketState = 'off' | 'connecting' | 'open' | 'down';

/** The part of the browser's WebSocket the client uses, so tests can pass a fake class. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
}

export type WebSocketClass = new (url: string) => WebSocketLike;

/** What the server sends on /api/v1/ws (see src/modules/jobs/jobs.socket.ts). */
export type ServerMessage =
  | { type: 'ready'; user_id: number }
  | { type: 'snapshot'; jobs: Job[] }
  | { type: 'job'; event: 'progress' | 'status'; job: Job }
  | { type: 'error'; message: string };
