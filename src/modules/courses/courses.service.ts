import { type ListCaching, ResourceService } from '../../platform/crud/resource.service.ts';
import type { Database } from '../../platform/db/client.ts';
import type { ChangeRecorder } from '../../platform/http/request-context.ts';
import { type CourseResponse, courseDefinition } from './courses.schema.ts';
import type { courses } from './courses.table.ts';

export type CoursesService = ResourceService<typeof courses, CourseResponse>;

export function createCoursesService(
  db: Database,
  recorder: ChangeRecorder,
  caching: ListCaching,
): CoursesService {
  return new ResourceService(db, courseDefinition, recorder, caching);
}
