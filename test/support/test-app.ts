import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { type DatabaseHandle, openDatabase } from '../../src/platform/db/client.ts';
import type { ChangeRecorder } from '../../src/platform/http/request-context.ts';
import type { Services } from '../../src/services.ts';
import { onServer, testDatabaseKind, uniqueDatabaseName, urlForDatabase } from './databases.ts';

/** Opens a fresh copy of the migrated template database for one test file. */
export async function openTestDatabase(): Promise<DatabaseHandle> {
  if (testDatabaseKind() === 'postgres') {
    const serverUrl = process.env.TEST_DATABASE_URL!;
    const name = uniqueDatabaseName('registrar_test');
    await onServer(serverUrl, `CREATE DATABASE ${name} TEMPLATE ${inject('postgresTemplate')}`);
    const database = await openDatabase({
      kind: 'postgres',
      url: urlForDatabase(serverUrl, name),
      poolSize: 4,
    });
    return {
      ...database,
      async close() {
        await database.close();
        await onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
    };
  }
  const template = readFileSync(inject('pgliteTemplate'));
  return openDatabase({ kind: 'pglite', loadDataDir: new Blob([template]) });
}

export const TEST_PASSWORD = 'correct-horse-battery';

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  database: DatabaseHandle;
  config: Config;
  /** Access tokens of one signed-in user per built-in role. */
  tokens: { admin: string; teacher: string; viewer: string };
  users: { admin: number; teacher: number; viewer: number };
  /** app.inject with a bearer token; `as` picks the role (default admin). */
  request(
    options: InjectOptions & { as?: 'admin' | 'teacher' | 'viewer' | null },
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-signing',
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'registrar-data-')),
    LOG_LEVEL: 'silent',
    // Automatic recomputes would add jobs and audit entries to tests that count them; the
    // results tests turn them on.
    RECOMPUTE_DEBOUNCE_MS: '0',
    ...overrides,
  });
}

/**
 * A full Registrar on its own database, with an admin, a teacher and a viewer signed in.
 * Users are made through the real services, like every other factory.
 */
export async function createTestApp(
  options: { env?: Record<string, string>; recorder?: ChangeRecorder } = {},
): Promise<TestApp> {
  const config = testConfig(options.env);
  const database = await openTestDatabase();
  const { app, services } = await buildApp({
    config,
    database,
    logger: false,
    ...(options.recorder ? { recorder: options.recorder } : {}),
  });
  await app.ready();

  const ids = { admin: 0, teacher: 0, viewer: 0 };
  const tokens = { admin: '', teacher: '', viewer: '' };
  for (const role of ['admin', 'teacher', 'viewer'] as const) {
    const user = await services.users.createUser(
      {
        email: `${role}@school.test`,
        full_name: `Test ${role}`,
        role,
        password: TEST_PASSWORD,
        must_change_password: false,
      },
      { actor: null, ipAddress: null, userAgent: null, requestId: null },
    );
    ids[role] = user.id;
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: TEST_PASSWORD },
    });
    tokens[role] = response.json().access_token;
  }

  return {
    app,
    services,
    database,
    config,
    tokens,
    users: ids,
    request({ as = 'admin', ...request }) {
      const headers = { ...(request.headers ?? {}) };
      if (as) headers.authorization = `Bearer ${tokens[as]}`;
      return app.inject({ ...request, headers });
    },
    async close() {
      await app.close();
      await database.close();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}
