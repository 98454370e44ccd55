/**
 * Queues and Redis connections: the names, payload shapes and job options
 * that producers (scheduler, poll worker) and consumers (workers) share.
 */
import { type JobsOptions, Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.js';
import type { NotifyJobData, PollJobData } from './jobs/payloads.js';
import type { Logger } from './logger.js';

export const QUEUE_NAMES = { poll: 'poll', notify: 'notify' } as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

/** The name of the custom backoff strategy every dbswatch worker registers. */
export const JITTERED_BACKOFF = 'jittered';

/**
 * Redis connection with the settings BullMQ asks for: workers wait forever
 * for Redis to come back (`maxRetriesPerRequest: null`); producers fail fast
 * so an HTTP request or CLI call does not hang while Redis is down.
 */
export function createRedis(url: string, role: 'worker' | 'producer', log?: Logger): Redis {
  // ioredis 6 types `replyMapping` twice, incompatibly under exactOptionalPropertyTypes; we never set it.
  const options: Omit<RedisOptions, 'replyMapping'> = {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    // Producers queue commands only until the first connect; a Redis that is down fails them after one retry.
    enableOfflineQueue: true,
    connectTimeout: role === 'worker' ? 10_000 : 3_000,
    // Reconnect forever with a capped delay: Redis restarts must not crash the process.
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 6), 5_000),
    connectionName: `dbswatch-${role}`,
  };
  const redis = new Redis(url, options);
  if (log) {
    let down = false;
    redis.on('error', (error: Error) => {
      if (!down) log.warn({ err: error, role }, 'Redis connection lost; retrying until it answers');
      down = true;
    });
    redis.on('ready', () => {
      if (down) log.info({ role }, 'Redis connection restored');
      down = false;
    });
  } else {
    redis.on('error', () => {});
  }
  return redis;
}

/** Options of a notify job: retries with jittered backoff, delivered ids kept for dedupe. */
export function notifyJobOptions(config: Config, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: config.notify.attempts,
    backoff: { type: JITTERED_BACKOFF, delay: config.notify.backoff },
    // Delivered jobs stay (stripped of their payload) so the id keeps deduplicating.
    // …for `notify.keepDelivered` and at most `notify.keepDeliveredCount` of them (Redis memory stays bounded).
    removeOnComplete: { age: Math.ceil(config.notify.keepDelivered / 1000), count: config.notify.keepDeliveredCount },
    // Permanently failed deliveries stay visible until an operator acts.
    removeOnFail: false,
  };
}

/** Options of a poll job (the template of each plan's Job Scheduler). */
export function pollJobOptions(config: Config): JobsOptions {
  return {
    attempts: config.poll.attempts,
    backoff: { type: JITTERED_BACKOFF, delay: config.poll.backoff },
    removeOnComplete: { count: 100 },
    removeOnFail: { count: 500, age: 7 * 86_400 },
  };
}

export interface Queues {
  readonly poll: Queue<PollJobData>;
  readonly notify: Queue<NotifyJobData>;
  close(): Promise<void>;
}

/** Opens both queues on one shared producer connection. */
export function openQueues(connection: Redis, prefix: string): Queues {
  const poll = new Queue<PollJobData>(QUEUE_NAMES.poll, { connection, prefix });
  const notify = new Queue<NotifyJobData>(QUEUE_NAMES.notify, { connection, prefix });
  for (const queue of [poll, notify]) queue.on('error', () => {});
  return {
    poll,
    notify,
    async close() {
      await Promise.allSettled([poll.close(), notify.close()]);
    },
  };
}
