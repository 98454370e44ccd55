/**
 * `dbswatch retry-download TASK_ID --instance ID [--region CODE] --yes`:
 * retries a FAILED advanced download task (RetryDownloadTask, API
 * 2021-01-01). A write to the user's cloud account, so it is never automatic
 * — dbswatch only suggests it in failure messages — and refuses to run
 * without `--yes`. Needs the RAM action `dbs:RetryDownloadTask` (the
 * read-only poller's policy does not include it).
 */
import { InvalidArgumentError } from 'commander';
import type { Config } from '../config.js';
import { DbsApiError } from '../dbs/errors.js';
import { dbs2021ClientFactory } from '../dbs2021/factory.js';
import type { Logger } from '../logger.js';
import { configOrExit, makeLogger, type RegisterCommand } from './context.js';
import { instanceDefaults } from './tasks.js';

const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export async function retryDownload(
  config: Config,
  taskId: string,
  options: { instance: string; region?: string; yes: boolean; json: boolean; log: Logger },
): Promise<number> {
  const configured = config.instances.find((i) => i.id === options.instance);
  const region = options.region ?? configured?.region;
  if (!region) {
    process.stderr.write(`instance ${options.instance} is not in the config: give its region with --region (e.g. cn-hangzhou)\n`);
    return 2;
  }
  const what = `retry advanced download task ${taskId} of instance ${options.instance} (${region})`;
  if (!options.yes) {
    process.stderr.write(`refusing to ${what} without --yes: this asks DBS to run the download again (RAM action dbs:RetryDownloadTask)\n`);
    return 2;
  }
  const api = dbs2021ClientFactory({ config: () => config, log: options.log })({ ...(configured ?? instanceDefaults(options.instance)), region });
  try {
    const result = await api.retryDownloadTask({ region, instanceName: options.instance, taskId });
    if (options.json) process.stdout.write(`${JSON.stringify({ taskId, instance: options.instance, region, retried: true, ...result })}\n`);
    else
      process.stdout.write(
        `DBS accepted the retry of ${taskId}${result.requestId ? ` (request id ${result.requestId})` : ''}; dbswatch will report its progress like any other task.\n`,
      );
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = error instanceof DbsApiError && error.apiCode === 'Request.Forbidden' ? ' (grant dbs:RetryDownloadTask to this AccessKey)' : '';
    if (options.json) process.stdout.write(`${JSON.stringify({ taskId, instance: options.instance, region, retried: false, error: message })}\n`);
    process.stderr.write(`could not ${what}: ${message}${hint}\n`);
    return 1;
  }
}

export const registerRetryDownload: RegisterCommand = (program, cli) => {
  program
    .command('retry-download')
    .description('retry a FAILED advanced download task (RetryDownloadTask; never automatic; needs dbs:RetryDownloadTask)')
    .argument('<taskId>', 'advanced download task id (dt-…)', (value: string) => {
      if (!TASK_ID.test(value)) throw new InvalidArgumentError('is not a download task id (e.g. dt-qxntlvgu1234)');
      return value;
    })
    .requiredOption('--instance <id>', 'database instance id the task belongs to')
    .option('--region <code>', 'region of the instance, when it is not in the config')
    .option('--yes', 'really ask DBS to retry the task')
    .option('--json', 'print JSON')
    .action(async (taskId: string, opts: { instance: string; region?: string; yes?: boolean; json?: boolean }) => {
      const { config } = configOrExit(cli);
      process.exitCode = await retryDownload(config, taskId, {
        instance: opts.instance,
        yes: !!opts.yes,
        json: !!opts.json,
        log: makeLogger(cli),
        ...(opts.region ? { region: opts.region } : {}),
      });
    });
};
