#!/usr/bin/env node
/**
 * The `dbswatch` command line. Parses arguments, loads the config once, and
 * hands off to the role or command; nothing here knows how any of them work.
 * Exit codes: 0 ok, 1 failure (bad config, failed check), 2 usage error.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, type Config, configPath, loadConfig, maskedConfig, secretValues } from './config.js';
import { parseDuration } from './duration.js';
import { createLogger, type Logger, registerSecrets } from './logger.js';

const env = process.env;

interface GlobalOptions {
  config?: string;
  logLevel?: string;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

function queueList(value: string): ('poll' | 'notify')[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (name !== 'poll' && name !== 'notify') throw new InvalidArgumentError(`unknown queue "${name}": use poll, notify or poll,notify`);
  }
  if (names.length === 0) throw new InvalidArgumentError('name at least one queue: poll, notify');
  return names as ('poll' | 'notify')[];
}

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('must be a duration like 90s, 5m or milliseconds');
  return ms;
}

function makeLogger(global: GlobalOptions): Logger {
  return createLogger({ level: global.logLevel ?? env.LOG_LEVEL ?? 'info', format: env.LOG_FORMAT });
}

/** Loads the config or exits 1 with every problem listed. */
function configOrExit(global: GlobalOptions): { config: Config; path: string } {
  const path = configPath(global.config, env);
  try {
    const config = loadConfig(path, env);
    registerSecrets(secretValues(config));
    return { config, path };
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

const program = new Command('dbswatch');
program
  .description('Watches Alibaba Cloud DBS backup-set download tasks and tells Slack and email when a download is ready or has failed.')
  .option('-c, --config <path>', 'config file (default: $DBSWATCH_CONFIG, else config/dbswatch.yaml)')
  .addOption(new Option('--log-level <level>', 'log level (default: $LOG_LEVEL, else info)').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']))
  .showHelpAfterError('(run dbswatch --help for usage)')
  .exitOverride();

const globals = () => program.opts<GlobalOptions>();

program
  .command('check-config')
  .description('validate the config and print it resolved, with secrets masked; exit 0 if valid, 1 if not')
  .option('--json', 'print JSON instead of YAML')
  .option('--online', 'also ask DBS whether every configured plan exists (one request per 50 plans per account)')
  .action(async (opts: { json?: boolean; online?: boolean }) => {
    const { config, path } = configOrExit(globals());
    const masked = maskedConfig(config) as Record<string, unknown>;
    const online = opts.online ? await (await import('./dbs/plan-check.js')).checkConfigOnline(config, { log: makeLogger(globals()) }) : undefined;
    if (online && !online.ok) process.exitCode = 1;
    if (opts.json) process.stdout.write(`${JSON.stringify(online ? { ...masked, online: { ok: online.ok, ...online.report } } : masked, null, 2)}\n`);
    else {
      const { stringify } = await import('yaml');
      process.stdout.write(`# ${path}: valid\n${stringify(masked)}`);
      if (online) process.stdout.write(`# online check: ${online.ok ? 'ok' : 'PROBLEMS'}\n${online.lines.map((l) => `# ${l}`).join('\n')}\n`);
    }
  });

program
  .command('run')
  .description('run everything in one process: scheduler, poll and notify workers, HTTP server (the container default)')
  .action(async () => {
    const { config, path } = configOrExit(globals());
    const { startRole } = await import('../workers/roles.js');
    await startRole({ role: 'run', config, configPath: path, env, log: makeLogger(globals()) });
  });

program
  .command('scheduler')
  .description('keep one poll schedule per plan (run one or more; they agree)')
  .action(async () => {
    const { config, path } = configOrExit(globals());
    const { startRole } = await import('../workers/roles.js');
    await startRole({ role: 'scheduler', config, configPath: path, env, log: makeLogger(globals()) });
  });

program
  .command('worker')
  .description('consume queues; run as many as you need against one Redis')
  .option('--queues <list>', 'queues to consume: poll, notify or poll,notify', queueList, ['poll', 'notify'])
  .option('--concurrency <n>', 'jobs at once per queue (default: from config)', positiveInt)
  .action(async (opts: { queues: ('poll' | 'notify')[]; concurrency?: number }) => {
    const { config, path } = configOrExit(globals());
    const { startRole } = await import('../workers/roles.js');
    await startRole({
      role: 'worker',
      config,
      configPath: path,
      env,
      log: makeLogger(globals()),
      queues: opts.queues,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    });
  });

program
  .command('poll')
  .description('poll one plan now and print the transitions found')
  .requiredOption('--plan <id>', 'backup plan id')
  .option('--dry-run', 'change nothing and enqueue nothing')
  .option('--json', 'print JSON')
  .action(async (opts: { plan: string; dryRun?: boolean; json?: boolean }) => {
    const { config } = configOrExit(globals());
    const { pollOnce } = await import('./commands/poll-once.js');
    process.exitCode = await pollOnce(config, opts.plan, { dryRun: !!opts.dryRun, json: !!opts.json, log: makeLogger(globals()) });
  });

program
  .command('tasks')
  .description('list every download task of a plan (straight from the DBS API)')
  .requiredOption('--plan <id>', 'backup plan id')
  .option('--json', 'print JSON')
  .action(async (opts: { plan: string; json?: boolean }) => {
    const { config } = configOrExit(globals());
    const { listTasks } = await import('./commands/tasks.js');
    process.exitCode = await listTasks(config, opts.plan, { json: !!opts.json, log: makeLogger(globals()) });
  });

program
  .command('status')
  .description('one screen for an operator: plans, last polls and errors, queues, failed notifications')
  .option('--json', 'print JSON for scripts')
  .action(async (opts: { json?: boolean }) => {
    const { config } = configOrExit(globals());
    const { statusCommand } = await import('./status.js');
    process.exitCode = await statusCommand(config, { json: !!opts.json });
  });

program
  .command('test-notify')
  .description('send a realistic sample notification through one channel and report the result')
  .argument('<channel>', 'channel name from the config')
  .addOption(new Option('--event <event>', 'which sample to send').choices(['finished', 'failed']).default('finished'))
  .action(async (channel: string, opts: { event: 'finished' | 'failed' }) => {
    const { config } = configOrExit(globals());
    const { testNotify } = await import('./notify/test-notify.js');
    const log = makeLogger(globals());
    if (!config.channels[channel]) {
      process.stderr.write(`unknown channel "${channel}" (channels: ${Object.keys(config.channels).join(', ') || 'none'})\n`);
      process.exitCode = 2;
      return;
    }
    const result = await testNotify(config, channel, opts.event, log);
    if (result.ok) process.stdout.write(`sent a sample "${opts.event}" notification to ${channel}\n`);
    else process.stderr.write(`sending to ${channel} failed: ${result.reason}\n`);
    process.exitCode = result.ok ? 0 : 1;
  });

program
  .command('simulate')
  .description('run the local DBS API simulator (for the demo, tests and trying configs)')
  .option('--port <port>', 'port to listen on (0 = any free port)', port, 0)
  .option('--host <host>', 'address to bind (keep it loopback)', '127.0.0.1')
  .option('--scenario <name>', 'scenario to load: demo, sample, empty', 'demo')
  .option('--seed <n>', 'random seed for generated timelines', positiveInt)
  .action(async (opts: { port: number; host: string; scenario: string; seed?: number }) => {
    const { simulateCommand } = await import('./simulator/command.js');
    const log = makeLogger(globals());
    const sim = await simulateCommand({ ...opts, log });
    const stop = () => void sim.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

program
  .command('demo')
  .description('see dbswatch work in one command: simulator, Slack and SMTP sinks, and the full pipeline')
  .option('--duration <d>', 'stop after this long (default: run until Ctrl-C)', duration)
  .option('--port <port>', 'HTTP port of the demo instance', port, 9464)
  .action(async (opts: { duration?: number; port: number }) => {
    const { runDemo } = await import('./demo.js');
    process.exitCode = await runDemo({ env, durationMs: opts.duration, httpPort: opts.port, logLevel: globals().logLevel });
  });

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

try {
  if (process.argv.length <= 2) {
    program.outputHelp();
    process.exitCode = 2;
  } else {
    await program.parseAsync(process.argv);
  }
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed the message (and a hint).
    process.exitCode = USAGE_ERRORS.has(error.code) ? 2 : error.exitCode;
  } else {
    const log = createLogger({ level: 'error' });
    log.fatal({ err: error }, error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
