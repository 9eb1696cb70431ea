import type { FastifyInstance } from 'fastify';
import { registerResourceRoutes } from '../../platform/crud/resource.routes.ts';
import type { CoursesService } from '../courses/courses.service.ts';
import type { StudentsService } from '../students/students.service.ts';
import {
  gradeCreateSchema,
  gradeListQuerySchema,
  gradeResponseSchema,
  gradeUpdateSchema,
} from './grades.schema.ts';
import type { GradesService } from './grades.service.ts';

export function gradesRoutes(
  service: GradesService,
  parents: { students: StudentsService; courses: CoursesService },
) {
  return async (app: FastifyInstance) => {
    registerResourceRoutes(app, {
      path: '/grades',
      tag: 'Grades',
      service,
      read: 'grades:read',
      write: 'grades:write',
      response: gradeResponseSchema,
      create: gradeCreateSchema,
      update: gradeUpdateSchema,
      listQuery: gradeListQuerySchema,
      nested: [
        { parentPath: '/students', parent: parents.students, filterKey: 'student_id' },
        { parentPath: '/courses', parent: parents.courses, filterKey: 'course_id' },
      ],
    });
  };
}
