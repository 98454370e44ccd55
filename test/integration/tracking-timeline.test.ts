/**
 * The tracking pipeline on real parts: simulator + real DBS client + real
 * Redis + a real BullMQ poll worker. A scripted timeline of 50 tasks over 3
 * plans must produce exactly the expected notification jobs.
 */
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import type { Config } from '../../src/config.js';
import { startPollWorker } from '../../src/jobs/poll.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { expectedNotifications, pipelineConfig, pollDeps, testQueues } from '../helpers/pipeline.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';
import { applyRound, PLANS, ROUNDS, script } from '../helpers/timeline.js';

describe('tracking pipeline: scripted timeline', () => {
  const prefix = uniquePrefix('timeline');
  const redis = connect('timeline', { worker: true });
  let sim: RunningSimulator;
  let config: Config;
  let queues: ReturnType<typeof testQueues>;
  let worker: Worker;

  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
    for (const planId of Object.keys(PLANS)) sim.world.addPlan({ planId });
    config = pipelineConfig({ prefix, sim, plans: Object.keys(PLANS) });
    queues = testQueues(redis, prefix);
    worker = startPollWorker({ ...pollDeps(config, redis, queues.notify), connection: redis, concurrency: 3 });
  });

  afterAll(async () => {
    await worker?.close();
    await queues?.close();
    await sim?.close();
    await close(redis);
    await deletePrefix(prefix);
  });

  it('enqueues exactly the expected notification jobs — no more, no fewer — with a silent baseline', async () => {
    const tasks = script();
    expect(tasks).toHaveLength(50);
    const planIds = Object.keys(PLANS);
    for (let round = 0; round < ROUNDS; round++) {
      applyRound(sim, tasks, round);
      const results = await queues.pollAll(planIds, `round${round}`);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      if (round === 0) expect((await queues.notifyJobs()).size).toBe(0);
    }
    // A repeat of the last poll must change nothing: same ids, already enqueued.
    await queues.pollAll(planIds, 'repeat');

    const expected = expectedNotifications(tasks, (event) => (event === 'failed' ? ['slack-a', 'mail-b'] : ['slack-a']));
    const jobs = await queues.notifyJobs();
    const actual = new Map([...jobs].map(([id, data]) => [id, data.notifications[0]?.event]));
    expect(actual).toEqual(expected);
    expect(expected.size).toBeGreaterThan(40);
    for (const [id, data] of jobs) {
      expect(data.notifications).toHaveLength(1);
      expect(data.notifications[0]?.id).toBe(id);
      expect(data.channel).toBe(id.split('.').at(-1));
    }
    // State holds every live task, compactly, and the plan meta says baseline is done.
    const store = new RedisStateStore(redis, prefix);
    const [meta] = await store.meta(['planalpha01']);
    expect(meta).toMatchObject({ baselineDone: true, taskCount: 20 });
  });

  it('never notifies from a partial read: a failing page 2 fails the poll, and the transitions come once it recovers', async () => {
    const planId = 'planbeta002';
    // 15 tasks + 40 more = 55 → two pages of 30: page 2 is PageNum 1.
    const extra = sim.world.addTasks(planId, 40, { status: 'running' });
    await queues.pollAll([planId], 'grow');
    const before = await queues.notifyJobs();

    for (const task of extra.slice(0, 10)) sim.world.setStatus(task.BackupSetDownloadTaskId, 'finish');
    sim.injectFault({ kind: 'unavailable', count: 50, planId, pageNum: 1 });
    const failed = await queues.pollAll([planId], 'broken1');
    const failedAgain = await queues.pollAll([planId], 'broken2');
    expect(failed[0]?.ok).toBe(false);
    expect(failedAgain[0]?.ok).toBe(false);
    expect((await queues.notifyJobs()).size).toBe(before.size);
    const [meta] = await new RedisStateStore(redis, prefix).meta([planId]);
    expect(meta?.lastError).toMatch(/ServiceUnavailable|unavailable/i);

    sim.clearFaults();
    const recovered = await queues.pollAll([planId], 'recovered');
    expect(recovered[0]?.ok).toBe(true);
    const after = await queues.notifyJobs();
    const added = [...after.keys()].filter((id) => !before.has(id));
    expect(added.sort()).toEqual(
      extra
        .slice(0, 10)
        .map((t) => `${planId}.${t.BackupSetDownloadTaskId}.2-finish.slack-a`)
        .sort(),
    );
  });
});
