import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

type CspDirectives = NonNullable<
  Exclude<HelmetOptions['contentSecurityPolicy'], boolean | undefined>['directives']
>;

/** The admin UI (Vite's build) loads only its own files; the job WebSocket needs ws:/wss:. */
const APP_DIRECTIVES: CspDirectives = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  // 'self' covers same-origin WebSockets in current browsers only; older Safari needs the schemes.
  connectSrc: ["'self'", 'ws:', 'wss:'],
  // Every URL the app and the docs use is relative; on a plain-http school network this
  // directive would send the browser to https for every asset and break the page.
  upgradeInsecureRequests: null,
};

/** Swagger UI needs inline scripts and styles, so /docs keeps a looser policy of its own. */
const DOCS_DIRECTIVES: CspDirectives = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'", "'unsafe-inline'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  upgradeInsecureRequests: null,
};

function helmetHeaders(directives: CspDirectives): Record<string, string> {
  const headers: Record<string, string> = {};
  const collector = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader() {},
  };
  helmet({ contentSecurityPolicy: { directives } })(
    {} as IncomingMessage,
    collector as unknown as ServerResponse,
    () => {},
  );
  if (!headers['content-security-policy']) throw new Error('helmet set no security headers');
  return headers;
}

const isDocs = (url: string) =>
  url === '/docs' || url.startsWith('/docs/') || url.startsWith('/docs?');

/**
 * Helmet's security headers, computed once at start. They depend on nothing in the request
 * but its path, and @fastify/helmet rebuilt them (re-parsing the CSP) on every request.
 */
export function registerSecurityHeaders(app: FastifyInstance) {
  const appHeaders = helmetHeaders(APP_DIRECTIVES);
  const docsHeaders = helmetHeaders(DOCS_DIRECTIVES);
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(isDocs(request.url) ? docsHeaders : appHeaders);
    done();
  });
}
