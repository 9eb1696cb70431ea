// The commands that open the database and run the server or a worker, loaded only when one
// of them runs: the client commands (import, export, jobs) start without them.
import { buildApp } from './app.ts';
import { openConfiguredDatabase, prepareDatabase } from './bootstrap.ts';
import { ConfigError, loadConfig } from './config.ts';
import {
  AuditRetention,
  scheduleAuditRetention,
  verifyAuditArchive,
} from './modules/audit/audit.retention.ts';
import { BullMqJobEngine } from './modules/jobs/engines/bullmq.engine.ts';
import type { FirstAdmin } from './modules/users/first-admin.ts';
import { buildWebAppIfMissing } from './platform/http/web-build.ts';
import { createServices } from './services.ts';

function announceFirstAdmin(admin: FirstAdmin | undefined) {
  if (!admin?.generatedPassword) return;
  // Printed once, straight to the terminal and not through the logger, so it never lands in log files.
  process.stderr.write(
    [
      '',
      '==================================================================',
      ' Registrar created the first admin account:',
      `   e-mail:   ${admin.email}`,
      `   password: ${admin.generatedPassword}`,
      ' This password is shown only now; you must change it at first sign-in.',
      '==================================================================',
      '',
    ].join('\n'),
  );
}

export async function serve() {
  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  const { app, services } = await buildApp({ config, database });
  announceFirstAdmin(await prepareDatabase(database, services, config));
  await buildWebAppIfMissing(app.log);

  let closing = false;
  let stopRetention = async () => {};
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    await stopRetention();
    await app.close();
    await database.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    {
      database: database.kind,
      ui: `http://localhost:${config.port}/`,
      docs: `http://localhost:${config.port}/docs`,
    },
    'Registrar is ready',
  );
  stopRetention = scheduleAuditRetention(
    new AuditRetention(database.db, services.audit, services.settings, { dataDir: config.dataDir }),
    app.log,
  );
}

/** Runs BullMQ jobs only: no HTTP server. Any number of these, on any machine. */
export async function worker() {
  const loaded = loadConfig();
  if (!loaded.redisUrl) {
    throw new ConfigError([
      'REDIS_URL="": the worker command needs Redis (REDIS_URL=redis://host:6379); without it, `registrar serve` runs jobs in-process',
    ]);
  }
  const config = { ...loaded, jobs: { ...loaded.jobs, runWorker: true } };
  const database = await openConfiguredDatabase(config);
  const services = createServices(database.db, config, {
    runWorker: true,
    onJobEngineError: (error, where) =>
      process.stderr.write(
        `Registrar worker: ${where}: ${error instanceof Error ? error.message : String(error)}\n`,
      ),
  });
  announceFirstAdmin(await prepareDatabase(database, services, config));

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`Registrar worker: ${signal}, finishing running jobs…\n`);
    await services.recompute.close();
    await services.jobEngine.stop(config.jobs.shutdownGraceMs);
    await services.bus.close();
    await services.audit.stop();
    await services.mailer.close();
    await database.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await services.jobEngine.start();
  services.audit.start();
  process.stderr.write(
    `Registrar worker ${services.jobEngine instanceof BullMqJobEngine ? services.jobEngine.workerId : ''} is running (database: ${database.kind}).\n`,
  );
}

export async function migrate() {
  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  try {
    const { services } = await buildApp({ config, database, logger: false });
    announceFirstAdmin(await prepareDatabase(database, services, config));
    process.stdout.write(`Migrations applied (${database.kind}).\n`);
    // Seal the entries this command wrote (the first admin's creation), not at the next start.
    await services.audit.stop();
  } finally {
    await database.close();
  }
}

export async function seed(options: { demo?: boolean; students: string }) {
  if (!options.demo) throw new Error('Say what to seed: registrar seed --demo');
  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  try {
    const { services } = await buildApp({ config, database, logger: false });
    announceFirstAdmin(await prepareDatabase(database, services, config));
    const { seedDemoSchool } = await import('./modules/demo/demo-seed.ts');
    const counts = await seedDemoSchool(database.db, { students: Number(options.students) });
    // The seed writes with SQL, not through the services: its results come from one job,
    // which runs when the server starts.
    await services.jobs.createJob({
      jobType: 'recompute',
      userId: null,
      metadata: { scope: 'all' },
      priority: 3,
    });
    process.stdout.write(`Demo school ready: ${JSON.stringify(counts)}\n`);
    await services.audit.stop();
  } finally {
    await database.close();
  }
}

export async function auditRetention(options: { verify?: string[] }) {
  if (options.verify) {
    const results = await Promise.all(options.verify.map((file) => verifyAuditArchive(file)));
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    if (results.some((result) => !result.valid)) process.exitCode = 1;
    return;
  }
  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  try {
    const { services } = await buildApp({ config, database, logger: false });
    announceFirstAdmin(await prepareDatabase(database, services, config));
    const retention = new AuditRetention(database.db, services.audit, services.settings, {
      dataDir: config.dataDir,
    });
    process.stdout.write(`${JSON.stringify(await retention.run(), null, 2)}\n`);
    await services.audit.stop();
  } finally {
    await database.close();
  }
}
