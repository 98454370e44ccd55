/**
 * The long-running roles: `dbswatch run` (everything in one process, the
 * container default), `dbswatch scheduler` and `dbswatch worker` (scale-out:
 * many workers, one Redis). Each hands off to the composition root.
 */
import type { QueueName } from '../queues.js';
import { type Role, StartupError, startRole } from '../roles.js';
import { type CliContext, configOrExit, makeLogger, positiveInt, queueList, type RegisterCommand } from './context.js';

export interface RoleCliOptions {
  queues?: QueueName[];
  concurrency?: number;
}

/** Starts `role` with the config and options from the command line. */
export async function startRoleFromCli(role: Role, cli: CliContext, opts: RoleCliOptions = {}): Promise<void> {
  const { config, path } = configOrExit(cli);
  // Container logs: JSON lines on stdout.
  const log = makeLogger(cli, 1);
  try {
    await startRole({
      role,
      config,
      configPath: path,
      env: cli.env,
      log,
      ...(opts.queues ? { queues: opts.queues } : {}),
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    });
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    // One line, then out: nothing was consumed or sent, everything opened is closed.
    log.fatal({ role }, error.message);
    process.exitCode = 1;
    log.flush(() => process.exit(1));
  }
}

export const registerRoles: RegisterCommand = (program, cli) => {
  program
    .command('run')
    .description('run everything in one process: scheduler, poll and notify workers, HTTP server (the container default)')
    .addHelpText(
      'after',
      `
Examples:
  dbswatch run --config /etc/dbswatch/dbswatch.yaml
  LOG_FORMAT=pretty dbswatch run     # readable logs (needs the dev dependency pino-pretty)
Start-up is all or nothing: config, Redis, the HTTP port and signal handlers first; any failure exits 1 with one line.`,
    )
    .action(() => startRoleFromCli('run', cli));

  program
    .command('scheduler')
    .description('keep one poll schedule per plan (run one or more; they agree)')
    .addHelpText(
      'after',
      `
Examples:
  dbswatch scheduler                 # next to one or more \`dbswatch worker\` processes`,
    )
    .action(() => startRoleFromCli('scheduler', cli));

  program
    .command('worker')
    .description('consume queues; run as many as you need against one Redis')
    .addHelpText(
      'after',
      `
Examples:
  dbswatch worker                    # poll and notify
  dbswatch worker --queues notify --concurrency 8`,
    )
    .option('--queues <list>', 'queues to consume: poll, notify or poll,notify', queueList, ['poll', 'notify'])
    .option('--concurrency <n>', 'jobs at once per queue (default: from config)', positiveInt)
    .action((opts: RoleCliOptions) => startRoleFromCli('worker', cli, opts));
};
