// Email benchmark (npm run bench:email): sends BENCH_MESSAGES messages (default 1,000) as one
// email_batch job to a real SMTP server started here on a free local port, with the rate
// limit off (EMAIL_RATE_PER_MINUTE=0). Everything a real batch does happens: the job runs in
// the in-process engine on an embedded (PGlite) database, each message is rendered (name and
// course results table), a SENDING then SENT row is written per recipient, progress is
// written after each one, and the batch is audited. It then checks that every address got
// exactly one message.
//
// Environment: BENCH_MESSAGES (1000). The JSON report goes to stdout, then a one-line
// summary; progress goes to stderr.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../src/config.ts';
import { startSmtpServer } from '../src/modules/emails/emails.test-support.ts';
import { RolesService } from '../src/modules/roles/roles.service.ts';
import { openDatabase } from '../src/platform/db/client.ts';
import { SYSTEM_CONTEXT } from '../src/platform/http/request-context.ts';
import { createServices } from '../src/services.ts';
import { envCount, round } from './report.ts';

const log = (message: string) => process.stderr.write(`[bench:email] ${message}\n`);

async function main() {
  const messages = envCount('BENCH_MESSAGES', 1000);
  const smtp = await startSmtpServer();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'registrar-email-bench-'));
  const database = await openDatabase({ kind: 'pglite' });
  try {
    await database.migrate();
    const config = loadConfig({
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256-signing',
      SMTP_URL: smtp.url,
      EMAIL_FROM: 'Registrar Bench <bench@school.test>',
      EMAIL_RATE_PER_MINUTE: '0',
      LOG_LEVEL: 'silent',
    });
    const services = createServices(database.db, config);
    await new RolesService(database.db, services.audit).ensureBuiltinRoles();

    log(`seeding ${messages} students in one course`);
    await database.db.execute(sql`
      INSERT INTO courses (course_code, course_name, semester) VALUES ('BENCH-1', 'Benchmark', 'Fall 2025')`);
    await database.db.execute(sql`
      INSERT INTO students (student_id, first_name, last_name, email, class_division)
      SELECT 'B' || lpad(g::text, 6, '0'),
             (ARRAY['Ελένη','Γεώργιος','Μαρία','Anna','John'])[1 + g % 5],
             'Student ' || g, 'b' || g || '@students.test', 'BENCH'
      FROM generate_series(1, ${messages}) AS g`);
    await database.db.execute(sql`
      INSERT INTO course_enrollments (student_id, course_id)
      SELECT s.id, c.id FROM students s CROSS JOIN courses c WHERE c.course_code = 'BENCH-1'`);

    await services.jobEngine.start();
    services.audit.start();
    const started = performance.now();
    const job = await services.emails.startBatch(
      {
        recipients: { class_division: 'BENCH' },
        subject: 'Results for {{student_name}}',
        body: 'Dear {{first_name}},\n\nYour results:\n\n{{course_results}}\n\nThe school office',
        attach_report: 'none',
      },
      null,
      SYSTEM_CONTEXT,
    );
    const createdSeconds = (performance.now() - started) / 1000;
    let current = await services.jobs.getJob(job.id);
    let lastLogged = 0;
    while (!['COMPLETED', 'FAILED', 'CANCELLED'].includes(current.status)) {
      await sleep(50);
      current = await services.jobs.getJob(job.id);
      if (performance.now() - lastLogged > 2000) {
        lastLogged = performance.now();
        log(`${current.progress.current} of ${messages} sent`);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    await services.jobEngine.stop(5000);
    await services.audit.stop();
    await services.mailer.close();
    await services.bus.close();
    if (current.status !== 'COMPLETED') {
      throw new Error(`the batch ended ${current.status}: ${current.error_message}`);
    }

    const perAddress = new Map<string, number>();
    for (const message of smtp.received) {
      for (const to of message.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
    }
    const exactlyOnce =
      perAddress.size === messages && [...perAddress.values()].every((count) => count === 1);
    const bytes = smtp.received.reduce((sum, message) => sum + message.raw.length, 0);
    const report = {
      benchmark: 'email',
      date: new Date().toISOString(),
      node: process.version,
      database: 'pglite',
      transport: 'smtp (smtp-server on 127.0.0.1, pooled nodemailer transport)',
      rate_limit_per_minute: 0,
      messages,
      received: smtp.received.length,
      exactly_once_per_recipient: exactlyOnce,
      average_message_bytes: Math.round(bytes / Math.max(1, smtp.received.length)),
      job_create_seconds: round(createdSeconds, 3),
      seconds: round(seconds, 2),
      messages_per_second: Math.round(messages / seconds),
      statistics: current.result?.statistics ?? null,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(
      `email batch of ${messages} messages over SMTP: ${report.messages_per_second} messages/s (${report.seconds} s), exactly once per recipient: ${exactlyOnce}\n`,
    );
    if (!exactlyOnce) process.exitCode = 1;
  } finally {
    await database.close();
    await smtp.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
