import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import proxyAddr from '@fastify/proxy-addr';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Config } from './config.ts';
import { attendanceRoutes } from './modules/attendance/attendance.routes.ts';
import { registerAuditHooks } from './modules/audit/audit.hooks.ts';
import { auditRoutes } from './modules/audit/audit.routes.ts';
import { authRoutes } from './modules/auth/auth.routes.ts';
import { backupsRoutes } from './modules/backups/backups.routes.ts';
import { coursesRoutes } from './modules/courses/courses.routes.ts';
import { emailsRoutes } from './modules/emails/emails.routes.ts';
import { enrollmentsRoutes } from './modules/enrollments/enrollments.routes.ts';
import { exportsRoutes } from './modules/exports/exports.routes.ts';
import { gradesRoutes } from './modules/grades/grades.routes.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { highlightsRoutes } from './modules/highlights/highlights.routes.ts';
import { importsRoutes } from './modules/imports/imports.routes.ts';
import { jobsRoutes } from './modules/jobs/jobs.routes.ts';
import { jobsSocketRoutes } from './modules/jobs/jobs.socket.ts';
import { migrationRoutes } from './modules/migration/migration.routes.ts';
import { performancesRoutes } from './modules/performances/performances.routes.ts';
import { resultsRoutes } from './modules/results/results.routes.ts';
import { rolesRoutes } from './modules/roles/roles.routes.ts';
import { sessionsRoutes } from './modules/sessions/sessions.routes.ts';
import { settingsRoutes } from './modules/settings/settings.routes.ts';
import { studentsRoutes } from './modules/students/students.routes.ts';
import { usersRoutes } from './modules/users/users.routes.ts';
import type { DatabaseHandle } from './platform/db/client.ts';
import { EmbeddedMaintenance } from './platform/db/embedded-maintenance.ts';
import { registerAuthentication } from './platform/http/auth.ts';
import { registerMetrics } from './platform/http/metrics.ts';
import { registerProblemHandlers } from './platform/http/problems.ts';
import type { ChangeRecorder } from './platform/http/request-context.ts';
import { registerSecurityHeaders } from './platform/http/security-headers.ts';
import { WEB_DIST_DIR, webAppRoutes } from './platform/http/web-app.ts';
import { createServices, type Services } from './services.ts';

export interface AppDeps {
  config: Config;
  database: DatabaseHandle;
  /** Receives every change inside its transaction; the audit trail unless a test replaces it. */
  recorder?: ChangeRecorder;
  /** Fastify logger options; tests pass false. */
  logger?: FastifyServerOptions['logger'];
  /** The built admin UI; tests pass a folder of their own. */
  webDistDir?: string;
}

const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

export const API_PREFIX = '/api/v1';

export async function buildApp(
  deps: AppDeps,
): Promise<{ app: FastifyInstance; services: Services }> {
  const { config } = deps;
  const app = Fastify({
    logger: deps.logger ?? {
      level: config.logLevel,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.password',
          '*.new_password',
          '*.current_password',
          '*.refresh_token',
          '*.access_token',
        ],
        censor: '[redacted]',
      },
    },
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    requestIdHeader: false,
    genReqId: (request) => {
      const offered = request.headers['x-request-id'];
      return typeof offered === 'string' && REQUEST_ID_PATTERN.test(offered)
        ? offered
        : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true },
    ajv: { customOptions: { coerceTypes: false } },
  });
  const services = createServices(deps.database.db, config, {
    ...(deps.recorder ? { recorder: deps.recorder } : {}),
    onJobEngineError: (error, where) => app.log.error({ err: error, where }, 'job engine error'),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // The API speaks JSON (and multipart for uploads); anything else is 415, not a string body.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  registerProblemHandlers(app);
  const trustedPeer =
    config.trustedProxies.length > 0 ? proxyAddr.compile(config.trustedProxies) : null;
  app.decorate('isTrustedPeer', (address: string) => trustedPeer?.(address, 0) ?? false);
  registerMetrics(app);

  registerSecurityHeaders(app);
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
      credentials: !config.corsOrigins.includes('*'),
      exposedHeaders: ['x-request-id', 'retry-after'],
    });
  }
  await app.register(rateLimit, { global: false });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Registrar API',
        version: '1',
        description:
          'Students, courses, enrollments, grades, attendance, daily performance, highlights and users. Errors are application/problem+json (RFC 9457).',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerAuditHooks(app, services.audit, { reads: config.audit.reads });
  // PGlite has no autovacuum of its own (see EmbeddedMaintenance).
  const maintenance =
    deps.database.kind === 'pglite' ? new EmbeddedMaintenance(deps.database.db) : null;
  // Jobs run while the server runs; on close, running jobs get a bounded wait and the rest resume at the next start.
  app.addHook('onReady', async () => {
    await services.jobEngine.start();
    services.audit.start();
    maintenance?.start();
  });
  app.addHook('onClose', async () => {
    await maintenance?.stop();
    // Changes still waiting for their recompute become PENDING jobs, run at the next start.
    await services.recompute.close();
    await services.jobEngine.stop(config.jobs.shutdownGraceMs);
    await services.bus.close();
    await services.audit.stop();
    await services.mailer.close();
  });
  registerAuthentication(app, {
    signer: services.signer,
    permissionsFor: (role) => services.roles.permissionsFor(role),
  });

  await app.register(healthRoutes(deps.database, config.metricsToken));
  await app.register(
    async (api) => {
      await api.register(
        authRoutes(services.auth, services.roles, config.login.rateLimitPerMinute),
      );
      await api.register(usersRoutes(services.users));
      await api.register(rolesRoutes(services.roles));
      await api.register(settingsRoutes(services.settings));
      await api.register(studentsRoutes(services.students));
      await api.register(coursesRoutes(services.courses));
      const parents = { students: services.students, courses: services.courses };
      await api.register(enrollmentsRoutes(services.enrollments, parents));
      await api.register(gradesRoutes(services.grades, parents));
      await api.register(attendanceRoutes(services.attendance, parents));
      await api.register(performancesRoutes(services.performances, parents));
      await api.register(highlightsRoutes(services.highlights, parents));
      await api.register(resultsRoutes(services.results, services.settings));
      await api.register(
        jobsSocketRoutes({
          manager: services.jobs,
          bus: services.bus,
          signer: services.signer,
          permissionsFor: (role) => services.roles.permissionsFor(role),
        }),
      );
      await api.register(
        jobsRoutes(
          services.jobs,
          services.jobRegistry,
          services.bus,
          config.rateLimits.jobsPerMinute,
        ),
      );
      await api.register(
        importsRoutes(services.imports, {
          maxBytes: config.imports.maxBytes,
          previewsPerMinute: config.rateLimits.jobsPerMinute,
        }),
      );
      await api.register(
        sessionsRoutes(services.sessions, {
          audit: services.audit,
          maxBytes: config.imports.maxBytes,
          importsPerMinute: config.rateLimits.jobsPerMinute,
          exportsPerMinute: config.rateLimits.exportsPerMinute,
        }),
      );
      await api.register(
        auditRoutes(services.audit, deps.database.db, config.rateLimits.exportsPerMinute),
      );
      await api.register(
        exportsRoutes({
          db: deps.database.db,
          audit: services.audit,
          jobs: services.jobs,
          registry: services.jobRegistry,
          dataDir: config.dataDir,
          syncLimit: config.exportSyncLimit,
          exportsPerMinute: config.rateLimits.exportsPerMinute,
        }),
      );
      await api.register(
        backupsRoutes({
          backups: services.backups,
          audit: services.audit,
          jobs: services.jobs,
          jobsPerMinute: config.rateLimits.jobsPerMinute,
        }),
      );
      await api.register(
        emailsRoutes({
          emails: services.emails,
          jobs: services.jobs,
          registry: services.jobRegistry,
          jobsPerMinute: config.rateLimits.jobsPerMinute,
        }),
      );
      await api.register(
        migrationRoutes({
          migration: services.migration,
          jobs: services.jobs,
          jwtSecret: config.jwtSecret,
          jobsPerMinute: config.rateLimits.jobsPerMinute,
        }),
      );
    },
    { prefix: API_PREFIX },
  );
  // The admin UI: its catch-all GET answers the UI's pages; unknown API paths stay 404 problems.
  await app.register(webAppRoutes({ distDir: deps.webDistDir ?? WEB_DIST_DIR }));

  return { app, services };
}
