import type { FastifyInstance } from 'fastify';
import { registerResourceRoutes } from '../../platform/crud/resource.routes.ts';
import type { CoursesService } from '../courses/courses.service.ts';
import type { StudentsService } from '../students/students.service.ts';
import {
  performanceCreateSchema,
  performanceListQuerySchema,
  performanceResponseSchema,
  performanceUpdateSchema,
} from './performances.schema.ts';
import type { PerformancesService } from './performances.service.ts';

export function performancesRoutes(
  service: PerformancesService,
  parents: { students: StudentsService; courses: CoursesService },
) {
  return async (app: FastifyInstance) => {
    registerResourceRoutes(app, {
      path: '/daily-performances',
      tag: 'Daily performance',
      service,
      read: 'performance:read',
      write: 'performance:write',
      response: performanceResponseSchema,
      create: performanceCreateSchema,
      update: performanceUpdateSchema,
      listQuery: performanceListQuerySchema,
      nested: [
        { parentPath: '/students', parent: parents.students, filterKey: 'student_id' },
        { parentPath: '/courses', parent: parents.courses, filterKey: 'course_id' },
      ],
    });
  };
}
