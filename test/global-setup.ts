import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { RolesService } from '../src/modules/roles/roles.service.ts';
import { openDatabase } from '../src/platform/db/client.ts';
import { onServer, uniqueDatabaseName, urlForDatabase } from './support/databases.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A tar of a migrated PGlite data directory that each test file loads. */
    pgliteTemplate: string;
    /** A migrated PostgreSQL database each test file copies with CREATE DATABASE … TEMPLATE. */
    postgresTemplate: string;
  }
}

/**
 * Migrates one template database per run, because a fresh database per test file costs
 * seconds while a copy of a migrated one costs well under one.
 */
export default async function setup(project: TestProject) {
  // The project's env reaches the test files, not this setup: tell the kinds apart by name.
  if (project.name === 'postgres') {
    const serverUrl = process.env.TEST_DATABASE_URL;
    if (!serverUrl) throw new Error('TEST_DB_KIND=postgres needs TEST_DATABASE_URL');
    const name = uniqueDatabaseName('registrar_template');
    await onServer(serverUrl, `CREATE DATABASE ${name}`);
    const database = await openDatabase({ kind: 'postgres', url: urlForDatabase(serverUrl, name) });
    await database.migrate();
    await new RolesService(database.db).ensureBuiltinRoles();
    await database.close();
    project.provide('postgresTemplate', name);
    project.provide('pgliteTemplate', '');
    return async () => {
      await onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    };
  }

  const database = await openDatabase({ kind: 'pglite' });
  await database.migrate();
  await new RolesService(database.db).ensureBuiltinRoles();
  const client = (database.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<Blob> } })
    .$client;
  const dump = await client.dumpDataDir('none');
  await database.close();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'registrar-test-'));
  const file = path.join(dir, 'template.tar');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplate', file);
  project.provide('postgresTemplate', '');
  return () => rmSync(dir, { recursive: true, force: true });
}
