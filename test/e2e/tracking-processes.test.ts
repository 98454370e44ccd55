/**
 * Exactly once across processes: three separate `dbswatch worker` processes
 * polling the same plans at the same time, and a worker SIGKILLed between
 * enqueueing notifications and committing state.
 */
import { Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { pollPlan } from '../../src/jobs/poll.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { expectedNotifications, pipelineConfig, pipelineYaml, pollDeps, testQueues } from '../helpers/pipeline.js';
import { killAll, startDbswatch, startTsx, writeConfig } from '../helpers/processes.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';
import { applyRound, PLANS, ROUNDS, script } from '../helpers/timeline.js';

afterEach(async () => {
  await killAll();
});

describe('three worker processes polling concurrently', () => {
  const prefix = uniquePrefix('three-workers');
  const redis = connect('three-workers', { worker: true });
  let sim: RunningSimulator;

  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
    for (const planId of Object.keys(PLANS)) sim.world.addPlan({ planId });
  });

  afterAll(async () => {
    await sim?.close();
    await close(redis);
    await deletePrefix(prefix);
  });

  it('produces the same notification set, exactly once, while polls of one plan overlap', async () => {
    const planIds = Object.keys(PLANS);
    const configPath = writeConfig(pipelineYaml({ prefix, sim, plans: planIds }));
    const workers = [1, 2, 3].map(() => startDbswatch(['worker', '--queues', 'poll', '--concurrency', '3', '--config', configPath]));
    await Promise.all(workers.map((w) => w.waitForLine(/dbswatch started/)));
    // Every API answer takes a while, so the three polls of a plan in a round overlap.
    sim.injectFault({ kind: 'timeout', count: 1_000_000, delayMs: 120, afterDelay: 'answer' });

    const queues = testQueues(redis, prefix);
    const tasks = script();
    const overlapping: string[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        applyRound(sim, tasks, round);
        const results = await Promise.all([1, 2, 3].map((k) => queues.pollAll(planIds, `r${round}-k${k}`)));
        expect(results.flat().filter((r) => !r.ok)).toEqual([]);
        for (const planId of planIds) {
          const jobs = await Promise.all([1, 2, 3].map((k) => Job.fromId(queues.poll, `r${round}-k${k}-${planId}`)));
          const spans = jobs.map((j) => [j?.processedOn ?? 0, j?.finishedOn ?? 0] as const);
          const overlaps = spans.some(([s1, e1], i) => spans.some(([s2], j) => i !== j && s2 >= s1 && s2 < e1));
          if (overlaps) overlapping.push(`${round}:${planId}`);
        }
      }
      const expected = expectedNotifications(tasks, (event) => (event === 'failed' ? ['slack-a', 'mail-b'] : ['slack-a']));
      const jobs = await queues.notifyJobs();
      expect(new Map([...jobs].map(([id, data]) => [id, data.notifications[0]?.event]))).toEqual(expected);
      // The point of the test: polls of the same plan really ran at the same time.
      expect(overlapping.length).toBeGreaterThan(ROUNDS);
    } finally {
      sim.clearFaults();
      await queues.close();
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 120_000);
});

describe('a worker killed between enqueue and commit', () => {
  const prefix = uniquePrefix('sigkill');
  const redis = connect('sigkill', { worker: true });
  let sim: RunningSimulator;

  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
    sim.world.addPlan({ planId: 'plankill001' });
  });

  afterAll(async () => {
    await sim?.close();
    await close(redis);
    await deletePrefix(prefix);
  });

  it('loses nothing and duplicates nothing once a worker is restarted', async () => {
    const planId = 'plankill001';
    const config = pipelineConfig({ prefix, sim, plans: [planId] });
    const configPath = writeConfig(pipelineYaml({ prefix, sim, plans: [planId] }));
    const queues = testQueues(redis, prefix);
    try {
      const tasks = sim.world.addTasks(planId, 12, { status: 'running' });
      await pollPlan(pollDeps(config, redis, queues.notify), planId); // baseline
      const store = new RedisStateStore(redis, prefix);
      const versionBefore = (await store.meta([planId]))[0]?.version;

      for (const task of tasks.slice(0, 5)) sim.world.setStatus(task.BackupSetDownloadTaskId, 'finish');
      const crasher = startTsx('test/fixtures/processes/crashing-poll-worker.ts', [configPath]);
      await crasher.waitForLine(/dbswatch started/);
      await queues.poll.add('poll', { v: 1, planId }, { jobId: 'before-crash', attempts: 1 });
      expect(await crasher.exited).toBe('SIGKILL');
      expect(crasher.lines.some((l) => l.includes('crash point reached'))).toBe(true);
      expect((await queues.notifyJobs()).size).toBe(5);
      expect((await store.meta([planId]))[0]?.version).toBe(versionBefore);

      // Meanwhile one more task finishes; then a healthy worker takes over.
      sim.world.setStatus(tasks[5]!.BackupSetDownloadTaskId, 'finish');
      const healthy = startDbswatch(['worker', '--queues', 'poll', '--config', configPath]);
      await healthy.waitForLine(/dbswatch started/);
      const [result] = await queues.pollAll([planId], 'after-restart');
      expect(result?.ok).toBe(true);
      await healthy.stop();

      const ids = [...(await queues.notifyJobs()).keys()].sort();
      const expected = tasks
        .slice(0, 6)
        .map((t) => `${planId}.${t.BackupSetDownloadTaskId}.2-finish.slack-a`)
        .sort();
      expect(ids).toEqual(expected);
      expect((await store.meta([planId]))[0]?.version).toBe((versionBefore ?? 0) + 1);
    } finally {
      await queues.close();
    }
  }, 90_000);
});
