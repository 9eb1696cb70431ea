// Child processes for the API benchmark: start, wait until they answer, and always stop them.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** Resolves with `value` after `ms` unless cancelled; a cancelled timer keeps nothing alive. */
function timer<T>(ms: number, value: T) {
  let handle: NodeJS.Timeout | undefined;
  const promise = new Promise<T>((resolve) => {
    handle = setTimeout(() => resolve(value), ms);
  });
  return { promise, cancel: () => clearTimeout(handle) };
}

/** The last bytes a child wrote, kept to explain a failure. */
const OUTPUT_LIMIT = 64 * 1024;

export interface Child {
  name: string;
  process: ChildProcess;
  /** What the child wrote to stdout and stderr (the tail of it). */
  output(): string;
  /** True once the child has exited, for whatever reason. */
  exited(): boolean;
  /** SIGTERM, then SIGKILL if it has not gone after a few seconds. Safe to call twice. */
  stop(): Promise<void>;
}

/** Node options from an environment variable (for example "--cpu-prof --cpu-prof-dir=/tmp/prof"). */
export const nodeOptionsFrom = (variable: string): string[] =>
  (process.env[variable] ?? '').split(' ').filter(Boolean);

/** Starts `node <args>` in the repository root with exactly the environment given. */
export function startNode(name: string, args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = () => child.exitCode !== null || child.signalCode !== null;

  const handle: Child = {
    name,
    process: child,
    output: () => output,
    exited,
    async stop() {
      if (exited()) return;
      const gone = once(child, 'exit').then(() => true);
      child.kill('SIGTERM');
      const patience = timer(5000, false);
      const stopped = await Promise.race([gone, patience.promise]);
      patience.cancel();
      if (!stopped && !exited()) {
        child.kill('SIGKILL');
        const last = timer(2000, false);
        await Promise.race([gone, last.promise]);
        last.cancel();
      }
    },
  };
  return handle;
}

/** Runs `node <args>` to completion; throws with its output when it fails. */
export async function runNode(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  timeoutMs = 120_000,
): Promise<string> {
  const child = startNode(name, args, env, cwd);
  const exit = once(child.process, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const timeout = timer(timeoutMs, 'timeout' as const);
  const outcome = await Promise.race([exit, timeout.promise]);
  timeout.cancel();
  if (outcome === 'timeout') {
    await child.stop();
    throw new Error(`${name} did not finish within ${timeoutMs / 1000} s:\n${child.output()}`);
  }
  const [code, signal] = outcome;
  if (code !== 0) {
    throw new Error(`${name} failed (exit ${code ?? signal}):\n${child.output()}`);
  }
  return child.output();
}

/** A TCP port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  if (!port) throw new Error('could not find a free port');
  return port;
}

/** Polls `url` until it answers 200; fails early when the child exits. */
export async function waitUntilReady(child: Child, url: string, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exited()) {
      throw new Error(`${child.name} exited before it was ready:\n${child.output()}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(200);
  }
  throw new Error(
    `${child.name} not ready at ${url} after ${timeoutMs / 1000} s (${last}):\n${child.output()}`,
  );
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL scratch databases (added for the audit benchmark).

/**
 * The PostgreSQL server a benchmark should use: BENCH_DATABASE_URL, TEST_DATABASE_URL or
 * `fallbackUrl`. A server named in the environment that does not answer is an error; the
 * fallback not answering only means "skip PostgreSQL".
 */
export async function findPostgres(
  fallbackUrl: string,
): Promise<{ url: string; version: string } | { skipped: string }> {
  const named = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;
  const url = named || fallbackUrl;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return { url, version: result.rows[0]?.server_version ?? 'unknown' };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (named) throw new Error(`PostgreSQL at ${new URL(url).host} is unreachable: ${reason}`);
    return { skipped: `no PostgreSQL at ${new URL(url).host} (${reason}); set BENCH_DATABASE_URL` };
  } finally {
    await client.end().catch(() => {});
  }
}

export interface ScratchDatabase {
  name: string;
  /** The server URL with this database's name in it. */
  url: string;
  /** Drops the database, closing whatever is still connected to it. Safe to call twice. */
  drop(): Promise<void>;
}

/** Creates an empty database with a random name on the server at `serverUrl`. */
export async function createScratchDatabase(
  serverUrl: string,
  prefix = 'registrar_bench',
): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const onServer = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end().catch(() => {});
    }
  };
  await onServer(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
