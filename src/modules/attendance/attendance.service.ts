import { type ListCaching, ResourceService } from '../../platform/crud/resource.service.ts';
import type { Database } from '../../platform/db/client.ts';
import type { ChangeRecorder } from '../../platform/http/request-context.ts';
import { type AttendanceResponse, attendanceDefinition } from './attendance.schema.ts';
import type { attendance } from './attendance.table.ts';

export type AttendanceService = ResourceService<typeof attendance, AttendanceResponse>;

export function createAttendanceService(
  db: Database,
  recorder: ChangeRecorder,
  caching: ListCaching,
): AttendanceService {
  return new ResourceService(db, attendanceDefinition, recorder, caching);
}
