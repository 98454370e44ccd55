/**
 * `dbswatch tasks [--plan ID] [--json] [--reveal-links]`: every download
 * task of one plan, or of every configured plan, straight from the DBS API
 * through the same client and pager the workers use.
 */
import type { Config, InstanceConfig } from '../config.js';
import { DbsClients } from '../dbs/accounts.js';
import { listAllDownloadTasks } from '../dbs/pager.js';
import type { DownloadTask } from '../dbs/task.js';
import { formatTaskTable, tasksForDisplay } from '../dbs/tasks-table.js';
import { dbs2021ClientFactory } from '../dbs2021/factory.js';
import { listAllAdvancedTasks } from '../dbs2021/pager.js';
import { advancedTasksToJson, formatAdvancedTaskTable } from '../dbs2021/tasks-table.js';
import type { Logger } from '../logger.js';
import { configOrExit, makeLogger, type RegisterCommand } from './context.js';
import { printJson } from './json.js';

export interface ListTasksOptions {
  readonly json: boolean;
  readonly log: Logger;
  /** Print full pre-signed URLs (a bearer credential to the backup). Default: false — query strings cut. */
  readonly revealLinks?: boolean;
}

type PlanListing = { planId: string; name: string; tasks: DownloadTask[] } | { planId: string; name: string; error: string };

/**
 * Lists `planIds` (every configured plan when empty). With `--plan` the JSON
 * is the task array; without, one entry per plan. Exit 1 when any plan fails.
 */
export async function listTasks(config: Config, planIds: readonly string[], options: ListTasksOptions): Promise<number> {
  // A configured plan is read through its own account (issue 13); any other id through the default one.
  const clients = new DbsClients({ config: () => config, log: options.log });
  const single = planIds.length > 0;
  const ids = single ? planIds : config.plans.map((plan) => plan.id);
  if (ids.length === 0) {
    if (options.json) printJson([]);
    else process.stderr.write(`no plans in ${config.source}: give --plan ID\n`);
    return options.json ? 0 : 1;
  }
  const listings: PlanListing[] = [];
  for (const planId of ids) {
    const name = config.plans.find((plan) => plan.id === planId)?.name ?? planId;
    try {
      const api = clients.forPlan(config.plans.find((plan) => plan.id === planId));
      const snapshot = await listAllDownloadTasks(api, planId, { pageSize: config.dbs.pageSize, log: options.log, maxPages: config.dbs.maxPagesPerPoll });
      listings.push({ planId, name, tasks: snapshot.tasks });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`cannot list the tasks of plan ${planId}: ${message}\n`);
      listings.push({ planId, name, error: message });
    }
  }
  const shown = (tasks: DownloadTask[]) => (options.revealLinks ? tasks : tasksForDisplay(tasks));
  if (options.json) {
    const first = listings[0];
    if (single && listings.length === 1 && first) printJson('tasks' in first ? shown(first.tasks) : { planId: first.planId, error: first.error });
    else printJson(listings.map((l) => ('tasks' in l ? { planId: l.planId, name: l.name, tasks: shown(l.tasks) } : l)));
  } else {
    for (const listing of listings) {
      if (!single || listings.length > 1) process.stdout.write(`\n== ${listing.name} (${listing.planId})\n`);
      if ('error' in listing) continue;
      process.stdout.write(formatTaskTable(listing.tasks));
      if (options.revealLinks) process.stdout.write(revealedLinks(listing.tasks));
    }
  }
  return listings.some((l) => 'error' in l) ? 1 : 0;
}

/** The full download links, one per line, for an operator who asked for them. */
function revealedLinks(tasks: readonly DownloadTask[]): string {
  const lines: string[] = [];
  for (const task of tasks) {
    if (task.internetUrl) lines.push(`${task.taskId}  internet  ${task.internetUrl}`);
    if (task.intranetUrl) lines.push(`${task.taskId}  intranet  ${task.intranetUrl}`);
  }
  return lines.length ? `\nfull download links (pre-signed: anyone holding one can download the backup):\n${lines.join('\n')}\n` : '';
}

/** `tasks --instance ID`: an instance's advanced download tasks (API 2021-01-01). */
export async function listInstanceTasks(config: Config, instanceId: string, options: { region?: string; json: boolean; log: Logger }): Promise<number> {
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
    .description('list the download tasks of a plan, of every configured plan, or the advanced download tasks of an instance (straight from the DBS API)')
    .option('--plan <id>', 'backup plan id (default: every plan in the config)')
    .option('--instance <id>', 'database instance id (advanced downloads, API 2021-01-01)')
    .option('--region <code>', 'with --instance: its region, when the instance is not in the config')
    .option('--json', 'print one JSON document (timestamps in ISO 8601)')
    .option('--reveal-links', 'print full pre-signed download URLs (by default their signature is cut)')
    .addHelpText(
      'after',
      `
Examples:
  dbswatch tasks                              # every configured plan
  dbswatch tasks --plan dbsqhnuhyw3xxxx --json | jq '.[] | select(.status == "finished")'
  dbswatch tasks --plan dbsqhnuhyw3xxxx --reveal-links
  dbswatch tasks --instance rm-bp1xxxxxxxx --region cn-hangzhou`,
    )
    .action(async (opts: { plan?: string; instance?: string; region?: string; json?: boolean; revealLinks?: boolean }) => {
      if (opts.plan && opts.instance) {
        process.stderr.write('give at most one of --plan <id> or --instance <id>\n');
        process.exitCode = 2;
        return;
      }
      const { config } = configOrExit(cli);
      const log = makeLogger(cli);
      process.exitCode = opts.instance
        ? await listInstanceTasks(config, opts.instance, { json: !!opts.json, log, ...(opts.region ? { region: opts.region } : {}) })
        : await listTasks(config, opts.plan ? [opts.plan] : [], { json: !!opts.json, log, revealLinks: !!opts.revealLinks });
    });
};
