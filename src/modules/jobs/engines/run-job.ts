import { setImmediate as nextTurn } from 'node:timers/promises';
import type { JobManager } from '../jobs.manager.ts';
import { toJobResponse } from '../jobs.manager.ts';
import type { HandlerResult, JobRegistry } from '../jobs.registry.ts';
import type { JobRow } from '../jobs.table.ts';

/** The abort reason when the process shuts down: the job goes back to the queue, not CANCELLED. */
export class ShutdownSignal extends Error {
  constructor() {
    super('the process is shutting down');
    this.name = 'ShutdownSignal';
  }
}

/**
 * Runs one claimed job with its handler and records how it ended, by the same rules in
 * every engine: completed; cancelled (with what it had done); interrupted by a shutdown
 * (back to PENDING); failed with attempts left (back to PENDING after an exponential
 * backoff); or FAILED. Returns when a requeued job may run again.
 */
export async function runJob(
  manager: JobManager,
  registry: JobRegistry,
  row: JobRow,
  signal: AbortSignal,
  retryBaseDelayMs: number,
): Promise<{ requeuedFor?: Date }> {
  const handler = registry.get(row.job_type);
  if (!handler) {
    await manager.finish(row.id, 'FAILED', {
      errorMessage: `No handler for job type ${row.job_type} in this version of Registrar.`,
    });
    return {};
  }
  let outcome: { result?: HandlerResult; error?: unknown };
  try {
    const result = await handler.run({
      job: toJobResponse(row),
      payload: handler.payload.parse(row.metadata),
      signal,
      progress: async (update) => {
        await manager.updateProgress(row.id, update);
        // PGlite answers through promises alone, so a handler's loop of queries never lets the
        // event loop reach its I/O: in embedded mode no request (a cancel included) would be
        // read until the job ended. Every handler reports progress per batch; yield here.
        await nextTurn();
      },
    });
    outcome = { result };
  } catch (error) {
    outcome = { error };
  }

  if (signal.aborted && signal.reason instanceof ShutdownSignal) {
    const retryAt = new Date();
    await manager.requeue(row.id, { retryAt });
    return { requeuedFor: retryAt };
  }
  if (signal.aborted) {
    await manager.finish(row.id, 'CANCELLED', {
      result: outcome.result ?? { success: false, message: 'Cancelled before it finished.' },
    });
    return {};
  }
  if (outcome.result) {
    await manager.finish(row.id, outcome.result.success ? 'COMPLETED' : 'FAILED', {
      result: outcome.result,
      ...(outcome.result.success
        ? {}
        : { errorMessage: outcome.result.message ?? 'The job failed.' }),
    });
    return {};
  }
  const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
  // row.attempts already counts this run.
  if (row.attempts < row.max_attempts) {
    const retryAt = new Date(Date.now() + retryBaseDelayMs * 2 ** (row.attempts - 1));
    await manager.requeue(row.id, {
      retryAt,
      errorMessage: `Attempt ${row.attempts} failed: ${message}`,
    });
    return { requeuedFor: retryAt };
  }
  await manager.finish(row.id, 'FAILED', {
    errorMessage: message,
    result: { success: false, message, errors: [message] },
  });
  return {};
}
