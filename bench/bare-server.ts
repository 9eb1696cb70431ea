// The baseline of the API benchmark: plain Fastify, one route answering a constant JSON, no
// logger, no plugins. Registrar's figures are reported as a fraction of what this one serves.
import fastify from 'fastify';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

const app = fastify({ logger: false });
app.get('/', async () => ({ ok: true }));

const close = async () => {
  await app.close();
  process.exit(0);
};
process.once('SIGINT', () => void close());
process.once('SIGTERM', () => void close());

await app.listen({ port, host });
