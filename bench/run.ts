/**
 * dbswatch benchmark: `npm run bench [-- --quick] [--sizes 100x100,1000x1000] [--reps N]`.
 *
 * This process runs the DBS simulator and (unless REDIS_URL is set) a private
 * redis-server; the dbswatch poller / notifier runs in a child process
 * (bench/worker-process.ts) that reports its own CPU time and RSS. For every
 * size and repetition, in one fresh worker process:
 *   raw    — the official @alicloud/openapi-client reading every page of every plan, nothing else
 *   client — with --attribution only: dbswatch's DBS client + pager (parse, normalise every task, dedupe), no Redis state
 *   first  — dbswatch's full poll of every plan through the BullMQ poll worker (baseline written)
 *   steady — a full sweep (dbs.sweep: full) after 1% of the tasks finished (notify jobs enqueued, state committed)
 *   incremental — an incremental sweep (the default) after another 1% finished
 *   quiet  — an incremental sweep with nothing changed (what most polls are)
 * Then the notification scenario: transitions → notify worker → local Slack sink.
 * Results go to bench/results/ (JSON + Markdown) and the Markdown is printed.
 */

import { type ChildProcess, execSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { buildScenario, planIdFor, type RunningSimulator, startSimulator } from '../dev/simulator/index.js';
import type { ChildMessage, NotifyInit, NotifyRunResult, ParentMessage, PollInit, PollPhase } from './protocol.js';
import { type BenchRedis, deletePrefix, redisDelta, redisInfo, startBenchRedis } from './redis-server.js';
import { renderMarkdown } from './report.js';
import type { BenchOptions, BenchResult, Machine, NotifyScenarioResult, PhaseMeasure, PollRep, SizeResult, WorkerEntry } from './results.js';
import { percentile } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------
// Options

function usage(): never {
  console.log(`usage: npm run bench -- [--quick] [--sizes 100x100,1000x1000] [--reps N] [--concurrency 8]
                       [--rps 10000] [--notify-concurrency 16] [--no-notify] [--no-poll] [--attribution]`);
  process.exit(2);
}

function parseSizes(text: string): BenchOptions['sizes'] {
  return text.split(',').map((part) => {
    const m = /^(\d+)x(\d+)$/.exec(part.trim());
    if (!m) throw new Error(`--sizes: "${part}" is not <plans>x<tasks>`);
    return { plans: Number(m[1]), tasksPerPlan: Number(m[2]) };
  });
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const has = (flag: string) => argv.includes(flag);
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) usage();
    return v;
  };
  for (const arg of argv) if (arg === '--help' || arg === '-h') usage();
  const quick = has('--quick');
  const sizesText = value('--sizes');
  const sizes = sizesText ? parseSizes(sizesText) : quick ? parseSizes('50x100,100x200,20x2000') : parseSizes('100x100,1000x100,100x1000,1000x1000,200x5000');
  const notify = has('--no-notify')
    ? []
    : quick
      ? [
          { name: 'digests', plans: 100, transitionsPerPlan: 10 },
          { name: 'singles', plans: 200, transitionsPerPlan: 1 },
        ]
      : [
          { name: 'digests', plans: 1000, transitionsPerPlan: 10 },
          { name: 'singles', plans: 1000, transitionsPerPlan: 1 },
        ];
  return {
    quick,
    attribution: has('--attribution'),
    sizes: has('--no-poll') ? [] : sizes,
    reps: Number(value('--reps') ?? (quick ? 1 : 3)),
    concurrency: Number(value('--concurrency') ?? 8),
    requestsPerSecond: Number(value('--rps') ?? 10_000),
    pageSize: 100,
    transitionFraction: 0.01,
    intervalMs: 60_000,
    fullSweepEveryMs: 3_600_000,
    notify,
    notifyChannels: 100,
    notifyConcurrency: Number(value('--notify-concurrency') ?? 16),
    digestThreshold: 5,
    outName: quick
      ? 'latest-quick'
      : sizesText || has('--no-poll') || has('--no-notify') || has('--attribution') || value('--reps')
        ? 'latest-custom'
        : 'latest',
  };
}

// ---------------------------------------------------------------------------
// The worker process

/**
 * Bundles bench/worker-process.ts and the dbswatch sources it imports into one
 * ES module (packages stay external, resolved from node_modules) so the worker
 * runs on plain node like `node dist/src/cli.js` — tsx's loader thread would add
 * ~25 MB of RSS that production does not have. Falls back to tsx.
 */
async function prepareWorkerEntry(log: (line: string) => void): Promise<WorkerEntry> {
  // Experiment knobs: BENCH_CPU_PROF=<dir> profiles the worker; BENCH_WORKER_FLAGS="--max-old-space-size=192" etc.
  // The worker runs with the node flags the container sets (Dockerfile `ENV NODE_OPTIONS=…`), so the memory
  // measured is the memory production gets; experiment flags come after them (later flags win).
  const profile = [
    ...containerNodeOptions(),
    ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ...(process.env.BENCH_WORKER_FLAGS ?? '').split(/\s+/).filter(Boolean),
  ];
  try {
    const esbuild = (await import('esbuild')) as typeof import('esbuild');
    // node_modules/.cache: git-ignored, not linted, and node_modules resolve from there as from bench/.
    const file = join(here, '..', 'node_modules', '.cache', 'dbswatch-bench', 'worker-process.mjs');
    await esbuild.build({
      entryPoints: [join(here, 'worker-process.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile: file,
      logLevel: 'error',
    });
    return { file, execArgv: profile, mode: 'bundled (plain node)', flags: profile };
  } catch (error) {
    log(`could not bundle the worker (${error instanceof Error ? error.message : String(error)}); running it through tsx`);
    return { file: join(here, 'worker-process.ts'), execArgv: ['--import', 'tsx', ...profile], mode: 'tsx', flags: profile };
  }
}

/** The `NODE_OPTIONS` the Dockerfile's runtime image sets (empty when it sets none). */
export function containerNodeOptions(dockerfile = join(here, '..', 'Dockerfile')): string[] {
  let text = '';
  try {
    text = readFileSync(dockerfile, 'utf8');
  } catch {
    return [];
  }
  const match = /^ENV\s+NODE_OPTIONS=(?:"([^"]*)"|(\S+))/m.exec(text);
  return (match?.[1] ?? match?.[2] ?? '').split(/\s+/).filter(Boolean);
}

let workerEntry: WorkerEntry | undefined;

class WorkerProcess {
  private readonly child: ChildProcess;
  private readonly inbox: ChildMessage[] = [];
  private waiter: (() => void) | undefined;
  private exited = false;

  constructor() {
    const entry = workerEntry ?? { file: join(here, 'worker-process.ts'), execArgv: ['--import', 'tsx'] };
    this.child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: ChildMessage) => {
      this.inbox.push(message);
      this.waiter?.();
    });
    this.child.on('exit', () => {
      this.exited = true;
      this.waiter?.();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(message: ParentMessage): void {
    this.child.send(message);
  }

  async next<T extends ChildMessage['type']>(type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type || m.type === 'error');
      if (i >= 0) {
        const [message] = this.inbox.splice(i, 1);
        if (message?.type === 'error') throw new Error(`worker process: ${message.message}`);
        return message as Extract<ChildMessage, { type: T }>;
      }
      if (this.exited) throw new Error(`worker process exited while waiting for ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`worker process: no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      this.send({ type: 'exit' });
    } catch {
      // already gone
    }
    await Promise.race([gone, delay(10_000)]);
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------
// Poll benchmark

const PHASES: PollPhase[] = ['raw', 'client', 'first', 'steady', 'incremental', 'quiet'];

/** A long history: many pages per plan (the incremental-sweep case). Its client+pager reference read is always skipped (time). */
export function isLongHistory(size: { tasksPerPlan: number }, pageSize: number): boolean {
  return size.tasksPerPlan / pageSize >= 20;
}

async function measurePhase(worker: WorkerProcess, sim: RunningSimulator, redis: Redis, phase: PollPhase, planIds: readonly string[]): Promise<PhaseMeasure> {
  sim.resetStats();
  const before = await redisInfo(redis);
  const cpuBefore = process.cpuUsage();
  worker.send({ type: 'phase', phase });
  const { result } = await worker.next('phase-done', 20 * 60_000);
  const cpu = process.cpuUsage(cpuBefore);
  const after = await redisInfo(redis);
  const stats = sim.stats();
  const perPlan = planIds.map((id) => stats.byPlan[id] ?? 0);
  return {
    child: result,
    apiRequests: stats.requests,
    apiRequestsMinPerPlan: Math.min(...perPlan),
    apiRequestsMaxPerPlan: Math.max(...perPlan),
    redis: redisDelta(before, after),
    simulatorCpuMs: (cpu.user + cpu.system) / 1000,
    loadAvg1: os.loadavg()[0] ?? 0,
  };
}

async function stateMemory(redis: Redis, prefix: string, planIds: readonly string[]) {
  const pipeline = redis.pipeline();
  for (const id of planIds) {
    pipeline.call('MEMORY', 'USAGE', `${prefix}:plan:${id}:tasks`, 'SAMPLES', '0');
    pipeline.call('MEMORY', 'USAGE', `${prefix}:plan:${id}:meta`, 'SAMPLES', '0');
    pipeline.hlen(`${prefix}:plan:${id}:tasks`);
  }
  const results = (await pipeline.exec()) ?? [];
  let taskHashBytes = 0;
  let metaHashBytes = 0;
  let trackedTasks = 0;
  for (let i = 0; i < results.length; i += 3) {
    taskHashBytes += Number(results[i]?.[1] ?? 0);
    metaHashBytes += Number(results[i + 1]?.[1] ?? 0);
    trackedTasks += Number(results[i + 2]?.[1] ?? 0);
  }
  return { taskHashBytes, metaHashBytes, trackedTasks };
}

async function benchSize(
  size: { plans: number; tasksPerPlan: number },
  options: BenchOptions,
  benchRedis: BenchRedis,
  redis: Redis,
  log: (line: string) => void,
): Promise<SizeResult> {
  const buildStart = performance.now();
  const sim = await startSimulator({
    scenario: buildScenario({ plans: size.plans, tasksPerPlan: size.tasksPerPlan, seed: 7, activeFraction: 0 }),
    clock: 'manual',
  });
  const simulatorBuildMs = performance.now() - buildStart;
  const planIds = Array.from({ length: size.plans }, (_, i) => planIdFor(i, size.plans));
  // The tasks that finish between the first and the steady sweep: the newest 1% of each plan; and
  // between the steady and the incremental sweep: the next-newest 1%. Both are running at the baseline.
  const perPlan = Math.max(1, Math.round(size.tasksPerPlan * options.transitionFraction));
  const chosen: string[] = [];
  const chosenLater: string[] = [];
  for (const planId of planIds) {
    const newest = sim.world.tasksOf(planId).slice(0, 2 * perPlan);
    for (const task of newest.slice(0, perPlan)) chosen.push(task.BackupSetDownloadTaskId);
    for (const task of newest.slice(perPlan)) chosenLater.push(task.BackupSetDownloadTaskId);
  }
  // The client+pager read (every task normalised, no Redis) only attributes cost: the poller sweeps raw pages
  // and normalises what changed, so it is run on request (--attribution), never for long histories.
  const phasesRun = options.attribution && !isLongHistory(size, options.pageSize) ? PHASES : PHASES.filter((p) => p !== 'client');
  const minRequestsPerPlan = Math.ceil(size.tasksPerPlan / options.pageSize);
  const result: SizeResult = {
    plans: size.plans,
    tasksPerPlan: size.tasksPerPlan,
    pageSize: options.pageSize,
    minRequestsPerPlan,
    minRequests: minRequestsPerPlan * size.plans,
    transitionsPerSweep: chosen.length,
    transitionsIncremental: chosenLater.length,
    phases: phasesRun,
    simulatorBuildMs,
    reps: [],
  };
  try {
    for (let rep = 1; rep <= options.reps; rep++) {
      // A fresh world state for the rep: the chosen tasks are in progress again, the state is new.
      for (const id of [...chosen, ...chosenLater]) sim.world.setStatus(id, 'running');
      const prefix = `bench-${size.plans}x${size.tasksPerPlan}-r${rep}-${randomBytes(3).toString('hex')}`;
      if (benchRedis.private) await redis.flushall();
      const init: PollInit = {
        kind: 'poll',
        redisUrl: benchRedis.url,
        endpoint: sim.endpoint,
        prefix,
        planIds,
        pageSize: options.pageSize,
        concurrency: options.concurrency,
        requestsPerSecond: options.requestsPerSecond,
      };
      const phases: Partial<Record<PollPhase, PhaseMeasure>> = {};
      let memory: PollRep['memory'] | undefined;
      let idle = { rssBytes: 0, heapUsedBytes: 0 };
      try {
        // Two worker processes per rep: one for the reference reads (raw, client+pager), one that only
        // polls (first, steady, incremental, quiet) — so the poller's peak RSS is its own, not left over from the references.
        const groups: PollPhase[][] = [phasesRun.filter((p) => p === 'raw' || p === 'client'), phasesRun.filter((p) => p !== 'raw' && p !== 'client')];
        for (const group of groups) {
          const worker = new WorkerProcess();
          try {
            worker.send({ type: 'init', init });
            const ready = await worker.next('ready', 60_000);
            if (group.includes('first')) idle = ready;
            for (const phase of group) {
              if (phase === 'steady') {
                for (const id of chosen) sim.world.setStatus(id, 'finish');
              }
              if (phase === 'incremental') {
                for (const id of chosenLater) sim.world.setStatus(id, 'finish');
              }
              const measured = await measurePhase(worker, sim, redis, phase, planIds);
              phases[phase] = measured;
              if (phase === 'first') {
                const m = await stateMemory(redis, prefix, planIds);
                memory = {
                  ...m,
                  bytesPerTask: m.trackedTasks ? m.taskHashBytes / m.trackedTasks : Number.NaN,
                  bytesPerTaskWithMeta: m.trackedTasks ? (m.taskHashBytes + m.metaHashBytes) / m.trackedTasks : Number.NaN,
                  usedMemoryDeltaFirst: measured.redis.usedMemoryDelta,
                };
              }
              const c = measured.child;
              log(
                `  ${size.plans}x${size.tasksPerPlan} rep ${rep} ${phase.padEnd(6)} ${c.usage.wallMs.toFixed(0).padStart(6)} ms` +
                  `  api ${measured.apiRequests}  redis cmds ${measured.redis.commands}  cpu ${(c.usage.cpuUserMs + c.usage.cpuSystemMs).toFixed(0)} ms` +
                  `  rss ${(c.usage.rssPeakSampledBytes / 1e6).toFixed(0)} MB` +
                  (phase !== 'raw' && phase !== 'client' ? `  transitions ${c.transitions}  failures ${c.failures}  sweeps ${JSON.stringify(c.sweeps)}` : ''),
              );
              if (c.failures > 0) log(`    failures: ${c.failureMessages.join(' | ')}`);
            }
          } finally {
            await worker.stop();
          }
        }
        result.reps.push({
          rep,
          prefix,
          workerIdleRssBytes: idle.rssBytes,
          workerIdleHeapBytes: idle.heapUsedBytes,
          phases: phases as Record<PollPhase, PhaseMeasure>,
          injected: chosen.length,
          memory: memory as PollRep['memory'],
        });
      } finally {
        if (!benchRedis.private) await deletePrefix(redis, prefix);
      }
    }
  } finally {
    await sim.close();
  }
  return result;
}

// ---------------------------------------------------------------------------
// Notification throughput

async function benchNotify(
  scenario: BenchOptions['notify'][number],
  options: BenchOptions,
  benchRedis: BenchRedis,
  redis: Redis,
  log: (line: string) => void,
): Promise<NotifyScenarioResult> {
  const sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
  const planIds = Array.from({ length: scenario.plans }, (_, i) => planIdFor(i, scenario.plans));
  const moving: string[] = [];
  for (const planId of planIds) {
    sim.world.addPlan({ planId, name: `bench-${planId}` });
    sim.world.addTasks(planId, 20, { status: 'finish' });
    for (const task of sim.world.addTasks(planId, scenario.transitionsPerPlan, { status: 'running' })) moving.push(task.BackupSetDownloadTaskId);
  }
  const prefix = `bench-notify-${scenario.name}-${randomBytes(3).toString('hex')}`;
  if (benchRedis.private) await redis.flushall();
  const worker = new WorkerProcess();
  try {
    const init: NotifyInit = {
      kind: 'notify',
      redisUrl: benchRedis.url,
      endpoint: sim.endpoint,
      prefix,
      planIds,
      channels: options.notifyChannels,
      pageSize: options.pageSize,
      concurrency: options.concurrency,
      notifyConcurrency: options.notifyConcurrency,
      requestsPerSecond: options.requestsPerSecond,
      digestThreshold: options.digestThreshold,
    };
    worker.send({ type: 'init', init });
    await worker.next('ready', 60_000);
    worker.send({ type: 'notify-baseline' });
    const baseline = await worker.next('notify-baseline-done', 10 * 60_000);
    if (baseline.failures > 0) throw new Error(`notify baseline: ${baseline.failures} poll(s) failed`);
    // About 8% of downloads fail, the rest finish: both events go to the plan's channel.
    for (const [i, id] of moving.entries()) sim.world.setStatus(id, i % 12 === 5 ? 'stop' : 'finish');
    const expected = moving.length;
    const perChannelPolls = Math.ceil(scenario.plans / options.notifyChannels);
    const perPoll = scenario.transitionsPerPlan;
    const messagesPerPoll = perPoll > options.digestThreshold ? Math.ceil(perPoll / 50) : perPoll;
    const busiestWebhookMessages = perChannelPolls * messagesPerPoll;
    const floorMs = Math.max(0, busiestWebhookMessages - 1) * 1000;
    worker.send({ type: 'notify-run', expected, timeoutMs: Math.max(60_000, floorMs * 4) });
    const { result } = await worker.next('notify-run-done', Math.max(120_000, floorMs * 5));
    const r: NotifyRunResult = result;
    const spanMs = r.lastReceivedAt - r.firstDetectedAt;
    const out: NotifyScenarioResult = {
      name: scenario.name,
      plans: scenario.plans,
      channels: options.notifyChannels,
      transitionsPerPlan: scenario.transitionsPerPlan,
      transitions: expected,
      digestThreshold: options.digestThreshold,
      notifyConcurrency: options.notifyConcurrency,
      pollConcurrency: options.concurrency,
      notifyJobs: r.notifyJobs,
      expected,
      received: r.received,
      duplicates: r.duplicates,
      messages: r.messages,
      timedOut: r.timedOut,
      pollWallMs: r.pollWallMs,
      spanMs,
      notificationsPerSecond: spanMs > 0 ? (r.received / spanMs) * 1000 : Number.NaN,
      messagesPerSecond: spanMs > 0 ? (r.messages / spanMs) * 1000 : Number.NaN,
      latencyMs: {
        p50: percentile(r.latenciesMs, 50),
        p90: percentile(r.latenciesMs, 90),
        p99: percentile(r.latenciesMs, 99),
        max: percentile(r.latenciesMs, 100),
      },
      minGapPerWebhookMs: r.minGapMs,
      maxPerWebhookPerSecond: r.maxPerWebhookPerSecond,
      floorMs,
      worker: { cpuMs: r.usage.cpuUserMs + r.usage.cpuSystemMs, rssPeakBytes: r.usage.rssPeakSampledBytes },
    };
    log(
      `  notify ${scenario.name}: ${out.received}/${expected} notifications in ${out.messages} messages, ${(spanMs / 1000).toFixed(1)} s` +
        ` → ${out.notificationsPerSecond.toFixed(0)} notif/s, ${out.messagesPerSecond.toFixed(1)} msg/s; latency p50 ${out.latencyMs.p50} ms p99 ${out.latencyMs.p99} ms`,
    );
    return out;
  } finally {
    await worker.stop();
    if (!benchRedis.private) await deletePrefix(redis, prefix);
    await sim.close();
  }
}

// ---------------------------------------------------------------------------

function machine(redisVersion: string): Machine {
  let freeH = '';
  try {
    freeH = execSync('free -h', { encoding: 'utf8' }).trim();
  } catch {
    freeH = '(free not available)';
  }
  return {
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memTotal: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    freeH,
    node: process.version,
    redis: redisVersion,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const log = (line: string) => console.log(line);
  const benchRedis = await startBenchRedis();
  if (!benchRedis.private) {
    console.warn(`WARNING: using REDIS_URL (${benchRedis.url}): Redis command, byte and memory numbers include any other traffic on that server.`);
  }
  const redis = new Redis(benchRedis.url, { maxRetriesPerRequest: 3 });
  redis.on('error', () => {});
  const stop = async () => {
    await redis.quit().catch(() => redis.disconnect());
    await benchRedis.stop();
  };
  process.once('SIGINT', () => {
    void stop().finally(() => process.exit(130));
  });
  const result: BenchResult = {
    startedAt,
    totalWallMs: 0,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    options,
    redis: { private: benchRedis.private },
    machine: machine(benchRedis.version),
    worker: 'tsx',
    workerFlags: [],
    loadAvg: { start: os.loadavg()[0] ?? 0, end: 0 },
    sizes: [],
    notify: [],
  };
  log(
    `dbswatch bench: sizes ${options.sizes.map((s) => `${s.plans}x${s.tasksPerPlan}`).join(', ') || '(none)'}, ${options.reps} rep(s), ` +
      `concurrency ${options.concurrency}, limiter ${options.requestsPerSecond} req/s, page ${options.pageSize}; ` +
      `Redis ${benchRedis.private ? 'private' : 'REDIS_URL'} ${benchRedis.url}`,
  );
  try {
    workerEntry = await prepareWorkerEntry(log);
    result.worker = workerEntry.mode;
    result.workerFlags = workerEntry.flags;
    // After each size and scenario, the results so far go to <name>.partial.{json,md}: a run cut short (a busy
    // shared machine) still leaves complete tables for what it finished.
    const savePartial = () => {
      result.totalWallMs = performance.now() - started;
      result.loadAvg.end = os.loadavg()[0] ?? 0;
      const outDir = join(here, 'results');
      mkdirSync(outDir, { recursive: true });
      writeFileSync(join(outDir, `${options.outName}.partial.json`), `${JSON.stringify(result, null, 2)}\n`);
      writeFileSync(join(outDir, `${options.outName}.partial.md`), renderMarkdown(result));
    };
    for (const size of options.sizes) {
      log(`size ${size.plans} plans × ${size.tasksPerPlan} tasks`);
      result.sizes.push(await benchSize(size, options, benchRedis, redis, log));
      savePartial();
    }
    for (const scenario of options.notify) {
      log(`notify ${scenario.name}: ${scenario.plans} plans × ${scenario.transitionsPerPlan} transitions → ${options.notifyChannels} channels`);
      result.notify.push(await benchNotify(scenario, options, benchRedis, redis, log));
      savePartial();
    }
  } finally {
    await stop();
  }
  result.totalWallMs = performance.now() - started;
  result.loadAvg.end = os.loadavg()[0] ?? 0;
  const markdown = renderMarkdown(result);
  const outDir = join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${options.outName}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(outDir, `${options.outName}.md`), markdown);
  console.log(`\n${markdown}`);
  console.log(`written: bench/results/${options.outName}.json, bench/results/${options.outName}.md (total ${(result.totalWallMs / 1000).toFixed(1)} s)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
