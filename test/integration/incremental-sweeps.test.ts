/**
 * Incremental sweeps on real parts: the simulator behind the real DBS client
 * and pager, the real Redis state store and notify queue, `pollPlan` with a
 * controlled clock. Requests are counted by the simulator, not by the code
 * under test.
 */
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SIM_CREDENTIAL, type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { mulberry32 } from '../../dev/simulator/world.js';
import { type Config, parseConfig } from '../../src/config.js';
import { accessKeyCredential, createDbsClient } from '../../src/dbs/client.js';
import { dbsTaskSource } from '../../src/dbs/pager.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { type PollDeps, type PollOutcome, pollPlan } from '../../src/jobs/poll.js';
import { createLogger, type Logger, silentLogger } from '../../src/logger.js';
import { QUEUE_NAMES } from '../../src/queues.js';
import { planResolver } from '../../src/scheduler.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { expectedNotifications, pipelineYaml, type ScriptedTask } from '../helpers/pipeline.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const PAGE = 30;

describe('incremental sweeps', () => {
  const redis = connect('incremental-sweeps');
  const prefixes: string[] = [];
  const queues: Queue<NotifyJobData>[] = [];
  let sim: RunningSimulator;

  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
  });

  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await sim.close();
    await close(redis);
    for (const prefix of prefixes) await deletePrefix(prefix);
  });

  /** A plan with `history` finished tasks (one every 4 minutes, oldest first) and `live` running ones on top. */
  function addPlan(planId: string, history: number, live = 0): string[] {
    sim.world.addPlan({ planId });
    const start = sim.world.now() - (history + 1) * 4 * MINUTE;
    for (let i = 0; i < history; i++) sim.world.addTask(planId, { status: 'finish', createdAt: start + i * 4 * MINUTE });
    return sim.world.addTasks(planId, live, { status: 'running' }).map((t) => t.BackupSetDownloadTaskId);
  }

  /** A poller: its own key prefix (or a shared one), a clock it controls, the production task source. */
  function poller(name: string, planIds: string[], options: { sweep?: 'full'; log?: Logger } = {}) {
    const prefix = uniquePrefix(name);
    prefixes.push(prefix);
    const yaml = pipelineYaml({ prefix, sim, plans: planIds, pageSize: PAGE });
    const config: Config = parseConfig(options.sweep ? yaml.replace('timeout: 5s }', 'timeout: 5s, sweep: full }') : yaml, {}, 'test');
    const api = createDbsClient({ endpoint: config.dbs.endpoint, protocol: 'http', timeoutMs: 5_000, credential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL) });
    const notifyQueue = new Queue<NotifyJobData>(QUEUE_NAMES.notify, { connection: redis, prefix });
    queues.push(notifyQueue);
    const clock = { now: sim.world.now() };
    const store = new RedisStateStore(redis, prefix);
    /** What each poll asked of the announced hash (the real store answers). */
    const announcedReads: (readonly string[] | 'all')[] = [];
    const deps: PollDeps = {
      config: () => config,
      resolvePlan: planResolver(() => config, redis),
      source: dbsTaskSource(api, () => ({ pageSize: PAGE })),
      store: {
        load: (planId) => store.load(planId),
        announced: (planId, taskIds) => {
          announcedReads.push(taskIds === 'all' ? 'all' : [...taskIds].sort());
          return store.announced(planId, taskIds);
        },
        commit: (planId, input) => store.commit(planId, input),
        recordFailure: (planId, message, at) => store.recordFailure(planId, message, at),
        meta: (planIds) => store.meta(planIds),
        forget: (planId) => store.forget(planId),
      },
      notifyQueue,
      log: options.log ?? silentLogger,
      redis,
      prefix,
      now: () => clock.now,
      fullySwept: new Set(),
    };
    return {
      deps,
      clock,
      store,
      announcedReads,
      /** One poll; returns its outcome and the requests the simulator answered for the plan. */
      async poll(planId: string): Promise<PollOutcome & { requests: number }> {
        sim.resetStats();
        const outcome = await pollPlan(deps, planId);
        return { ...outcome, requests: sim.stats().byPlan[planId] ?? 0 };
      },
      async jobIds(): Promise<string[]> {
        const jobs = await notifyQueue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed']);
        return jobs.map((j) => j.id as string).sort();
      },
    };
  }

  it('reads the announced records of changed tasks only, and the whole hash once a day on a full sweep to drop expired ones', async () => {
    const planId = 'incrannc001';
    const [running, leaving] = addPlan(planId, 40, 2) as [string, string];
    const p = poller('incr-announced', [planId], { sweep: 'full' });
    const key = `${p.store.announcedKey(planId)}`;

    // The baseline: nothing was ever remembered, so nothing is read (the first full sweep marks the hash clean).
    await p.poll(planId);
    expect(p.announcedReads).toEqual([]);
    expect((await p.store.load(planId)).announcedGcAt).toBe(p.clock.now);
    expect(await redis.hlen(key)).toBe(40);

    // A quiet full sweep of 42 tasks reads no announced record.
    p.clock.now += MINUTE;
    expect((await p.poll(planId)).transitions).toEqual([]);
    expect(p.announcedReads).toEqual([]);

    // Two tasks finish: only their records are read, and written.
    sim.world.setStatus(running, 'finish');
    sim.world.setStatus(leaving, 'finish');
    p.clock.now += MINUTE;
    expect((await p.poll(planId)).transitions.map((t) => t.taskId).sort()).toEqual([running, leaving].sort());
    expect(p.announcedReads).toEqual([[running, leaving].sort()]);
    expect(await redis.hlen(key)).toBe(42);

    // One leaves the list: forgotten after forgetAfterMissedPolls (3) full sweeps, its record marked gone.
    sim.world.removeTask(leaving);
    p.announcedReads.length = 0;
    for (let i = 0; i < 3; i++) {
      p.clock.now += MINUTE;
      await p.poll(planId);
    }
    expect((await p.store.load(planId)).tasks.has(leaving)).toBe(false);
    expect(p.announcedReads).toEqual([[leaving]]);
    expect(await redis.hget(key, leaving)).toMatch(new RegExp(`\\|${p.clock.now}\\|finish$`));

    // A week (notify.keepDelivered) and a day later, the first full sweep reads the whole hash and drops it.
    p.clock.now += 8 * 24 * HOUR;
    p.announcedReads.length = 0;
    await p.poll(planId);
    expect(p.announcedReads).toEqual(['all']);
    expect(await redis.hget(key, leaving)).toBeNull();
    expect(await redis.hlen(key)).toBe(41);
    expect((await p.store.load(planId)).announcedGcAt).toBe(p.clock.now);
  });

  it('finds changes on the first pages on the next poll, reading only the top of the list', async () => {
    const planId = 'incrtop0001';
    const live = addPlan(planId, 300, 4); // 304 tasks: 11 pages of 30
    const p = poller('incr-top', [planId]);

    const baseline = await p.poll(planId);
    expect(baseline).toMatchObject({ result: 'baseline', requests: 11, sweep: { kind: 'full', reason: 'baseline' } });
    expect((await p.store.load(planId)).listOrder).toBe('newest-first');

    p.clock.now += MINUTE;
    const quiet = await p.poll(planId);
    // Page 0 holds the 4 running tasks; page 1 is all settled and unchanged: stop.
    expect(quiet).toMatchObject({ result: 'ok', requests: 2, sweep: { kind: 'incremental', reason: 'incremental' } });
    expect(quiet.transitions).toEqual([]);

    sim.world.setStatus(live[0] as string, 'finish');
    sim.world.setStatus(live[1] as string, 'stop');
    sim.world.advance(MINUTE);
    const fresh = sim.world.addTask(planId, { status: 'finish' }).BackupSetDownloadTaskId;
    p.clock.now += MINUTE;
    const moved = await p.poll(planId);
    expect(moved).toMatchObject({ requests: 2, sweep: { kind: 'incremental' } });
    expect(moved.transitions.map((t) => [t.taskId, t.event]).sort()).toEqual(
      [
        [live[0], 'finished'],
        [live[1], 'failed'],
        [fresh, 'finished'],
      ].sort(),
    );
    // Lazy normalisation: only the tasks a notification needs were normalised, with their links.
    expect([...moved.tasks.keys()].sort()).toEqual([live[0], live[1], fresh].sort());
    expect(moved.tasks.get(fresh)?.internetUrl).toMatch(/^https:\/\//);
    const expected = [
      `${planId}.${live[0]}.2-finish.slack-a`,
      `${planId}.${live[1]}.2-stop.slack-a`,
      `${planId}.${live[1]}.2-stop.mail-b`,
      `${planId}.${fresh}.1-finish.slack-a`,
    ].sort();
    expect(await p.jobIds()).toEqual(expected);

    // The same world again: nothing new, nothing re-enqueued.
    p.clock.now += MINUTE;
    expect((await p.poll(planId)).transitions).toEqual([]);
    expect(await p.jobIds()).toEqual(expected);
    // The status counts stay whole after an incremental sweep (they are not counts of the pages read).
    const [meta] = await p.store.meta([planId]);
    expect(meta?.byStatus).toEqual({ finish: 302, stop: 1, running: 2 });
  });

  it('finds a change deep in history at the next full sweep — once — and forgets only on full sweeps', async () => {
    const planId = 'incrdeep001';
    addPlan(planId, 300); // 10 pages, all settled
    const p = poller('incr-deep', [planId]);
    await p.poll(planId);
    const list = sim.world.tasksOf(planId);
    const deep = list[250]?.BackupSetDownloadTaskId as string; // page 8
    const gone = list[280]?.BackupSetDownloadTaskId as string; // page 9
    sim.world.setStatus(deep, 'stop');
    sim.world.removeTask(gone);

    for (const minutes of [1, 30, 59]) {
      p.clock.now = sim.world.now() + minutes * MINUTE;
      const outcome = await p.poll(planId);
      // Nothing unsettled is known and page 0 is quiet: one request.
      expect(outcome).toMatchObject({ requests: 1, sweep: { kind: 'incremental' } });
      expect(outcome.transitions).toEqual([]);
    }
    expect((await p.store.load(planId)).tasks.get(gone)).toMatchObject({ missed: 0 });

    p.clock.now = sim.world.now() + HOUR;
    const full = await p.poll(planId);
    expect(full).toMatchObject({ requests: 10, sweep: { kind: 'full', reason: 'full-sweep-due' } });
    expect(full.transitions).toEqual([{ taskId: deep, from: 'finish', to: 'stop', seq: 2, event: 'failed' }]);
    expect((await p.store.load(planId)).tasks.get(gone)).toMatchObject({ missed: 1 });

    p.clock.now += MINUTE;
    expect(await p.poll(planId)).toMatchObject({ requests: 1, transitions: [], sweep: { kind: 'incremental' } });
    expect(await p.jobIds()).toEqual([`${planId}.${deep}.2-stop.mail-b`, `${planId}.${deep}.2-stop.slack-a`]);
  });

  it('sweeps fully on the first poll after a process start, and always with dbs.sweep: full', async () => {
    const planId = 'incrstart01';
    addPlan(planId, 120); // 4 pages
    const p = poller('incr-start', [planId]);
    await p.poll(planId);
    p.clock.now += MINUTE;
    expect(await p.poll(planId)).toMatchObject({ requests: 1, sweep: { kind: 'incremental' } });

    // A new process (same Redis state, nothing swept by it yet).
    const restarted = { ...p.deps, fullySwept: new Set<string>() };
    sim.resetStats();
    const first = await pollPlan(restarted, planId);
    expect(first.sweep).toMatchObject({ kind: 'full', reason: 'process-start' });
    expect(sim.stats().byPlan[planId]).toBe(4);
    sim.resetStats();
    expect((await pollPlan(restarted, planId)).sweep).toMatchObject({ kind: 'incremental' });
    expect(sim.stats().byPlan[planId]).toBe(1);

    const full = poller('incr-full', [planId], { sweep: 'full' });
    expect(full.deps.config().dbs.sweep).toBe('full');
    for (let i = 0; i < 3; i++) {
      full.clock.now += MINUTE;
      expect(await full.poll(planId)).toMatchObject({ requests: 4, sweep: { kind: 'full', reason: 'configured-full' } });
    }
  });

  it('polls a shuffled list with full sweeps only, and says so in the log and the plan meta', async () => {
    const planId = 'incrshuf001';
    addPlan(planId, 150); // 5 pages
    sim.world.shuffleTasks(planId);
    const lines: { level: string; msg: string }[] = [];
    const log = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _enc, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    });
    const p = poller('incr-shuffled', [planId], { log });
    await p.poll(planId);
    const [meta] = await p.store.meta([planId]);
    expect(meta?.listOrder).toBe('unordered');
    for (let i = 0; i < 3; i++) {
      p.clock.now += MINUTE;
      expect(await p.poll(planId)).toMatchObject({ requests: 5, sweep: { kind: 'full', reason: 'list-unordered' } });
    }
    const warnings = lines.filter((l) => l.level === 'warn' && l.msg.includes(planId));
    expect(warnings).toHaveLength(1); // once per process, not once per poll
    expect(warnings[0]?.msg).toMatch(/not newest first by creation time; polling it with full sweeps only/);
  });

  it('notifies exactly what a full-sweep poller notifies, each once, over a scripted hour and a half', async () => {
    const planId = 'incrmix0001';
    addPlan(planId, 200);
    const incremental = poller('incr-mix-a', [planId]);
    const full = poller('incr-mix-b', [planId], { sweep: 'full' });
    const random = mulberry32(16);
    const next: Record<string, string> = { checking: 'check_pass', check_pass: 'schedule', schedule: 'running', pause: 'running' };
    const script = new Map<string, (string | undefined)[]>();
    const rounds = 10;
    const sweeps = { full: 0, incremental: 0 };
    for (let round = 0; round < rounds; round++) {
      if (round > 0) {
        sim.world.advance(10 * MINUTE);
        for (const taskId of script.keys()) {
          const status = sim.world.task(taskId)?.BackupSetDownloadStatus as string;
          if (status === 'finish' || status === 'stop' || random() < 0.4) continue;
          const to = status === 'running' ? (random() < 0.2 ? 'stop' : random() < 0.1 ? 'pause' : 'finish') : (next[status] ?? 'running');
          sim.world.setStatus(taskId, to);
        }
        const born = Math.floor(random() * 3);
        for (let i = 0; i < born; i++) {
          const status = random() < 0.25 ? 'finish' : 'checking';
          const id = sim.world.addTask(planId, { status }).BackupSetDownloadTaskId;
          script.set(id, new Array(round).fill(undefined));
        }
      } else {
        for (const task of sim.world.addTasks(planId, 5, { status: 'checking' })) script.set(task.BackupSetDownloadTaskId, []);
      }
      for (const [taskId, statuses] of script) statuses[round] = sim.world.task(taskId)?.BackupSetDownloadStatus;
      incremental.clock.now = sim.world.now();
      full.clock.now = sim.world.now();
      const a = await incremental.poll(planId);
      await full.poll(planId);
      if (a.sweep) sweeps[a.sweep.kind] += 1;
    }
    // Polls every 10 minutes over 90 minutes: the baseline, one full sweep when the hour is up, the rest incremental.
    expect(sweeps).toEqual({ full: 2, incremental: 8 });
    const tasks: ScriptedTask[] = [...script].map(([taskId, statuses]) => ({ planId, taskId, rounds: statuses }));
    const expected = expectedNotifications(tasks, (event) => (event === 'failed' ? ['slack-a', 'mail-b'] : ['slack-a']));
    expect(expected.size).toBeGreaterThan(5);
    const ids = await incremental.jobIds();
    expect(ids).toEqual([...expected.keys()].sort());
    expect(ids).toEqual(await full.jobIds());
  });
});
