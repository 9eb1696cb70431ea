import type { FastifyInstance } from 'fastify';
import { registerResourceRoutes } from '../../platform/crud/resource.routes.ts';
import {
  studentCreateSchema,
  studentListQuerySchema,
  studentResponseSchema,
  studentUpdateSchema,
} from './students.schema.ts';
import type { StudentsService } from './students.service.ts';

export function studentsRoutes(service: StudentsService) {
  return async (app: FastifyInstance) => {
    registerResourceRoutes(app, {
      path: '/students',
      tag: 'Students',
      service,
      read: 'students:read',
      write: 'students:write',
      response: studentResponseSchema,
      create: studentCreateSchema,
      update: studentUpdateSchema,
      listQuery: studentListQuerySchema,
      auditReads: true,
    });
  };
}
