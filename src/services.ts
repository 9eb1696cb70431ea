import path from 'node:path';
import type { Config } from './config.ts';
import { createAttendanceService } from './modules/attendance/attendance.service.ts';
import { AuditLogger } from './modules/audit/audit.logger.ts';
import { AuthService } from './modules/auth/auth.service.ts';
import { backupRestoreHandler } from './modules/backups/backup-restore.job.ts';
import { BackupService } from './modules/backups/backups.service.ts';
import { createCoursesService } from './modules/courses/courses.service.ts';
import { emailBatchHandler } from './modules/emails/email-batch.job.ts';
import { EmailsService } from './modules/emails/emails.service.ts';
import { createEnrollmentsService } from './modules/enrollments/enrollments.service.ts';
import { exportLargeHandler } from './modules/exports/export-large.job.ts';
import { createGradesService } from './modules/grades/grades.service.ts';
import { createHighlightsService } from './modules/highlights/highlights.service.ts';
import { bulkImportHandler } from './modules/imports/bulk-import.job.ts';
import { ImportsService } from './modules/imports/imports.service.ts';
import { BullMqJobEngine } from './modules/jobs/engines/bullmq.engine.ts';
import { LocalJobEngine } from './modules/jobs/engines/local.engine.ts';
import { bulkTargets, bulkUpdateHandler } from './modules/jobs/handlers/bulk-update.job.ts';
import { cleanupHandler } from './modules/jobs/handlers/cleanup.job.ts';
import { JobManager } from './modules/jobs/jobs.manager.ts';
import { JobRegistry } from './modules/jobs/jobs.registry.ts';
import { dataMigrationHandler } from './modules/migration/data-migration.job.ts';
import { DataMigrationService } from './modules/migration/data-migration.service.ts';
import { createPerformancesService } from './modules/performances/performances.service.ts';
import { recomputeHandler } from './modules/results/recompute.job.ts';
import { RecomputeScheduler } from './modules/results/recompute-scheduler.ts';
import { ResultsService } from './modules/results/results.service.ts';
import { RolesService } from './modules/roles/roles.service.ts';
import { bulkImportDispatcher } from './modules/sessions/import-job-dispatch.ts';
import { sessionImportHandler } from './modules/sessions/session-import.job.ts';
import { SessionsService } from './modules/sessions/sessions.service.ts';
import { SettingsService } from './modules/settings/settings.service.ts';
import { createStudentsService } from './modules/students/students.service.ts';
import { UsersService } from './modules/users/users.service.ts';
import { BulkChangeService } from './platform/crud/bulk-change.ts';
import type { ListCaching } from './platform/crud/resource.service.ts';
import type { Database } from './platform/db/client.ts';
import { ChangeFeed } from './platform/events/change-feed.ts';
import { type EventBus, LocalEventBus } from './platform/events/event-bus.ts';
import { RedisEventBus } from './platform/events/redis-event-bus.ts';
import type { ChangeRecorder } from './platform/http/request-context.ts';
import type { Mailer } from './platform/mail/mailer.ts';
import { OutboxMailer, outboxDir } from './platform/mail/outbox.mailer.ts';
import { MailRateLimiter } from './platform/mail/rate-limiter.ts';
import { SmtpMailer } from './platform/mail/smtp.mailer.ts';
import { TokenSigner } from './platform/security/tokens.ts';

/** Every service, wired once per process (or per test) around one database. */
export function createServices(
  db: Database,
  config: Config,
  options: {
    recorder?: ChangeRecorder;
    runWorker?: boolean;
    /** Where the job engine reports errors it recovers from (the server's logger). */
    onJobEngineError?: (error: unknown, where: string) => void;
  } = {},
) {
  const signer = new TokenSigner(config.jwtSecret, config.accessTokenTtlSeconds);
  const audit = new AuditLogger(db, {
    enabled: config.audit.enabled,
    sealIntervalMs: config.audit.sealIntervalMs,
  });
  // Tests may wrap the recorder (to force a failure after the write); it is the audit trail.
  const recorder = options.recorder ?? audit;
  // Distributed mode (REDIS_URL): events cross processes and BullMQ workers run the jobs.
  const bus: EventBus = config.redisUrl ? new RedisEventBus(config.redisUrl) : new LocalEventBus();
  // Cached lists hear of changes in this process at once, and from other processes on the bus.
  const changes = new ChangeFeed(bus);
  const caching: ListCaching = { ttlMs: config.listCacheMs, changes };
  // A new letter scale changes every result's letter (the scheduler is made below).
  const settings = new SettingsService(db, config.settingsDefaults, audit, (keys) => {
    if (keys.includes('grade_scale')) recompute.requestAll();
  });
  const jobs = new JobManager(db, bus, audit, {
    maxJobs: config.jobs.maxJobs,
    maxJobsPerUser: config.jobs.maxJobsPerUser,
    retentionHours: config.settingsDefaults.job_retention_hours,
  });
  const records = {
    students: createStudentsService(db, recorder, caching),
    courses: createCoursesService(db, recorder, caching),
    enrollments: createEnrollmentsService(db, recorder, caching),
    grades: createGradesService(db, recorder, caching),
    attendance: createAttendanceService(db, recorder, caching),
    performances: createPerformancesService(db, recorder, caching),
    highlights: createHighlightsService(db, recorder, caching),
  };
  const bulkChanges = new BulkChangeService(
    db,
    audit,
    jobs,
    bulkTargets(records),
    config.rateLimits.jobsPerMinute,
  );
  const backups = new BackupService(db, audit, {
    dataDir: config.dataDir,
    encryptionKey: config.backupEncryptionKey,
  });
  const migration = new DataMigrationService(db, audit);
  // Without SMTP_URL, messages wait as .eml files in DATA_DIR/outbox (nothing is lost).
  const mailer: Mailer = config.mail.smtpUrl
    ? new SmtpMailer({ url: config.mail.smtpUrl, maxConnections: config.mail.concurrency })
    : new OutboxMailer(outboxDir(config.dataDir));
  const results = new ResultsService(db);
  // Results follow the writes of this process (a restore announces every resource: all).
  const recompute = new RecomputeScheduler(db, jobs, {
    debounceMs: config.recomputeDebounceMs,
    lockAcrossProcesses: config.databaseUrl !== undefined,
    ...(options.onJobEngineError
      ? { onError: (error: unknown) => options.onJobEngineError?.(error, 'recompute scheduling') }
      : {}),
  });
  recompute.watch(changes);
  // The resource routes find the bulk routes' service here.
  for (const service of Object.values(records)) service.bulkChanges = bulkChanges;
  const jobRegistry = new JobRegistry()
    .register('cleanup', cleanupHandler(db, config.dataDir))
    .register('export_large', exportLargeHandler({ db, dataDir: config.dataDir, audit }))
    // File imports and session imports share the bulk_import type; the payload picks one.
    .register(
      'bulk_import',
      bulkImportDispatcher(
        bulkImportHandler(db, records, audit),
        sessionImportHandler(db, records, audit),
      ),
    )
    .register('bulk_update', bulkUpdateHandler(db, bulkChanges))
    .register(
      'backup_restore',
      backupRestoreHandler({
        db,
        backups,
        // Cached lists still hold the data from before the restore (role grants expire in 5 s).
        onRestored: async () => {
          for (const service of Object.values(records)) service.recordsChanged();
          changes.announce('USER');
        },
      }),
    )
    .register(
      'data_migration',
      dataMigrationHandler({ db, migration, jwtSecret: config.jwtSecret }),
    )
    .register('recompute', recomputeHandler({ results, settings }))
    .register(
      'email_batch',
      emailBatchHandler({
        db,
        audit,
        mailer,
        limiter: new MailRateLimiter(config.mail.ratePerMinute),
        from: config.mail.from,
        maxAttempts: config.mail.maxAttempts,
        retryBaseMs: config.mail.retryBaseMs,
        concurrency: config.mail.concurrency,
      }),
    );
  // Every job type has its handler: a process that could not run one of them does not start.
  jobRegistry.assertComplete();
  const concurrency = async () => (await settings.get()).job_concurrency;
  const jobEngine = config.redisUrl
    ? new BullMqJobEngine(jobs, jobRegistry, bus, {
        connection: config.redisUrl,
        concurrency,
        runWorker: options.runWorker ?? config.jobs.runWorker,
        ...(options.onJobEngineError ? { onError: options.onJobEngineError } : {}),
      })
    : new LocalJobEngine(jobs, jobRegistry, bus, { concurrency });
  return {
    signer,
    audit,
    bus,
    changes,
    jobs,
    jobRegistry,
    jobEngine,
    auth: new AuthService(db, signer, config, audit),
    roles: new RolesService(db, audit),
    settings,
    users: new UsersService(db, recorder, caching),
    ...records,
    imports: new ImportsService(db, records, jobs, {
      maxRows: config.imports.maxRows,
      uploadDir: path.join(config.dataDir, 'uploads'),
    }),
    bulkChanges,
    sessions: new SessionsService(db, records, jobs),
    backups,
    migration,
    results,
    recompute,
    mailer,
    emails: new EmailsService(db, jobs),
  };
}

export type Services = ReturnType<typeof createServices>;
