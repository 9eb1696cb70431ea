import type { FastifyRequest } from 'fastify';
import type { AuditResource } from '../../modules/audit/audit.constants.ts';
import type { Transaction } from '../db/client.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Whether an address is one of TRUSTED_PROXIES (whose forwarding headers are believed). */
    isTrustedPeer(address: string): boolean;
  }
}

/** Who is acting: the signed-in user behind a request, or a job or system task. */
export interface Actor {
  id: number;
  email: string;
  role: string;
  permissions: readonly string[];
  passwordChangeRequired: boolean;
}

/** What a service needs to know about the origin of a change (for rules and the audit trail). */
export interface ChangeContext {
  actor: Actor | null;
  ipAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/**
 * The client's address. Fastify follows X-Forwarded-For only when the direct peer is in
 * TRUSTED_PROXIES; X-Real-IP gets the same rule here. Anyone else's headers are ignored.
 */
export function clientIp(request: FastifyRequest): string {
  const realIp = request.headers['x-real-ip'];
  if (
    typeof realIp === 'string' &&
    realIp.trim() !== '' &&
    request.headers['x-forwarded-for'] === undefined &&
    request.server.isTrustedPeer(request.socket.remoteAddress ?? '')
  ) {
    return realIp.trim();
  }
  return request.ip;
}

export function changeContextFrom(request: FastifyRequest): ChangeContext {
  return {
    actor: request.actor ?? null,
    ipAddress: clientIp(request),
    userAgent: request.headers['user-agent'] ?? null,
    requestId: String(request.id),
  };
}

export const SYSTEM_CONTEXT: ChangeContext = {
  actor: null,
  ipAddress: null,
  userAgent: null,
  requestId: null,
};

export type ChangeAction = 'CREATE' | 'UPDATE' | 'DELETE' | 'RESTORE';

/** One committed change to one record, handed to the change recorder inside its transaction. */
export interface RecordedChange {
  action: ChangeAction;
  resource: AuditResource;
  resourceId: string;
  oldValues: Record<string, unknown> | null;
  newValues: Record<string, unknown> | null;
  context: ChangeContext;
}

/**
 * Called inside the transaction of every change, so whatever it writes (the audit trail)
 * commits or rolls back with the change itself.
 */
export interface ChangeRecorder {
  record(tx: Transaction, change: RecordedChange): Promise<void>;
}

/** Records nothing: for tools that measure what recording costs. */
export const NO_RECORDING: ChangeRecorder = { record: async () => {} };
