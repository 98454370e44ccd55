/**
 * `dbswatch ack TASK_ID`: someone is on this failed download; its remaining
 * reminders are not sent (each reminder checks when its slot comes).
 */
import { acknowledge } from '../alerting/acks.js';
import type { Config } from '../config.js';
import { configOrExit, type RegisterCommand } from './context.js';
import { withRedis } from './with-redis.js';

export async function ackCommand(config: Config, taskId: string, by: string, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  return withRedis(config, async (redis) => {
    const fresh = await acknowledge(redis, config.redis.prefix, { taskId, by, at: Date.now() });
    out.write(fresh ? `task ${taskId} acknowledged: no more reminders for it\n` : `task ${taskId} was already acknowledged\n`);
    return 0;
  });
}

export const registerAck: RegisterCommand = (program, cli) => {
  program
    .command('ack <taskId>')
    .description('acknowledge a failed download task: stops its reminders')
    .option('--by <name>', 'who acknowledges (default: $USER)')
    .action(async (taskId: string, opts: { by?: string }) => {
      const { config } = configOrExit(cli);
      process.exitCode = await ackCommand(config, taskId, opts.by ?? cli.env.USER ?? 'cli');
    });
};
