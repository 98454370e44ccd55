/**
 * What every CLI command shares: the global options, the logger, loading the
 * config (exit 1 with every problem listed) and the argument parsers whose
 * errors commander prints as usage errors (exit 2).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { type Config, ConfigError, configPath, loadConfig } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import type { QueueName } from '../queues.js';
import { registerSecrets, secretValues } from '../secrets.js';
import { parseDuration } from '../text/duration.js';

/** Options every command accepts (given before or after the command name). */
export interface GlobalOptions {
  config?: string;
  logLevel?: string;
}

/** Handed to each command's `register`: the process environment and the global options. */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  globals(): GlobalOptions;
}

/** A command file's one export: adds its command to the program. */
export type RegisterCommand = (program: Command, cli: CliContext) => void;

/**
 * The command's logger. CLI commands log to stderr so stdout carries only
 * their result (`--json | jq` works); the long-running roles pass `1`.
 */
export function makeLogger(cli: CliContext, fd: 1 | 2 = 2): Logger {
  return createLogger({ level: cli.globals().logLevel ?? cli.env.LOG_LEVEL ?? 'info', format: cli.env.LOG_FORMAT, fd });
}

/** Loads the config or exits 1 with every problem listed. */
export function configOrExit(cli: CliContext): { config: Config; path: string } {
  const path = configPath(cli.globals().config, cli.env);
  try {
    const config = loadConfig(path, cli.env);
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

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

export function queueList(value: string): QueueName[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (name !== 'poll' && name !== 'notify') throw new InvalidArgumentError(`unknown queue "${name}": use poll, notify or poll,notify`);
  }
  if (names.length === 0) throw new InvalidArgumentError('name at least one queue: poll, notify');
  return names as QueueName[];
}

export function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('must be a duration like 90s, 5m or milliseconds');
  return ms;
}
