import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { DatabaseHandle } from '../../platform/db/client.ts';
import { unauthorized } from '../../platform/http/problems.ts';

const componentSchema = z.object({
  status: z.enum(['up', 'down']),
  kind: z.string(),
  latency_ms: z.number().optional(),
  error: z.string().optional(),
});

const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    version: z.string(),
    uptime_seconds: z.number(),
    database: componentSchema,
  })
  .meta({ id: 'Health' });

export function healthRoutes(database: DatabaseHandle, metricsToken: string | undefined) {
  return async (instance: FastifyInstance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/health',
      {
        schema: {
          tags: ['System'],
          summary: 'Liveness and dependencies; 503 when the database is unreachable',
          security: [],
          response: { 200: healthSchema, 503: healthSchema },
        },
      },
      async (_request, reply) => {
        const started = performance.now();
        let databaseStatus: z.infer<typeof componentSchema>;
        try {
          await database.ping();
          databaseStatus = {
            status: 'up',
            kind: database.kind,
            latency_ms: Math.round((performance.now() - started) * 100) / 100,
          };
        } catch (error) {
          databaseStatus = {
            status: 'down',
            kind: database.kind,
            error: error instanceof Error ? error.message : String(error),
          };
        }
        const healthy = databaseStatus.status === 'up';
        return reply.code(healthy ? 200 : 503).send({
          status: healthy ? 'ok' : 'degraded',
          version: process.env.npm_package_version ?? '0.1.0',
          uptime_seconds: Math.round(process.uptime()),
          database: databaseStatus,
        });
      },
    );

    app.get(
      '/metrics',
      {
        schema: {
          tags: ['System'],
          summary: 'Prometheus metrics (bearer METRICS_TOKEN when that is set)',
          security: [],
        },
      },
      async (request, reply) => {
        if (metricsToken && request.headers.authorization !== `Bearer ${metricsToken}`) {
          throw unauthorized('This endpoint needs the metrics token.');
        }
        const registry = instance.metricsRegistry;
        return reply.type(registry.contentType).send(await registry.metrics());
      },
    );
  };
}
