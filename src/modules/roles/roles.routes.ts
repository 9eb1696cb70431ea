import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { commonErrorResponses, problemSchema } from '../../platform/http/problems.ts';
import { changeContextFrom } from '../../platform/http/request-context.ts';
import { GRANT_PATTERN, PERMISSIONS } from './permissions.ts';
import type { RolesService } from './roles.service.ts';

const roleSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    permissions: z.array(z.string()),
    is_builtin: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Role' });

const nameParams = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_-]{1,39}$/, 'must be lower-case letters, digits, _ or -'),
});

const knownResources = new Set(PERMISSIONS.map((key) => key.split(':')[0]));

const grantSchema = z
  .string()
  .refine(
    (grant) =>
      GRANT_PATTERN.test(grant) &&
      (grant === '*' ||
        (PERMISSIONS as readonly string[]).includes(grant) ||
        (grant.endsWith(':*') && knownResources.has(grant.split(':')[0]))),
    { message: 'must be a known "resource:action", "resource:*" or "*"' },
  );

const tags = ['Roles'];

export function rolesRoutes(service: RolesService) {
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/roles',
      {
        config: { access: 'roles:read' },
        schema: {
          tags,
          summary: 'List roles with their permission grants',
          response: {
            200: z.object({ items: z.array(roleSchema), permissions: z.array(z.string()) }),
            ...commonErrorResponses,
          },
        },
      },
      async () => ({ items: await service.list(), permissions: [...PERMISSIONS] }),
    );

    app.put(
      '/roles/:name',
      {
        config: {
          access: 'roles:write',
          audit: { action: 'PERMISSION_CHANGE', resource: 'SYSTEM' },
        },
        schema: {
          tags,
          summary: 'Create or replace a custom role',
          params: nameParams,
          body: z.strictObject({
            description: z.string().trim().max(500).default(''),
            permissions: z.array(grantSchema).max(100),
          }),
          response: { 200: roleSchema, ...commonErrorResponses },
        },
      },
      async (request) => service.put(request.params.name, request.body, changeContextFrom(request)),
    );

    app.delete(
      '/roles/:name',
      {
        config: {
          access: 'roles:write',
          audit: { action: 'PERMISSION_CHANGE', resource: 'SYSTEM' },
        },
        schema: {
          tags,
          summary: 'Delete a custom role that no user holds',
          params: nameParams,
          response: {
            204: z.null(),
            ...commonErrorResponses,
            404: problemSchema,
            409: problemSchema,
          },
        },
      },
      async (request, reply) => {
        await service.remove(request.params.name, changeContextFrom(request));
        return reply.code(204).send(null);
      },
    );
  };
}
