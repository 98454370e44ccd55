/**
 * Issue 15, items 3 and 5 on real parts (simulator + real DBS client + real Redis):
 * - a 200,000-task plan is baselined and steady-polled (before: `Maximum call stack size exceeded`
 *   in the commit from 60,000 tasks), with its time and memory printed;
 * - the chunked commit keeps its compare-and-set (a stale big commit changes nothing, leaves no staging keys);
 * - a terminal state is announced once per task: a forgotten task that comes back, and
 *   finish → running → finish with the same finish time, give no second notification.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { pollPlan } from '../../src/jobs/poll.js';
import { QUEUE_NAMES } from '../../src/queues.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { pipelineConfig, pollDeps } from '../helpers/pipeline.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

const mb = (bytes: number) => Math.round(bytes / 1_048_576);
// A real full GC between measurements, so "retained" means retained (the flag only exposes gc()).
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

describe('big plans and repeated terminal states', () => {
  const prefix = uniquePrefix('bigplan');
  const redis = connect('bigplan', { worker: true });
  let sim: RunningSimulator;
  let notifyQueue: Queue<NotifyJobData>;

  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
    notifyQueue = new Queue(QUEUE_NAMES.notify, { connection: redis, prefix });
  });

  afterAll(async () => {
    await notifyQueue.close();
    await sim.close();
    await close(redis);
    await deletePrefix(prefix);
  });

  const notifyIds = async () => (await notifyQueue.getJobs(['waiting', 'delayed', 'completed', 'failed'])).map((j) => j.id).sort();

  it('announces a finish once: not again when the task is forgotten and comes back, nor after finish → running → finish', async () => {
    sim.world.addPlan({ planId: 'repeat0001' });
    const config = pipelineConfig({ prefix, sim, plans: ['repeat0001'], pageSize: 30 });
    const deps = pollDeps(config, redis, notifyQueue);
    const [task] = sim.world.addTasks('repeat0001', 1, { status: 'running', taskId: 'tr1' });
    expect(task).toBeDefined();
    await pollPlan(deps, 'repeat0001'); // baseline
    const finishedAt = sim.world.now();
    sim.world.setStatus('tr1', 'finish', { at: finishedAt });
    await pollPlan(deps, 'repeat0001');
    expect(await notifyIds()).toEqual(['repeat0001.tr1.2-finish.slack-a']);

    // Gone for forgetAfterMissedPolls (3) polls: forgotten. Then listed again, same download.
    sim.world.removeTask('tr1');
    for (let i = 0; i < 3; i++) await pollPlan(deps, 'repeat0001');
    const state = await new RedisStateStore(redis, prefix).load('repeat0001');
    expect(state.tasks.has('tr1')).toBe(false);
    sim.world.addTask('repeat0001', { taskId: 'tr1', status: 'finish', finishedAt });
    const back = await pollPlan(deps, 'repeat0001');
    expect(back.transitions).toEqual([]);

    // finish → running → finish with the same finish time (DBS flapping): not news either.
    sim.world.setStatus('tr1', 'running');
    await pollPlan(deps, 'repeat0001');
    sim.world.setStatus('tr1', 'finish', { at: finishedAt });
    expect((await pollPlan(deps, 'repeat0001')).transitions).toEqual([]);
    // Before the fix the queue also held `repeat0001.tr1.1-finish.slack-a` and `…3-finish…`.
    expect(await notifyIds()).toEqual(['repeat0001.tr1.2-finish.slack-a']);

    // A real new run (a new finish time) is announced.
    sim.world.setStatus('tr1', 'running');
    await pollPlan(deps, 'repeat0001');
    sim.world.setStatus('tr1', 'finish', { at: finishedAt + 3_600_000 });
    const rerun = await pollPlan(deps, 'repeat0001');
    expect(rerun.transitions.map((t) => t.to)).toEqual(['finish']);
    expect(await notifyIds()).toHaveLength(2);
  });

  it('refuses a stale chunked commit and leaves no staging keys behind', async () => {
    const store = new RedisStateStore(redis, prefix);
    const upserts = new Map(Array.from({ length: 12_000 }, (_, i) => [`s${i}`, { status: 'running', seq: 1, missed: 0 }] as const));
    const first = await store.commit('stale0001', { expectedVersion: 0, upserts, removals: [], at: 1, byStatus: { running: 12_000 } });
    expect(first).toEqual({ ok: true, version: 1 });
    const stale = await store.commit('stale0001', { expectedVersion: 0, upserts, removals: [], at: 2, byStatus: {} });
    expect(stale).toEqual({ ok: false, reason: 'conflict' });
    const loaded = await store.load('stale0001');
    expect(loaded.tasks.size).toBe(12_000);
    expect(loaded.version).toBe(1);
    expect(await redis.keys(`${prefix}:plan:stale0001:staging*`)).toEqual([]);
  });

  it('loads a plan whose task ids or statuses hold newlines exactly (the one-string read falls back to HSCAN)', async () => {
    const store = new RedisStateStore(redis, prefix);
    const upserts = new Map([
      ['plain', { status: 'finish', seq: 2, missed: 0 }],
      ['line\nbreak', { status: 'running', seq: 1, missed: 1 }],
      ['odd', { status: 'we\nird', seq: 3, missed: 0, held: 2 }],
    ] as const);
    expect(await store.commit('newline01', { expectedVersion: 0, upserts, removals: [], at: 1, byStatus: {} })).toEqual({ ok: true, version: 1 });
    const loaded = await store.load('newline01');
    expect(loaded.version).toBe(1);
    expect(new Map(loaded.tasks)).toEqual(new Map(upserts));
    // And the usual plan, read as one string, decodes the same.
    const usual = new Map([...upserts].filter(([id]) => id === 'plain'));
    await store.commit('newline02', { expectedVersion: 0, upserts: usual, removals: [], at: 1, byStatus: {} });
    expect(new Map((await store.load('newline02')).tasks)).toEqual(usual);
  });

  it('baselines and steady-polls a 200,000-task plan, and finds the transitions in it', async () => {
    const planId = 'huge000001';
    sim.world.addPlan({ planId });
    sim.world.addTasks(planId, 200_000, { status: 'running', downloadWay: 'auto' });
    const config = pipelineConfig({ prefix, sim, plans: [planId], pageSize: 100 });
    const deps = pollDeps(config, redis, notifyQueue);
    const measure = async (label: string, action: () => Promise<unknown>) => {
      fullGc();
      const started = performance.now();
      const before = process.memoryUsage();
      let peakRss = before.rss;
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }, 50);
      try {
        await action();
      } finally {
        clearInterval(sampler);
      }
      const ms = Math.round(performance.now() - started);
      fullGc();
      const after = process.memoryUsage();
      const line = `${label}: ${ms} ms, rss ${mb(before.rss)} → peak ${mb(peakRss)} MB (this process also runs the simulator's 200,000 tasks), heap retained ${mb(before.heapUsed)} → ${mb(after.heapUsed)} MB`;
      console.log(`[200k plan] ${line}`);
      return line;
    };
    await measure('baseline poll', async () => {
      const outcome = await pollPlan(deps, planId);
      expect(outcome.result).toBe('baseline');
      expect(outcome.tracked).toBe(200_000);
    });
    const [meta] = await new RedisStateStore(redis, prefix).meta([planId]);
    expect(meta?.taskCount).toBe(200_000);
    await measure('steady poll', async () => {
      const outcome = await pollPlan(deps, planId);
      expect(outcome.transitions).toEqual([]);
    });
    const tasks = sim.world.tasksOf(planId);
    for (const task of tasks.slice(0, 3)) sim.world.setStatus(task.BackupSetDownloadTaskId, 'finish');
    await measure('poll with 3 finishes', async () => {
      const outcome = await pollPlan(deps, planId);
      expect(outcome.transitions.map((t) => t.to)).toEqual(['finish', 'finish', 'finish']);
    });
    console.log(
      `[200k plan] Redis memory of the plan: tasks ${mb(Number(await redis.memory('USAGE', `${prefix}:plan:${planId}:tasks`, 'SAMPLES', 0)))} MB, announced ${mb(Number((await redis.memory('USAGE', `${prefix}:plan:${planId}:announced`, 'SAMPLES', 0)) ?? 0))} MB`,
    );
  }, 300_000);
});
