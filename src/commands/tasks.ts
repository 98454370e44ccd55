/**
 * `dbswatch tasks [--plan ID] [--json] [--reveal-links]`: every download
 * task of one plan, or of every configured plan, straight from the DBS API
 * through the same client and pager the workers use.
 */
import type { Config } from '../config.js';
import { DbsClients } from '../dbs/accounts.js';
import { listAllDownloadTasks } from '../dbs/pager.js';
import type { DownloadTask } from '../dbs/task.js';
import { formatTaskTable, tasksForDisplay } from '../dbs/tasks-table.js';
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

export const registerTasks: RegisterCommand = (program, cli) => {
  program
    .command('tasks')
    .description('list the download tasks of a plan, or of every configured plan (straight from the DBS API)')
    .option('--plan <id>', 'backup plan id (default: every plan in the config)')
    .option('--json', 'print one JSON document (timestamps in ISO 8601)')
    .option('--reveal-links', 'print full pre-signed download URLs (by default their signature is cut)')
    .addHelpText(
      'after',
      `
Examples:
  dbswatch tasks                              # every configured plan
  dbswatch tasks --plan dbsqhnuhyw3xxxx --json | jq '.[] | select(.status == "finished")'
  dbswatch tasks --plan dbsqhnuhyw3xxxx --reveal-links`,
    )
    .action(async (opts: { plan?: string; json?: boolean; revealLinks?: boolean }) => {
      const { config } = configOrExit(cli);
      process.exitCode = await listTasks(config, opts.plan ? [opts.plan] : [], {
        json: !!opts.json,
        log: makeLogger(cli),
        revealLinks: !!opts.revealLinks,
      });
    });
};
