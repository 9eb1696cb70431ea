import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Permission } from '../../modules/roles/permissions.ts';
import { type Page, pageSchema } from '../http/pagination.ts';
import { commonErrorResponses, problemSchema } from '../http/problems.ts';
import { changeContextFrom } from '../http/request-context.ts';
import { registerBulkRoutes } from './bulk-change.routes.ts';
import type { AnyResourceService } from './bulk-change.ts';
import type { ListOptions, ResourceService, ResourceTable } from './resource.service.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

export const idParamsSchema = z.object({
  id: z.coerce.number().int().min(1).max(2_147_483_647),
});

const includeDeletedQuery = z.object({
  include_deleted: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});

export interface ResourceRoutesOptions<
  T extends ResourceTable,
  Response extends Record<string, unknown>,
> {
  /** Collection path under /api/v1, e.g. "/students". */
  path: string;
  /** OpenAPI tag. */
  tag: string;
  service: ResourceService<T, Response>;
  read: Permission;
  write: Permission;
  response: z.ZodType<Response>;
  create: z.ZodType<T['$inferInsert']>;
  update: z.ZodType<Partial<T['$inferInsert']>>;
  /** The list's query string: page fields, sort and the resource's filters. */
  listQuery: z.ZodType<ListOptions & Record<string, unknown>>;
  /** Record VIEW and SEARCH of these records when AUDIT_READS is on (personal data). */
  auditReads?: boolean;
  /** Lists of this resource under a parent, e.g. GET /students/{id}/grades. */
  nested?: Array<{
    parentPath: string;
    parent: { assertExists(id: number): Promise<void> };
    filterKey: string;
  }>;
}

/** The six routes of a resource: list, get, create, update, soft delete and restore. */
export function registerResourceRoutes<
  T extends ResourceTable,
  Response extends Record<string, unknown>,
>(instance: FastifyInstance, options: ResourceRoutesOptions<T, Response>) {
  // The zod schemas validate at run time; the casts below only restate what they checked,
  // because a generic factory defeats the type provider's inference.
  const app = instance;
  type Insert = T['$inferInsert'];
  type IdParams = z.infer<typeof idParamsSchema>;
  type ListQuery = ListOptions & Record<string, unknown>;
  const { path, tag, service, read, write } = options;
  const label = service.label;
  const itemResponses = { ...commonErrorResponses, 404: problemSchema };
  const { resource } = service;
  const searchRead = options.auditReads
    ? { auditRead: { action: 'SEARCH' as const, resource } }
    : {};
  const viewRead = options.auditReads ? { auditRead: { action: 'VIEW' as const, resource } } : {};
  // Lists answer with JSON the service may have cached; it is checked against the page
  // schema when it is made, as the serializer would.
  const listResponse = pageSchema(options.response);
  const renderPage = (page: Page<Response>) => JSON.stringify(z.encode(listResponse, page));
  const sendList = async (reply: FastifyReply, query: ListQuery) =>
    reply.type(JSON_TYPE).send(await service.listBody(query, renderPage));

  app.get(
    path,
    {
      config: { access: read, ...searchRead },
      schema: {
        tags: [tag],
        summary: `List ${label.toLowerCase()} records`,
        querystring: options.listQuery,
        response: { 200: listResponse, ...commonErrorResponses },
      },
    },
    async (request, reply) => sendList(reply, request.query as ListQuery),
  );

  for (const nested of options.nested ?? []) {
    app.get(
      `${nested.parentPath}/:id${path}`,
      {
        config: { access: read },
        schema: {
          tags: [tag],
          summary: `List ${label.toLowerCase()} records of one ${nested.parentPath.slice(1, -1)}`,
          params: idParamsSchema,
          querystring: options.listQuery,
          response: { 200: listResponse, ...itemResponses },
        },
      },
      async (request, reply) => {
        const { id } = request.params as IdParams;
        await nested.parent.assertExists(id);
        return sendList(reply, { ...(request.query as ListQuery), [nested.filterKey]: id });
      },
    );
  }

  app.get(
    `${path}/:id`,
    {
      config: { access: read, ...viewRead },
      schema: {
        tags: [tag],
        summary: `Get one ${label.toLowerCase()}`,
        params: idParamsSchema,
        querystring: includeDeletedQuery,
        response: { 200: options.response, ...itemResponses },
      },
    },
    async (request) =>
      service.get((request.params as IdParams).id, {
        includeDeleted: (request.query as z.infer<typeof includeDeletedQuery>).include_deleted,
      }),
  );

  app.post(
    path,
    {
      config: { access: write, audit: { action: 'CREATE', resource } },
      schema: {
        tags: [tag],
        summary: `Create a ${label.toLowerCase()}`,
        body: options.create,
        response: {
          201: options.response,
          ...commonErrorResponses,
          409: problemSchema,
          422: problemSchema,
        },
      },
    },
    async (request, reply) => {
      const created = await service.create(request.body as Insert, changeContextFrom(request));
      return reply.code(201).send(created);
    },
  );

  app.patch(
    `${path}/:id`,
    {
      config: { access: write, audit: { action: 'UPDATE', resource } },
      schema: {
        tags: [tag],
        summary: `Change some fields of a ${label.toLowerCase()}`,
        params: idParamsSchema,
        body: options.update,
        response: {
          200: options.response,
          ...itemResponses,
          409: problemSchema,
          422: problemSchema,
        },
      },
    },
    async (request) =>
      service.update(
        (request.params as IdParams).id,
        request.body as Partial<Insert>,
        changeContextFrom(request),
      ),
  );

  app.delete(
    `${path}/:id`,
    {
      config: { access: write, audit: { action: 'DELETE', resource } },
      schema: {
        tags: [tag],
        summary: `Delete a ${label.toLowerCase()} (soft: it can be restored)`,
        params: idParamsSchema,
        response: { 204: z.null().describe('Deleted'), ...itemResponses },
      },
    },
    async (request, reply) => {
      await service.remove((request.params as IdParams).id, changeContextFrom(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    `${path}/:id/restore`,
    {
      config: { access: write, audit: { action: 'UPDATE', resource } },
      schema: {
        tags: [tag],
        summary: `Restore a deleted ${label.toLowerCase()}`,
        params: idParamsSchema,
        response: { 200: options.response, ...itemResponses, 409: problemSchema },
      },
    },
    async (request) => service.restore((request.params as IdParams).id, changeContextFrom(request)),
  );

  // POST {path}/bulk-update, /bulk-delete and /bulk-restore (bulk-change.routes.ts).
  if (service.bulkChanges) {
    registerBulkRoutes(app, {
      path,
      tag,
      write,
      service: service as unknown as AnyResourceService,
      update: options.update,
      listQuery: options.listQuery,
      bulk: service.bulkChanges,
    });
  }
}
