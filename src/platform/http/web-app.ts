import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpProblem, sendProblem } from './problems.ts';

/** Where `npm run build` writes the admin UI. */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/** Paths the server answers itself: an unknown one there is a 404 problem, never the UI. */
const SERVER_PREFIXES = ['/api', '/docs', '/openapi.json', '/health', '/metrics'];

// Vite puts a content hash in every name under /assets/, so a changed file is a new URL.
const ASSET_MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;

const isServerPath = (pathname: string) =>
  SERVER_PREFIXES.some((prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`));

/** The file under root that pathname names, or null when there is none (or it escapes root). */
async function existingFile(root: string, pathname: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  const file = path.resolve(root, `.${decoded}`);
  if (!file.startsWith(`${root}${path.sep}`)) return null;
  try {
    return (await stat(file)).isFile() ? path.relative(root, file) : null;
  } catch {
    return null;
  }
}

/**
 * Serves the built admin UI (web/dist): hashed assets cached for a year, index.html always
 * revalidated, and index.html for any other page a browser asks for, so the UI's own router
 * handles deep links. Registered after the API, whose unknown paths stay JSON 404 problems.
 */
export function webAppRoutes(options: { distDir: string }) {
  const root = path.resolve(options.distDir);
  return async (app: FastifyInstance) => {
    // No root here: the UI may be built after the server starts (or not at all).
    await app.register(fastifyStatic, { serve: false });

    const sendRevalidated = (reply: FastifyReply, file: string) =>
      reply.header('cache-control', 'no-cache').sendFile(file, root, { cacheControl: false });

    app.get('/*', { schema: { hide: true } }, async (request, reply) => {
      const pathname = request.url.split('?')[0] ?? '/';
      if (isServerPath(pathname)) return reply.callNotFound();

      if (pathname.startsWith('/assets/')) {
        return reply.sendFile(pathname.slice(1), root, {
          maxAge: ASSET_MAX_AGE_MS,
          immutable: true,
        });
      }
      const file = pathname === '/' ? null : await existingFile(root, pathname);
      if (file) return sendRevalidated(reply, file);

      const wantsPage = pathname === '/' || (request.headers.accept ?? '').includes('text/html');
      if (!wantsPage) return reply.callNotFound();
      if (!(await existingFile(root, '/index.html'))) {
        return sendProblem(
          request,
          reply,
          new HttpProblem(
            503,
            'ui-not-built',
            'Service Unavailable',
            'The web UI is not built yet. Run `npm run build` (or restart with `npm start`, which builds it), then reload. The API is running: see /docs.',
          ),
        );
      }
      return sendRevalidated(reply, 'index.html');
    });
  };
}
