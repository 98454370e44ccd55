/**
 * `dbswatch poll --plan ID [--dry-run]`: one poll of one plan, now, with the
 * same code path as the poll worker; prints the transitions it found.
 */

import type { Config } from '../config.js';
import { DbsClients } from '../dbs/accounts.js';
import { listAllDownloadTasks } from '../dbs/pager.js';
import { dbs2021ClientFactory } from '../dbs2021/factory.js';
import { createInstanceTaskSource } from '../dbs2021/source.js';
import { pollPlan } from '../jobs/poll.js';
import type { Logger } from '../logger.js';
import { createRedis, openQueues } from '../queues.js';
import { planResolver } from '../scheduler.js';
import { RedisHistory } from '../tracking/history.js';
import { parseSourceKey, sourceKey, sourceKindOf } from '../tracking/source.js';
import { RedisStateStore } from '../tracking/state.js';
import { configOrExit, makeLogger, type RegisterCommand } from './context.js';
import { printJson } from './json.js';

export async function pollOnce(config: Config, planId: string, options: { dryRun: boolean; json: boolean; log: Logger }): Promise<number> {
  const redis = createRedis(config.redis.url, 'producer');
  const queues = openQueues(redis, config.redis.prefix);
  // The plan's own account (issue 13): the resolver hands the plan to listAll.
  const clients = new DbsClients({ config: () => config, log: options.log });
  const instances = createInstanceTaskSource({
    config: () => config,
    clientFor: dbs2021ClientFactory({ config: () => config, log: options.log }),
    redis,
    prefix: config.redis.prefix,
    log: options.log,
    record: !options.dryRun,
  });
  try {
    const resolvePlan = planResolver(() => config, redis);
    if (!(await resolvePlan(planId))) {
      const instance = sourceKindOf(planId) === 'instance';
      process.stderr.write(
        instance
          ? `instance ${parseSourceKey(planId).id} is not in the config (instances:)\n`
          : `plan ${planId} is not in the config${config.discover.enabled ? ' nor discovered' : ''}\n`,
      );
      return 1;
    }
    const outcome = await pollPlan(
      {
        config: () => config,
        resolvePlan,
        source: {
          listAll: async (id, plan) =>
            sourceKindOf(id) === 'instance'
              ? instances.listAll(id)
              : (
                  await listAllDownloadTasks(clients.forPlan(plan), id, {
                    pageSize: config.dbs.pageSize,
                    log: options.log,
                    maxPages: config.dbs.maxPagesPerPoll,
                  })
                ).tasks,
        },
        store: new RedisStateStore(redis, config.redis.prefix),
        notifyQueue: queues.notify,
        log: options.log,
        redis,
        prefix: config.redis.prefix,
        history: new RedisHistory(redis, config.redis.prefix),
      },
      planId,
      { dryRun: options.dryRun },
    );
    const rows = outcome.transitions.map((t) => ({
      taskId: t.taskId,
      name: outcome.tasks.get(t.taskId)?.name,
      event: t.event,
      from: t.from ?? '(new)',
      to: t.to,
      seq: t.seq,
    }));
    if (options.json) {
      printJson({
        planId,
        result: outcome.result,
        dryRun: options.dryRun,
        tracked: outcome.tracked,
        jobsEnqueued: options.dryRun ? 0 : outcome.jobsEnqueued,
        transitions: rows,
      });
    } else {
      const head = `${planId}: ${outcome.tasks.size} tasks, ${rows.length} transition(s)${outcome.result === 'baseline' ? ' — first poll: baseline, nothing is notified' : ''}${options.dryRun ? ' (dry run: nothing changed, nothing enqueued)' : `, ${outcome.jobsEnqueued} notification job(s) enqueued`}`;
      const lines = rows.map((r) => `  ${r.event.padEnd(9)} ${r.taskId}  ${r.from} → ${r.to}  ${r.name ?? ''}`);
      process.stdout.write(`${[head, ...lines].join('\n')}\n`);
    }
    return 0;
  } catch (error) {
    process.stderr.write(`poll of plan ${planId} failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await queues.close();
    await redis.quit().catch(() => redis.disconnect());
  }
}

export const registerPoll: RegisterCommand = (program, cli) => {
  program
    .command('poll')
    .description('poll one plan (or instance) now and print the transitions found')
    .addHelpText(
      'after',
      `
Examples:
  dbswatch poll --plan dbsqhnuhyw3xxxx --dry-run   # change nothing, enqueue nothing
  dbswatch poll --plan dbsqhnuhyw3xxxx --json
  dbswatch poll --instance rm-bp1xxxxxxxx --dry-run`,
    )
    .option('--plan <id>', 'backup plan id')
    .option('--instance <id>', 'configured database instance id (advanced downloads)')
    .option('--dry-run', 'change nothing and enqueue nothing')
    .option('--json', 'print JSON')
    .action(async (opts: { plan?: string; instance?: string; dryRun?: boolean; json?: boolean }) => {
      if (!opts.plan === !opts.instance) {
        process.stderr.write('give exactly one of --plan <id> or --instance <id>\n');
        process.exitCode = 2;
        return;
      }
      const { config } = configOrExit(cli);
      const key = opts.instance ? sourceKey('instance', opts.instance) : (opts.plan ?? '');
      process.exitCode = await pollOnce(config, key, { dryRun: !!opts.dryRun, json: !!opts.json, log: makeLogger(cli) });
    });
};
