import type { Config } from './config.ts';
import { ensureFirstAdmin, type FirstAdmin } from './modules/users/first-admin.ts';
import type { DatabaseHandle } from './platform/db/client.ts';
import { openDatabase } from './platform/db/client.ts';
import type { Services } from './services.ts';

export function openConfiguredDatabase(config: Config): Promise<DatabaseHandle> {
  return config.databaseUrl
    ? openDatabase({ kind: 'postgres', url: config.databaseUrl, poolSize: config.databasePoolSize })
    : openDatabase({ kind: 'pglite', dataDir: config.dataDir });
}

/** Migrations, built-in roles and the first admin: everything a fresh database needs. */
export async function prepareDatabase(
  database: DatabaseHandle,
  services: Pick<Services, 'roles'>,
  config: Config,
): Promise<FirstAdmin | undefined> {
  await database.migrate();
  await services.roles.ensureBuiltinRoles();
  return ensureFirstAdmin(database.db, config);
}
