/**
 * `dbswatch tasks --plan ID`: every download task of a plan, straight from
 * the DBS API through the same client and pager the workers use.
 */
import type { Config, InstanceConfig } from '../config.js';
import { dbs2021ClientFactory } from '../dbs2021/factory.js';
import { listAllAdvancedTasks } from '../dbs2021/pager.js';
import { advancedTasksToJson, formatAdvancedTaskTable } from '../dbs2021/tasks-table.js';
import { createDbsClient } from '../dbs/client.js';
import { listAllDownloadTasks } from '../dbs/pager.js';
import { formatTaskTable, tasksToJson } from '../dbs/tasks-table.js';
import type { Logger } from '../logger.js';
import { configOrExit, makeLogger, type RegisterCommand } from './context.js';

export async function listTasks(config: Config, planId: string, options: { json: boolean; log: Logger }): Promise<number> {
  const api = createDbsClient({
    endpoint: config.dbs.endpoint,
    protocol: config.dbs.protocol,
    timeoutMs: config.dbs.timeout,
    log: options.log,
  });
  try {
    const snapshot = await listAllDownloadTasks(api, planId, { pageSize: config.dbs.pageSize, log: options.log });
    process.stdout.write(
      options.json ? tasksToJson(snapshot.tasks) : `${formatTaskTable(snapshot.tasks)}\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`cannot list the tasks of plan ${planId}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** `tasks --instance ID`: an instance's advanced download tasks (API 2021-01-01). */
export async function listInstanceTasks(
  config: Config,
  instanceId: string,
  options: { region?: string; json: boolean; log: Logger },
): Promise<number> {
  const instance = config.instances.find((i) => i.id === instanceId);
  const region = options.region ?? instance?.region;
  if (!region) {
    process.stderr.write(`instance ${instanceId} is not in the config: give its region with --region (e.g. cn-hangzhou)\n`);
    return 2;
  }
  const api = dbs2021ClientFactory({ config: () => config, log: options.log })({ ...(instance ?? instanceDefaults(instanceId)), region });
  try {
    const { tasks } = await listAllAdvancedTasks(api, { id: instanceId, region }, { log: options.log });
    process.stdout.write(options.json ? advancedTasksToJson(tasks) : `${formatAdvancedTaskTable(tasks)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`cannot list the tasks of instance ${instanceId}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** The settings a client needs for an instance that is not configured (one-off CLI reads). */
export function instanceDefaults(id: string): InstanceConfig {
  return { id, region: '', name: id, intervalMs: 60_000, notify: [], events: [], linkValidityMs: 86_400_000, expiringNoticeMs: 43_200_000 };
}

export const registerTasks: RegisterCommand = (program, cli) => {
  program
    .command('tasks')
    .description('list every download task of a plan, or the advanced download tasks of an instance (straight from the DBS API)')
    .option('--plan <id>', 'backup plan id')
    .option('--instance <id>', 'database instance id (advanced downloads, API 2021-01-01)')
    .option('--region <code>', 'with --instance: its region, when the instance is not in the config')
    .option('--json', 'print JSON')
    .action(async (opts: { plan?: string; instance?: string; region?: string; json?: boolean }) => {
      if (!opts.plan === !opts.instance) {
        process.stderr.write('give exactly one of --plan <id> or --instance <id>\n');
        process.exitCode = 2;
        return;
      }
      const { config } = configOrExit(cli);
      const log = makeLogger(cli);
      process.exitCode = opts.instance
        ? await listInstanceTasks(config, opts.instance, { json: !!opts.json, log, ...(opts.region ? { region: opts.region } : {}) })
        : await listTasks(config, opts.plan ?? '', { json: !!opts.json, log });
    });
};
