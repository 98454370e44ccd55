/**
 * `dbswatch retry --id ID | --all`: puts failed notifications back in the
 * queue, exactly like the status page's Retry (attempts reset; the delivery
 * guard skips anything already delivered; links are re-read if they were dropped).
 */

import { type RetryOutcome, retryAllFailedNotifications, retryFailedNotification } from '../notify/retry-failed.js';
import { createRedis, openQueues } from '../queues.js';
import { maskUrl } from '../secrets.js';
import { configOrExit, type RegisterCommand } from './context.js';
import { printJson } from './json.js';

export const registerRetry: RegisterCommand = (program, cli) => {
  program
    .command('retry')
    .description('re-queue failed notifications (the same action as Retry on the status page)')
    .option('--id <jobId>', 'the failed notification job to retry (see `dbswatch status`)')
    .option('--all', 'retry every failed notification')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Examples:
  dbswatch status                 # lists failed notifications with their job ids
  dbswatch retry --id 'notify:dbsqhnuhyw3xxxx:ops-slack:42'
  dbswatch retry --all --json`,
    )
    .action(async (opts: { id?: string; all?: boolean; json?: boolean }) => {
      if (!opts.id === !opts.all) {
        process.stderr.write('give either --id <jobId> or --all\n');
        process.exitCode = 2;
        return;
      }
      const { config } = configOrExit(cli);
      const redis = createRedis(config.redis.url, 'producer');
      const queues = openQueues(redis, config.redis.prefix);
      let outcomes: RetryOutcome[];
      try {
        outcomes = opts.id ? [await retryFailedNotification(queues, opts.id)] : await retryAllFailedNotifications(queues);
      } catch (error) {
        const why = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
        if (opts.json) printJson({ ok: false, error: `cannot reach Redis at ${maskUrl(config.redis.url)}: ${why}` });
        process.stderr.write(`cannot reach Redis at ${maskUrl(config.redis.url)}: ${why}\n`);
        process.exitCode = 1;
        return;
      } finally {
        await queues.close();
        await redis.quit().catch(() => redis.disconnect());
      }
      const ok = outcomes.every((o) => o.status === 200);
      if (opts.json) printJson({ ok, retried: outcomes.filter((o) => o.status === 200).length, results: outcomes.map((o) => o.body) });
      else if (outcomes.length === 0) process.stdout.write('no failed notifications\n');
      else for (const o of outcomes) process.stdout.write(`${o.status === 200 ? 'retrying' : 'not retried'}: ${o.body.message}\n`);
      process.exitCode = ok ? 0 : 1;
    });
};
