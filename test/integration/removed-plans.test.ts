/**
 * A plan that leaves the config keeps its state for the grace period
 * (`defaults.forgetRemovedPlansAfter`), comes back intact if it returns in
 * time, and is deleted after it — on a real Redis.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/keys.js';
import { forgetRemovedPlans, REMOVED_AT_FIELD } from '../../src/tracking/removed-plans.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

const DAY = 86_400_000;
let redis: Redis;
const prefix = uniquePrefix('removed-plans');
const keys = redisKeys(prefix);

async function track(planId: string): Promise<void> {
  const store = new RedisStateStore(redis, prefix);
  const result = await store.commit(planId, {
    expectedVersion: 0,
    upserts: new Map([['t1', { status: 'finish', seq: 1, missed: 0 }]]),
    removals: [],
    at: 1,
    byStatus: { finish: 1 },
  });
  expect(result.ok).toBe(true);
}

beforeAll(() => {
  redis = connect('removed-plans');
});
afterAll(async () => {
  await close(redis);
  await deletePrefix(prefix);
});

describe('forgetRemovedPlans', () => {
  it('keeps a removed plan for the grace period, then deletes exactly its keys', async () => {
    // Ids with the separator in them must be parsed back whole.
    for (const planId of ['kept', 'gone:with:colons', 'back']) await track(planId);
    const t0 = 1_000 * DAY;

    const first = await forgetRemovedPlans(redis, prefix, new Set(['kept']), 7 * DAY, t0);
    expect([...first.markedRemoved].sort()).toEqual(['back', 'gone:with:colons']);
    expect(first.forgotten).toEqual([]);
    expect(await redis.hget(keys.planMeta('gone:with:colons'), REMOVED_AT_FIELD)).toBe(String(t0));

    // Back in the config before the grace period ends: the mark is cleared, the state intact.
    const second = await forgetRemovedPlans(redis, prefix, new Set(['kept', 'back']), 7 * DAY, t0 + 6 * DAY);
    expect(second).toEqual({ markedRemoved: [], forgotten: [], restored: ['back'] });
    expect(await redis.hget(keys.planMeta('back'), REMOVED_AT_FIELD)).toBeNull();
    expect(await redis.hget(keys.planTasks('back'), 't1')).not.toBeNull();

    // One millisecond short of the grace period: still kept.
    const third = await forgetRemovedPlans(redis, prefix, new Set(['kept', 'back']), 7 * DAY, t0 + 7 * DAY - 1);
    expect(third.forgotten).toEqual([]);
    expect(await redis.exists(keys.planTasks('gone:with:colons'))).toBe(1);

    const fourth = await forgetRemovedPlans(redis, prefix, new Set(['kept', 'back']), 7 * DAY, t0 + 7 * DAY);
    expect(fourth.forgotten).toEqual(['gone:with:colons']);
    expect(await redis.exists(keys.planMeta('gone:with:colons'), keys.planTasks('gone:with:colons'))).toBe(0);
    for (const planId of ['kept', 'back']) {
      expect(await redis.exists(keys.planMeta(planId), keys.planTasks(planId))).toBe(2);
    }
  });

  it('does nothing when no plan has state', async () => {
    const empty = uniquePrefix('removed-plans-empty');
    expect(await forgetRemovedPlans(redis, empty, new Set(['a']), DAY, Date.now())).toEqual({ markedRemoved: [], forgotten: [], restored: [] });
  });
});
