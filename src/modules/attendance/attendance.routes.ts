import type { FastifyInstance } from 'fastify';
import { registerResourceRoutes } from '../../platform/crud/resource.routes.ts';
import type { CoursesService } from '../courses/courses.service.ts';
import type { StudentsService } from '../students/students.service.ts';
import {
  attendanceCreateSchema,
  attendanceListQuerySchema,
  attendanceResponseSchema,
  attendanceUpdateSchema,
} from './attendance.schema.ts';
import type { AttendanceService } from './attendance.service.ts';

export function attendanceRoutes(
  service: AttendanceService,
  parents: { students: StudentsService; courses: CoursesService },
) {
  return async (app: FastifyInstance) => {
    registerResourceRoutes(app, {
      path: '/attendance',
      tag: 'Attendance',
      service,
      read: 'attendance:read',
      write: 'attendance:write',
      response: attendanceResponseSchema,
      create: attendanceCreateSchema,
      update: attendanceUpdateSchema,
      listQuery: attendanceListQuerySchema,
      nested: [
        { parentPath: '/students', parent: parents.students, filterKey: 'student_id' },
        { parentPath: '/courses', parent: parents.courses, filterKey: 'course_id' },
      ],
    });
  };
}
