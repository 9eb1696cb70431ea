import type { FastifyInstance, FastifyRequest } from 'fastify';
import { grants, type Permission } from '../../modules/roles/permissions.ts';
import type { TokenSigner } from '../security/tokens.ts';
import { forbidden, unauthorized } from './problems.ts';
import type { Actor } from './request-context.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Who may call the route; every /api route declares it. 'public' needs no sign-in
     * (sign-in itself, token refresh), 'signed-in' any valid token, otherwise the permission.
     */
    access?: RouteAccess;
    /** Reachable while the caller still has to replace a generated password. */
    allowDuringPasswordChange?: boolean;
  }
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyInstance {
    /** Every /api route with its access rule, for the permission matrix and the docs. */
    apiRoutes: ApiRoute[];
  }
}

export interface ApiRoute {
  method: string;
  url: string;
  access: RouteAccess;
  /** A WebSocket endpoint (OpenAPI cannot describe it; docs/API.md does). */
  websocket: boolean;
}

/** Rate-limit key: the signed-in user, or the client address for anonymous calls. */
export function perUserKey(request: FastifyRequest): string {
  return request.actor ? `user:${request.actor.id}` : `ip:${request.ip}`;
}

export type RouteAccess = 'public' | 'signed-in' | Permission;

export interface AuthenticationOptions {
  signer: TokenSigner;
  /** The role's permission grants, or undefined when the role no longer exists. */
  permissionsFor(role: string): Promise<readonly string[] | undefined>;
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const [scheme, token] = header.split(' ');
  return scheme?.toLowerCase() === 'bearer' && token ? token : undefined;
}

/**
 * Checks every /api route's declared permission before the body is read, and refuses to
 * start if a route forgot to declare one.
 */
export function registerAuthentication(app: FastifyInstance, options: AuthenticationOptions) {
  app.decorateRequest('actor', null);
  const apiRoutes: ApiRoute[] = [];
  app.decorate('apiRoutes', apiRoutes);

  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const access = route.config?.access;
    if (!access) throw new Error(`Route ${route.method} ${route.url} declares no access rule`);
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') {
        apiRoutes.push({ method, url: route.url, access, websocket: route.websocket === true });
      }
    }
  });

  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    // Routes outside /api (health, metrics, docs) and unknown routes (404) have no rule.
    if (!config.access || config.access === 'public') return;

    const token = bearerToken(request);
    if (!token) throw unauthorized();
    const claims = await options.signer.verify(token);
    if ('error' in claims) {
      throw unauthorized(
        claims.error === 'expired'
          ? 'The access token has expired; refresh it or sign in again.'
          : 'The access token is not valid.',
      );
    }
    const permissions = await options.permissionsFor(claims.role);
    if (!permissions) throw unauthorized('The role of this account no longer exists.');
    request.actor = { ...claims, id: claims.userId, permissions };

    if (claims.passwordChangeRequired && !config.allowDuringPasswordChange) {
      throw forbidden(
        'Change the generated password (POST /api/v1/auth/change-password) before doing anything else.',
        'password-change-required',
      );
    }
    if (config.access !== 'signed-in' && !grants(permissions, config.access)) {
      throw forbidden(`This action needs the permission ${config.access}.`);
    }
  });
}
