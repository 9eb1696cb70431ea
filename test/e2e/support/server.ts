import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { onServer, uniqueDatabaseName, urlForDatabase } from '../../support/databases.ts';
import { type Mode, REPO_ROOT } from './env.ts';

const BIN = path.join(REPO_ROOT, 'bin/registrar.js');

export const ADMIN_EMAIL = 'admin@e2e.registrar.test';
export const ADMIN_PASSWORD = 'E2e-admin-password-1';

/** A running Registrar: the API (and, in distributed mode, one worker and a database of its own). */
export interface RegistrarStack {
  mode: Mode;
  baseUrl: string;
  dataDir: string;
  /** The admin's password: ADMIN_PASSWORD, or the one Registrar generated and printed once. */
  adminPassword: string;
  /** Output of the processes so far (the last few hundred lines), for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** Variables of the test process that must not leak into the server's configuration. */
const SERVER_VARIABLES = [
  'PORT',
  'HOST',
  'DATA_DIR',
  'DATABASE_URL',
  'REDIS_URL',
  'RUN_WORKER',
  'JWT_SECRET',
  'ADMIN_EMAIL',
  'ADMIN_PASSWORD',
  'LOG_LEVEL',
  'NODE_ENV',
  'TEST_DB_KIND',
];

function baseEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of SERVER_VARIABLES) delete env[name];
  for (const name of Object.keys(env)) if (name.startsWith('VITEST')) delete env[name];
  return env;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A child process whose output is kept (the tail of it) for error messages. */
class Child {
  private readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.lines.push(`[${name}] ${line}`);
        if (this.lines.length > 300) this.lines.shift();
      }
    };
    process.stdout?.on('data', keep);
    process.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      process.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(this.exitCode);
      });
    });
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  output(): string {
    return this.lines.join('\n');
  }

  /** Waits until a line of output matches, the process exits, or the time runs out. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.lines.some((line) => pattern.test(line))) return;
      if (!this.running) {
        throw new Error(`${this.name} exited (${this.exitCode}) before ready:\n${this.output()}`);
      }
      await sleep(100);
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.output()}`);
  }

  /** SIGTERM (the server's graceful shutdown), then SIGKILL when it hangs. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.running) this.process.kill('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startChild(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Child(name, child);
}

async function waitForHealth(baseUrl: string, api: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!api.running) throw new Error(`the server exited before it was healthy:\n${api.output()}`);
    try {
      const response = await fetch(`${baseUrl}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`the server was not healthy after ${timeoutMs} ms:\n${api.output()}`);
}

/**
 * A Redis logical database of its own for one distributed run (BullMQ's queue names are the
 * same in every Registrar, so two runs sharing a database would take each other's jobs).
 * Claimed with a key in database 0 that expires by itself; databases 8 to 14 only (the
 * project's own tests use 0 and flush 15).
 */
async function claimRedisDatabase(serverUrl: string, owner: string) {
  const control = new Redis(serverUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  await control.connect();
  try {
    for (let db = 8; db <= 14; db++) {
      const claimed = await control.set(`registrar-e2e:db:${db}`, owner, 'EX', 1800, 'NX');
      if (claimed !== 'OK') continue;
      const url = new URL(serverUrl);
      url.pathname = `/${db}`;
      const data = new Redis(url.toString(), { maxRetriesPerRequest: 2, lazyConnect: true });
      await data.connect();
      // Left over from a run that was killed: stale queued jobs would name a dropped database.
      await data.flushdb();
      await data.quit();
      return {
        url: url.toString(),
        async release() {
          const cleaner = new Redis(url.toString(), { maxRetriesPerRequest: 2, lazyConnect: true });
          await cleaner.connect();
          await cleaner.flushdb();
          await cleaner.quit();
          const releaser = new Redis(serverUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
          await releaser.connect();
          if ((await releaser.get(`registrar-e2e:db:${db}`)) === owner) {
            await releaser.del(`registrar-e2e:db:${db}`);
          }
          await releaser.quit();
        },
      };
    }
  } finally {
    await control.quit();
  }
  throw new Error('no free Redis database among 8-14 for the distributed end-to-end run');
}

export interface StartOptions {
  /** Extra settings for the API (and the worker). */
  env?: Record<string, string>;
  /**
   * Leave ADMIN_PASSWORD unset: Registrar generates the first admin's password, prints it
   * once, and asks for a new one at the first sign-in.
   */
  generatedAdminPassword?: boolean;
}

/**
 * Starts Registrar as its users do, `node bin/registrar.js serve`, on a free port with an
 * empty DATA_DIR and a known admin. Distributed: a fresh PostgreSQL database, a Redis
 * database of its own, an API with RUN_WORKER=false and a separate `registrar worker`.
 */
export async function startRegistrar(
  mode: Mode,
  options: StartOptions = {},
): Promise<RegistrarStack> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const children: Child[] = [];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `registrar-e2e-${mode}-`));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;

  let adminPassword = ADMIN_PASSWORD;
  const stop = async () => {
    // Worker first, so it does not pick work while the API goes; then the API.
    for (const child of [...children].reverse()) await child.stop();
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        process.stderr.write(`[e2e] cleanup failed: ${String(error)}\n`);
      }
    }
  };

  try {
    const env: NodeJS.ProcessEnv = {
      ...baseEnvironment(),
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_EMAIL,
      ...(options.generatedAdminPassword ? {} : { ADMIN_PASSWORD }),
      LOG_LEVEL: 'warn',
      SCHOOL_NAME: 'Λύκειο Αγίου Νικολάου',
      ...options.env,
    };

    if (mode === 'distributed') {
      const serverUrl = process.env.TEST_DATABASE_URL;
      const redisServer = process.env.TEST_REDIS_URL;
      if (!serverUrl || !redisServer) {
        throw new Error('distributed mode needs TEST_DATABASE_URL and TEST_REDIS_URL');
      }
      const database = uniqueDatabaseName('registrar_e2e');
      await onServer(serverUrl, `CREATE DATABASE ${database}`);
      cleanups.push(() => onServer(serverUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
      const redis = await claimRedisDatabase(redisServer, `${process.pid}-${port}`);
      cleanups.push(() => redis.release());
      env.DATABASE_URL = urlForDatabase(serverUrl, database);
      env.REDIS_URL = redis.url;
    }

    const api = startChild(
      'api',
      ['serve'],
      mode === 'distributed' ? { ...env, RUN_WORKER: 'false' } : env,
    );
    children.push(api);
    await waitForHealth(baseUrl, api, 200_000);
    if (options.generatedAdminPassword) {
      await api.waitForOutput(/password:\s+\S+/, 10_000);
      const printed = /password:\s+(\S+)/.exec(api.output());
      if (!printed?.[1]) throw new Error(`no generated admin password in:\n${api.output()}`);
      adminPassword = printed[1];
    }

    if (mode === 'distributed') {
      // After the API: it has migrated the database and created the admin by now.
      const worker = startChild('worker', ['worker'], env);
      children.push(worker);
      await worker.waitForOutput(/worker .*is running/, 120_000);
    }
  } catch (error) {
    const output = children.map((child) => child.output()).join('\n');
    await stop();
    if (error instanceof Error && output && !error.message.includes(output.slice(-200))) {
      error.message += `\n${output}`;
    }
    throw error;
  }

  return {
    mode,
    baseUrl,
    dataDir,
    adminPassword,
    logs: () => children.map((child) => child.output()).join('\n'),
    stop,
  };
}

/** Signs in through the API (for checks beside the browser's, never instead of it). */
export async function apiToken(stack: RegistrarStack): Promise<string> {
  const response = await fetch(`${stack.baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  if (!response.ok)
    throw new Error(`API sign-in failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

export async function apiGet<T>(
  stack: RegistrarStack,
  token: string,
  pathAndQuery: string,
): Promise<T> {
  const response = await fetch(`${stack.baseUrl}${pathAndQuery}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) {
    throw new Error(`GET ${pathAndQuery}: ${response.status} ${await response.text()}`);
  }
  return (await response.json()) as T;
}
