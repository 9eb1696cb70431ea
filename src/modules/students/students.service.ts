import { type ListCaching, ResourceService } from '../../platform/crud/resource.service.ts';
import type { Database } from '../../platform/db/client.ts';
import type { ChangeRecorder } from '../../platform/http/request-context.ts';
import { type StudentResponse, studentDefinition } from './students.schema.ts';
import type { students } from './students.table.ts';

export type StudentsService = ResourceService<typeof students, StudentResponse>;

export function createStudentsService(
  db: Database,
  recorder: ChangeRecorder,
  caching: ListCaching,
): StudentsService {
  return new ResourceService(db, studentDefinition, recorder, caching);
}
