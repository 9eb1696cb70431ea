import type { FastifyRequest } from 'fastify';
import type { Transaction } from '../db/client.ts';

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

export function changeContextFrom(request: FastifyRequest): ChangeContext {
  return {
    actor: request.actor ?? null,
    ipAddress: request.ip ?? null,
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
  resource: string;
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

export const NO_RECORDING: ChangeRecorder = { record: async () => {} };
