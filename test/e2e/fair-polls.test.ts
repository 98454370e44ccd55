/**
 * Issue 15, item 2, with real processes: `dbswatch run` polls a healthy plan next to a hostile one
 * whose API answers `TotalPages: 1e7` on every page. Before: the hostile plan's polls (10,000 pages
 * each, retried 5 times, a new one every tick) took every worker slot and nearly the whole request
 * budget — the healthy plan was polled twice in 90 s. Now: the hostile poll stops at
 * `dbs.maxPagesPerPoll` (permanent, not retried), gets half the budget while the healthy plan is
 * active, never has two scheduled polls at once; the healthy plan is polled every tick; and SIGTERM
 * stops the paging at the next page instead of waiting out the shutdown deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { killAll, startDbswatch, writeConfig } from '../helpers/processes.js';
import { close, connect, deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const HEALTHY = 'healthy0001';
const HOSTILE = 'hostile0001';

/** A page that promises 10 million pages and never ends (the same 30 items each time). */
function hostilePage(): string {
  const items = Array.from({ length: 30 }, (_, i) => ({
    BackupSetDownloadTaskId: `hx${i}`,
    BackupPlanId: HOSTILE,
    BackupSetDownloadStatus: 'running',
    BackupSetDownloadCreateTime: 1_700_000_000_000,
  }));
  return JSON.stringify({
    RequestId: 'HOSTILE',
    Success: true,
    PageNum: 0,
    PageSize: 30,
    TotalPages: 10_000_000,
    TotalElements: 300_000_000,
    Items: { BackupSetDownloadTaskDetail: items },
  });
}

describe('a hostile plan next to a healthy one', () => {
  const prefix = uniquePrefix('fair-polls');
  const redis = connect('fair-polls');
  let sim: RunningSimulator;

  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'empty' });
    sim.world.addPlan({ planId: HEALTHY });
    sim.world.addPlan({ planId: HOSTILE });
    sim.world.addTasks(HEALTHY, 3, { status: 'running' });
    sim.injectFault({ kind: 'raw', count: 1_000_000_000, planId: HOSTILE, body: hostilePage() });
  });

  afterAll(async () => {
    await killAll();
    await sim.close();
    await close(redis);
    await deletePrefix(prefix);
  });

  it('keeps the healthy plan on schedule, bounds the hostile one, and stops paging on SIGTERM', async () => {
    const path = writeConfig(`
redis: { url: "${redisUrl()}", prefix: "${prefix}" }
dbs: { endpoint: "${sim.endpoint}", protocol: http, pageSize: 30, requestsPerSecond: 10, timeout: 5s, maxPagesPerPoll: 150 }
defaults: { interval: 5s }
plans: [ { id: ${HEALTHY} }, { id: ${HOSTILE} } ]
poll: { concurrency: 4, backoff: 1s }
http: { port: 0 }
`);
    const run = startDbswatch(['run', '--config', path]);
    await run.waitForLine(/dbswatch started/);
    const requests = (planId: string) => sim.stats().byPlan[planId] ?? 0;
    const store = new RedisStateStore(redis, prefix);

    // Warm-up: the hostile plan is paging hard.
    await expect.poll(() => requests(HOSTILE), { timeout: 60_000, interval: 250 }).toBeGreaterThan(100);
    const startedAt = Date.now();
    const healthyBefore = requests(HEALTHY);
    const hostileBefore = requests(HOSTILE);
    // Eight more ticks of the healthy plan (one request per poll): before the fix, two in 90 s.
    await expect.poll(() => requests(HEALTHY), { timeout: 90_000, interval: 250 }).toBeGreaterThanOrEqual(healthyBefore + 8);
    const seconds = (Date.now() - startedAt) / 1000;
    const hostileDuring = requests(HOSTILE) - hostileBefore;
    console.log(
      `[fair-polls] healthy plan: 8 polls in ${seconds.toFixed(1)} s (interval 5 s); hostile plan: ${hostileDuring} requests meanwhile (budget 10/s)`,
    );

    // The hostile poll ends at the page budget, with an error naming the key, and is not retried.
    await expect.poll(async () => (await store.meta([HOSTILE]))[0]?.lastError ?? '', { timeout: 60_000 }).toContain('dbs.maxPagesPerPoll');
    expect(run.lines.some((l) => l.includes('retrying cannot help') && l.includes('dbs.maxPagesPerPoll'))).toBe(true);
    // Scheduled polls of the hostile plan never overlapped: one is skipped while another runs.
    await run.waitForLine(/previous scheduled poll of this plan is still running/, 60_000);

    // SIGTERM mid-paging: the poll stops at its next page; the shutdown does not wait for its deadline (25 s).
    await expect.poll(() => requests(HOSTILE) - hostileBefore - hostileDuring, { timeout: 30_000 }).toBeGreaterThan(0);
    const stopAt = Date.now();
    expect(await run.stop('SIGTERM')).toBe(0);
    const stopSeconds = (Date.now() - stopAt) / 1000;
    console.log(`[fair-polls] SIGTERM while paging: exited in ${stopSeconds.toFixed(1)} s`);
    expect(run.lines.some((l) => l.includes('shutdown deadline passed'))).toBe(false);
    expect(run.lines.some((l) => l.includes('shutting down; will retry'))).toBe(true);
  }, 300_000);
});
