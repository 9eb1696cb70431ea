import type { FastifyInstance } from 'fastify';
import { registerResourceRoutes } from '../../platform/crud/resource.routes.ts';
import type { StudentsService } from '../students/students.service.ts';
import {
  highlightCreateSchema,
  highlightListQuerySchema,
  highlightResponseSchema,
  highlightUpdateSchema,
} from './highlights.schema.ts';
import type { HighlightsService } from './highlights.service.ts';

export function highlightsRoutes(
  service: HighlightsService,
  parents: { students: StudentsService },
) {
  return async (app: FastifyInstance) => {
    registerResourceRoutes(app, {
      path: '/highlights',
      tag: 'Highlights',
      service,
      read: 'highlights:read',
      write: 'highlights:write',
      response: highlightResponseSchema,
      create: highlightCreateSchema,
      update: highlightUpdateSchema,
      listQuery: highlightListQuerySchema,
      nested: [{ parentPath: '/students', parent: parents.students, filterKey: 'student_id' }],
    });
  };
}
