/**
 * Load: 1,000 plans polled every 10 s by two worker processes and one
 * scheduler, against the simulator, with a global DBS budget of 150
 * requests/s. Scheduled polling needs ~100 requests/s, so the budget does
 * not throttle it. After the baselines, an extra poll of every plan (1,000
 * jobs at once, an operator's "poll now") pushes demand over the budget, so
 * the limiter must hold it; one cycle later the warm-up ends and two
 * minutes of scheduled polling are measured.
 *
 * Measured at the simulator: no 1-second bucket over the limit (+10 %: the
 * limiter counts on Redis time, the simulator buckets arrivals by its own
 * clock) and the limit actually reached (otherwise the check proves
 * nothing); in the two minutes, every plan polled 12 times (±1 at the
 * window's edges) and the total within 2 % of 12,000 (no drift, no
 * starvation); the workers' memory flat (RSS at the end within 10 % of RSS
 * after warm-up).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planIdFor, type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { QUEUE_NAMES } from '../../src/queues.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { alarmingLines, type CrashableRedis, pollUntil, rssKiB, startCrashableRedis } from '../helpers/chaos.js';
import { childEnv, killAll, startDbswatch, writeConfig } from '../helpers/processes.js';

const PLANS = Array.from({ length: 1_000 }, (_, i) => planIdFor(i, 1_000));
const INTERVAL_S = 10;
const WINDOW_S = 120;
const LIMIT = 150;
const PREFIX = 'load';

describe('load: 1,000 plans, two workers, one global DBS budget', () => {
  let redis: CrashableRedis;
  let sim: RunningSimulator;
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = await startCrashableRedis({ persistent: false });
    sim = await startSimulator({ scenario: 'empty', seed: 7 });
    for (const planId of PLANS) {
      sim.world.addPlan({ planId });
      sim.world.addTasks(planId, 3, { status: 'finish', createdAt: sim.world.startMs - 3_600_000 });
    }
  });

  afterAll(async () => {
    await killAll();
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    await sim?.close();
    await redis?.close();
  });

  it('keeps every plan on schedule, never exceeds the budget, and holds memory flat', async () => {
    const yaml = `
redis: { url: "${redis.url}", prefix: "${PREFIX}" }
dbs: { endpoint: "${sim.endpoint}", protocol: http, pageSize: 30, requestsPerSecond: ${LIMIT}, timeout: 5s }
defaults: { interval: ${INTERVAL_S}s, notify: [ops] }
plans:
${PLANS.map((id) => `  - { id: ${id} }`).join('\n')}
channels:
  ops: { type: slack, webhookUrl: "http://127.0.0.1:9/services/T/B/X" }
poll: { concurrency: 24 }
http: { port: 0 }
`;
    const configPath = writeConfig(yaml);
    const env = childEnv({ REDIS_URL: redis.url, LOG_LEVEL: 'warn' });
    const scheduler = startDbswatch(['scheduler', '--config', configPath], { ...env, LOG_LEVEL: 'info' });
    const workers = [1, 2].map(() => startDbswatch(['worker', '--config', configPath], { ...env, LOG_LEVEL: 'info' }));
    await Promise.all([scheduler, ...workers].map((p) => p.waitForLine(/dbswatch started/, 60_000)));
    await scheduler.waitForLine(/poll schedules reconciled/, 60_000);

    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    client.on('error', () => {});
    clients.push(client);
    const store = new RedisStateStore(client, PREFIX);
    const queue = new Queue(QUEUE_NAMES.poll, { connection: client, prefix: PREFIX });
    expect(await pollUntil(async () => (await store.meta(PLANS)).every((m) => m.baselineDone), 60_000, 1_000)).toBe(true);

    // The burst: "poll every plan now" — 1,000 extra jobs at once on top of the scheduled ~100/s, more than
    // the budget allows. Measured from here on.
    sim.resetStats();
    const measureFrom = Math.floor(Date.now() / 1000);
    await queue.addBulk(PLANS.map((planId) => ({ name: 'poll', data: { v: 1 as const, planId }, opts: { jobId: `burst-${planId}`, attempts: 1 } })));
    const burstDone = await pollUntil(async () => (await queue.getJobCounts('waiting')).waiting === 0, 60_000);
    // Warm-up ends one full cycle after the burst: every code path has run, the heap has its working size.
    await delay(INTERVAL_S * 1_000);
    const rssWarm = workers.map((w) => rssKiB(w.child.pid));

    // The window: two minutes of scheduled polling.
    const before = sim.stats().byPlan;
    const windowStart = Date.now();
    await delay(WINDOW_S * 1_000);
    const stats = sim.stats();
    const lastSecond = Math.floor(Date.now() / 1000);
    const rssEnd = workers.map((w) => rssKiB(w.child.pid));
    const pollFailed = (await queue.getJobCounts('failed')).failed;
    await queue.close();

    // Full seconds inside the window only (the edges are partial buckets).
    const buckets = Object.entries(stats.perSecond)
      .filter(([s]) => Number(s) > measureFrom && Number(s) < lastSecond)
      .map(([, n]) => n);
    const maxPerSecond = Math.max(...buckets);
    const perPlan = PLANS.map((p) => (stats.byPlan[p] ?? 0) - (before[p] ?? 0));
    const windowRequests = perPlan.reduce((a, b) => a + b, 0);
    const histogram: Record<number, number> = {};
    for (const n of perPlan) histogram[n] = (histogram[n] ?? 0) + 1;
    const expectedPerPlan = WINDOW_S / INTERVAL_S;
    console.log(
      JSON.stringify({
        load: {
          requests: stats.requests,
          windowRequests,
          windowSeconds: Math.round((Date.now() - windowStart) / 1000),
          outcomes: stats.byOutcome,
          maxPerSecond,
          secondsAtLimit: buckets.filter((n) => n >= LIMIT * 0.9).length,
          busiestSeconds: buckets.map((n, i) => [i, n, buckets[i - 1] ?? 0, buckets[i + 1] ?? 0]).filter(([, n]) => (n as number) >= LIMIT * 0.9),
          perPlanHistogram: histogram,
          rssWarmKiB: rssWarm,
          rssEndKiB: rssEnd,
        },
      }),
    );

    await Promise.all([scheduler, ...workers].map((p) => p.stop('SIGTERM')));

    expect(stats.byOutcome, 'every request answered normally').toEqual({ ok: stats.requests });
    // The budget: never more than the limit in any 1-second bucket (+10 % for the two clocks), and it was reached.
    expect(maxPerSecond).toBeLessThanOrEqual(Math.floor(LIMIT * 1.1));
    expect(maxPerSecond).toBeGreaterThanOrEqual(Math.floor(LIMIT * 0.9));
    // No drift, no starvation: 12 scheduled polls per plan in the window (±1 at its edges).
    for (const n of perPlan) {
      expect(n).toBeGreaterThanOrEqual(expectedPerPlan - 1);
      expect(n).toBeLessThanOrEqual(expectedPerPlan + 1);
    }
    expect(windowRequests).toBeGreaterThanOrEqual(PLANS.length * expectedPerPlan * 0.98);
    expect(windowRequests).toBeLessThanOrEqual(PLANS.length * expectedPerPlan * 1.02);
    expect(burstDone).toBe(true);
    expect(pollFailed).toBe(0);
    // Memory flat.
    workers.forEach((_, i) => {
      const warm = rssWarm[i];
      const end = rssEnd[i];
      expect(warm).toBeDefined();
      expect(end).toBeDefined();
      expect(end!, `worker ${i + 1} RSS ${warm} → ${end} KiB`).toBeLessThanOrEqual(warm! * 1.1);
    });
    for (const p of [scheduler, ...workers]) expect(alarmingLines(p.lines)).toEqual([]);
  }, 280_000);
});
