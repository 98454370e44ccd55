/**
 * The benchmark's worker process: runs dbswatch's poller (or notifier) the
 * way production wires it (src/roles.ts), against the simulator and the
 * Redis the parent gives it, one phase at a time on the parent's command,
 * and reports its own wall time, CPU time, RSS and Redis traffic for each.
 *
 * Started by bench/run.ts with `fork()` (IPC); not meant to be run by hand.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import * as OpenApi from '@alicloud/openapi-client';
import * as TeaUtil from '@alicloud/tea-util';
import { Queue, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { DEFAULT_SIM_CREDENTIAL } from '../dev/simulator/index.js';
import { type SlackSink, startSlackSink } from '../dev/sinks/slack-sink.js';
import { type Config, parseConfig } from '../src/config.js';
import { accessKeyCredential, createDbsClient, type DbsApi, dbsRpcParams } from '../src/dbs/client.js';
import { dbsTaskSource, listAllDownloadTasks } from '../src/dbs/pager.js';
import { startNotifyWorker } from '../src/jobs/notify.js';
import type { NotifyJobData, PollJobData } from '../src/jobs/payloads.js';
import { type PollDeps, pollPlan, startPollWorker } from '../src/jobs/poll.js';
import { silentLogger } from '../src/logger.js';
import type { Channel, RenderedMessage } from '../src/notify/channel.js';
import { ChannelPool, createChannel } from '../src/notify/registry.js';
import { createRedis, pollJobOptions, QUEUE_NAMES } from '../src/queues.js';
import { createRedisRateLimiter, type RequestGate } from '../src/rate-limit.js';
import { planResolver } from '../src/scheduler.js';
import { RedisHistory } from '../src/tracking/history.js';
import { RedisStateStore } from '../src/tracking/state.js';
import type { ChildMessage, NotifyInit, NotifyRunResult, ParentMessage, PhaseResult, PollInit, PollPhase, ProcessUsage, RedisTraffic } from './protocol.js';

// ---------------------------------------------------------------------------
// Redis traffic by sender, counted client side. Every ioredis command goes
// through Redis.prototype.sendCommand; a pipeline / MULTI passes the same
// `stream` object for all its commands, which is one round trip.

const label = new AsyncLocalStorage<string>();
let traffic: RedisTraffic = {};
const seenStreams = new WeakSet<object>();
{
  const proto = Redis.prototype as unknown as { sendCommand: (command: unknown, stream?: object, node?: unknown) => unknown };
  const original = proto.sendCommand;
  proto.sendCommand = function sendCommand(this: unknown, command: unknown, stream?: object, node?: unknown) {
    const who = label.getStore() ?? 'bullmq';
    const entry = traffic[who] ?? { commands: 0, roundTrips: 0 };
    traffic[who] = entry;
    entry.commands += 1;
    if (!stream) entry.roundTrips += 1;
    else if (!seenStreams.has(stream)) {
      seenStreams.add(stream);
      entry.roundTrips += 1;
    }
    return original.call(this, command, stream, node);
  };
}
const labelled =
  <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
  (...args: A): Promise<R> =>
    label.run(name, () => fn(...args));

// ---------------------------------------------------------------------------
// Own usage: CPU from resourceUsage, RSS sampled, lifetime peak from maxRSS.

function measure<T>(run: () => Promise<T>): Promise<{ value: T; usage: ProcessUsage }> {
  const start = performance.now();
  const before = process.resourceUsage();
  let rssPeak = process.memoryUsage().rss;
  let heapPeak = process.memoryUsage().heapUsed;
  // process.memoryUsage() walks the heap spaces; rss() alone is a cheap syscall. Heap every 5th tick.
  let tick = 0;
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > rssPeak) rssPeak = rss;
    if (++tick % 5 === 0) {
      const heap = process.memoryUsage().heapUsed;
      if (heap > heapPeak) heapPeak = heap;
    }
  }, 20);
  return run().then((value) => {
    clearInterval(sampler);
    const after = process.resourceUsage();
    const m = process.memoryUsage();
    return {
      value,
      usage: {
        wallMs: performance.now() - start,
        cpuUserMs: (after.userCPUTime - before.userCPUTime) / 1000,
        cpuSystemMs: (after.systemCPUTime - before.systemCPUTime) / 1000,
        rssPeakSampledBytes: Math.max(rssPeak, m.rss),
        maxRssBytes: after.maxRSS * 1024,
        heapUsedPeakBytes: Math.max(heapPeak, m.heapUsed),
      },
    };
  });
}

/** Runs `fn` over `items`, `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(lanes);
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

function sendReady(): void {
  const m = process.memoryUsage();
  send({ type: 'ready', rssBytes: m.rss, heapUsedBytes: m.heapUsed });
}

// ---------------------------------------------------------------------------
// Wiring shared by both modes (as src/roles.ts does it).

interface Wired {
  config: Config;
  redis: Redis;
  gate: RequestGate;
  api: DbsApi;
  notifyQueue: Queue<NotifyJobData>;
  deps: PollDeps;
  counters: { notifyJobs: number; notifications: number; detectedAt: Map<string, number> | undefined };
}

function wire(init: PollInit | NotifyInit, yaml: string, keepDetectedAt: boolean): Wired & { setSweep(mode: 'full' | 'incremental'): void } {
  const config = parseConfig(yaml, {}, 'bench');
  // The same config with `dbs.sweep: full`: the phases that measure full sweeps poll with it.
  const fullConfig = parseConfig(yaml.replace('timeout: 10s }', 'timeout: 10s, sweep: full }'), {}, 'bench');
  if (fullConfig.dbs.sweep !== 'full') throw new Error('bench: could not derive the dbs.sweep: full config');
  let current = config;
  const redis = createRedis(init.redisUrl, 'worker');
  // The config caps requestsPerSecond at 1,000; the benchmark sets its own (higher) limit on the same gate.
  const rawGate = createRedisRateLimiter(redis, { key: `${init.prefix}:ratelimit:dbs`, limit: init.requestsPerSecond });
  const gate: RequestGate = { acquire: labelled('limiter', () => rawGate.acquire()) };
  const api = createDbsClient({
    endpoint: init.endpoint,
    protocol: 'http',
    timeoutMs: config.dbs.timeout,
    credential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL),
    gate,
  });
  const notifyQueue = new Queue<NotifyJobData>(QUEUE_NAMES.notify, { connection: redis, prefix: init.prefix });
  notifyQueue.on('error', () => {});
  const counters: Wired['counters'] = { notifyJobs: 0, notifications: 0, detectedAt: keepDetectedAt ? new Map() : undefined };
  const addBulk = notifyQueue.addBulk.bind(notifyQueue);
  notifyQueue.addBulk = labelled('notify.enqueue', async (jobs: Parameters<typeof addBulk>[0]) => {
    counters.notifyJobs += jobs.length;
    for (const job of jobs) {
      counters.notifications += job.data.notifications.length;
      if (counters.detectedAt) for (const n of job.data.notifications) counters.detectedAt.set(n.id, n.detectedAt);
    }
    return addBulk(jobs);
  }) as typeof notifyQueue.addBulk;

  const store = new RedisStateStore(redis, init.prefix);
  const history = new RedisHistory(redis, init.prefix);
  const resolve = planResolver(() => config, redis);
  // The production task source (workers/roles.ts): sweeps, lazy normalisation, incremental when allowed.
  const source = dbsTaskSource(api, () => ({ pageSize: config.dbs.pageSize }));
  const deps: PollDeps = {
    config: () => current,
    resolvePlan: labelled('resolve', resolve),
    source,
    store: {
      load: labelled('state.load', (planId: string) => store.load(planId)),
      announced: labelled('state.announced', (planId: string, taskIds: readonly string[] | 'all') => store.announced(planId, taskIds)),
      commit: labelled('state.commit', (planId: string, input: Parameters<RedisStateStore['commit']>[1]) => store.commit(planId, input)),
      recordFailure: labelled('state.failure', (planId: string, message: string, at: number) => store.recordFailure(planId, message, at)),
      meta: (planIds) => store.meta(planIds),
      forget: (planId) => store.forget(planId),
    },
    notifyQueue,
    log: silentLogger,
    redis,
    prefix: init.prefix,
    history: { record: labelled('history', (...args: Parameters<RedisHistory['record']>) => history.record(...args)) },
  };
  return {
    config,
    redis,
    gate,
    api,
    notifyQueue,
    deps,
    counters,
    setSweep: (mode) => {
      current = mode === 'full' ? fullConfig : config;
    },
  };
}

// ---------------------------------------------------------------------------
// Poll mode

function pollYaml(init: PollInit): string {
  return `
redis: { url: "${init.redisUrl}", prefix: "${init.prefix}" }
dbs: { endpoint: "${init.endpoint}", protocol: http, pageSize: ${init.pageSize}, requestsPerSecond: 1000, timeout: 10s }
defaults: { interval: 1h, notify: [ops-slack] }
plans:
${init.planIds.map((id) => `  - { id: ${id}, name: "bench-${id}" }`).join('\n')}
channels:
  ops-slack: { type: slack, webhookUrl: "http://127.0.0.1:9/services/T0/B0/X" }
poll: { concurrency: ${init.concurrency}, backoff: 50, attempts: 1 }
notify: { digestThreshold: 5 }
http: { port: 0 }
`;
}

// The same official client dbswatch uses, called directly: sign, send, JSON-decode, nothing else.
const OpenApiClient = ((m: unknown) => (typeof m === 'function' ? m : (m as { default: unknown }).default))(OpenApi.default) as typeof OpenApi.default.default;

async function runPollMode(init: PollInit): Promise<void> {
  const w = wire(init, pollYaml(init), false);
  const pollQueue = new Queue<PollJobData>(QUEUE_NAMES.poll, { connection: w.redis, prefix: init.prefix });
  pollQueue.on('error', () => {});
  const worker: Worker<PollJobData> = startPollWorker({ ...w.deps, connection: w.redis, concurrency: init.concurrency });
  await worker.waitUntilReady();

  const official = new OpenApiClient(
    new OpenApi.Config({
      credential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL),
      endpoint: init.endpoint,
      protocol: 'http',
      readTimeout: w.config.dbs.timeout,
      connectTimeout: w.config.dbs.timeout,
    }),
  );
  const rawPage = async (planId: string, pageNum: number): Promise<number> => {
    await w.gate.acquire();
    const params = dbsRpcParams('DescribeBackupSetDownloadTaskList', 'http');
    const response = (await official.callApi(
      params,
      new OpenApi.OpenApiRequest({ query: { BackupPlanId: planId, PageNum: String(pageNum), PageSize: String(init.pageSize) } }),
      new TeaUtil.RuntimeOptions({ autoretry: false, readTimeout: w.config.dbs.timeout, connectTimeout: w.config.dbs.timeout }),
    )) as { body?: { TotalPages?: number } };
    return Number(response.body?.TotalPages ?? 0);
  };

  // Completion of this phase's poll jobs, from the worker's own events (no extra Redis traffic).
  let waiting: { tag: string; left: number; done: () => void } | undefined;
  let sweep = { transitions: 0, failures: 0, failureMessages: [] as string[], sweeps: {} as Record<string, number> };
  worker.on('completed', (job, result: { transitions?: number; sweep?: string }) => {
    if (!waiting || !job.id?.startsWith(`${waiting.tag}-`)) return;
    sweep.transitions += result?.transitions ?? 0;
    const kind = result?.sweep ?? 'unknown';
    sweep.sweeps[kind] = (sweep.sweeps[kind] ?? 0) + 1;
    if (--waiting.left === 0) waiting.done();
  });
  worker.on('failed', (job, error) => {
    if (!waiting || !job?.id?.startsWith(`${waiting.tag}-`)) return;
    sweep.failures += 1;
    if (sweep.failureMessages.length < 5) sweep.failureMessages.push(error.message);
    if (--waiting.left === 0) waiting.done();
  });

  const runPhase = async (phase: PollPhase): Promise<PhaseResult> => {
    traffic = {};
    w.counters.notifyJobs = 0;
    w.counters.notifications = 0;
    sweep = { transitions: 0, failures: 0, failureMessages: [], sweeps: {} };
    // Full sweeps are measured with `dbs.sweep: full`; the incremental phases with the default.
    w.setSweep(phase === 'incremental' || phase === 'quiet' ? 'incremental' : 'full');
    let clientRequests = 0;
    let tasksSeen = 0;
    const { usage } = await measure(async () => {
      if (phase === 'raw') {
        await pool(init.planIds, init.concurrency, async (planId) => {
          const totalPages = await rawPage(planId, 0);
          clientRequests++;
          for (let page = 1; page < totalPages; page++) {
            await rawPage(planId, page);
            clientRequests++;
          }
        });
      } else if (phase === 'client') {
        await pool(init.planIds, init.concurrency, async (planId) => {
          const snapshot = await listAllDownloadTasks(w.api, planId, { pageSize: init.pageSize });
          clientRequests += snapshot.requests;
          tasksSeen += snapshot.tasks.length;
        });
      } else {
        const tag = `${phase}`;
        const finished = new Promise<void>((resolve) => {
          waiting = { tag, left: init.planIds.length, done: resolve };
        });
        await pollQueue.addBulk(
          init.planIds.map((planId) => ({
            name: 'poll',
            data: { v: 1 as const, planId },
            opts: { ...pollJobOptions(w.config), jobId: `${tag}-${planId}` },
          })),
        );
        await finished;
        waiting = undefined;
      }
    });
    return {
      phase,
      usage,
      redis: traffic,
      clientRequests,
      failures: sweep.failures,
      failureMessages: sweep.failureMessages,
      transitions: sweep.transitions,
      sweeps: sweep.sweeps,
      notifyJobs: w.counters.notifyJobs,
      notifications: w.counters.notifications,
      tasksSeen,
    };
  };

  process.on('message', (message: ParentMessage) => {
    void (async () => {
      try {
        if (message.type === 'phase') send({ type: 'phase-done', result: await runPhase(message.phase) });
        else if (message.type === 'exit') {
          await worker.close();
          await pollQueue.close();
          await w.notifyQueue.close();
          await w.redis.quit().catch(() => w.redis.disconnect());
          process.exit(0);
        }
      } catch (error) {
        send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      }
    })();
  });
  sendReady();
}

// ---------------------------------------------------------------------------
// Notify mode: the real notify worker delivering to a local Slack sink, one
// webhook path per channel.

function channelName(i: number): string {
  return `ch${String(i).padStart(3, '0')}`;
}

function notifyYaml(init: NotifyInit, sink: SlackSink): string {
  const channels = Array.from(
    { length: init.channels },
    (_, i) => `  ${channelName(i)}: { type: slack, webhookUrl: "${sink.url(`/services/T0/B${i}/X`)}", timeout: 10s }`,
  );
  return `
redis: { url: "${init.redisUrl}", prefix: "${init.prefix}" }
dbs: { endpoint: "${init.endpoint}", protocol: http, pageSize: ${init.pageSize}, requestsPerSecond: 1000, timeout: 10s }
defaults: { interval: 1h }
plans:
${init.planIds.map((id, i) => `  - { id: ${id}, name: "bench-${id}", notify: [${channelName(i % init.channels)}] }`).join('\n')}
channels:
${channels.join('\n')}
poll: { concurrency: ${init.concurrency}, backoff: 50, attempts: 1 }
notify: { digestThreshold: ${init.digestThreshold}, concurrency: ${init.notifyConcurrency}, backoff: 200, maxBackoff: 2s, attempts: 5 }
http: { port: 0 }
`;
}

async function runNotifyMode(init: NotifyInit): Promise<void> {
  // Which notification ids each webhook is about to receive, in send order (one send in flight per webhook: 1 msg/s).
  const pendingByPath = new Map<string, (readonly string[])[]>();
  const receivedAt = new Map<string, number>();
  let duplicates = 0;
  let messages = 0;
  const arrivals = new Map<string, number[]>();
  const sink = await startSlackSink({
    onMessage: (message) => {
      messages++;
      const times = arrivals.get(message.path) ?? [];
      times.push(message.receivedAt);
      arrivals.set(message.path, times);
      const ids = pendingByPath.get(message.path)?.shift() ?? [];
      for (const id of ids) {
        if (receivedAt.has(id)) duplicates++;
        else receivedAt.set(id, message.receivedAt);
      }
    },
  });
  const w = wire(init, notifyYaml(init, sink), true);
  const channels = new ChannelPool(
    () => w.config,
    silentLogger,
    (channelConfig, deps) => {
      const inner = createChannel(channelConfig, deps) as Channel<RenderedMessage>;
      const path = channelConfig.type === 'slack' ? new URL(channelConfig.webhookUrl).pathname : '';
      return {
        ...inner,
        kind: inner.kind,
        name: inner.name,
        render: (ns) => inner.render(ns),
        send: async (message) => {
          const list = pendingByPath.get(path) ?? [];
          list.push(message.ids);
          pendingByPath.set(path, list);
          try {
            await inner.send(message);
          } catch (error) {
            // Not received: drop our expectation (the sink only shifts on accepted messages).
            const i = list.indexOf(message.ids);
            if (i >= 0) list.splice(i, 1);
            throw error;
          }
        },
        close: () => inner.close(),
      };
    },
  );
  const worker = startNotifyWorker({
    config: () => w.config,
    redis: w.redis,
    prefix: init.prefix,
    channels,
    log: silentLogger,
    connection: w.redis,
    concurrency: init.notifyConcurrency,
  });
  await worker.waitUntilReady();

  const sweep = async () => {
    let failures = 0;
    await pool(init.planIds, init.concurrency, async (planId) => {
      try {
        await pollPlan(w.deps, planId);
      } catch {
        failures++;
      }
    });
    return failures;
  };

  process.on('message', (message: ParentMessage) => {
    void (async () => {
      try {
        if (message.type === 'notify-baseline') {
          const start = performance.now();
          const failures = await sweep();
          send({ type: 'notify-baseline-done', wallMs: performance.now() - start, failures });
        } else if (message.type === 'notify-run') {
          w.counters.notifyJobs = 0;
          w.counters.notifications = 0;
          w.counters.detectedAt?.clear();
          receivedAt.clear();
          arrivals.clear();
          messages = 0;
          duplicates = 0;
          let pollWallMs = 0;
          let timedOut = false;
          const { usage } = await measure(async () => {
            const start = performance.now();
            await sweep();
            pollWallMs = performance.now() - start;
            const deadline = Date.now() + message.timeoutMs;
            while (receivedAt.size < message.expected && Date.now() < deadline) await delay(20);
            timedOut = receivedAt.size < message.expected;
          });
          const detected = w.counters.detectedAt ?? new Map<string, number>();
          const latenciesMs: number[] = [];
          let firstDetectedAt = Number.POSITIVE_INFINITY;
          let lastReceivedAt = 0;
          for (const at of detected.values()) firstDetectedAt = Math.min(firstDetectedAt, at);
          for (const [id, at] of receivedAt) {
            lastReceivedAt = Math.max(lastReceivedAt, at);
            const d = detected.get(id);
            if (d !== undefined) latenciesMs.push(at - d);
          }
          let minGapMs = Number.POSITIVE_INFINITY;
          let maxPerWebhookPerSecond = 0;
          for (const times of arrivals.values()) {
            times.sort((a, b) => a - b);
            let lo = 0;
            for (let i = 0; i < times.length; i++) {
              if (i > 0) minGapMs = Math.min(minGapMs, (times[i] as number) - (times[i - 1] as number));
              while ((times[i] as number) - (times[lo] as number) >= 1000) lo++;
              maxPerWebhookPerSecond = Math.max(maxPerWebhookPerSecond, i - lo + 1);
            }
          }
          const result: NotifyRunResult = {
            pollWallMs,
            expected: message.expected,
            received: receivedAt.size,
            duplicates,
            messages,
            firstDetectedAt,
            lastReceivedAt,
            latenciesMs,
            minGapMs: Number.isFinite(minGapMs) ? minGapMs : 0,
            maxPerWebhookPerSecond,
            notifyJobs: w.counters.notifyJobs,
            usage,
            timedOut,
          };
          send({ type: 'notify-run-done', result });
        } else if (message.type === 'exit') {
          await worker.close();
          await channels.close();
          await w.notifyQueue.close();
          await sink.close();
          await w.redis.quit().catch(() => w.redis.disconnect());
          process.exit(0);
        }
      } catch (error) {
        send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      }
    })();
  });
  sendReady();
}

// ---------------------------------------------------------------------------

process.once('message', (message: ParentMessage) => {
  if (message.type !== 'init') {
    send({ type: 'error', message: `expected init, got ${message.type}` });
    return;
  }
  const start = message.init.kind === 'poll' ? runPollMode(message.init) : runNotifyMode(message.init);
  start.catch((error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});
// The parent going away ends the benchmark: do not linger.
process.on('disconnect', () => process.exit(0));
