import type { FastifyInstance } from 'fastify';
import { registerResourceRoutes } from '../../platform/crud/resource.routes.ts';
import {
  courseCreateSchema,
  courseListQuerySchema,
  courseResponseSchema,
  courseUpdateSchema,
} from './courses.schema.ts';
import type { CoursesService } from './courses.service.ts';

export function coursesRoutes(service: CoursesService) {
  return async (app: FastifyInstance) => {
    registerResourceRoutes(app, {
      path: '/courses',
      tag: 'Courses',
      service,
      read: 'courses:read',
      write: 'courses:write',
      response: courseResponseSchema,
      create: courseCreateSchema,
      update: courseUpdateSchema,
      listQuery: courseListQuerySchema,
    });
  };
}
