/**
 * Chaos: dbswatch as real processes (one scheduler, two workers) against
 * the DBS simulator, a Slack sink and an SMTP sink, with a private Redis,
 * while a seeded timeline of 20 plans × 27 tasks runs and a fault schedule
 * hits every part: DBS throttling, 503s, 500s, timeouts, malformed and
 * shifting pages; Slack 429/500; SMTP 421/451; a worker SIGKILLed and
 * restarted; Redis crashed (SIGKILL) and restarted with its AOF.
 *
 * At the end every notifiable status change in the simulator's ledger must
 * have reached every channel it is routed to exactly once, nothing may have
 * been delivered that the ledger never had, the queues must be drained and
 * no process may have crashed.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultSpec, type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { type SlackSink, type SlackSinkResponse, startSlackSink } from '../../dev/sinks/slack-sink.js';
import { type SmtpSink, type SmtpSinkResponse, startSmtpSink } from '../../dev/sinks/smtp-sink.js';
import { QUEUE_NAMES } from '../../src/queues.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import {
  addChaosTimeline,
  alarmingLines,
  type Comparison,
  type CrashableRedis,
  compareWithLedger,
  deliveriesOf,
  isNotifiable,
  pollUntil,
  startCrashableRedis,
} from '../helpers/chaos.js';
import { childEnv, killAll, type ManagedProcess, startDbswatch, writeConfig } from '../helpers/processes.js';

const PLANS = Array.from({ length: 20 }, (_, i) => `chaos${String(i + 1).padStart(2, '0')}`);
const SLACK_CHANNELS = 10;
const HISTORY_PER_PLAN = 10;
const TASKS_PER_PLAN = 27;
const RETRIES_PER_PLAN = 1;
const SEED = 20_240_817;
const PREFIX = 'chaos';

/** Plan i → one of ten Slack webhooks (two plans each), failures by email to on-call, everything by email to ops for even plans. */
function channelsOf(planIndex: number): string[] {
  const out = [`slack-${(planIndex % SLACK_CHANNELS) + 1}`, 'mail-failures'];
  if (planIndex % 2 === 0) out.push('mail-ops');
  return out;
}
const MAIL_TO: Record<string, string> = { 'mail-ops': 'ops@example.com', 'mail-failures': 'oncall@example.com' };
const slackPath = (channel: string) => `/services/T0CHAOS/${channel.replace('-', '')}/hook`;

function routes(planId: string, event: 'finished' | 'failed'): string[] {
  return channelsOf(PLANS.indexOf(planId)).filter((c) => c !== 'mail-failures' || event === 'failed');
}

function targetOf(channel: string): string {
  return MAIL_TO[channel] ?? slackPath(channel);
}

function configYaml(redisUrl: string, sim: RunningSimulator, slack: SlackSink, smtp: SmtpSink): string {
  const slackChannels = Array.from({ length: SLACK_CHANNELS }, (_, i) => `slack-${i + 1}`)
    .map((name) => `  ${name}: { type: slack, webhookUrl: "${slack.url(slackPath(name))}", timeout: 3s }`)
    .join('\n');
  return `
redis: { url: "${redisUrl}", prefix: "${PREFIX}" }
dbs: { endpoint: "${sim.endpoint}", protocol: http, pageSize: 30, requestsPerSecond: 50, timeout: 2s, fullSweepEvery: 10s }
defaults: { interval: 5s }
plans:
${PLANS.map((id, i) => `  - { id: ${id}, name: "${id}-db", notify: [${channelsOf(i).join(', ')}] }`).join('\n')}
channels:
${slackChannels}
  mail-ops: { type: email, smtpUrl: "${smtp.url}", from: "dbswatch <dbswatch@example.com>", to: [${MAIL_TO['mail-ops']}], timeout: 5s }
  mail-failures: { type: email, smtpUrl: "${smtp.url}", from: "dbswatch <dbswatch@example.com>", to: [${MAIL_TO['mail-failures']}], events: [failed], timeout: 5s }
poll: { backoff: 1s, attempts: 6, concurrency: 4 }
notify: { backoff: 1s, maxBackoff: 8s, attempts: 25, digestThreshold: 2, concurrency: 6 }
http: { port: 0 }
shutdown: { deadline: 15s }
`;
}

describe('chaos: three dbswatch processes, every fault, one ledger', () => {
  let redis: CrashableRedis;
  let slack: SlackSink;
  let smtp: SmtpSink;
  let sim: RunningSimulator;
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = await startCrashableRedis({ persistent: true });
    slack = await startSlackSink();
    smtp = await startSmtpSink();
    sim = await startSimulator({ scenario: 'empty', seed: SEED });
    const hour = 3_600_000;
    for (const planId of PLANS) {
      sim.world.addPlan({ planId, name: `${planId}-db` });
      // History: finished long ago (and one stopped), recorded silently by the baseline.
      for (let i = HISTORY_PER_PLAN; i >= 1; i--) {
        const createdAt = sim.world.startMs - i * hour;
        sim.world.addTask(planId, { status: i === 4 ? 'stop' : 'finish', createdAt, finishedAt: createdAt + 90_000 });
      }
    }
  });

  afterAll(async () => {
    await killAll();
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    await sim?.close();
    await slack?.close();
    await smtp?.close();
    await redis?.close();
  });

  it('delivers every notifiable transition exactly once per routed channel, and loses nothing', async () => {
    const startedAt = Date.now();
    const env = childEnv({ REDIS_URL: redis.url, LOG_LEVEL: 'info' });
    const configPath = writeConfig(configYaml(redis.url, sim, slack, smtp));
    const workerArgs = ['worker', '--queues', 'poll,notify', '--config', configPath];
    const processes: { name: string; proc: ManagedProcess }[] = [];
    const spawnNamed = (name: string, args: string[]) => {
      const proc = startDbswatch(args, env);
      processes.push({ name, proc });
      return proc;
    };
    const scheduler = spawnNamed('scheduler', ['scheduler', '--config', configPath]);
    const workerA = spawnNamed('worker-a', workerArgs);
    const workerB = spawnNamed('worker-b', workerArgs);
    await Promise.all([scheduler, workerA, workerB].map((p) => p.waitForLine(/dbswatch started/, 60_000)));
    await scheduler.waitForLine(/poll schedules reconciled/, 30_000);

    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    client.on('error', () => {});
    clients.push(client);
    const store = new RedisStateStore(client, PREFIX);
    const baselined = await pollUntil(async () => (await store.meta(PLANS)).every((m) => m.baselineDone), 60_000);
    expect(baselined, 'every plan has its silent baseline').toBe(true);
    expect(slack.messages.length + smtp.messages.length, 'the baseline is silent').toBe(0);

    // --- the timeline: 20 × 27 tasks from `checking` to a terminal state over ~60 s
    const t0 = sim.world.elapsedMs();
    const timeline = addChaosTimeline(sim.world, {
      planIds: PLANS,
      tasksPerPlan: TASKS_PER_PLAN,
      retriesPerPlan: RETRIES_PER_PLAN,
      seed: SEED,
      startMs: t0,
      firstMs: 6_000,
      lastMs: 60_000,
      retryHoldMs: 25_000,
    });
    expect(timeline.notifiable).toBeGreaterThanOrEqual(500);

    // --- the fault schedule, relative to the timeline's start
    const injected: Record<string, number> = {};
    const count = (what: string, n: number) => {
      injected[what] = (injected[what] ?? 0) + n;
    };
    const dbs = (spec: FaultSpec, label: string = spec.kind) => {
      sim.injectFault(spec);
      count(`dbs ${label}`, spec.count);
    };
    const slackFaults = (...responses: SlackSinkResponse[]) => {
      slack.respondWith(...responses);
      for (const r of responses) count(`slack ${r.status}`, 1);
    };
    const smtpFaults = (...responses: SmtpSinkResponse[]) => {
      smtp.respondWith(...responses);
      for (const r of responses) count(`smtp ${r.code}`, 1);
    };
    const untilT = async (ms: number) => {
      const wait = t0 + ms - sim.world.elapsedMs();
      if (wait > 0) await delay(wait);
    };
    let killedWorker: ManagedProcess | undefined;
    let activeAtKill: { poll: string[]; notify: string[] } | undefined;
    let orphaned: number | undefined;
    const heldAtKill = () => [
      ...(activeAtKill?.poll ?? []).map((id) => [pollQueue, id] as const),
      ...(activeAtKill?.notify ?? []).map((id) => [notifyQueue, id] as const),
    ];
    const stillActive = async () => {
      const held = heldAtKill();
      const states = await Promise.all(held.map(([queue, id]) => queue.getJobState(id)));
      return held.filter((_, i) => states[i] === 'active').map(([queue, id]) => `${queue.name}:${id}`);
    };
    const queueConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
    queueConnection.on('error', () => {});
    clients.push(queueConnection);
    const notifyQueue = new Queue(QUEUE_NAMES.notify, { connection: queueConnection, prefix: PREFIX });
    const pollQueue = new Queue(QUEUE_NAMES.poll, { connection: queueConnection, prefix: PREFIX });
    notifyQueue.on('error', () => {});
    pollQueue.on('error', () => {});
    const schedule = async () => {
      await untilT(3_000);
      dbs({ kind: 'throttle', count: 12, timeLeftMs: 1_000 });
      await untilT(6_000);
      slackFaults({ status: 429, retryAfter: 1 }, { status: 429, retryAfter: 1 }, { status: 429, retryAfter: 2 }, { status: 500 }, { status: 500 });
      await untilT(9_000);
      dbs({ kind: 'unavailable', count: 10 });
      await untilT(12_000);
      smtpFaults({ code: 421, message: 'Service shutting down' }, { code: 451, message: 'Try again later' }, { code: 451 }, { code: 421 });
      await untilT(15_000);
      dbs({ kind: 'timeout', count: 4, delayMs: 2_500, afterDelay: 'destroy' }, 'timeout (socket destroyed)');
      dbs({ kind: 'timeout', count: 3, delayMs: 1_200, afterDelay: 'answer' }, 'slow answer');
      await untilT(18_000);
      dbs({ kind: 'malformed', count: 2, pageNum: 1, variant: 'truncated' }, 'malformed page 1 (truncated)');
      dbs({ kind: 'malformed', count: 2, pageNum: 1, variant: 'html' }, 'malformed page 1 (html)');
      dbs({ kind: 'malformed', count: 2, pageNum: 1, variant: 'empty' }, 'malformed page 1 (empty)');
      await untilT(19_000);
      // Slow answers just before the kill, so the killed worker surely dies with polls in flight.
      dbs({ kind: 'timeout', count: 6, delayMs: 5_000, afterDelay: 'answer' }, 'slow answer (around the kill)');
      await untilT(20_000);
      // One worker dies hard, mid-work, and comes back.
      killedWorker = workerA;
      count('worker SIGKILL', 1);
      activeAtKill = {
        poll: (await pollQueue.getActive()).map((j) => j.id as string),
        notify: (await notifyQueue.getActive()).map((j) => j.id as string),
      };
      expect(await workerA.stop('SIGKILL')).toBe('SIGKILL');
      const restarted = spawnNamed('worker-a (restarted)', workerArgs);
      await restarted.waitForLine(/dbswatch started/, 60_000);
      await untilT(26_000);
      dbs({ kind: 'shift', count: 3, pageNum: 1, shiftBy: 2 }, 'shift (tasks added mid-read)');
      await untilT(32_000);
      // Twelve seconds after the kill the survivor has long finished its own jobs: what is still active was the dead worker's.
      orphaned = (await stillActive()).length;
      // Redis crashes and restarts from its AOF.
      count('redis SIGKILL + restart', 1);
      await redis.kill('SIGKILL');
      await delay(2_000); // the outage itself: two seconds without Redis
      await redis.start();
      await untilT(40_000);
      dbs({ kind: 'internal', count: 8 });
      slackFaults({ status: 500 }, { status: 500 }, { status: 500 }, { status: 429, retryAfter: 1 }, { status: 429 });
      await untilT(46_000);
      dbs({ kind: 'throttle', count: 12, timeLeftMs: 500 });
      smtpFaults({ code: 451 }, { code: 451 }, { code: 451 });
      await untilT(52_000);
      dbs({ kind: 'malformed', count: 4, pageNum: 0, variant: 'truncated' }, 'malformed page 0 (truncated)');
    };
    await schedule();
    expect(killedWorker).toBeDefined();
    await untilT(timeline.endMs - t0 + 500);
    const ledger = () => sim.world.events;
    expect(sim.world.pendingSteps, 'the whole timeline has run').toBe(0);
    const notifiableInLedger = ledger().filter((e) => isNotifiable(e)).length;
    expect(notifiableInLedger).toBe(timeline.notifiable);

    // --- settle: wait until the sinks hold everything the ledger calls for (or the deadline)
    const compare = (): Comparison => {
      const { deliveries, unreadable } = deliveriesOf(slack.messages, smtp.messages);
      return compareWithLedger({ ledger: ledger(), routes, deliveries, targetOf, unreadable });
    };
    await pollUntil(() => compare().losses.length === 0, 150_000, 1_000);

    // --- and until the notify queue has drained (late duplicates would show up now)
    const pendingStates = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'] as const;
    let notifyCounts: Record<string, number> = {};
    await pollUntil(async () => {
      notifyCounts = await notifyQueue.getJobCounts(...pendingStates);
      return Object.values(notifyCounts).every((n) => n === 0);
    }, 60_000);
    // Jobs the killed worker held are recovered as stalled (lock expiry + stalled check): none may stay active.
    await pollUntil(async () => (await stillActive()).length === 0, 120_000, 1_000);
    const stuck = await stillActive();
    const pollFailed = await pollQueue.getJobCounts('failed');
    const result = compare();
    await Promise.all([notifyQueue.close(), pollQueue.close()]);

    // --- the report
    const stats = sim.stats();
    const consumed = {
      dbs: Object.fromEntries(Object.entries(stats.byOutcome).filter(([k]) => k !== 'ok')),
      slack: slack.requests.filter((r) => r.status !== 200).length,
      smtp: smtp.answers.filter((a) => a.code >= 400).length,
      dbsFaultsLeftOver: sim.faults().reduce((n, f) => n + f.remaining, 0),
    };
    console.log(
      JSON.stringify({
        chaos: {
          wallSeconds: Math.round((Date.now() - startedAt) / 1000),
          notifiableTransitions: notifiableInLedger,
          ledgerEvents: ledger().length,
          expectedDeliveries: result.expected,
          delivered: result.delivered,
          duplicates: result.duplicates.length,
          losses: result.losses.length,
          extras: result.extras.length,
          slackMessages: slack.messages.length,
          emails: smtp.messages.length,
          dbsRequests: stats.requests,
          injected,
          consumed,
          activeAtKill: { poll: activeAtKill?.poll.length, notify: activeAtKill?.notify.length, orphanedByTheKill: orphaned },
        },
      }),
    );

    await Promise.all(processes.map(({ proc }) => (proc === killedWorker ? proc.exited : proc.stop('SIGTERM'))));

    expect(result.unreadable, 'every message names its notification ids').toBe(0);
    expect(result.misrouted, 'every message went to its channel').toEqual([]);
    expect(result.duplicates, 'no notification delivered twice').toEqual([]);
    // Named on failure: which notifications went missing or appeared from nowhere.
    if (result.losses.length || result.extras.length) console.log(JSON.stringify({ losses: result.losses, extras: result.extras }));
    expect(result.extras, 'nothing delivered that the ledger never had (no partial reads)').toEqual([]);
    expect(result.losses, 'every notifiable transition delivered').toEqual([]);
    expect(result.delivered).toBe(result.expected);
    expect(notifyCounts, 'notify queue drained').toEqual(Object.fromEntries(pendingStates.map((s) => [s, 0])));
    expect(pollFailed.failed, 'no poll failed for good').toBe(0);
    expect(heldAtKill().length, 'jobs were in flight at the kill').toBeGreaterThan(0);
    expect(stuck, 'jobs held by the killed worker were recovered').toEqual([]);
    // The faults really happened.
    expect(consumed.slack).toBeGreaterThanOrEqual(10);
    expect(consumed.smtp).toBeGreaterThanOrEqual(7);
    expect(Object.values(consumed.dbs).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(40);
    expect(redis.starts).toBe(2);
    for (const { name, proc } of processes) {
      expect(alarmingLines(proc.lines), `${name} logged a crash`).toEqual([]);
      if (proc !== killedWorker) expect(await proc.exited, `${name} exit`).toBe(0);
    }
  }, 290_000);
});

describe('Redis loses its data (restarted without persistence)', () => {
  const plans = ['lossplan1', 'lossplan2', 'lossplan3'];
  let redis: CrashableRedis;
  let slack: SlackSink;
  let sim: RunningSimulator;
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = await startCrashableRedis({ persistent: false });
    slack = await startSlackSink();
    sim = await startSimulator({ scenario: 'empty', seed: 5 });
    for (const planId of plans) {
      sim.world.addPlan({ planId });
      sim.world.addTasks(planId, 2, { status: 'finish', createdAt: sim.world.startMs - 3_600_000 });
    }
  });

  afterAll(async () => {
    await killAll();
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    await sim?.close();
    await slack?.close();
    await redis?.close();
  });

  it('re-creates the poll schedules, re-baselines silently, and notifies what happens afterwards once', async () => {
    const configPath = writeConfig(`
redis: { url: "${redis.url}", prefix: "${PREFIX}" }
dbs: { endpoint: "${sim.endpoint}", protocol: http, pageSize: 30, requestsPerSecond: 20, timeout: 2s }
defaults: { interval: 5s, notify: [slack-a] }
plans:
${plans.map((id) => `  - { id: ${id} }`).join('\n')}
channels:
  slack-a: { type: slack, webhookUrl: "${slack.url('/services/T0LOSS/B0LOSS/hook')}", timeout: 3s }
poll: { backoff: 1s, attempts: 6 }
notify: { backoff: 1s, maxBackoff: 5s }
http: { port: 0 }
`);
    const env = childEnv({ REDIS_URL: redis.url, LOG_LEVEL: 'info' });
    const scheduler = startDbswatch(['scheduler', '--config', configPath], env);
    const worker = startDbswatch(['worker', '--config', configPath], env);
    await Promise.all([scheduler, worker].map((p) => p.waitForLine(/dbswatch started/, 60_000)));

    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    client.on('error', () => {});
    clients.push(client);
    const store = new RedisStateStore(client, PREFIX);
    const baselined = () => pollUntil(async () => (await store.meta(plans)).every((m) => m.baselineDone), 60_000);
    /** Adds one running task per plan and waits until a poll of every plan has seen it. */
    const addRunning = async () => {
      const added = plans.map((planId) => sim.world.addTask(planId, { status: 'running' }));
      const seen = await pollUntil(async () => {
        const tracked = await Promise.all(added.map((t) => client.hget(store.tasksKey(t.BackupPlanId), t.BackupSetDownloadTaskId)));
        return tracked.every((v) => v?.endsWith('|running'));
      }, 60_000);
      expect(seen, 'every plan polled after the tasks appeared').toBe(true);
      return added;
    };
    const idOf = (t: { BackupPlanId: string; BackupSetDownloadTaskId: string }) => `${t.BackupPlanId}.${t.BackupSetDownloadTaskId}.2-finish.slack-a`;
    const delivered = () => deliveriesOf(slack.messages, []).deliveries.map((d) => d.id);

    expect(await baselined()).toBe(true);
    // Before: a transition is notified.
    const before = await addRunning();
    for (const t of before) sim.world.setStatus(t.BackupSetDownloadTaskId, 'finish');
    expect(await pollUntil(() => before.every((t) => delivered().includes(idOf(t))), 60_000)).toBe(true);

    // Redis crashes without persistence: every key is gone — states, queues, Job Schedulers, delivery markers.
    const during = await addRunning();
    const reconciles = () => scheduler.lines.filter((l) => l.includes('poll schedules reconciled')).length;
    expect(reconciles()).toBe(1);
    await redis.kill('SIGKILL');
    for (const t of during) sim.world.setStatus(t.BackupSetDownloadTaskId, 'finish'); // while Redis is down
    await redis.start();

    // The scheduler notices the reconnect and re-creates the schedules; the next polls are a silent baseline.
    expect(await pollUntil(() => reconciles() >= 2, 30_000), 'schedules re-created after the reconnect').toBe(true);
    expect(await baselined(), 'every plan re-baselined').toBe(true);

    // After: transitions are notified again, once.
    const after = await addRunning();
    for (const t of after) sim.world.setStatus(t.BackupSetDownloadTaskId, 'finish');
    expect(await pollUntil(() => after.every((t) => delivered().includes(idOf(t))), 60_000)).toBe(true);

    await Promise.all([scheduler, worker].map((p) => p.stop('SIGTERM')));
    // The documented loss: what finished while Redis was down (and its data gone) is not notified;
    // everything before and after is, exactly once.
    expect(delivered().sort()).toEqual([...before, ...after].map(idOf).sort());
    for (const p of [scheduler, worker]) expect(alarmingLines(p.lines)).toEqual([]);
  }, 200_000);
});
