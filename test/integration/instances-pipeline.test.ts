/**
 * Advanced downloads (DBS 2021-01-01 instances) through the whole pipeline on
 * real parts: the simulator on loopback (manual clock), the real 2021 client
 * and pager, BullMQ on the real Redis, the poll and notify workers, the local
 * Slack sink. Covers every state, the finished/failed/expired (and expiring)
 * events delivered exactly once — also across a crash between enqueue and
 * commit — links minted at send time with their expiry and never stored,
 * OSS targets shown by path, and a plan and an instance with the same id
 * (and the same task id) tracked side by side without collision.
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SIM_CREDENTIAL, type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { type SlackSink, startSlackSink } from '../../dev/sinks/slack-sink.js';
import { type Config, parseConfig } from '../../src/config.js';
import { accessKeyCredential, createDbsClient } from '../../src/dbs/client.js';
import { listAllDownloadTasks } from '../../src/dbs/pager.js';
import { createDbs2021Client } from '../../src/dbs2021/client.js';
import { createInstanceTaskSource, createLinkMinter } from '../../src/dbs2021/source.js';
import { startNotifyWorker } from '../../src/jobs/notify.js';
import { type PollDeps, startPollWorker } from '../../src/jobs/poll.js';
import { silentLogger } from '../../src/logger.js';
import { pollsTotal, transitionsTotal } from '../../src/metrics.js';
import { ChannelPool } from '../../src/notify/registry.js';
import { planResolver, reconcileSchedulers, trackedPlans } from '../../src/scheduler.js';
import { collectStatus } from '../../src/status/report.js';
import { formatTimestamp } from '../../src/text/format.js';
import { sourceKey, sourceKindOf } from '../../src/tracking/source.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { testQueues } from '../helpers/pipeline.js';
import { close, connect, deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const ID = 'rm-same0001';
const INSTANCE_KEY = sourceKey('instance', ID);
const REGION = 'cn-beijing';
const HOUR = 3_600_000;

let sim: RunningSimulator;
let slack: SlackSink;
let prefix: string;
let config: Config;
let redis: Redis;
let connection: Redis;
let queueConnection: Redis;
let queues: ReturnType<typeof testQueues>;
let workers: Worker[] = [];
let channels: ChannelPool;
let crashOnce: string | undefined;
let t0: number;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual' });
  slack = await startSlackSink();
  prefix = uniquePrefix('instances');
  t0 = sim.world.now();
  // The plan (2019) and the instance (2021) share an id, and each has a task dt-shared00000a.
  sim.world.addPlan({ planId: ID, name: 'plan side' });
  sim.world.addTask(ID, { taskId: 'dt-shared00000a', status: 'running' });
  sim.world2021.addInstance({ instanceName: ID, region: REGION });
  const w = sim.world2021;
  w.addTask(ID, { TaskId: 'dt-shared00000a', DownloadStatus: 'initializing', GmtCreate: t0 });
  w.addTask(ID, { TaskId: 'dt-failing00001', DownloadStatus: 'queueing', GmtCreate: t0 });
  w.addTask(ID, { TaskId: 'dt-osstarget001', DownloadStatus: 'running', TargetType: 'OSS', TargetPath: 'exports/orders', GmtCreate: t0 });
  w.addTask(ID, { TaskId: 'dt-oldfinished1', DownloadStatus: 'finished', GmtCreate: t0 - HOUR });

  config = parseConfig(
    `
redis: { url: "${redisUrl()}", prefix: "${prefix}" }
dbs: { endpoint: "${sim.endpoint}", protocol: http, timeout: 5s }
defaults: { interval: 1h, notify: [ops] }
plans:
  - { id: ${ID}, name: "orders plan" }
instances:
  - { id: ${ID}, region: ${REGION}, name: "orders db", linkValidity: 2h, expiringNotice: 12h, events: [finished, failed, expired, expiring] }
channels:
  ops: { type: slack, webhookUrl: "${slack.url()}", timeout: 5s }
poll: { backoff: 50, attempts: 3 }
notify: { backoff: 50, maxBackoff: 200, digestThreshold: 1000 }
http: { port: 0 }
`,
    {},
    'test',
  );
  redis = connect('instances-commands');
  connection = connect('instances-workers', { worker: true });
  queueConnection = connect('instances-queues', { worker: true });
  queues = testQueues(queueConnection, prefix);
  const credential = accessKeyCredential(DEFAULT_SIM_CREDENTIAL);
  const api = createDbsClient({ endpoint: sim.endpoint, protocol: 'http', timeoutMs: 5_000, credential });
  const api2021 = createDbs2021Client({ endpoint: sim.endpoint, protocol: 'http', timeoutMs: 5_000, credential, now: () => sim.world.now() });
  const getConfig = () => config;
  const instances = createInstanceTaskSource({ config: getConfig, clientFor: () => api2021, redis, prefix, now: () => sim.world.now() });
  const deps: PollDeps = {
    config: getConfig,
    resolvePlan: planResolver(getConfig, redis),
    source: {
      listAll: async (key) => (sourceKindOf(key) === 'instance' ? instances.listAll(key) : (await listAllDownloadTasks(api, key, { pageSize: 30 })).tasks),
    },
    store: new RedisStateStore(redis, prefix),
    notifyQueue: queues.notify,
    log: silentLogger,
    redis,
    prefix,
    now: () => sim.world.now(),
    afterEnqueue: (planId) => {
      if (crashOnce === planId) {
        crashOnce = undefined;
        throw new Error('simulated crash between enqueue and commit');
      }
    },
  };
  channels = new ChannelPool(getConfig);
  workers = [
    startPollWorker({ ...deps, connection, concurrency: 2 }),
    startNotifyWorker({
      config: getConfig,
      redis,
      prefix,
      channels,
      log: silentLogger,
      connection,
      beforeRender: createLinkMinter({ config: getConfig, clientFor: () => api2021 }),
    }),
  ];
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await channels?.close();
  await queues?.close();
  await close(redis);
  await close(connection);
  await close(queueConnection);
  await deletePrefix(prefix);
  await slack.close();
  await sim.close();
});

let round = 0;
/** One poll of both sources (through the real poll queue), each must succeed. */
async function pollBoth(options: { attempts?: number } = {}): Promise<void> {
  round += 1;
  await queues.pollEvents.waitUntilReady();
  const jobs = await Promise.all(
    [ID, INSTANCE_KEY].map((planId) =>
      queues.poll.add('poll', { v: 1, planId }, { jobId: `r${round}-${planId.replace('!', '_')}`, attempts: options.attempts ?? 1, backoff: 10 }),
    ),
  );
  for (const job of jobs) await job.waitUntilFinished(queues.pollEvents, 30_000);
}

/** Waits until every notify job is completed; returns the ids of all of them. */
async function deliveredIds(expectedCount: number): Promise<string[]> {
  let ids: string[] = [];
  await vi.waitFor(
    async () => {
      const jobs = await queues.notify.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized']);
      const completed = await queues.notify.getJobs(['completed']);
      if (jobs.length !== expectedCount || completed.length !== expectedCount) {
        throw new Error(`${completed.length}/${jobs.length} notify jobs completed, want ${expectedCount}`);
      }
      ids = jobs.map((j) => j.id as string).sort();
    },
    { timeout: 20_000, interval: 50 },
  );
  return ids;
}

function messagesText(): string[] {
  return slack.messages.map((m) => JSON.stringify(m.body));
}

describe('instances through the pipeline', () => {
  it('baseline: the first complete poll of both sources is silent, and each keeps its own state', async () => {
    await pollBoth();
    expect(await queues.notify.count()).toBe(0);
    const plan = await redis.hgetall(`${prefix}:plan:${ID}:tasks`);
    const instance = await redis.hgetall(`${prefix}:plan:${INSTANCE_KEY}:tasks`);
    expect(Object.keys(plan)).toEqual(['dt-shared00000a']);
    expect(Object.keys(instance).sort()).toEqual(['dt-failing00001', 'dt-oldfinished1', 'dt-osstarget001', 'dt-shared00000a']);
    // Native states are mapped for the diff: finished → finish.
    expect(instance['dt-oldfinished1']).toBe('1|0|finish');
    expect(plan['dt-shared00000a']).toBe('1|0|running');
  });

  it('finished, failed and an OSS finish are each delivered once, beside the plan task with the same ids, across a crash', async () => {
    sim.world.setStatus('dt-shared00000a', 'finish');
    const w = sim.world2021;
    w.setStatus('dt-shared00000a', 'queueing');
    w.setStatus('dt-shared00000a', 'running');
    w.setStatus('dt-shared00000a', 'finished');
    w.setStatus('dt-failing00001', 'failed');
    w.setStatus('dt-osstarget001', 'finished');
    // The instance poll crashes after enqueueing, before committing: its retry must not send twice.
    crashOnce = INSTANCE_KEY;
    await pollBoth({ attempts: 2 });
    expect(crashOnce).toBeUndefined();
    await pollBoth();
    const ids = await deliveredIds(4);
    expect(ids).toEqual(
      [
        `${ID}.dt-shared00000a.2-finish.ops`,
        `${INSTANCE_KEY}.dt-shared00000a.2-finish.ops`,
        `${INSTANCE_KEY}.dt-failing00001.2-stop.ops`,
        `${INSTANCE_KEY}.dt-osstarget001.2-finish.ops`,
      ].sort(),
    );
    expect(slack.messages).toHaveLength(4);
    const texts = messagesText();
    const instanceReady = texts.find((t) => t.includes('dt-shared00000a') && t.includes('orders db'));
    const planReady = texts.find((t) => t.includes('dt-shared00000a') && t.includes('orders plan'));
    expect(planReady).toBeDefined();
    // Minted at send time, valid for linkValidity (2h), shown with its expiry.
    expect(instanceReady).toMatch(/Expires=\d+/);
    const expiry = formatTimestamp(Math.floor(sim.world.now() / 1000) * 1000 + 2 * HOUR);
    expect(instanceReady).toContain(`Links valid until*\\n${expiry}`);
    const failed = texts.find((t) => t.includes('dt-failing00001'));
    expect(failed).toContain('Download failed');
    expect(failed).toContain('dbswatch retry-download dt-failing00001');
    const oss = texts.find((t) => t.includes('dt-osstarget001'));
    expect(oss).toContain('exports/orders');
    expect(oss).not.toContain('Expires=');
  });

  it('minted links never reach Redis: no key under the prefix holds a signed URL', async () => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const type = await redis.type(key);
      const dump =
        type === 'hash'
          ? JSON.stringify(await redis.hgetall(key))
          : type === 'string'
            ? ((await redis.get(key)) ?? '')
            : type === 'list'
              ? JSON.stringify(await redis.lrange(key, 0, -1))
              : type === 'zset' || type === 'stream'
                ? JSON.stringify(await redis.call(type === 'zset' ? 'ZRANGE' : 'XRANGE', key, type === 'zset' ? '0' : '-', type === 'zset' ? '-1' : '+'))
                : type === 'set'
                  ? JSON.stringify(await redis.smembers(key))
                  : '';
      expect(dump, key).not.toContain('Expires=');
      expect(dump, key).not.toContain('OSSAccessKeyId');
    }
  });

  it('expiring: 12h before the estimated 3-day expiry, once per finished URL task', async () => {
    sim.world.advance(61 * HOUR);
    await pollBoth();
    await pollBoth();
    const ids = await deliveredIds(6);
    expect(ids).toContain(`${INSTANCE_KEY}.dt-shared00000a.3-expiring.ops`);
    expect(ids).toContain(`${INSTANCE_KEY}.dt-oldfinished1.2-expiring.ops`);
    // The OSS task does not expire (and gets no warning).
    expect(ids.some((id) => id.includes('dt-osstarget001.3'))).toBe(false);
    expect(messagesText().filter((t) => t.includes('Download expiring soon'))).toHaveLength(2);
  });

  it('expired: after 3 days on the simulator clock, once per task, default on where finished goes', async () => {
    sim.world.advance(12 * HOUR);
    await pollBoth();
    await pollBoth();
    const ids = await deliveredIds(8);
    expect(ids).toContain(`${INSTANCE_KEY}.dt-shared00000a.4-expired.ops`);
    expect(ids).toContain(`${INSTANCE_KEY}.dt-oldfinished1.3-expired.ops`);
    const expired = messagesText().filter((t) => t.includes('Download expired'));
    expect(expired).toHaveLength(2);
    expect(expired[0]).toContain('expired before');
    expect(slack.messages).toHaveLength(8);
    // The plan side saw none of it: its task is still finished, once.
    expect(await redis.hget(`${prefix}:plan:${ID}:tasks`, 'dt-shared00000a')).toBe('2|0|finish');
  });

  it('a retried failed task comes back through the same pipeline: back to initializing, then finished again', async () => {
    await createDbs2021Client({
      endpoint: sim.endpoint,
      protocol: 'http',
      timeoutMs: 5_000,
      credential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL),
    }).retryDownloadTask({ region: REGION, instanceName: ID, taskId: 'dt-failing00001' });
    await pollBoth();
    sim.world2021.setStatus('dt-failing00001', 'finished');
    await pollBoth();
    const ids = await deliveredIds(9);
    expect(ids).toContain(`${INSTANCE_KEY}.dt-failing00001.4-finish.ops`);
    expect(slack.messages).toHaveLength(9);
  });

  it('status (and so /api/status and the page) shows the instance beside the plan; metrics carry the source kind', async () => {
    const report = await collectStatus({
      config,
      redis,
      queues: { poll: queues.poll, notify: queues.notify, close: async () => {} },
      now: () => sim.world.now(),
    });
    const rows = report.plans.map((p) => ({ id: p.id, source: p.source ?? 'plan', health: p.health, name: p.name }));
    expect(report.plans[0]?.source).toBeUndefined();
    expect(rows).toEqual([
      { id: ID, source: 'plan', health: 'ok', name: 'orders plan' },
      { id: INSTANCE_KEY, source: 'instance', health: 'ok', name: 'orders db' },
    ]);
    const byStatus = report.plans[1]?.byStatus ?? {};
    expect(byStatus.finish).toBe(2);
    const transitions = await transitionsTotal.get();
    const instanceExpired = transitions.values.find((v) => v.labels.source === 'instance' && v.labels.event === 'expired');
    expect(instanceExpired?.value).toBeGreaterThanOrEqual(2);
    const polls = await pollsTotal.get();
    expect(polls.values.some((v) => v.labels.source === 'plan' && v.labels.result === 'ok')).toBe(true);
    expect(polls.values.some((v) => v.labels.source === 'instance' && v.labels.result === 'failed')).toBe(true);
  });

  it('the scheduler keeps one Job Scheduler per plan and per instance, and removes an instance that leaves the config', async () => {
    const plans = await trackedPlans(config, redis);
    await reconcileSchedulers(queues.poll, config, plans, silentLogger);
    const schedulers = await queues.poll.getJobSchedulers(0, -1);
    const byId = new Map(schedulers.map((s) => [s.key, s]));
    expect([...byId.keys()].sort()).toEqual([`plan.${ID}`, `plan.${INSTANCE_KEY}`].sort());
    expect(byId.get(`plan.${INSTANCE_KEY}`)?.template?.data).toEqual({ v: 1, planId: INSTANCE_KEY });
    expect(byId.get(`plan.${ID}`)?.template?.data).toEqual({ v: 1, planId: ID });
    const withoutInstance = parseConfig(`redis: { url: "${redisUrl()}", prefix: "${prefix}" }\nplans: [ { id: ${ID} } ]\ninstances: []\n`, {}, 'test');
    const result = await reconcileSchedulers(queues.poll, withoutInstance, await trackedPlans(withoutInstance, redis), silentLogger);
    expect(result.removed).toEqual([`plan.${INSTANCE_KEY}`]);
    await queues.poll.removeJobScheduler(`plan.${ID}`);
  });
});
