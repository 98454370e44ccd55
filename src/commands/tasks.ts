/**
 * `dbswatch tasks --plan ID`: every download task of a plan, straight from
 * the DBS API through the same client and pager the workers use.
 */
import type { Config } from '../config.js';
import { DbsClients } from '../dbs/accounts.js';
import { listAllDownloadTasks } from '../dbs/pager.js';
import { formatTaskTable, tasksToJson } from '../dbs/tasks-table.js';
import type { Logger } from '../logger.js';
import { configOrExit, makeLogger, type RegisterCommand } from './context.js';

export async function listTasks(config: Config, planId: string, options: { json: boolean; log: Logger }): Promise<number> {
  // A configured plan is read through its own account (issue 13); any other id through the default one.
  const api = new DbsClients({ config: () => config, log: options.log }).forPlan(config.plans.find((p) => p.id === planId));
  try {
    const snapshot = await listAllDownloadTasks(api, planId, { pageSize: config.dbs.pageSize, log: options.log, maxPages: config.dbs.maxPagesPerPoll });
    process.stdout.write(
      options.json ? tasksToJson(snapshot.tasks) : `${formatTaskTable(snapshot.tasks)}\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`cannot list the tasks of plan ${planId}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

export const registerTasks: RegisterCommand = (program, cli) => {
  program
    .command('tasks')
    .description('list every download task of a plan (straight from the DBS API)')
    .requiredOption('--plan <id>', 'backup plan id')
    .option('--json', 'print JSON')
    .action(async (opts: { plan: string; json?: boolean }) => {
      const { config } = configOrExit(cli);
      process.exitCode = await listTasks(config, opts.plan, { json: !!opts.json, log: makeLogger(cli) });
    });
};
