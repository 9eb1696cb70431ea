import { type ListCaching, ResourceService } from '../../platform/crud/resource.service.ts';
import type { Database } from '../../platform/db/client.ts';
import type { ChangeRecorder } from '../../platform/http/request-context.ts';
import { type PerformanceResponse, performanceDefinition } from './performances.schema.ts';
import type { dailyPerformances } from './performances.table.ts';

export type PerformancesService = ResourceService<typeof dailyPerformances, PerformanceResponse>;

export function createPerformancesService(
  db: Database,
  recorder: ChangeRecorder,
  caching: ListCaching,
): PerformancesService {
  return new ResourceService(db, performanceDefinition, recorder, caching);
}
