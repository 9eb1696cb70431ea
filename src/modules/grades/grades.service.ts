import { type ListCaching, ResourceService } from '../../platform/crud/resource.service.ts';
import type { Database } from '../../platform/db/client.ts';
import type { ChangeRecorder } from '../../platform/http/request-context.ts';
import { type GradeResponse, gradeDefinition } from './grades.schema.ts';
import type { grades } from './grades.table.ts';

export type GradesService = ResourceService<typeof grades, GradeResponse>;

export function createGradesService(
  db: Database,
  recorder: ChangeRecorder,
  caching: ListCaching,
): GradesService {
  return new ResourceService(db, gradeDefinition, recorder, caching);
}
