/**
 * Role entry points: `run` (everything in one process, the container
 * default), `scheduler` and `worker` (for scale-out: many workers, one Redis).
 * This is the composition root: it builds the Redis connections, queues,
 * DBS client, state store and workers, and registers each with the one
 * graceful shutdown.
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type Config, loadConfig, secretValues } from '../src/config.js';
import { type CredentialLike, createDbsClient } from '../src/dbs/client.js';
import { dbsTaskSource } from '../src/dbs/pager.js';
import { listAllBackupPlans } from '../src/dbs/plans.js';
import { type HttpServer, startHttpServer } from '../src/http.js';
import { type Logger, registerSecrets } from '../src/logger.js';
import { ChannelPool } from '../src/notify/registry.js';
import { createRedis, openQueues, type Queues } from '../src/queues.js';
import { createRedisRateLimiter } from '../src/rate-limit.js';
import { discoverPlans, planResolver, reconcileSchedulers, trackedPlans } from '../src/scheduler.js';
import { Shutdown } from '../src/shutdown.js';
import { RedisHistory } from '../src/tracking/history.js';
import { RedisStateStore } from '../src/tracking/state.js';
import { statusPageRoutes } from '../src/web/routes.js';
import { startNotifyWorker } from './notify.js';
import { type PollDeps, startPollWorker } from './poll.js';

export type Role = 'run' | 'scheduler' | 'worker';
export type WorkerQueue = 'poll' | 'notify';

export interface RoleOptions {
  readonly role: Role;
  readonly config: Config;
  /** Where to reload the config from on SIGHUP. */
  readonly configPath?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** Worker role: which queues to consume. Default: both. */
  readonly queues?: readonly WorkerQueue[];
  /** Overrides poll.concurrency / notify.concurrency. */
  readonly concurrency?: number;
  /** DBS credential. Default: the standard Alibaba Cloud credential chain. */
  readonly dbsCredential?: CredentialLike;
  /** Install SIGTERM/SIGINT/SIGHUP handlers. Default: true. */
  readonly handleSignals?: boolean;
}

export interface RunningRole {
  readonly shutdown: Shutdown;
  readonly http?: HttpServer;
  readonly workers: readonly Worker[];
  /** Re-reads the config file and applies it (SIGHUP). */
  reload(): Promise<void>;
}

/** Keeps trying `action` until Redis answers: a Redis that is down at start must not crash-loop the process. */
async function untilRedisAnswers(log: Logger, what: string, action: () => Promise<unknown>, stopped: () => boolean): Promise<void> {
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      await action();
      return;
    } catch (error) {
      const delay = Math.min(1_000 * attempt, 10_000);
      log.warn({ err: error, attempt, retryInMs: delay }, `${what} failed; is Redis reachable? retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export async function startRole(options: RoleOptions): Promise<RunningRole> {
  const { log, role } = options;
  let config = options.config;
  const getConfig = () => config;
  registerSecrets(secretValues(config));
  const shutdown = new Shutdown({ deadlineMs: config.shutdown.deadline, log });
  const prefix = config.redis.prefix;

  const redis: Redis = createRedis(config.redis.url, 'worker', log);
  shutdown.register('redis', async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  const queues: Queues = openQueues(redis, prefix);
  shutdown.register('queues', () => queues.close());

  const runsScheduler = role === 'run' || role === 'scheduler';
  const consumes = new Set<WorkerQueue>(role === 'scheduler' ? [] : (options.queues ?? ['poll', 'notify']));
  const workers: Worker[] = [];

  const gate = createRedisRateLimiter(redis, { key: `${prefix}:ratelimit:dbs`, limit: config.dbs.requestsPerSecond });
  const api = createDbsClient({
    endpoint: config.dbs.endpoint,
    protocol: config.dbs.protocol,
    timeoutMs: config.dbs.timeout,
    gate,
    log,
    ...(options.dbsCredential ? { credential: options.dbsCredential } : {}),
  });
  const reconcile = async () => {
    const current = getConfig();
    await reconcileSchedulers(queues.poll, current, await trackedPlans(current, redis), log);
  };

  const channels = new ChannelPool(getConfig, log);
  shutdown.register('channels', () => channels.close());

  if (consumes.has('poll')) {
    const deps: PollDeps = {
      config: getConfig,
      resolvePlan: planResolver(getConfig, redis),
      source: dbsTaskSource(api, () => ({ pageSize: getConfig().dbs.pageSize, log })),
      store: new RedisStateStore(redis, prefix),
      notifyQueue: queues.notify,
      log,
      redis,
      prefix,
      history: new RedisHistory(redis, prefix),
      discover: async () => {
        await discoverPlans({
          config: getConfig(),
          redis,
          queue: queues.poll,
          listPlans: async () => listAllBackupPlans(api, { log }),
          log,
        });
      },
    };
    const worker = startPollWorker({
      ...deps,
      connection: redis,
      concurrency: options.concurrency ?? config.poll.concurrency,
    });
    workers.push(worker);
  }
  if (consumes.has('notify')) {
    const worker = startNotifyWorker({
      config: getConfig,
      redis,
      prefix,
      channels,
      log,
      // A retried job whose links were dropped when it failed re-reads its tasks by id.
      dbs: api,
      connection: redis,
      concurrency: options.concurrency ?? config.notify.concurrency,
    });
    workers.push(worker);
  }
  // Workers close first: stop taking jobs, let in-flight ones finish.
  shutdown.register('workers', async () => {
    await Promise.all(workers.map((w) => w.close()));
  });

  if (runsScheduler) {
    void untilRedisAnswers(log, 'reconciling poll schedules', reconcile, () => shutdown.started);
    // A Redis that comes back empty (restarted without persistence, failed over to an
    // empty replica) has lost every Job Scheduler: nothing would ever poll again.
    // Reconciling is idempotent, so do it again on every reconnect.
    let readyBefore = false;
    redis.on('ready', () => {
      if (!readyBefore) {
        readyBefore = true;
        return;
      }
      if (shutdown.started) return;
      void untilRedisAnswers(log, 'reconciling poll schedules after a Redis reconnect', reconcile, () => shutdown.started);
    });
  }

  let http: HttpServer | undefined;
  if (config.http.port !== 0) {
    http = await startHttpServer({ config: getConfig, redis, queues, workers, role, log, routes: statusPageRoutes({ config: getConfig, redis, queues, log }) });
    const server = http;
    shutdown.register('http', () => server.close());
  }

  const reload = async () => {
    if (!options.configPath) return;
    try {
      const next = loadConfig(options.configPath, options.env);
      config = next;
      registerSecrets(secretValues(next));
      channels.reset();
      log.info({ plans: next.plans.length }, 'configuration reloaded');
      if (runsScheduler) await reconcile();
    } catch (error) {
      log.error({ err: error }, 'configuration reload failed; keeping the previous configuration');
    }
  };

  if (options.handleSignals !== false) {
    shutdown.installSignalHandlers();
    process.on('SIGHUP', () => void reload());
  }
  log.info({ role, queues: [...consumes], plans: config.plans.length, prefix }, 'dbswatch started');
  return { shutdown, http, workers, reload };
}
