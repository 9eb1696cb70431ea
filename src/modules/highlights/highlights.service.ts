import { type ListCaching, ResourceService } from '../../platform/crud/resource.service.ts';
import type { Database } from '../../platform/db/client.ts';
import type { ChangeRecorder } from '../../platform/http/request-context.ts';
import { type HighlightResponse, highlightDefinition } from './highlights.schema.ts';
import type { highlights } from './highlights.table.ts';

export type HighlightsService = ResourceService<typeof highlights, HighlightResponse>;

export function createHighlightsService(
  db: Database,
  recorder: ChangeRecorder,
  caching: ListCaching,
): HighlightsService {
  return new ResourceService(db, highlightDefinition, recorder, caching);
}
