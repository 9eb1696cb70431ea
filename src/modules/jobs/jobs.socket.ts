import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { EventBus } from '../../platform/events/event-bus.ts';
import type { TokenSigner } from '../../platform/security/tokens.ts';
import { grants } from '../roles/permissions.ts';
import { FINISHED_STATUSES } from './jobs.constants.ts';
import { JOB_EVENTS, type JobEvent, type JobManager, type JobResponse } from './jobs.manager.ts';

const clientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auth'), token: z.string().min(1).max(4096) }),
  z.object({
    type: z.literal('subscribe'),
    job_ids: z.array(z.uuid()).max(500).optional(),
    /** Every job of the signed-in user, now and to come. */
    mine: z.boolean().optional(),
    /** Every job of everyone (jobs:manage only). */
    all: z.boolean().optional(),
  }),
  z.object({ type: z.literal('unsubscribe'), job_ids: z.array(z.uuid()).max(500) }),
]);

/** Seconds a client has to authenticate after connecting. */
const AUTH_TIMEOUT_MS = 10_000;

interface Watcher {
  userId: number;
  canManage: boolean;
  jobIds: Set<string>;
  mine: boolean;
  all: boolean;
}

/**
 * WebSocket /api/v1/ws: live job progress. The first message authenticates
 * ({type:"auth", token}) — browsers cannot send an Authorization header on a WebSocket, and a
 * token in the URL would end up in logs. Then {type:"subscribe", job_ids | mine | all}; the
 * server answers with the current state of what was subscribed, then every change.
 */
export function jobsSocketRoutes(options: {
  manager: JobManager;
  bus: EventBus;
  signer: TokenSigner;
  permissionsFor(role: string): Promise<readonly string[] | undefined>;
}) {
  return async (app: FastifyInstance) => {
    await app.register(websocket, { options: { maxPayload: 64 * 1024 } });

    app.get(
      '/ws',
      {
        websocket: true,
        // Authentication happens inside the protocol (first message), see above.
        config: { access: 'public' },
        schema: {
          tags: ['Jobs'],
          summary: 'WebSocket: live job progress (authenticate with the first message)',
          security: [],
        },
      },
      (socket: WebSocket) => {
        let watcher: Watcher | null = null;
        let unsubscribe: (() => void) | null = null;
        const send = (message: unknown) => {
          if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
        };
        const fail = (code: number, reason: string) => {
          send({ type: 'error', message: reason });
          socket.close(code, reason);
        };
        const authTimer = setTimeout(() => {
          if (!watcher) fail(4401, 'Authenticate first: {"type":"auth","token":"…"}');
        }, AUTH_TIMEOUT_MS);
        authTimer.unref();

        const visible = (job: JobResponse) =>
          watcher !== null && (watcher.canManage || job.user_id === watcher.userId);
        const wanted = (job: JobResponse) =>
          watcher !== null &&
          visible(job) &&
          (watcher.all ||
            watcher.jobIds.has(job.id) ||
            (watcher.mine && job.user_id === watcher.userId));

        socket.on('message', async (raw) => {
          let parsed: z.infer<typeof clientMessage>;
          try {
            parsed = clientMessage.parse(JSON.parse(String(raw)));
          } catch {
            send({
              type: 'error',
              message: 'Unreadable message; see the API documentation for /api/v1/ws.',
            });
            return;
          }
          if (parsed.type === 'auth') {
            const claims = await options.signer.verify(parsed.token);
            if ('error' in claims || claims.passwordChangeRequired)
              return fail(4401, 'The token is not valid.');
            const permissions = (await options.permissionsFor(claims.role)) ?? [];
            if (!grants(permissions, 'jobs:read'))
              return fail(4403, 'This needs the permission jobs:read.');
            clearTimeout(authTimer);
            watcher = {
              userId: claims.userId,
              canManage: grants(permissions, 'jobs:manage'),
              jobIds: new Set(),
              mine: false,
              all: false,
            };
            unsubscribe = options.bus.subscribe(JOB_EVENTS, (message) => {
              const event = message as JobEvent;
              if (wanted(event.job)) send({ type: 'job', event: event.type, job: event.job });
            });
            send({ type: 'ready', user_id: claims.userId });
            return;
          }
          if (!watcher) return fail(4401, 'Authenticate first: {"type":"auth","token":"…"}');
          if (parsed.type === 'unsubscribe') {
            for (const id of parsed.job_ids) watcher.jobIds.delete(id);
            return;
          }
          if (parsed.all && !watcher.canManage) {
            send({
              type: 'error',
              message: 'Watching every job needs the permission jobs:manage.',
            });
            return;
          }
          // The current state first, so a client that reconnects misses nothing.
          const snapshot: JobResponse[] = [];
          for (const id of parsed.job_ids ?? []) {
            const job = await options.manager.getJob(id).catch(() => null);
            if (job && visible(job)) {
              watcher.jobIds.add(id);
              snapshot.push(job);
            } else {
              send({ type: 'error', message: `Job ${id} does not exist.` });
            }
          }
          if (parsed.mine || parsed.all) {
            watcher.mine ||= parsed.mine === true;
            watcher.all ||= parsed.all === true;
            for (const status of ['PENDING', 'PROCESSING'] as const) {
              const page = await options.manager.listJobs({
                userId: parsed.all ? undefined : watcher.userId,
                status,
                page: 1,
                pageSize: 500,
              });
              snapshot.push(...page.items);
            }
          }
          send({ type: 'snapshot', jobs: snapshot, finished_statuses: FINISHED_STATUSES });
        });

        socket.on('close', () => {
          clearTimeout(authTimer);
          unsubscribe?.();
        });
      },
    );
  };
}
