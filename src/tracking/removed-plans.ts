/**
 * State of plans that are no longer watched. A plan removed from the config
 * (or no longer found by discovery) keeps its state for a grace period, so
 * one put back by an operator — or a config reload that briefly lacked it —
 * carries on where it was instead of re-baselining; after the grace period
 * (`defaults.forgetRemovedPlansAfter`, 7 days) its state is deleted, so
 * Redis does not keep every plan ever watched. Its Job Scheduler is removed
 * at once by the reconciliation (scheduler.ts).
 */
import type { Redis } from 'ioredis';
import { redisKeys } from '../keys.js';

/** Meta field: when this plan was first seen missing from the watched set, epoch ms. */
export const REMOVED_AT_FIELD = 'removedAt';

export interface RemovedPlansResult {
  /** Plans newly found missing (their grace period starts now). */
  readonly markedRemoved: readonly string[];
  /** Plans whose state was deleted (missing for longer than the grace period). */
  readonly forgotten: readonly string[];
  /** Plans that came back before their grace period ended. */
  readonly restored: readonly string[];
}

/** Plan ids that have state under `prefix` (one SCAN of the meta keys). */
async function plansWithState(redis: Redis, prefix: string): Promise<string[]> {
  const keys = redisKeys(prefix);
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', keys.planMetaPattern, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      const planId = keys.planIdOfMetaKey(key);
      if (planId !== undefined) out.push(planId);
    }
  } while (cursor !== '0');
  return out;
}

/**
 * Marks the state of plans missing from `watched` as removed, clears the mark
 * of plans that are watched again, and deletes the state of plans removed for
 * at least `graceMs`. Two pipelined round trips plus the SCAN, whatever the
 * number of plans.
 */
export async function forgetRemovedPlans(
  redis: Redis,
  prefix: string,
  watched: ReadonlySet<string>,
  graceMs: number,
  now: number,
): Promise<RemovedPlansResult> {
  const keys = redisKeys(prefix);
  const planIds = await plansWithState(redis, prefix);
  if (planIds.length === 0) return { markedRemoved: [], forgotten: [], restored: [] };
  const read = redis.pipeline();
  for (const planId of planIds) read.hget(keys.planMeta(planId), REMOVED_AT_FIELD);
  const marks = (await read.exec()) ?? [];

  const markedRemoved: string[] = [];
  const forgotten: string[] = [];
  const restored: string[] = [];
  const write = redis.pipeline();
  planIds.forEach((planId, i) => {
    const raw = marks[i]?.[1];
    const removedAt = typeof raw === 'string' ? Number(raw) : undefined;
    if (watched.has(planId)) {
      if (removedAt !== undefined) {
        write.hdel(keys.planMeta(planId), REMOVED_AT_FIELD);
        restored.push(planId);
      }
    } else if (removedAt === undefined || !Number.isFinite(removedAt)) {
      write.hset(keys.planMeta(planId), REMOVED_AT_FIELD, now);
      markedRemoved.push(planId);
    } else if (now - removedAt >= graceMs) {
      write.unlink(keys.planMeta(planId), keys.planTasks(planId), keys.planAnnounced(planId), keys.planPermanentErrorLogged(planId));
      forgotten.push(planId);
    }
  });
  if (write.length > 0) await write.exec();
  return { markedRemoved, forgotten, restored };
}
