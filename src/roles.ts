/**
 * Role entry points: `run` (everything in one process, the container
 * default), `scheduler` and `worker` (for scale-out: many workers, one Redis).
 * This is the composition root: it builds the Redis connections, queues,
 * DBS client, state store and workers, and registers each with the one
 * graceful shutdown.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { startHealthTick } from './alerting/health-tick.js';
import { WatchdogRunner } from './alerting/watchdog-runner.js';
import { type Config, loadConfig } from './config.js';
import { DbsClients, DEFAULT_ACCOUNT } from './dbs/accounts.js';
import type { CredentialLike } from './dbs/client.js';
import { dbsTaskSource, sweepOfTasks } from './dbs/pager.js';
import { dbs2021ClientFactory } from './dbs2021/factory.js';
import { createInstanceTaskSource, createLinkMinter } from './dbs2021/source.js';
import { type HttpServer, startHttpServer } from './http.js';
import { startNotifyWorker } from './jobs/notify.js';
import { type PollDeps, startPollWorker } from './jobs/poll.js';
import { redisKeys } from './keys.js';
import type { Logger } from './logger.js';
import { initMetrics, recordConfigLoad } from './metrics.js';
import { ChannelPool } from './notify/registry.js';
import { createRedis, openQueues, type QueueName, type Queues } from './queues.js';
import { createRedisRateLimiter, type RequestGate } from './rate-limit.js';
import { createPlanChecker, discoverAcrossAccounts, discoverPlans, planResolver, reconcileSchedulers, trackedPlans } from './scheduler.js';
import { maskUrl, registerSecrets, secretValues } from './secrets.js';
import { Shutdown } from './shutdown.js';
import { RedisHistory } from './tracking/history.js';
import { forgetRemovedPlans } from './tracking/removed-plans.js';
import { sourceKindOf } from './tracking/source.js';
import { RedisStateStore } from './tracking/state.js';
import { statusPageRoutes } from './web/routes.js';

export type Role = 'run' | 'scheduler' | 'worker';

export interface RoleOptions {
  readonly role: Role;
  readonly config: Config;
  /** Where to reload the config from on SIGHUP. */
  readonly configPath?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** Worker role: which queues to consume. Default: both. */
  readonly queues?: readonly QueueName[];
  /** Overrides poll.concurrency / notify.concurrency. */
  readonly concurrency?: number;
  /** DBS credential. Default: the standard Alibaba Cloud credential chain. */
  readonly dbsCredential?: CredentialLike;
  /** Install SIGTERM/SIGINT/SIGHUP handlers and the process-level fatal-error handlers. Default: true. */
  readonly handleSignals?: boolean;
  /** How long start-up waits for Redis to answer before it gives up. Default: 15s. */
  readonly redisStartTimeoutMs?: number;
}

/**
 * A role that could not start: nothing was consumed or sent, everything
 * opened is closed again. `message` is the one line the operator sees.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** Resolves when Redis answers PING, or rejects with an operator line after `timeoutMs`. */
async function redisAnswersWithin(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new StartupError(
            `Redis at ${maskUrl(url)} did not answer within ${Math.round(timeoutMs / 1000)}s: check redis.url (or REDIS_URL) and that Redis is running`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Process-level last resort: an unhandled rejection or uncaught exception is
 * logged as fatal and runs the graceful shutdown (exit 1), instead of Node's
 * default of dying mid-send or, for rejections in older setups, carrying on.
 */
function installFatalHandlers(shutdown: Shutdown, log: Logger): void {
  const fatal = (kind: string) => (error: unknown) => {
    log.fatal({ err: error, kind }, `${kind}: shutting down`);
    process.exitCode = 1;
    void shutdown.run(kind).then(() => process.exit(1));
  };
  process.on('unhandledRejection', fatal('unhandled promise rejection'));
  process.on('uncaughtException', fatal('uncaught exception'));
}

export interface RunningRole {
  readonly shutdown: Shutdown;
  readonly http?: HttpServer | undefined;
  readonly workers: readonly Worker[];
  /** Re-reads the config file and applies it (SIGHUP). */
  reload(): Promise<void>;
}

/** How often the scheduler role looks for plans whose grace period after removal has ended. */
const REMOVED_PLANS_CHECK_MS = 3_600_000;

/** Outcome of a config reload (SIGHUP, `POST /-/reload`). */
export type ReloadOutcome = { readonly ok: true; readonly plans: number } | { readonly ok: false; readonly error: string };

/** Keeps trying `action` until Redis answers: a Redis that is down at start must not crash-loop the process. */
async function untilRedisAnswers(log: Logger, what: string, action: () => Promise<unknown>, stopped: () => boolean): Promise<void> {
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      await action();
      return;
    } catch (error) {
      const retryInMs = Math.min(1_000 * attempt, 10_000);
      log.warn({ err: error, attempt, retryInMs }, `${what} failed; is Redis reachable? retrying`);
      await delay(retryInMs);
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
    // QUIT waits for a connection that may never come (Redis down at start): just drop it then.
    if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  });
  const queues: Queues = openQueues(redis, prefix);
  shutdown.register('queues', () => queues.close());

  const runsScheduler = role === 'run' || role === 'scheduler';
  const consumes = new Set<QueueName>(role === 'scheduler' ? [] : (options.queues ?? ['poll', 'notify']));
  const workers: Worker[] = [];

  // All or nothing: Redis answers, the HTTP port is bound and the signal handlers are in place
  // before any worker exists. A failure here closes what was opened and sends nothing.
  let http: HttpServer | undefined;
  try {
    await redisAnswersWithin(redis, config.redis.url, options.redisStartTimeoutMs ?? 15_000);
    if (config.http.port !== 0) {
      // `workers` is read per request: /readyz says "not ready" until the workers below run.
      http = await startHttpServer({
        config: getConfig,
        redis,
        queues,
        workers,
        role,
        log,
        routes: statusPageRoutes({ config: getConfig, redis, queues, log, reload: () => reloadConfig() }),
      });
      const server = http;
      shutdown.register('http', () => server.close());
    }
  } catch (error) {
    await shutdown.abort();
    throw error instanceof StartupError ? error : new StartupError(error instanceof Error ? error.message : String(error));
  }

  // One DBS client and one request budget per account (DBS limits per account); the default account
  // keeps the key it always had.
  const gates = new Map<string, RequestGate>();
  const gateFor = (account: string): RequestGate => {
    let gate = gates.get(account);
    if (!gate) {
      const key = account === DEFAULT_ACCOUNT ? redisKeys(prefix).dbsRequestWindow : redisKeys(prefix).accountRequestWindow(account);
      gate = createRedisRateLimiter(redis, { key, limit: config.dbs.requestsPerSecond });
      gates.set(account, gate);
    }
    return gate;
  };
  const dbsClients = new DbsClients({
    config: getConfig,
    gateFor,
    log,
    ...(options.dbsCredential ? { defaultCredential: options.dbsCredential } : {}),
  });
  const checkPlans = createPlanChecker({ redis, clientFor: (account) => dbsClients.forAccount(account), log });
  // Advanced downloads (API 2021-01-01) of the configured instances, through the default account's budget.
  const clientFor2021 = dbs2021ClientFactory({
    config: getConfig,
    gate: gateFor(DEFAULT_ACCOUNT),
    log,
    ...(options.dbsCredential ? { credential: options.dbsCredential } : {}),
  });
  const instanceSource = createInstanceTaskSource({ config: getConfig, clientFor: clientFor2021, redis, prefix, log });
  const reconcile = async () => {
    const current = getConfig();
    const plans = await trackedPlans(current, redis);
    await reconcileSchedulers(queues.poll, current, plans, log);
    await forgetRemovedPlansNow(plans.map((p) => p.id));
  };
  const forgetRemovedPlansNow = async (watched?: readonly string[]) => {
    const current = getConfig();
    const ids = watched ?? (await trackedPlans(current, redis)).map((p) => p.id);
    const result = await forgetRemovedPlans(redis, prefix, new Set(ids), current.defaults.forgetRemovedPlansAfter, Date.now());
    if (result.markedRemoved.length > 0 || result.forgotten.length > 0) {
      log.info(
        { removed: result.markedRemoved, forgotten: result.forgotten, graceMs: current.defaults.forgetRemovedPlansAfter },
        'state of plans no longer watched: kept for the grace period, then deleted',
      );
    }
  };

  if (options.handleSignals !== false) {
    shutdown.installSignalHandlers();
    installFatalHandlers(shutdown, log);
  }

  const stopping = new AbortController();
  const pagerOptions = () => ({ pageSize: getConfig().dbs.pageSize, log, maxPages: getConfig().dbs.maxPagesPerPoll, signal: stopping.signal });
  const channels = new ChannelPool(getConfig, log);
  shutdown.register('channels', () => channels.close());
  initMetrics(config);
  const watchdog = new WatchdogRunner({ redis, prefix, config: getConfig, notifyQueue: queues.notify, log });

  if (consumes.has('poll')) {
    const deps: PollDeps = {
      config: getConfig,
      resolvePlan: planResolver(getConfig, redis),
      // Plans are swept through their account's client (incremental sweeps, see tracking/sweep.ts);
      // instances (advanced downloads) are always read whole.
      source: {
        sweep: async (planId, sweepOptions, plan) =>
          sourceKindOf(planId) === 'instance'
            ? sweepOfTasks(planId, await instanceSource.listAll(planId))
            : dbsTaskSource(dbsClients.forPlan(plan), pagerOptions).sweep(planId, sweepOptions),
      },
      store: new RedisStateStore(redis, prefix),
      notifyQueue: queues.notify,
      log,
      redis,
      prefix,
      history: new RedisHistory(redis, prefix),
      watchdog,
      discover: async () => {
        await discoverPlans({
          config: getConfig(),
          redis,
          queue: queues.poll,
          listPlans: () => discoverAcrossAccounts(getConfig(), (account) => dbsClients.forAccount(account), log),
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
      // A retried job whose links were dropped when it failed (or a late one) re-reads its tasks by id.
      dbs: (account) => dbsClients.forAccount(account),
      watchdog,
      // Instance (advanced download) links are minted at send time, never stored.
      beforeRender: createLinkMinter({ config: getConfig, clientFor: clientFor2021 }),
      connection: redis,
      concurrency: options.concurrency ?? config.notify.concurrency,
    });
    workers.push(worker);
  }
  // Workers close first: stop taking jobs, let in-flight ones finish.
  shutdown.register('workers', async () => {
    await Promise.all(workers.map((w) => w.close()));
  });
  // …after paging has been told to stop (runs before the step above): a poll reading thousands of pages
  // fails at its next page and is retried later, instead of holding the shutdown to its deadline.
  shutdown.register('stop-paging', async () => stopping.abort());

  if (runsScheduler) {
    void untilRedisAnswers(log, 'reconciling poll schedules', reconcile, () => shutdown.started);
    // Removed plans are forgotten a grace period after they left; check hourly, not only on restarts.
    const housekeeping = setInterval(() => {
      forgetRemovedPlansNow().catch((error: unknown) => log.warn({ err: error }, 'could not check for removed plans; will try again'));
    }, REMOVED_PLANS_CHECK_MS);
    housekeeping.unref();
    shutdown.register('housekeeping', async () => clearInterval(housekeeping));
    // Configured plans DBS does not know would look like quiet, healthy plans: say so (issue 13).
    void untilRedisAnswers(
      log,
      'checking that the configured plans exist',
      () => checkPlans(getConfig()),
      () => shutdown.started,
    );
    // A Redis that comes back empty (restarted without persistence, failed over to an
    // empty replica) has lost every Job Scheduler: nothing would ever poll again.
    // Reconciling is idempotent, so do it again on every reconnect.
    // Start-up already waited for Redis, so its first `ready` may be gone: count it as seen then.
    let readyBefore = redis.status === 'ready';
    redis.on('ready', () => {
      if (!readyBefore) {
        readyBefore = true;
        return;
      }
      if (shutdown.started) return;
      void untilRedisAnswers(log, 'reconciling poll schedules after a Redis reconnect', reconcile, () => shutdown.started);
    });
  }

  const stopTick = startHealthTick({ redis, prefix, config: getConfig, log, ...(runsScheduler ? { watchdog } : {}) });
  shutdown.register('health tick', async () => stopTick());

  async function reloadConfig(): Promise<ReloadOutcome> {
    if (!options.configPath) return { ok: false, error: 'this process was started without a config file to reload' };
    try {
      const next = loadConfig(options.configPath, options.env);
      config = next;
      registerSecrets(secretValues(next));
      channels.reset();
      initMetrics(next);
      log.info({ plans: next.plans.length }, 'configuration reloaded');
      if (runsScheduler) {
        await reconcile();
        void checkPlans(next).catch((error: unknown) => log.warn({ err: error }, 'could not check that the configured plans exist'));
      }
      return { ok: true, plans: next.plans.length };
    } catch (error) {
      recordConfigLoad(false);
      log.error({ err: error }, 'configuration reload failed; keeping the previous configuration');
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }
  const reload = async () => {
    await reloadConfig();
  };

  if (options.handleSignals !== false) process.on('SIGHUP', () => void reload());
  log.info({ role, queues: [...consumes], plans: config.plans.length, prefix }, 'dbswatch started');
  return { shutdown, http, workers, reload };
}
