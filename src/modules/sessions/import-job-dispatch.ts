import { z } from 'zod';
import type { bulkImportPayload } from '../imports/bulk-import.job.ts';
import type { JobHandler } from '../jobs/jobs.registry.ts';
import { type SessionImportPayload, sessionImportPayload } from './session-import.job.ts';

type FileImportPayload = z.infer<typeof bulkImportPayload>;

/**
 * The one bulk_import handler the registry allows, shared by file imports (a preview_id)
 * and session imports (kind: 'session'): the payload says which, and that handler runs.
 */
export function bulkImportDispatcher(
  fileImport: JobHandler<FileImportPayload>,
  sessionImport: JobHandler<SessionImportPayload>,
): JobHandler<FileImportPayload | SessionImportPayload> {
  return {
    // The session payload first: its `kind` literal tells the two apart.
    payload: z.union([sessionImportPayload, fileImport.payload]),
    permission: 'jobs:create',
    run(context) {
      const { payload } = context;
      return 'kind' in payload && payload.kind === 'session'
        ? sessionImport.run({ ...context, payload })
        : fileImport.run({ ...context, payload: payload as FileImportPayload });
    },
  };
}
