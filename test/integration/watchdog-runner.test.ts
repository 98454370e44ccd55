/**
 * The watchdog's Redis edge: state kept per subject with a compare-and-set,
 * one notify job per state change and channel even when several processes
 * observe the same poll outcomes at once, and the stale check of the tick.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { WatchdogRunner } from '../../src/alerting/watchdog-runner.js';
import { type Config, parseConfig } from '../../src/config.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { silentLogger } from '../../src/logger.js';
import { QUEUE_NAMES } from '../../src/queues.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix('watchdog');
let redis: Redis;
let other: Redis;
let queue: Queue<NotifyJobData>;
let config: Config;

beforeAll(() => {
  config = parseConfig(
    `redis: { prefix: ${prefix} }\nplans: [{ id: p1, name: orders }]\nchannels:\n  ops: { type: slack, webhookUrl: "https://hooks.example/x" }\n  mail: { type: email, host: smtp.example, from: a@example.com, to: [b@example.com] }\nwatchdog: { notify: [ops, mail] }\n`,
    {},
  );
  redis = connect('watchdog-a');
  other = connect('watchdog-b');
  queue = new Queue<NotifyJobData>(QUEUE_NAMES.notify, { connection: redis, prefix });
});

afterAll(async () => {
  await queue.close();
  await close(redis);
  await close(other);
  await deletePrefix(prefix);
});

const watchdogJobs = async () =>
  (await queue.getJobs(['waiting', 'delayed', 'prioritized']))
    .filter((j) => j.data.watchdog)
    .map((j) => ({ id: j.id, event: j.data.watchdog?.event, channel: j.data.channel }));

describe('WatchdogRunner', () => {
  it('raises one plan-failing per channel when two processes observe the same failures concurrently', async () => {
    const a = new WatchdogRunner({ redis, prefix, config: () => config, notifyQueue: queue, log: silentLogger });
    const otherQueue = new Queue<NotifyJobData>(QUEUE_NAMES.notify, { connection: other, prefix });
    onTestFinished(() => otherQueue.close());
    const b = new WatchdogRunner({ redis: other, prefix, config: () => config, notifyQueue: otherQueue, log: silentLogger });
    const plan = { id: 'p1', name: 'orders' };
    const failure = (at: number) => ({
      kind: 'failure' as const,
      at,
      error: 'InvalidAccessKeyId.NotFound: Specified access key is not found.',
      permanent: true,
    });
    await Promise.all([a.observePlan(plan, failure(1)), b.observePlan(plan, failure(2)), a.observePlan(plan, failure(3)), b.observePlan(plan, failure(4))]);
    const jobs = await watchdogJobs();
    expect(jobs.map((j) => `${j.event}→${j.channel}`).sort()).toEqual(['plan-failing→mail', 'plan-failing→ops']);
    expect(await a.state('plan', 'p1')).toMatchObject({ health: 'failing', failures: 4, seq: 1 });
    const notice = (await queue.getJob(String(jobs[0]?.id)))?.data.watchdog;
    expect(notice?.error).toContain('InvalidAccessKeyId');
    expect(notice?.subject).toEqual({ kind: 'plan', id: 'p1', name: 'orders' });

    // Recovery after recoverAfter (2) successes: one more event per channel.
    await a.observePlan(plan, { kind: 'success', at: 10 });
    expect((await watchdogJobs()).length).toBe(2);
    await b.observePlan(plan, { kind: 'success', at: 11 });
    expect((await watchdogJobs()).filter((j) => j.event === 'plan-recovered').length).toBe(2);
  });

  it('the tick raises plan-stale for a plan without a recent success, once', async () => {
    const runner = new WatchdogRunner({ redis, prefix, config: () => config, notifyQueue: queue, log: silentLogger, now: () => 1_000_000 });
    const plans = [{ id: 'p-stale', name: 'stale plan', intervalMs: 60_000, lastSuccessAt: 1_000_000 - 4 * 60_000 }];
    await runner.tick(plans);
    await runner.tick(plans);
    const stale = (await watchdogJobs()).filter((j) => j.event === 'plan-stale');
    expect(stale.map((j) => j.channel).sort()).toEqual(['mail', 'ops']);
    const fresh = [{ id: 'p-fresh', name: 'fresh', intervalMs: 60_000, lastSuccessAt: 1_000_000 - 60_000 }];
    await runner.tick(fresh);
    expect((await watchdogJobs()).filter((j) => j.event === 'plan-stale')).toHaveLength(2);
  });
});
