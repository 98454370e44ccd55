/** Turns a benchmark result into the Markdown tables (printed, written, pasted into BENCHMARKS.md). */
import type { PollPhase, RedisTraffic } from './protocol.js';
import type { BenchResult, PhaseMeasure, SizeResult } from './results.js';
import { type Spread, spread } from './stats.js';

const PHASES: PollPhase[] = ['raw', 'client', 'first', 'steady', 'incremental', 'quiet'];
const PHASE_LABEL: Record<PollPhase, string> = {
  raw: 'raw fetch',
  client: 'client+pager',
  first: 'first sweep',
  steady: 'steady full sweep',
  incremental: 'steady incremental sweep',
  quiet: 'quiet incremental sweep',
};
/** Phases that read every page: their API requests must be exactly the minimum. */
const FULL_PHASES: PollPhase[] = ['raw', 'client', 'first', 'steady'];
/** Sizes with this many pages per plan or more are the long-history case. */
const LONG_HISTORY_PAGES = 20;
/** Labels of the poll's own Redis traffic (everything but the rate limiter and BullMQ's job handling). */
const POLL_LABELS = ['state.load', 'state.announced', 'state.commit', 'notify.enqueue', 'history', 'resolve', 'state.failure'];

const MB = 1e6;

function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `median (min–max)`, or just the value for a single rep. */
function ms(s: Spread, digits = 0, scale = 1): string {
  if (s.n <= 1) return fmt(s.median / scale, digits);
  return `${fmt(s.median / scale, digits)} (${fmt(s.min / scale, digits)}–${fmt(s.max / scale, digits)})`;
}

function roundTrips(traffic: RedisTraffic, labels: readonly string[] | 'other'): number {
  let total = 0;
  for (const [label, t] of Object.entries(traffic)) {
    const mine = labels === 'other' ? !POLL_LABELS.includes(label) && label !== 'limiter' : labels.includes(label);
    if (mine) total += t.roundTrips;
  }
  return total;
}

function phasesOf(size: SizeResult, phase: PollPhase): PhaseMeasure[] {
  return size.reps.map((r) => r.phases[phase]).filter((p): p is PhaseMeasure => p !== undefined);
}

function phasesRun(size: SizeResult): PollPhase[] {
  return PHASES.filter((p) => (size.phases ?? PHASES).includes(p));
}

/** Requests per sweep over an hour of polls: one full sweep per `fullSweepEvery`, incremental ones in between. */
export function amortisedPerSweep(full: number, incremental: number, intervalMs: number, fullSweepEveryMs: number): number {
  const polls = Math.max(1, Math.round(fullSweepEveryMs / intervalMs));
  return (full + (polls - 1) * incremental) / polls;
}

export interface SizeSummary {
  size: string;
  phase: PollPhase;
  wallMs: Spread;
  ratioToRaw: Spread;
  apiRequests: Spread;
  minRequests: number;
  requestsExact: boolean;
  serverCommandsPerPoll: Spread;
  pollRoundTripsPerPoll: Spread;
  limiterRoundTripsPerPoll: Spread;
  bullmqRoundTripsPerPoll: Spread;
  bytesPerPoll: Spread;
  workerCpuMs: Spread;
  simulatorCpuMs: Spread;
  redisCpuMs: Spread;
  rssPeakMB: Spread;
  transitionsFound: number[];
  transitionsExpected: number;
  failures: number;
  /** Worker CPU ÷ the same rep's raw reader CPU. */
  cpuRatioToRaw: Spread;
  /** Polls by sweep kind, summed over the reps. */
  sweeps: Record<string, number>;
}

export function summarise(size: SizeResult): SizeSummary[] {
  const raw = phasesOf(size, 'raw');
  return phasesRun(size).map((phase) => {
    const list = phasesOf(size, phase);
    const plans = size.plans;
    return {
      size: `${size.plans}×${size.tasksPerPlan}`,
      phase,
      wallMs: spread(list.map((p) => p.child.usage.wallMs)),
      ratioToRaw: spread(list.map((p, i) => p.child.usage.wallMs / (raw[i]?.child.usage.wallMs ?? Number.NaN))),
      apiRequests: spread(list.map((p) => p.apiRequests)),
      minRequests: size.minRequests,
      requestsExact: list.every(
        (p) => p.apiRequests === size.minRequests && p.apiRequestsMaxPerPlan === size.minRequestsPerPlan && p.apiRequestsMinPerPlan === size.minRequestsPerPlan,
      ),
      serverCommandsPerPoll: spread(list.map((p) => p.redis.commands / plans)),
      pollRoundTripsPerPoll: spread(list.map((p) => roundTrips(p.child.redis, POLL_LABELS) / plans)),
      limiterRoundTripsPerPoll: spread(list.map((p) => roundTrips(p.child.redis, ['limiter']) / plans)),
      bullmqRoundTripsPerPoll: spread(list.map((p) => roundTrips(p.child.redis, 'other') / plans)),
      bytesPerPoll: spread(list.map((p) => (p.redis.netInputBytes + p.redis.netOutputBytes) / plans)),
      workerCpuMs: spread(list.map((p) => p.child.usage.cpuUserMs + p.child.usage.cpuSystemMs)),
      simulatorCpuMs: spread(list.map((p) => p.simulatorCpuMs)),
      redisCpuMs: spread(list.map((p) => p.redis.cpuMs)),
      rssPeakMB: spread(list.map((p) => p.child.usage.rssPeakSampledBytes / MB)),
      transitionsFound: list.map((p) => p.child.transitions),
      transitionsExpected: phase === 'steady' ? size.transitionsPerSweep : phase === 'incremental' ? size.transitionsIncremental : 0,
      failures: list.reduce((a, p) => a + p.child.failures, 0),
      cpuRatioToRaw: spread(
        list.map((p, i) => {
          const r = raw[i]?.child.usage;
          return (p.child.usage.cpuUserMs + p.child.usage.cpuSystemMs) / (r ? r.cpuUserMs + r.cpuSystemMs : Number.NaN);
        }),
      ),
      sweeps: list.reduce<Record<string, number>>((acc, p) => {
        for (const [k, n] of Object.entries(p.child.sweeps ?? {})) acc[k] = (acc[k] ?? 0) + n;
        return acc;
      }, {}),
    };
  });
}

export interface Target {
  name: string;
  met: boolean;
  detail: string;
}

export function evaluateTargets(result: BenchResult): Target[] {
  const targets: Target[] = [];
  if (result.sizes.length > 0) {
    const all = result.sizes.flatMap((s) => summarise(s));
    const inexact = all.filter((s) => FULL_PHASES.includes(s.phase) && !s.requestsExact);
    targets.push({
      name: 'API requests per full sweep = ⌈T/pageSize⌉ per plan, exactly',
      met: inexact.length === 0,
      detail:
        inexact.length === 0
          ? `every full read (raw, first, steady full; client+pager with --attribution) of every rep at every size: ${result.sizes.map((s) => `${s.plans}×${s.tasksPerPlan} → ${fmt(s.minRequests)}`).join(', ')}`
          : `off: ${inexact.map((s) => `${s.size} ${s.phase} ${fmt(s.apiRequests.median)} vs ${fmt(s.minRequests)}`).join('; ')}`,
    });

    const big =
      result.sizes.find((s) => s.plans === 1000 && s.tasksPerPlan === 1000) ??
      result.sizes.find((s) => s.minRequestsPerPlan < LONG_HISTORY_PAGES) ??
      result.sizes.at(-1);
    if (big) {
      const steady = summarise(big).find((s) => s.phase === 'steady');
      const ratio = steady?.ratioToRaw.median ?? Number.NaN;
      const at = `${big.plans}×${big.tasksPerPlan}`;
      const which = at === '1000×1000' ? '' : ', the largest matrix size run';
      targets.push({
        name: `steady full sweep ≤ 1.10 × raw fetch wall time (${at}${which})`,
        met: ratio <= 1.1,
        detail: `median ${fmt(ratio, 2)}× (${fmt(steady?.ratioToRaw.min ?? Number.NaN, 2)}–${fmt(steady?.ratioToRaw.max ?? Number.NaN, 2)}) over ${steady?.wallMs.n ?? 0} reps; steady ${fmt(steady?.wallMs.median ?? Number.NaN)} ms`,
      });
      const cpu = steady?.cpuRatioToRaw;
      targets.push({
        name: `steady full sweep worker CPU ≤ 1.5 × the raw reader's (${at}${which})`,
        met: (cpu?.median ?? Number.NaN) <= 1.5,
        detail: `median ${fmt(cpu?.median ?? Number.NaN, 2)}× (${fmt(cpu?.min ?? Number.NaN, 2)}–${fmt(cpu?.max ?? Number.NaN, 2)}); ${fmt(steady?.workerCpuMs.median ?? Number.NaN)} ms`,
      });
    }

    const bySweep = (phase: PollPhase) =>
      all
        .filter((s) => s.phase === phase)
        .map((s) => ({ size: s.size, rt: s.pollRoundTripsPerPoll, lim: s.limiterRoundTripsPerPoll, bq: s.bullmqRoundTripsPerPoll }));
    const constant = (xs: { rt: Spread }[]) => xs.every((x) => x.rt.min === xs[0]?.rt.min && x.rt.max === xs[0]?.rt.max);
    const pollPhases: PollPhase[] = ['first', 'steady', 'incremental', 'quiet'];
    const constantAll = pollPhases.every((p) => constant(bySweep(p)));
    const steadyRt = bySweep('steady');
    targets.push({
      name: 'Redis round trips per plan poll independent of task count',
      met: constantAll,
      detail:
        `poll state/queue round trips per poll — ${pollPhases
          .map(
            (p) =>
              `${PHASE_LABEL[p]}: ${bySweep(p)
                .map((x) => `${x.size} ${fmt(x.rt.median, 2)}`)
                .join(', ')}`,
          )
          .join('; ')}. ` +
        `Not counted there: the global rate limiter, 1 round trip per API request (steady full: ${steadyRt.map((x) => `${x.size} ${fmt(x.lim.median, 1)}`).join(', ')}), ` +
        `and BullMQ's own job handling (steady full: ${steadyRt.map((x) => `${x.size} ${fmt(x.bq.median, 1)}`).join(', ')})`,
    });

    const mem = result.sizes.map((s) => ({
      size: `${s.plans}×${s.tasksPerPlan}`,
      perTask: spread(s.reps.map((r) => r.memory.bytesPerTask)),
      withMeta: spread(s.reps.map((r) => r.memory.bytesPerTaskWithMeta)),
    }));
    targets.push({
      name: '≤ 120 bytes of Redis memory per tracked task',
      met: mem.every((m) => m.withMeta.max <= 120),
      detail: mem.map((m) => `${m.size}: ${fmt(m.perTask.median, 1)} B (with the plan's meta hash ${fmt(m.withMeta.median, 1)} B)`).join('; '),
    });

    if (big) {
      const pollers = (r: SizeResult['reps'][number]) => pollPhases.map((p) => r.phases[p]?.child.usage.maxRssBytes ?? 0);
      const peaks = big.reps.map((r) => Math.max(...pollers(r)) / MB);
      const peak = Math.max(...peaks);
      targets.push({
        name: `worker peak RSS ≤ 200 MB at ${big.plans}×${big.tasksPerPlan}`,
        met: peak <= 200,
        detail: `${fmt(peak)} MB worst rep (${peaks.map((p) => fmt(p)).join(', ')}): lifetime maxRSS of the polling worker process (first, steady full, incremental and quiet sweeps; idle after wiring ${fmt(spread(big.reps.map((r) => r.workerIdleRssBytes / MB)).median)} MB)${result.workerFlags?.length ? `; node flags ${result.workerFlags.join(' ')}` : ''}`,
      });
    }

    const runs = result.sizes.flatMap((s) =>
      s.reps.map((r) => ({
        size: `${s.plans}×${s.tasksPerPlan}`,
        rep: r.rep,
        first: r.phases.first.child.transitions,
        steady: r.phases.steady.child.transitions,
        incremental: r.phases.incremental?.child.transitions ?? Number.NaN,
        quiet: r.phases.quiet?.child.transitions ?? Number.NaN,
        injected: r.injected,
        injectedLater: s.transitionsIncremental,
        failures: pollPhases.reduce((a, p) => a + (r.phases[p]?.child.failures ?? 0), 0),
      })),
    );
    const bad = runs.filter((r) => r.steady !== r.injected || r.incremental !== r.injectedLater || r.first !== 0 || r.quiet !== 0 || r.failures > 0);
    targets.push({
      name: 'transitions found = transitions injected, every run',
      met: bad.length === 0,
      detail:
        bad.length === 0
          ? `${runs.length} runs, steady full / incremental: ${[...new Set(runs.map((r) => `${r.size} ${fmt(r.injected)} / ${fmt(r.injectedLater)}`))].join(', ')} (and 0 on every baseline and quiet sweep)`
          : bad
              .map(
                (r) =>
                  `${r.size} rep ${r.rep}: steady ${r.steady}/${r.injected}, incremental ${r.incremental}/${r.injectedLater}, baseline ${r.first}, quiet ${r.quiet}, failures ${r.failures}`,
              )
              .join('; '),
    });

    for (const long of result.sizes.filter((s) => s.minRequestsPerPlan >= LONG_HISTORY_PAGES)) {
      const sum = summarise(long);
      const get = (p: PollPhase) => sum.find((x) => x.phase === p);
      const inc = get('incremental');
      const quiet = get('quiet');
      const steady = get('steady');
      const at = `${long.plans}×${long.tasksPerPlan}`;
      const perPlan = (x: SizeSummary | undefined) => (x?.apiRequests.max ?? Number.NaN) / long.plans;
      const sweepsOk = (x: SizeSummary | undefined, kind: string) => (x ? Object.keys(x.sweeps).every((k) => k === kind) : false);
      targets.push({
        name: `long history ${at}: steady incremental sweep API requests ≤ 1.2 × plans`,
        met: perPlan(inc) <= 1.2 && sweepsOk(inc, 'incremental'),
        detail:
          `with ${fmt(long.transitionsIncremental / long.plans)} changes per plan among the newest tasks: ${fmt(inc?.apiRequests.max ?? Number.NaN)} requests = ${fmt(perPlan(inc), 2)} × plans (worst rep); ` +
          `quiet (nothing changed): ${fmt(quiet?.apiRequests.max ?? Number.NaN)} = ${fmt(perPlan(quiet), 2)} × plans; full sweep ${fmt(steady?.apiRequests.median ?? Number.NaN)} = ${fmt(long.minRequestsPerPlan)} × plans. ` +
          `Sweeps made: steady ${JSON.stringify(steady?.sweeps ?? {})}, incremental ${JSON.stringify(inc?.sweeps ?? {})}, quiet ${JSON.stringify(quiet?.sweeps ?? {})}`,
      });
      const o = result.options;
      const full = steady?.apiRequests.median ?? Number.NaN;
      const busy = amortisedPerSweep(full, inc?.apiRequests.max ?? Number.NaN, o.intervalMs, o.fullSweepEveryMs);
      const calm = amortisedPerSweep(full, quiet?.apiRequests.max ?? Number.NaN, o.intervalMs, o.fullSweepEveryMs);
      targets.push({
        name: `long history ${at}: API requests per sweep amortised over an hour at ${fmt(o.intervalMs / 1000)} s ≤ 5% of the full minimum`,
        met: busy / long.minRequests <= 0.05,
        detail:
          `every poll with changes like the measured one: ${fmt(busy)} per sweep = ${fmt((busy / long.minRequests) * 100, 1)}% of ${fmt(long.minRequests)}; ` +
          `a quiet hour: ${fmt(calm)} = ${fmt((calm / long.minRequests) * 100, 1)}% (1 full + ${fmt(Math.round(o.fullSweepEveryMs / o.intervalMs) - 1)} incremental sweeps per hour)`,
      });
    }
  }
  for (const n of result.notify) {
    targets.push({
      name: `notifications delivered exactly once (${n.name})`,
      met: n.received === n.expected && n.duplicates === 0 && !n.timedOut,
      detail: `${fmt(n.received)} of ${fmt(n.expected)}, ${n.duplicates} duplicate(s)`,
    });
  }
  return targets;
}

export function renderMarkdown(result: BenchResult): string {
  const o = result.options;
  const lines: string[] = [];
  lines.push(`# dbswatch benchmark — ${result.startedAt}`);
  lines.push('');
  lines.push(
    `Command: \`${result.command}\` · total ${fmt(result.totalWallMs / 1000, 0)} s · ${result.machine.nproc} CPU (${result.machine.cpuModel}), ` +
      `${result.machine.memTotal} RAM · Node ${result.machine.node} · Redis ${result.machine.redis} (${result.redis.private ? 'private redis-server, no other traffic' : 'REDIS_URL: numbers include other traffic'}) · ` +
      `worker process: ${result.worker}${result.workerFlags?.length ? ` with ${result.workerFlags.join(' ')}` : ''} · 1-min load average ${fmt(result.loadAvg.start, 1)} at start, ${fmt(result.loadAvg.end, 1)} at end (${result.machine.nproc} CPUs: above that, other processes were competing)`,
  );
  lines.push('');
  if (result.sizes.length > 0) {
    lines.push(
      `Poll sweeps: ${o.reps} rep(s) per size, ${o.concurrency} plans at a time, page size ${o.pageSize}, global limiter at ${fmt(o.requestsPerSecond)} req/s ` +
        `(set high so the API, not the limiter, is measured; the limiter's Redis round trip per request is still paid). ` +
        `Steady full sweep (\`dbs.sweep: full\`): ${fmt(o.transitionFraction * 100)}% of each plan's tasks (the newest) finished since the first sweep. ` +
        `Steady incremental sweep (the default \`dbs.sweep: incremental\`): the next-newest ${fmt(o.transitionFraction * 100)}% finished since the full one. ` +
        'Quiet incremental sweep: nothing changed. The client+pager reference runs only with `--attribution` (never for long histories). Values: median (min–max).',
    );
    lines.push('');
    lines.push(
      '| size (plans×tasks) | phase | wall ms | × raw | API requests (full min) | Redis cmds/poll (server) | round trips/poll: poll · limiter · BullMQ | Redis bytes/poll | worker CPU ms | worker RSS peak MB | transitions found/expected |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const size of result.sizes) {
      for (const s of summarise(size)) {
        const poll = s.phase !== 'raw' && s.phase !== 'client';
        const full = FULL_PHASES.includes(s.phase);
        lines.push(
          `| ${s.size} | ${PHASE_LABEL[s.phase]} | ${ms(s.wallMs)} | ${s.phase === 'raw' ? '1.00' : ms(s.ratioToRaw, 2)} | ` +
            `${fmt(s.apiRequests.median)} (${fmt(s.minRequests)})${full ? (s.requestsExact ? '' : ' ⚠') : ` = ${fmt(s.apiRequests.median / size.plans, 2)}/plan`} | ` +
            `${ms(s.serverCommandsPerPoll, 1)} | ${fmt(s.pollRoundTripsPerPoll.median, 2)} · ${fmt(s.limiterRoundTripsPerPoll.median, 1)} · ${fmt(s.bullmqRoundTripsPerPoll.median, 1)} | ` +
            `${ms(s.bytesPerPoll, 0)} | ${ms(s.workerCpuMs)} | ${ms(s.rssPeakMB)} | ` +
            `${poll ? `${s.transitionsFound.join(', ')} / ${fmt(s.transitionsExpected)}${s.failures ? ` (${s.failures} failed polls)` : ''}` : '–'} |`,
        );
      }
    }
    lines.push('');
    lines.push(
      '| size | Redis memory per tracked task (tasks hash) | incl. plan meta hash | used_memory delta over first sweep, per task | simulator build s |',
    );
    lines.push('|---|---|---|---|---|');
    for (const size of result.sizes) {
      const per = spread(size.reps.map((r) => r.memory.bytesPerTask));
      const meta = spread(size.reps.map((r) => r.memory.bytesPerTaskWithMeta));
      const used = spread(size.reps.map((r) => r.memory.usedMemoryDeltaFirst / Math.max(1, r.memory.trackedTasks)));
      lines.push(`| ${size.plans}×${size.tasksPerPlan} | ${ms(per, 1)} B | ${ms(meta, 1)} B | ${ms(used, 1)} B | ${fmt(size.simulatorBuildMs / 1000, 1)} |`);
    }
    lines.push('');
    lines.push(
      'CPU time per phase (median ms): worker · simulator · redis-server; worker CPU relative to raw fetch; polling worker process RSS when idle (wired, before the first sweep); load average at the end of the phases.',
    );
    lines.push('');
    lines.push(
      '| size | raw fetch | client+pager | first sweep | steady full sweep | steady incremental | quiet incremental | worker CPU × raw (client / first / steady full / incremental / quiet) | worker idle RSS MB | load avg (1 min) |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const size of result.sizes) {
      const s = summarise(size);
      const get = (phase: PollPhase) => s.find((x) => x.phase === phase);
      const cell = (x: SizeSummary | undefined) => (x ? `${fmt(x.workerCpuMs.median)} · ${fmt(x.simulatorCpuMs.median)} · ${fmt(x.redisCpuMs.median)}` : '–');
      const rawCpu = get('raw')?.workerCpuMs.median ?? Number.NaN;
      const rel = (['client', 'first', 'steady', 'incremental', 'quiet'] as const)
        .map((p) => fmt((get(p)?.workerCpuMs.median ?? Number.NaN) / rawCpu, 2))
        .join(' / ');
      const idle = spread(size.reps.map((r) => r.workerIdleRssBytes / MB));
      const load = spread(size.reps.flatMap((r) => phasesRun(size).map((p) => r.phases[p]?.loadAvg1 ?? Number.NaN)));
      lines.push(
        `| ${size.plans}×${size.tasksPerPlan} | ${cell(get('raw'))} | ${cell(get('client'))} | ${cell(get('first'))} | ${cell(get('steady'))} | ${cell(get('incremental'))} | ${cell(get('quiet'))} | ${rel} | ${ms(idle)} | ${ms(load, 1)} |`,
      );
    }
    lines.push('');
    lines.push(
      `API requests per sweep amortised over an hour of polls at the default ${fmt(o.intervalMs / 1000)} s interval with \`dbs.fullSweepEvery\` ${fmt(o.fullSweepEveryMs / 60_000)} min: ` +
        `one full sweep + ${fmt(Math.round(o.fullSweepEveryMs / o.intervalMs) - 1)} incremental ones (worst rep), against the full minimum every poll.`,
    );
    lines.push('');
    lines.push(
      '| size | full sweep (= min) | incremental with changes | quiet incremental | hour, every poll with changes: per sweep (% of min) | quiet hour: per sweep (% of min) |',
    );
    lines.push('|---|---|---|---|---|---|');
    for (const size of result.sizes) {
      const s = summarise(size);
      const get = (phase: PollPhase) => s.find((x) => x.phase === phase);
      const full = get('steady')?.apiRequests.median ?? Number.NaN;
      const inc = get('incremental')?.apiRequests.max ?? Number.NaN;
      const quiet = get('quiet')?.apiRequests.max ?? Number.NaN;
      const busy = amortisedPerSweep(full, inc, o.intervalMs, o.fullSweepEveryMs);
      const calm = amortisedPerSweep(full, quiet, o.intervalMs, o.fullSweepEveryMs);
      const pct = (x: number) => `${fmt(x)} (${fmt((x / size.minRequests) * 100, 1)}%)`;
      lines.push(`| ${size.plans}×${size.tasksPerPlan} | ${fmt(full)} | ${fmt(inc)} | ${fmt(quiet)} | ${pct(busy)} | ${pct(calm)} |`);
    }
    lines.push('');
  }
  if (result.notify.length > 0) {
    lines.push(
      `Notification throughput: ${result.notify[0]?.channels} Slack channels (one local sink, one webhook path each), Slack limit 1 message/s per webhook, ` +
        `digest threshold ${result.notify[0]?.digestThreshold}, notify worker concurrency ${o.notifyConcurrency}; the transitions are found by a real poll sweep. ` +
        'Rates are over first detection → last sink receipt; latency is sink receipt − `Notification.detectedAt`.',
    );
    lines.push('');
    lines.push(
      '| scenario | transitions (plans × per plan) | notify jobs | Slack messages | span s (floor) | notifications/s | messages/s | latency p50 / p90 / p99 / max ms | busiest webhook: msgs in any 1 s · min gap ms | delivered |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const n of result.notify) {
      lines.push(
        `| ${n.name} | ${fmt(n.transitions)} (${fmt(n.plans)} × ${n.transitionsPerPlan}) | ${fmt(n.notifyJobs)} | ${fmt(n.messages)} | ${fmt(n.spanMs / 1000, 1)} (${fmt(n.floorMs / 1000, 0)}) | ` +
          `${fmt(n.notificationsPerSecond)} | ${fmt(n.messagesPerSecond, 1)} | ${fmt(n.latencyMs.p50)} / ${fmt(n.latencyMs.p90)} / ${fmt(n.latencyMs.p99)} / ${fmt(n.latencyMs.max)} | ` +
          `${n.maxPerWebhookPerSecond} · ${fmt(n.minGapPerWebhookMs)} | ${fmt(n.received)}/${fmt(n.expected)}${n.duplicates ? `, ${n.duplicates} dup` : ''}${n.timedOut ? ' (timed out)' : ''} |`,
      );
    }
    lines.push('');
  }
  const targets = evaluateTargets(result);
  if (targets.length > 0) {
    lines.push('| target | result | measured |');
    lines.push('|---|---|---|');
    for (const t of targets) lines.push(`| ${t.name} | ${t.met ? '**met**' : '**MISSED**'} | ${t.detail} |`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
