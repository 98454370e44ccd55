/**
 * The scheduler: keeps one BullMQ Job Scheduler per tracked plan (configured
 * or discovered) on the poll queue, and removes those whose plan is gone.
 * `upsertJobScheduler` is keyed by a stable id, so reconciling is idempotent
 * and several scheduler processes starting at once leave one per plan.
 */
import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type Config, type PlanConfig, discoveredPlan } from './config.js';
import type { Logger } from './logger.js';
import { idPart } from './notify/event.js';
import { type PollJobData, pollJobOptions } from './queues.js';
import { instanceAsPlan } from './dbs2021/pipeline.js';
import { instanceOfKey } from './dbs2021/source.js';
import { sourceKindOf } from './tracking/source.js';

const PLAN_SCHEDULER_PREFIX = 'plan.';
export const DISCOVER_SCHEDULER_ID = 'discover';
export const DISCOVER_JOB_NAME = 'discover';
export const POLL_JOB_NAME = 'poll';

export function planSchedulerId(planId: string): string {
  return `${PLAN_SCHEDULER_PREFIX}${idPart(planId)}`;
}

/**
 * A stable offset within the interval, so 1,000 plans on the same interval
 * spread over it instead of firing in the same second.
 */
export function planOffset(planId: string, intervalMs: number): number {
  const hash = createHash('sha1').update(planId).digest().readUInt32BE(0);
  return hash % intervalMs;
}

export function discoveredKey(prefix: string): string {
  return `${prefix}:discovered`;
}

/** Plans discovered by `DescribeBackupPlanList`, as stored by the last discovery run. */
export async function readDiscovered(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const raw = await redis.hgetall(discoveredKey(prefix));
  return new Map(Object.entries(raw));
}

/** Every source dbswatch tracks now: the configured plans, the instances (keyed by sourceKey), then discovered plans. */
export async function trackedPlans(config: Config, redis: Redis): Promise<PlanConfig[]> {
  const plans = [...config.plans, ...config.instances.map(instanceAsPlan)];
  if (!config.discover.enabled) return plans;
  const configured = new Set(plans.map((p) => p.id));
  for (const [id, name] of await readDiscovered(redis, config.redis.prefix)) {
    if (!configured.has(id) && sourceKindOf(id) === 'plan') plans.push(discoveredPlan(config, id, name));
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
    const name = await redis.hget(discoveredKey(current.redis.prefix), planId);
    return name === null ? undefined : discoveredPlan(current, planId, name);
  };
}

export interface ReconcileResult {
  readonly upserted: readonly string[];
  readonly removed: readonly string[];
}

/** Makes the poll queue's Job Schedulers match `plans` exactly (plus discovery when enabled). */
export async function reconcileSchedulers(
  queue: Queue<PollJobData>,
  config: Config,
  plans: readonly PlanConfig[],
  log: Logger,
): Promise<ReconcileResult> {
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
    const stale =
      (id.startsWith(PLAN_SCHEDULER_PREFIX) && !wanted.has(id)) || (id === DISCOVER_SCHEDULER_ID && !config.discover.enabled);
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
  readonly listPlans: () => Promise<readonly { planId: string; name?: string }[]>;
  readonly log: Logger;
}): Promise<number> {
  const found = await deps.listPlans();
  const key = discoveredKey(deps.config.redis.prefix);
  const multi = deps.redis.multi().del(key);
  if (found.length > 0) multi.hset(key, ...found.flatMap((p) => [p.planId, p.name ?? p.planId]));
  await multi.exec();
  const plans = await trackedPlans(deps.config, deps.redis);
  await reconcileSchedulers(deps.queue, deps.config, plans, deps.log);
  deps.log.info({ discovered: found.length, tracked: plans.length }, 'backup plans discovered');
  return found.length;
}
