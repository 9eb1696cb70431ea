import type { FastifyInstance } from 'fastify';
import { registerResourceRoutes } from '../../platform/crud/resource.routes.ts';
import type { CoursesService } from '../courses/courses.service.ts';
import type { StudentsService } from '../students/students.service.ts';
import {
  enrollmentCreateSchema,
  enrollmentListQuerySchema,
  enrollmentResponseSchema,
  enrollmentUpdateSchema,
} from './enrollments.schema.ts';
import type { EnrollmentsService } from './enrollments.service.ts';

export function enrollmentsRoutes(
  service: EnrollmentsService,
  parents: { students: StudentsService; courses: CoursesService },
) {
  return async (app: FastifyInstance) => {
    registerResourceRoutes(app, {
      path: '/enrollments',
      tag: 'Enrollments',
      service,
      read: 'enrollments:read',
      write: 'enrollments:write',
      response: enrollmentResponseSchema,
      create: enrollmentCreateSchema,
      update: enrollmentUpdateSchema,
      listQuery: enrollmentListQuerySchema,
      nested: [
        { parentPath: '/students', parent: parents.students, filterKey: 'student_id' },
        { parentPath: '/courses', parent: parents.courses, filterKey: 'course_id' },
      ],
    });
  };
}
