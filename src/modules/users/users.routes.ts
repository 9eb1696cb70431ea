import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idParamsSchema } from '../../platform/crud/resource.routes.ts';
import { pageSchema } from '../../platform/http/pagination.ts';
import { commonErrorResponses, problemSchema } from '../../platform/http/problems.ts';
import { changeContextFrom } from '../../platform/http/request-context.ts';
import {
  userCreateSchema,
  userListQuerySchema,
  userResponseSchema,
  userUpdateSchema,
} from './users.schema.ts';
import type { UsersService } from './users.service.ts';

const tags = ['Users'];
const itemErrors = { ...commonErrorResponses, 404: problemSchema };

/** Users differ from other resources only in taking a password instead of its hash. */
export function usersRoutes(service: UsersService) {
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/users',
      {
        config: { access: 'users:read' },
        schema: {
          tags,
          summary: 'List users',
          querystring: userListQuerySchema,
          response: { 200: pageSchema(userResponseSchema), ...commonErrorResponses },
        },
      },
      async (request) => service.list(request.query),
    );

    app.get(
      '/users/:id',
      {
        config: { access: 'users:read' },
        schema: {
          tags,
          summary: 'Get one user',
          params: idParamsSchema,
          response: { 200: userResponseSchema, ...itemErrors },
        },
      },
      async (request) => service.get(request.params.id, { includeDeleted: true }),
    );

    app.post(
      '/users',
      {
        config: { access: 'users:write', audit: { action: 'CREATE', resource: 'USER' } },
        schema: {
          tags,
          summary: 'Create a user',
          body: userCreateSchema,
          response: {
            201: userResponseSchema,
            ...commonErrorResponses,
            409: problemSchema,
            422: problemSchema,
          },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await service.createUser(request.body, changeContextFrom(request))),
    );

    app.patch(
      '/users/:id',
      {
        config: { access: 'users:write', audit: { action: 'UPDATE', resource: 'USER' } },
        schema: {
          tags,
          summary: 'Change a user: name, e-mail, role, active flag, or reset the password',
          params: idParamsSchema,
          body: userUpdateSchema,
          response: {
            200: userResponseSchema,
            ...itemErrors,
            409: problemSchema,
            422: problemSchema,
          },
        },
      },
      async (request) =>
        service.updateUser(request.params.id, request.body, changeContextFrom(request)),
    );

    app.delete(
      '/users/:id',
      {
        config: { access: 'users:write', audit: { action: 'DELETE', resource: 'USER' } },
        schema: {
          tags,
          summary: 'Delete a user (soft) and end their sessions',
          params: idParamsSchema,
          response: { 204: z.null(), ...itemErrors, 409: problemSchema },
        },
      },
      async (request, reply) => {
        await service.remove(request.params.id, changeContextFrom(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/users/:id/restore',
      {
        config: { access: 'users:write', audit: { action: 'UPDATE', resource: 'USER' } },
        schema: {
          tags,
          summary: 'Restore a deleted user',
          params: idParamsSchema,
          response: { 200: userResponseSchema, ...itemErrors, 409: problemSchema },
        },
      },
      async (request) => service.restore(request.params.id, changeContextFrom(request)),
    );
  };
}
