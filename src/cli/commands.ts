import { type Command, type CommanderError, Option } from 'commander';
import { IMPORT_TYPES } from '../modules/imports/parsing/types.ts';
import { JOB_STATUSES, JOB_TYPES } from '../modules/jobs/jobs.constants.ts';
import { backupCommand, restoreCommand } from './backup.command.ts';
import { DEFAULT_URL } from './client.ts';
import { EXPORT_RESOURCE_NAMES, exportCommand } from './export.command.ts';
import { importCommand } from './import.command.ts';
import { type CliIo, EXIT, processIo } from './io.ts';
import { jobsCancelCommand, jobsListCommand, jobsWatchCommand } from './jobs.command.ts';
import { migrateDataCommand } from './migrate-data.command.ts';
import { sessionsExportCommand, sessionsImportCommand } from './sessions.command.ts';

/** Usage mistakes exit 2 (commander's default is 1); --help still exits 0. */
function usageExit(error: CommanderError): never {
  process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
}

function clientCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .option('--url <url>', `server address (default: REGISTRAR_URL or ${DEFAULT_URL})`)
    .option('--token <token>', 'access token (default: REGISTRAR_TOKEN)')
    .exitOverride(usageExit);
}

/**
 * The commands that work through a running server's HTTP API (import, export, jobs), so
 * every action is the signed-in user's and audited as theirs.
 */
export function registerClientCommands(program: Command, io: () => CliIo = processIo): void {
  const run = async (work: Promise<number>) => {
    process.exitCode = await work;
  };

  clientCommand(program, 'import', 'Import a CSV, XLSX or JSON file through the server')
    .argument('<file>', 'the file to import')
    .addOption(
      new Option('--type <type>', 'what the file holds')
        .choices(IMPORT_TYPES)
        .makeOptionMandatory(),
    )
    .option('--allow-updates', 'update records that already exist (otherwise they are skipped)')
    .option('--skip-duplicates', 'skip rows repeating an earlier row (otherwise an error)')
    .option('--encoding <encoding>', 'the text encoding (default: detected)')
    .option('--delimiter <delimiter>', 'the CSV delimiter: , ; | or tab (default: detected)')
    .option('--date-order <order>', 'dmy or mdy, for dates like 03/04/2025', 'dmy')
    .option('--sheet <name>', 'the XLSX sheet (default: the first)')
    .option('--mapping <json>', 'JSON object: file header → field, or null to ignore a column')
    .option('-y, --yes', 'commit without asking')
    .action((file: string, options) => run(importCommand(file, options, io())));

  clientCommand(program, 'export', 'Export a list to a file (large ones as a background job)')
    .argument('<resource>', EXPORT_RESOURCE_NAMES.join(' | '))
    .addOption(
      new Option('--format <format>', 'file format')
        .choices(['csv', 'xlsx', 'json'])
        .default('csv'),
    )
    .addOption(new Option('--lang <lang>', 'column headers').choices(['en', 'el']).default('en'))
    .option('-o, --output <file>', 'where to write; - for stdout (default: the suggested name)')
    .option('--filter <key=value...>', 'list filters, e.g. study_year=2 is_active=true')
    .action((resource: string, options) => run(exportCommand(resource, options, io())));

  const jobs = program.command('jobs').description('List, watch and cancel background jobs');
  clientCommand(jobs, 'list', 'Recent jobs, newest first')
    .addOption(new Option('--status <status>', 'only this status').choices(JOB_STATUSES))
    .addOption(new Option('--type <type>', 'only this job type').choices(JOB_TYPES))
    .option('--mine', 'only my jobs (admins see everyone’s otherwise)')
    .option('--limit <n>', 'how many (1-100)', '20')
    .option('--json', 'print the jobs as JSON')
    .action((options) => run(jobsListCommand(options, io())));
  clientCommand(jobs, 'watch', "Show a job's progress until it ends (exit 0 if it COMPLETED)")
    .argument('<id>', 'the job id')
    .action((id: string, options) => run(jobsWatchCommand(id, options, io())));
  clientCommand(jobs, 'cancel', 'Cancel a job')
    .argument('<id>', 'the job id')
    .action((id: string, options) => run(jobsCancelCommand(id, options, io())));

  const sessions = program
    .command('sessions')
    .description('Move a semester between installs as one JSON bundle');
  clientCommand(sessions, 'export', "Save a semester's courses and everything attached to them")
    .requiredOption('--semester <label>', 'the semester, e.g. "Fall 2025"')
    .option('-o, --output <file>', 'where to write; - for stdout (default: the suggested name)')
    .action((options) => run(sessionsExportCommand(options, io())));
  clientCommand(sessions, 'import', 'Import a semester bundle, all or nothing, as a job')
    .argument('<file>', 'the bundle (from sessions export, or the original system)')
    .addOption(
      new Option('--merge-strategy <strategy>', 'records that exist already')
        .choices(['update', 'skip'])
        .default('update'),
    )
    .option('--dry-run', 'only show what would change and every problem')
    .option('-y, --yes', 'import without asking')
    .action((file: string, options) => run(sessionsImportCommand(file, options, io())));

  clientCommand(program, 'backup', 'Back up all data to DATA_DIR/backups on the server')
    .option('--list', 'list the backups instead of making one')
    .action((options) => run(backupCommand(options, io())));
  clientCommand(program, 'restore', 'Replace all data with a backup (after a safety backup)')
    .argument('<name>', 'the backup, as `registrar backup --list` names it')
    .option('-y, --yes', 'restore without asking')
    .action((name: string, options) => run(restoreCommand(name, options, io())));
  clientCommand(program, 'migrate-data', 'Copy all data into an empty PostgreSQL database')
    .requiredOption(
      '--to <url>',
      'postgres://user:password@host:5432/database (the password may come from PGPASSWORD)',
    )
    .action((options) => run(migrateDataCommand(options, io())));
}
