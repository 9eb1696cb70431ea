import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditAction, AuditResource } from './audit.constants.ts';
import type { AuditLogger, AuditOrigin } from './audit.logger.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * What a mutating route does, for the audit trail. Every POST, PUT, PATCH and DELETE
     * under /api declares it: the success entry is written with the change, and a failure
     * is recorded from this by the hook below.
     */
    audit?: { action: AuditAction; resource: AuditResource };
    /** A read of personal data, recorded as VIEW (one record) or SEARCH (a list) when AUDIT_READS is on. */
    auditRead?: { action: 'VIEW' | 'SEARCH'; resource: AuditResource };
  }
  interface FastifyRequest {
    /** Set by a handler that knows more about who is acting than the token says (sign-in). */
    auditOrigin: AuditOrigin | null;
  }
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function resourceIdOf(request: FastifyRequest): string | null {
  const params = request.params as Record<string, unknown> | undefined;
  const id = params?.id ?? params?.name;
  return id === undefined ? null : String(id);
}

/**
 * Makes auditing automatic: refuses to start if a mutating route does not say what it
 * audits, records every failed mutation (success=false) in its own transaction after the
 * change has rolled back, and records reads of personal data when asked to.
 */
export function registerAuditHooks(
  app: FastifyInstance,
  audit: AuditLogger,
  options: { reads: boolean },
) {
  app.decorateRequest('auditOrigin', null);

  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const methods = [route.method].flat();
    if (methods.some((method) => MUTATING.has(method)) && !route.config?.audit) {
      throw new Error(`Route ${methods.join(',')} ${route.url} declares no audit action`);
    }
  });

  // onSend, not onResponse: the entry is written before the client hears the answer, so a
  // client that saw a failure can always find its record.
  app.addHook('onSend', async (request, reply) => {
    const config = request.routeOptions.config;
    try {
      if (config.audit && reply.statusCode >= 400) {
        await audit.logFromRequest(
          request,
          {
            action: config.audit.action,
            resource: config.audit.resource,
            resourceId: resourceIdOf(request),
            success: false,
            errorMessage: request.problemDetail ?? `HTTP ${reply.statusCode}`,
            details: {
              method: request.method,
              route: request.routeOptions.url,
              status: reply.statusCode,
            },
          },
          request.auditOrigin ?? {},
        );
      } else if (config.auditRead && options.reads && reply.statusCode < 300) {
        const query = request.query as Record<string, unknown> | undefined;
        await audit.logFromRequest(request, {
          action: config.auditRead.action,
          resource: config.auditRead.resource,
          resourceId: resourceIdOf(request),
          details: { route: request.routeOptions.url, query: query ?? {} },
        });
      }
    } catch (error) {
      // Never turn the answer into a different one; a lost entry must be loud in the logs.
      request.log.error({ err: error }, 'could not write the audit entry of a failed request');
    }
  });
}
