import { Command } from 'commander';
import { registerClientCommands } from './cli/commands.ts';
import { ConfigError } from './config.ts';

const server = () => import('./server-commands.ts');

const program = new Command()
  .name('registrar')
  .description('Registrar: student records, bulk jobs and an audit trail')
  .showHelpAfterError();

program
  .command('serve', { isDefault: true })
  .description('Start the HTTP server (embedded PGlite unless DATABASE_URL is set)')
  .action(async () => (await server()).serve());
program
  .command('worker')
  .description('Run background jobs from Redis (BullMQ); needs REDIS_URL, any number of them')
  .action(async () => (await server()).worker());
program
  .command('migrate')
  .description('Apply database migrations and exit')
  .action(async () => (await server()).migrate());
program
  .command('seed')
  .description('Fill the database with sample data')
  .option('--demo', 'a realistic demo school: students, courses, grades, attendance, …')
  .option('--students <count>', 'how many students', '500')
  .action(async (options: { demo?: boolean; students: string }) => (await server()).seed(options));
program
  .command('audit-retention')
  .description('Archive and delete audit entries older than audit_retention_days, once')
  .option('--verify <files...>', 'instead, check archives (.jsonl.gz or .manifest.json)')
  .action(async (options: { verify?: string[] }) => (await server()).auditRetention(options));

registerClientCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
