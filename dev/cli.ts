#!/usr/bin/env node
/**
 * Developer tooling, run with tsx and never built into dist/ or the image:
 * `npm run demo` (the whole pipeline against local fakes) and
 * `npm run simulate` (the DBS API simulator on its own).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { duration, port, positiveInt } from '../src/commands/context.js';
import { createLogger } from '../src/logger.js';

const program = new Command('dbswatch-dev')
  .description('dbswatch developer tooling: the demo and the DBS simulator')
  .addOption(
    new Option('--log-level <level>', 'log level (default: $LOG_LEVEL, else info)').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  )
  .showHelpAfterError()
  .exitOverride();

const logLevel = () => program.opts<{ logLevel?: string }>().logLevel ?? process.env.LOG_LEVEL ?? 'info';

program
  .command('simulate')
  .description('run the local DBS API simulator (for the demo, tests and trying configs)')
  .option('--port <port>', 'port to listen on (0 = any free port)', port, 0)
  .option('--host <host>', 'address to bind (keep it loopback)', '127.0.0.1')
  .option('--scenario <name>', 'scenario to load: demo, sample, empty', 'demo')
  .option('--seed <n>', 'random seed for generated timelines', positiveInt)
  .action(async (opts: { port: number; host: string; scenario: string; seed?: number }) => {
    const { simulateCommand } = await import('./simulator/command.js');
    const log = createLogger({ level: logLevel(), format: process.env.LOG_FORMAT });
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
    process.exitCode = await runDemo({
      env: process.env,
      httpPort: opts.port,
      logLevel: logLevel(),
      ...(opts.duration !== undefined ? { durationMs: opts.duration } : {}),
    });
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : 2;
  else if (error instanceof InvalidArgumentError) process.exitCode = 2;
  else {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
