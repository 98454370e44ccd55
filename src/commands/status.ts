/**
 * `dbswatch status [--json]`: reads the report from Redis (the thin edge) and
 * prints it as text or JSON.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { createRedis, openQueues, type Queues } from '../queues.js';
import { maskUrl, stripUrlQueries } from '../secrets.js';
import { renderStatusText } from '../status/render-text.js';
import { collectStatus } from '../status/report.js';
import { configOrExit, type RegisterCommand } from './context.js';
import { isoTimestamps } from './json.js';

/** How long the command waits for Redis before giving up. */
const CONNECT_TIMEOUT_MS = 5_000;

export function waitForReady(redis: Redis, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs);
    const onReady = () => finish();
    const onError = (error: Error) => finish(error);
    function finish(error?: Error) {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (error) reject(error);
      else resolve();
    }
    if (redis.status === 'ready') finish();
    else {
      redis.once('ready', onReady);
      redis.once('error', onError);
    }
  });
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
  return stripUrlQueries(text);
}

/** Prints the status (text, or JSON with `json`); 0 on success, 1 when Redis cannot be read. */
export async function statusCommand(
  config: Config,
  options: { readonly json: boolean; readonly out?: NodeJS.WritableStream; readonly err?: NodeJS.WritableStream },
): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  // A producer connection fails fast: an operator should get an answer, not a hang.
  const redis = createRedis(config.redis.url, 'producer');
  let queues: Queues | undefined;
  try {
    try {
      await waitForReady(redis, CONNECT_TIMEOUT_MS);
    } catch (error) {
      err.write(`cannot reach Redis at ${maskUrl(config.redis.url)}: ${describeError(error)}\n`);
      return 1;
    }
    queues = openQueues(redis, config.redis.prefix);
    const report = await collectStatus({ config, redis, queues });
    out.write(options.json ? `${JSON.stringify(isoTimestamps(report))}\n` : renderStatusText(report, Date.now()));
    return 0;
  } catch (error) {
    err.write(`cannot read the status from Redis at ${maskUrl(config.redis.url)}: ${describeError(error)}\n`);
    return 1;
  } finally {
    await queues?.close();
    if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  }
}

export const registerStatus: RegisterCommand = (program, cli) => {
  program
    .command('status')
    .description('one screen for an operator: plans, last polls and errors, queues, failed notifications')
    .addHelpText(
      'after',
      `
Examples:
  dbswatch status
  dbswatch status --json | jq '.failedNotifications[].id'`,
    )
    .option('--json', 'print JSON for scripts')
    .action(async (opts: { json?: boolean }) => {
      const { config } = configOrExit(cli);
      process.exitCode = await statusCommand(config, { json: !!opts.json });
    });
};
