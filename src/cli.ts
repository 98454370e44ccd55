#!/usr/bin/env node
/**
 * The `dbswatch` command line. Wires the commands of `src/commands/` (one file
 * each) into one program; nothing here knows how any of them work.
 * Exit codes: 0 ok, 1 failure (bad config, failed check), 2 usage error.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { registerAck } from './commands/ack.js';
import { registerCheckConfig } from './commands/check-config.js';
import type { CliContext, GlobalOptions, RegisterCommand } from './commands/context.js';
import { registerHealthcheck } from './commands/healthcheck.js';
import { registerPoll } from './commands/poll.js';
import { registerRetry } from './commands/retry.js';
import { registerRetryDownload } from './commands/retry-download.js';
import { registerRoles } from './commands/run.js';
import { registerSilence } from './commands/silence.js';
import { registerStatus } from './commands/status.js';
import { registerTasks } from './commands/tasks.js';
import { registerTestNotify } from './commands/test-notify.js';
import { createLogger } from './logger.js';
import { VERSION } from './version.js';

const COMMANDS: readonly RegisterCommand[] = [
  registerCheckConfig,
  registerRoles,
  registerPoll,
  registerTasks,
  registerStatus,
  registerTestNotify,
  registerRetry,
  registerRetryDownload,
  registerHealthcheck,
  registerSilence,
  registerAck,
];

const USAGE_ERRORS = new Set([
  'commander.unknownCommand',
  'commander.unknownOption',
  'commander.missingArgument',
  'commander.optionMissingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.invalidArgument',
  'commander.excessArguments',
  'commander.conflictingOption',
]);

/** The program with every command registered. */
export function buildProgram(env: Readonly<Record<string, string | undefined>> = process.env): Command {
  const program = new Command('dbswatch');
  program
    .description('Watches Alibaba Cloud DBS backup-set download tasks and tells Slack and email when a download is ready or has failed.')
    .option('-c, --config <path>', 'config file (default: $DBSWATCH_CONFIG, else config/dbswatch.yaml)')
    .addOption(
      new Option('--log-level <level>', 'log level (default: $LOG_LEVEL, else info)').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    )
    .version(VERSION, '-V, --version', 'print the dbswatch version')
    .showHelpAfterError('(run dbswatch --help for usage)')
    // Every command's --help shows the global options (--config, --log-level) too.
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      'after',
      `
Examples:
  dbswatch check-config --config /etc/dbswatch/dbswatch.yaml
  dbswatch run                          # the container default: everything in one process
  dbswatch tasks --json | jq .
  dbswatch status

Environment: DBSWATCH_CONFIG (config path), LOG_LEVEL, LOG_FORMAT=pretty, REDIS_URL (overrides redis.url),
and the Alibaba Cloud credential chain (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, ALIBABA_CLOUD_PROFILE, RRSA/OIDC, ECS RAM role).`,
    )
    .exitOverride();
  const cli: CliContext = { env, globals: () => program.opts<GlobalOptions>() };
  for (const register of COMMANDS) register(program, cli);
  return program;
}

/** Runs the CLI on `args` (without node and script); sets `process.exitCode`. */
export async function main(args: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    if (args.length === 0) {
      program.outputHelp();
      process.exitCode = 2;
    } else {
      await program.parseAsync([...args], { from: 'user' });
    }
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed the message (and a hint).
      process.exitCode = USAGE_ERRORS.has(error.code) ? 2 : error.exitCode;
    } else {
      const log = createLogger({ level: 'error', fd: 2 });
      log.fatal({ err: error }, error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    }
  }
}

/** True when this file is the program node was started with (not imported by a `workers/` entry point). */
function isEntryPoint(): boolean {
  const started = process.argv[1];
  if (!started) return false;
  try {
    return realpathSync(started) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) await main(process.argv.slice(2));
