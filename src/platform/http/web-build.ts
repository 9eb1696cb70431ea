import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';
import { WEB_DIST_DIR } from './web-app.ts';

const WEB_VITE_CONFIG = fileURLToPath(new URL('../../../web/vite.config.ts', import.meta.url));

/**
 * Builds the admin UI when there is no build yet, so `npm install && npm start` is enough.
 * A failed build is logged and the API serves on: the UI then explains how to build it.
 */
export async function buildWebAppIfMissing(log: FastifyBaseLogger, distDir = WEB_DIST_DIR) {
  if (existsSync(path.join(distDir, 'index.html'))) return;
  log.info({ outDir: distDir }, 'building the web UI (first start, takes a moment)');
  const started = performance.now();
  // Vite decides on a production build from NODE_ENV, and leaves its own value behind.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    // Loaded here only: the other commands and the worker never need Vite.
    const { build } = await import('vite');
    await build({
      configFile: WEB_VITE_CONFIG,
      mode: 'production',
      logLevel: 'warn',
      build: { outDir: distDir },
    });
    log.info({ ms: Math.round(performance.now() - started) }, 'web UI built');
  } catch (error) {
    log.error(
      { err: error },
      'could not build the web UI; the API keeps running. Fix the error, then run `npm run build`',
    );
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}
