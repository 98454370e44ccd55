/**
 * Scheduler reconciliation on a real BullMQ queue: one Job Scheduler per
 * plan, removed when the plan leaves the config, added without touching the
 * others, and idempotent when several schedulers reconcile at once.
 */
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { discoveredPlan } from '../../src/discovery.js';
import type { PollJobData } from '../../src/jobs/payloads.js';
import { planSchedulerId } from '../../src/keys.js';
import { silentLogger } from '../../src/logger.js';
import { QUEUE_NAMES } from '../../src/queues.js';
import { planOffset, reconcileSchedulers } from '../../src/scheduler.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

const configWith = (plans: string[], prefix: string) =>
  parseConfig(
    `
redis: { prefix: "${prefix}" }
defaults: { interval: 30s }
plans:
${plans.map((id) => `  - { id: ${id} }`).join('\n')}
http: { port: 0 }
`,
    {},
  );

describe('reconcileSchedulers', () => {
  const prefix = uniquePrefix('scheduler');
  const redis = connect('scheduler');
  const queue = new Queue<PollJobData>(QUEUE_NAMES.poll, { connection: redis, prefix });

  afterAll(async () => {
    await queue.close();
    await close(redis);
    await deletePrefix(prefix);
  });

  const schedulerIds = async () => (await queue.getJobSchedulers(0, -1)).map((s) => s.key).sort();

  it('keeps exactly one scheduler per plan even when two schedulers reconcile at once', async () => {
    const config = configWith(['plan0001', 'plan0002', 'plan0003'], prefix);
    await Promise.all([reconcileSchedulers(queue, config, config.plans, silentLogger), reconcileSchedulers(queue, config, config.plans, silentLogger)]);
    expect(await schedulerIds()).toEqual(['plan.plan0001', 'plan.plan0002', 'plan.plan0003']);
    const delayed = await queue.getDelayed();
    expect(delayed.map((j) => j.data.planId).sort()).toEqual(['plan0001', 'plan0002', 'plan0003']);
  });

  it('removes a plan that left the config and adds a new one without restarting the others', async () => {
    const before = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s.next]));
    const delayedBefore = new Map((await queue.getDelayed()).map((j) => [j.data.planId, j.id]));
    const config = configWith(['plan0001', 'plan0003', 'plan0004'], prefix);
    const result = await reconcileSchedulers(queue, config, config.plans, silentLogger);
    expect(result.removed).toEqual(['plan.plan0002']);
    expect(await schedulerIds()).toEqual(['plan.plan0001', 'plan.plan0003', 'plan.plan0004']);
    const after = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s.next]));
    // Unchanged plans keep their schedule and their pending job.
    expect(after.get('plan.plan0001')).toBe(before.get('plan.plan0001'));
    expect(after.get('plan.plan0003')).toBe(before.get('plan.plan0003'));
    const delayedAfter = new Map((await queue.getDelayed()).map((j) => [j.data.planId, j.id]));
    expect(delayedAfter.get('plan0001')).toBe(delayedBefore.get('plan0001'));
    expect(delayedAfter.has('plan0002')).toBe(false);
    expect(delayedAfter.has('plan0004')).toBe(true);
  });

  it('spreads plans over the interval with a stable per-plan offset', () => {
    const offsets = Array.from({ length: 200 }, (_, i) => planOffset(`plan${i}`, 60_000));
    expect(new Set(offsets).size).toBeGreaterThan(150);
    expect(Math.max(...offsets)).toBeLessThan(60_000);
    expect(planOffset('plan7', 60_000)).toBe(offsets[7]);
    expect(planSchedulerId('a:b')).not.toContain(':');
  });

  it('gives discovered plans whose ids collided before (dd:1, dd~3A1, dd.x) one scheduler each', async () => {
    const own = new Queue<PollJobData>(QUEUE_NAMES.poll, { connection: redis, prefix: `${prefix}-disc` });
    try {
      const config = configWith(['plan0001'], `${prefix}-disc`);
      const plans = ['dd:1', 'dd~3A1', 'dd.x', 'dd~2Ex'].map((id) => discoveredPlan(config, id, id));
      await reconcileSchedulers(own, config, plans, silentLogger);
      const schedulers = await own.getJobSchedulers(0, -1);
      // Before the fix dd:1 and dd~3A1 shared `plan.dd~3A1`: one of them was never polled.
      expect(schedulers).toHaveLength(4);
      const delayed = await own.getDelayed();
      expect(delayed.map((j) => j.data.planId).sort()).toEqual(['dd.x', 'dd:1', 'dd~2Ex', 'dd~3A1']);
    } finally {
      await own.close();
      await deletePrefix(`${prefix}-disc`);
    }
  });
});
