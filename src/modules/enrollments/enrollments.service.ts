import { type ListCaching, ResourceService } from '../../platform/crud/resource.service.ts';
import type { Database } from '../../platform/db/client.ts';
import type { ChangeRecorder } from '../../platform/http/request-context.ts';
import { type EnrollmentResponse, enrollmentDefinition } from './enrollments.schema.ts';
import type { courseEnrollments } from './enrollments.table.ts';

export type EnrollmentsService = ResourceService<typeof courseEnrollments, EnrollmentResponse>;

export function createEnrollmentsService(
  db: Database,
  recorder: ChangeRecorder,
  caching: ListCaching,
): EnrollmentsService {
  return new ResourceService(db, enrollmentDefinition, recorder, caching);
}
