/**
 * The scheduler: keeps one BullMQ Job Scheduler per tracked plan (configured
 * or discovered) on the poll queue, and removes those whose plan is gone.
 * `upsertJobScheduler` is keyed by a stable id, so reconciling is idempotent
 * and several scheduler processes starting at once leave one per plan.
 */
import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type Config, DEFAULT_ACCOUNT, type PlanConfig } from './config.js';
import type { DbsApi } from './dbs/client.js';
import { checkConfiguredPlans, type PlanCheckReport } from './dbs/plan-check.js';
import { listAllBackupPlans, selectPlans } from './dbs/plans.js';
import { instanceAsPlan } from './dbs2021/pipeline.js';
import { instanceOfKey } from './dbs2021/source.js';
import { discoveredPlan } from './discovery.js';
import type { PollJobData } from './jobs/payloads.js';
import { DISCOVER_SCHEDULER_ID, PLAN_SCHEDULER_PREFIX, planSchedulerId, redisKeys } from './keys.js';
import type { Logger } from './logger.js';
import { pollJobOptions } from './queues.js';
import { sourceKindOf } from './tracking/source.js';

export const DISCOVER_JOB_NAME = 'discover';
export const POLL_JOB_NAME = 'poll';

/**
 * A stable offset within the interval, so 1,000 plans on the same interval
 * spread over it instead of firing in the same second.
 */
export function planOffset(planId: string, intervalMs: number): number {
  const hash = createHash('sha1').update(planId).digest().readUInt32BE(0);
  return hash % intervalMs;
}

/** Plans discovered by `DescribeBackupPlanList`, as stored by the last discovery run. */
export async function readDiscovered(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const raw = await redis.hgetall(redisKeys(prefix).discoveredPlans);
  return new Map(Object.entries(raw));
}

/** Every source dbswatch tracks now: the configured plans, the instances (keyed by sourceKey), then discovered plans. */
export async function trackedPlans(config: Config, redis: Redis): Promise<PlanConfig[]> {
  const plans = [...config.plans, ...config.instances.map(instanceAsPlan)];
  if (!config.discover.enabled) return plans;
  const configured = new Set(plans.map((p) => p.id));
  const accounts = await redis.hgetall(redisKeys(config.redis.prefix).discoveredPlanAccounts);
  for (const [id, name] of await readDiscovered(redis, config.redis.prefix)) {
    if (!configured.has(id) && sourceKindOf(id) === 'plan') plans.push(discoveredPlan(config, id, name, accounts[id]));
  }
  return plans;
}

/** Resolves one plan id to its settings (configured first, then discovered). */
export function planResolver(config: () => Config, redis: Redis) {
  return async (planId: string): Promise<PlanConfig | undefined> => {
    const current = config();
    // An instance key resolves to its instance or to nothing — never to a (discovered) plan.
    if (sourceKindOf(planId) === 'instance') {
      const instance = instanceOfKey(current, planId);
      return instance ? instanceAsPlan(instance) : undefined;
    }
    const configured = current.plans.find((p) => p.id === planId);
    if (configured || !current.discover.enabled) return configured;
    const [name, account] = await Promise.all([
      redis.hget(redisKeys(current.redis.prefix).discoveredPlans, planId),
      redis.hget(redisKeys(current.redis.prefix).discoveredPlanAccounts, planId),
    ]);
    return name === null ? undefined : discoveredPlan(current, planId, name, account ?? undefined);
  };
}

export interface ReconcileResult {
  readonly upserted: readonly string[];
  readonly removed: readonly string[];
}

/** Makes the poll queue's Job Schedulers match `plans` exactly (plus discovery when enabled). */
export async function reconcileSchedulers(queue: Queue<PollJobData>, config: Config, plans: readonly PlanConfig[], log: Logger): Promise<ReconcileResult> {
  const wanted = new Map(plans.map((plan) => [planSchedulerId(plan.id), plan]));
  const upserted: string[] = [];
  for (const [schedulerId, plan] of wanted) {
    await queue.upsertJobScheduler(
      schedulerId,
      { every: plan.intervalMs, offset: planOffset(plan.id, plan.intervalMs) },
      { name: POLL_JOB_NAME, data: { v: 1, planId: plan.id }, opts: pollJobOptions(config) },
    );
    upserted.push(plan.id);
  }
  if (config.discover.enabled) {
    await queue.upsertJobScheduler(
      DISCOVER_SCHEDULER_ID,
      { every: config.discover.interval, immediately: true },
      { name: DISCOVER_JOB_NAME, data: { v: 1, planId: DISCOVER_SCHEDULER_ID }, opts: pollJobOptions(config) },
    );
  }
  const removed: string[] = [];
  const existing = await queue.getJobSchedulers(0, -1);
  for (const scheduler of existing) {
    const id = scheduler.key;
    const stale = (id.startsWith(PLAN_SCHEDULER_PREFIX) && !wanted.has(id)) || (id === DISCOVER_SCHEDULER_ID && !config.discover.enabled);
    if (stale) {
      await queue.removeJobScheduler(id);
      removed.push(id);
    }
  }
  log.info({ plans: upserted.length, removed: removed.length }, 'poll schedules reconciled with the config');
  return { upserted, removed };
}

/** The discovery run: list plans, store the result, reconcile schedulers. */
export async function discoverPlans(deps: {
  readonly config: Config;
  readonly redis: Redis;
  readonly queue: Queue<PollJobData>;
  /** The plans discovery selected (discover.include/exclude/statuses applied), with the account each lives in. */
  readonly listPlans: () => Promise<readonly { planId: string; name?: string; account?: string }[]>;
  readonly log: Logger;
}): Promise<number> {
  const found = await deps.listPlans();
  const key = redisKeys(deps.config.redis.prefix).discoveredPlans;
  const accountsKey = redisKeys(deps.config.redis.prefix).discoveredPlanAccounts;
  const multi = deps.redis.multi().del(key).del(accountsKey);
  if (found.length > 0) multi.hset(key, ...found.flatMap((p) => [p.planId, p.name ?? p.planId]));
  const elsewhere = found.filter((p) => p.account && p.account !== DEFAULT_ACCOUNT);
  if (elsewhere.length > 0) multi.hset(accountsKey, ...elsewhere.flatMap((p) => [p.planId, p.account as string]));
  await multi.exec();
  const plans = await trackedPlans(deps.config, deps.redis);
  await reconcileSchedulers(deps.queue, deps.config, plans, deps.log);
  deps.log.info({ discovered: found.length, tracked: plans.length }, 'backup plans discovered');
  return found.length;
}

/**
 * The plans discovery tracks: DescribeBackupPlanList in every `discover.accounts` account (with the
 * API's own `Region`/`ResourceGroupId` filters), then `discover.include/exclude/statuses`. A plan id
 * seen in two accounts is kept in the first.
 */
export async function discoverAcrossAccounts(
  config: Config,
  clientFor: (account: string) => DbsApi,
  log?: Logger,
): Promise<{ planId: string; name?: string; account: string }[]> {
  const { discover } = config;
  const filter = {
    ...(discover.region ? { region: discover.region } : {}),
    ...(discover.resourceGroupId ? { resourceGroupId: discover.resourceGroupId } : {}),
  };
  const found: { planId: string; name?: string; account: string }[] = [];
  const seen = new Set<string>();
  for (const account of discover.accounts) {
    const plans = await listAllBackupPlans(clientFor(account), { filter, ...(log ? { log } : {}) });
    const selection = {
      exclude: discover.exclude,
      ...(discover.include ? { include: discover.include } : {}),
      ...(discover.statuses ? { statuses: discover.statuses } : {}),
    };
    for (const plan of selectPlans(plans, selection)) {
      if (seen.has(plan.planId)) continue;
      seen.add(plan.planId);
      found.push({ planId: plan.planId, ...(plan.name ? { name: plan.name } : {}), account });
    }
  }
  return found;
}

// ---------------------------------------------------------------------------
// Plan existence (issue 13): configured ids the account does not know.

/** Hash planId → account of the configured plans DBS said it does not know (last check). */

/** Configured plans the last check found unknown: planId → account id. */
export async function readUnknownPlans(redis: Redis, prefix: string): Promise<Map<string, string>> {
  return new Map(Object.entries(await redis.hgetall(redisKeys(prefix).unknownPlans)));
}

/**
 * Checks the configured plans (at start and on every reload), stores the unknown ones for `status` and
 * the page, and logs each unknown id once per process. Accounts that cannot be checked keep their last
 * result and are logged as a warning; nothing here stops polling.
 */
export function createPlanChecker(deps: { readonly redis: Redis; readonly clientFor: (account: string) => DbsApi; readonly log: Logger }) {
  const logged = new Set<string>();
  return async (config: Config): Promise<PlanCheckReport> => {
    const report = await checkConfiguredPlans(config, deps.clientFor, { log: deps.log });
    const key = redisKeys(config.redis.prefix).unknownPlans;
    const stored = await deps.redis.hgetall(key);
    const configured = new Set(config.plans.map((p) => p.id));
    const checked = new Set(report.checkedAccounts);
    // Drop entries of checked accounts and of plans no longer configured; keep those of failed accounts.
    const stale = Object.entries(stored)
      .filter(([planId, account]) => checked.has(account) || !configured.has(planId))
      .map(([planId]) => planId);
    const multi = deps.redis.multi();
    if (stale.length > 0) multi.hdel(key, ...stale);
    if (report.unknown.length > 0) multi.hset(key, ...report.unknown.flatMap((u) => [u.planId, u.account]));
    await multi.exec();
    for (const u of report.unknown) {
      const once = `${u.account}/${u.planId}`;
      if (logged.has(once)) continue;
      logged.add(once);
      deps.log.error(
        { planId: u.planId, account: u.account },
        `backup plan ${u.planId} is not known to DBS in account "${u.account}": check plans[].id and plans[].account (it would only ever answer an empty list)`,
      );
    }
    for (const f of report.failed) {
      deps.log.warn({ account: f.account }, `could not check that the configured plans exist in account "${f.account}": ${f.error}`);
    }
    return report;
  };
}
