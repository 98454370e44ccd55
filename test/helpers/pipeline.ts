/**
 * Builds the real pipeline pieces for integration tests: a config pointing
 * at the simulator, the poll deps (real client, pager, Redis store, queue),
 * and helpers to run poll jobs through a real BullMQ worker.
 */
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { DEFAULT_SIM_CREDENTIAL, type RunningSimulator } from '../../dev/simulator/index.js';
import { type Config, parseConfig } from '../../src/config.js';
import { accessKeyCredential, createDbsClient } from '../../src/dbs/client.js';
import { listAllDownloadTasks } from '../../src/dbs/pager.js';
import type { NotifyJobData, PollJobData } from '../../src/jobs/payloads.js';
import type { PollDeps } from '../../src/jobs/poll.js';
import { silentLogger } from '../../src/logger.js';
import { QUEUE_NAMES } from '../../src/queues.js';
import { planResolver } from '../../src/scheduler.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { redisUrl } from './redis.js';

export interface PipelineConfigOptions {
  readonly prefix: string;
  readonly sim: RunningSimulator;
  readonly plans: readonly string[];
  /** Extra YAML appended at the top level (channels are given by default). */
  readonly extra?: string;
  readonly pageSize?: 30 | 50 | 100;
  readonly digestThreshold?: number;
  /** Default: the shared test Redis. */
  readonly redisUrl?: string;
  /** Extra `defaults:` entries, e.g. `initFailedAfter: 2`. */
  readonly defaults?: string;
}

/** A config YAML for tests: two channels (never delivered unless a notify worker runs). */
export function pipelineYaml(options: PipelineConfigOptions): string {
  return `
redis: { url: "${options.redisUrl ?? redisUrl()}", prefix: "${options.prefix}" }
dbs: { endpoint: "${options.sim.endpoint}", protocol: http, pageSize: ${options.pageSize ?? 30}, requestsPerSecond: 200, timeout: 5s }
defaults: { interval: 1h, notify: [slack-a, mail-b]${options.defaults ? `, ${options.defaults}` : ''} }
plans:
${options.plans.map((id) => `  - { id: ${id}, name: "${id}-name" }`).join('\n')}
channels:
  slack-a: { type: slack, webhookUrl: "http://127.0.0.1:9/services/T/B/X" }
  mail-b: { type: email, smtpUrl: "smtp://127.0.0.1:9", from: "dbswatch <d@example.com>", to: [dba@example.com], events: [failed] }
poll: { backoff: 50, attempts: 3 }
notify: { digestThreshold: ${options.digestThreshold ?? 1000} }
http: { port: 0 }
${options.extra ?? ''}
`;
}

export function pipelineConfig(options: PipelineConfigOptions): Config {
  return parseConfig(pipelineYaml(options), {}, 'test');
}

export function pollDeps(config: Config, redis: Redis, notifyQueue: Queue<NotifyJobData>): PollDeps {
  const api = createDbsClient({
    endpoint: config.dbs.endpoint,
    protocol: config.dbs.protocol,
    timeoutMs: config.dbs.timeout,
    credential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL),
  });
  return {
    config: () => config,
    resolvePlan: planResolver(() => config, redis),
    source: { listAll: async (planId) => (await listAllDownloadTasks(api, planId, { pageSize: config.dbs.pageSize })).tasks },
    store: new RedisStateStore(redis, config.redis.prefix),
    notifyQueue,
    log: silentLogger,
    redis,
    prefix: config.redis.prefix,
  };
}

/** Poll and notify queues plus queue events, on one connection. */
export function testQueues(redis: Redis, prefix: string) {
  const poll = new Queue<PollJobData>(QUEUE_NAMES.poll, { connection: redis, prefix });
  const notify = new Queue<NotifyJobData>(QUEUE_NAMES.notify, { connection: redis, prefix });
  const pollEvents = new QueueEvents(QUEUE_NAMES.poll, { connection: redis.duplicate(), prefix });
  return {
    poll,
    notify,
    pollEvents,
    /** Adds one poll job per plan and waits until each has finished (or failed). */
    async pollAll(planIds: readonly string[], tag: string): Promise<Array<{ planId: string; ok: boolean; error?: string }>> {
      await pollEvents.waitUntilReady();
      const jobs = await Promise.all(planIds.map((planId) => poll.add('poll', { v: 1, planId }, { jobId: `${tag}-${planId}`, attempts: 1 })));
      return Promise.all(
        jobs.map(async (job) => {
          try {
            await job.waitUntilFinished(pollEvents, 30_000);
            return { planId: job.data.planId, ok: true };
          } catch (error) {
            return { planId: job.data.planId, ok: false, error: error instanceof Error ? error.message : String(error) };
          }
        }),
      );
    },
    /** Every notify job present (any state), as `id → event list`. */
    async notifyJobs(): Promise<Map<string, NotifyJobData>> {
      const jobs = await notify.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed']);
      return new Map(jobs.map((job) => [job.id as string, job.data]));
    },
    async close() {
      await pollEvents.close();
      await Promise.all([poll.close(), notify.close()]);
    },
  };
}

/**
 * The oracle for a scripted timeline: each task's status per round
 * (undefined = does not exist yet). Computes the notification ids a correct
 * poller must enqueue — independently of the diff code.
 */
export interface ScriptedTask {
  readonly planId: string;
  readonly taskId: string;
  readonly rounds: readonly (string | undefined)[];
}

export function expectedNotifications(tasks: readonly ScriptedTask[], channelsFor: (event: 'finished' | 'failed') => string[]): Map<string, string> {
  const expected = new Map<string, string>();
  for (const task of tasks) {
    let seq = 0;
    let previous: string | undefined;
    task.rounds.forEach((status, round) => {
      if (status === undefined || status === previous) return;
      seq += 1;
      const isFirstRound = round === 0;
      let event: 'finished' | 'failed' | undefined;
      if (status === 'finish') event = 'finished';
      else if (status === 'stop') event = 'failed';
      // The simulator gives every init an ErrMessage, and an init with one is a failure at once (issue 13).
      else if (status === 'init') event = 'failed';
      previous = status;
      if (!event || isFirstRound) return;
      for (const channel of channelsFor(event)) {
        expected.set(`${task.planId}.${task.taskId}.${seq}-${status}.${channel}`, event);
      }
    });
  }
  return expected;
}
