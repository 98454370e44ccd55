/**
 * The hostile API corpus served by the simulator (fault kind `raw`: the exact
 * bytes of each fixture, on every page of one plan) to the REAL client,
 * pager and a real BullMQ poll worker on real Redis. A bad body fails that
 * plan's poll with a clear `lastError` in its meta and a log line, enqueues
 * nothing and changes no state; the worker keeps running, and a good plan
 * polled right after still succeeds. Bodies that are only odd are accepted,
 * and what they enqueue is already normalised (http(s) links, bounded text).
 */
import { Writable } from 'node:stream';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { MAX_TEXT_LENGTH } from '../../src/dbs/normalise.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { startPollWorker } from '../../src/jobs/poll.js';
import { createLogger } from '../../src/logger.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { apiFixture } from '../fixtures/hostile/load.js';
import { pipelineConfig, pollDeps, testQueues } from '../helpers/pipeline.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

const HOSTILE = 'planhostile01';
const GOOD = 'plangood0001';

/** Refused bodies and the words their `lastError` must carry (same table as the unit test, by outcome). */
const REFUSED: ReadonlyArray<readonly [string, RegExp]> = [
  ['duplicate-ids.json', /paging totals contradict its items .*saw 1 distinct items of 2/],
  ['empty.txt', /invalid response: the body is not a JSON object/],
  ['html-error-page.txt', /invalid response: the body is not a JSON object/],
  ['huge-task-id.json', /a BackupSetDownloadTaskId is longer than 256 characters/],
  ['item-not-an-object.json', /a BackupSetDownloadTaskDetail item is not an object/],
  ['items-as-string.json', /Items must be an object holding BackupSetDownloadTaskDetail/],
  ['items-detail-as-string.json', /Items\.BackupSetDownloadTaskDetail must be an array/],
  ['json-null.txt', /the body is not a JSON object/],
  ['missing-items.json', /Items\.BackupSetDownloadTaskDetail is missing while TotalElements is 3/],
  ['missing-status.json', /task hstnostat01 has no BackupSetDownloadStatus/],
  ['missing-task-id.json', /a task has no BackupSetDownloadTaskId/],
  ['negative-totals.json', /TotalElements must not be negative/],
  ['not-json.txt', /the body is not a JSON object/],
  ['success-false-string.json', /RAM user lacks permission.*Forbidden\.RAM/],
  ['top-level-array.json', /the body is not a JSON object/],
  ['totalpages-lie-nine-pages-empty.json', /saw 0 distinct items of 270/],
  ['totalpages-lie-one-page-of-250.json', /saw 30 distinct items of 250/],
  ['totalpages-not-a-number.json', /TotalPages must be a number/],
  ['truncated.txt', /the body is not a JSON object/],
];

/** Accepted bodies: how many notify jobs (slack-a for finished; slack-a + mail-b for failed) they may enqueue. */
const ACCEPTED: ReadonlyArray<readonly [string, number]> = [
  ['totalpages-nine-pages-zero-elements.json', 0],
  ['numeric-ids.json', 3],
  ['control-characters.json', 3],
  ['mrkdwn-html-injection.json', 5],
  ['url-schemes.json', 16],
  ['huge-name.json', 1],
  ['huge-errmessage.json', 2],
  ['numbers-as-garbage.json', 1],
  ['prototype-keys.json', 1],
];

describe('hostile API bodies through the real client, pager and poll worker', () => {
  const prefix = uniquePrefix('hostile-api');
  const redis = connect('hostile-api', { worker: true });
  const lines: Array<Record<string, unknown>> = [];
  let sim: RunningSimulator;
  let queues: ReturnType<typeof testQueues>;
  let worker: Worker;
  let store: RedisStateStore;
  let round = 0;

  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
    sim.world.addPlan({ planId: HOSTILE });
    sim.world.addPlan({ planId: GOOD });
    sim.world.addTasks(HOSTILE, 2, { status: 'running' });
    sim.world.addTasks(GOOD, 2, { status: 'running' });
    queues = testQueues(redis, prefix);
    // waitForLinks: 0 — fixtures whose every URL is rejected must be enqueued on the poll they arrive
    // (linkless), not held for links (that hold has its own tests in test/integration/dbs-reality.test.ts).
    const config = pipelineConfig({ prefix, sim, plans: [HOSTILE, GOOD], defaults: 'waitForLinks: 0' });
    const log = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
          done();
        },
      }),
    });
    worker = startPollWorker({ ...pollDeps(config, redis, queues.notify), log, connection: redis, concurrency: 2 });
    store = new RedisStateStore(redis, prefix);
    // Baselines: from here on a finished task is news, so a bad page that slipped through would enqueue.
    const results = await queues.pollAll([HOSTILE, GOOD], 'baseline');
    expect(results.every((r) => r.ok)).toBe(true);
  });

  afterAll(async () => {
    await worker?.close();
    await queues?.close();
    await sim?.close();
    await close(redis);
    await deletePrefix(prefix);
  });

  async function jobsOf(planId: string): Promise<Map<string, NotifyJobData>> {
    const all = await queues.notifyJobs();
    return new Map([...all].filter(([id]) => id.startsWith(`${planId}.`)));
  }

  /** Serves `fixture` for every request about the hostile plan, polls both plans, and lets the good plan change meanwhile. */
  async function pollWith(fixture: string) {
    round += 1;
    const goodTask = sim.world.addTask(GOOD, { status: 'finish' });
    sim.clearFaults();
    sim.injectFault({ kind: 'raw', planId: HOSTILE, count: 1_000_000, body: apiFixture(fixture) });
    const seen = lines.length;
    try {
      const results = await queues.pollAll([HOSTILE, GOOD], `r${round}`);
      return { results, goodTask: goodTask.BackupSetDownloadTaskId, newLines: lines.slice(seen) };
    } finally {
      sim.clearFaults();
    }
  }

  it.each(REFUSED)('%s: the poll fails clearly, nothing is enqueued or committed, the good plan goes on', async (fixture, reason) => {
    const before = (await store.meta([HOSTILE]))[0];
    const hostileJobsBefore = (await jobsOf(HOSTILE)).size;
    const { results, goodTask, newLines } = await pollWith(fixture);

    const hostile = results.find((r) => r.planId === HOSTILE);
    expect(hostile?.ok).toBe(false);
    expect(hostile?.error).toMatch(reason);
    const after = (await store.meta([HOSTILE]))[0];
    expect(after?.lastError).toMatch(reason);
    expect(after?.lastError?.length).toBeLessThan(600);
    expect(after?.lastErrorAt).toBeGreaterThan(0);
    // State untouched: same version, same tasks.
    expect(after?.version).toBe(before?.version);
    expect(after?.taskCount).toBe(before?.taskCount);
    expect((await jobsOf(HOSTILE)).size).toBe(hostileJobsBefore);

    // One clear log line for the failed poll, tagged with the plan.
    const logged = newLines.filter((l) => l.planId === HOSTILE && (l.level === 'warn' || l.level === 'error'));
    expect(logged.some((l) => reason.test(String(l.msg)))).toBe(true);

    // The worker is still running, and the other plan's poll (same worker, same moment) succeeded.
    expect(worker.isRunning()).toBe(true);
    expect(results.find((r) => r.planId === GOOD)?.ok).toBe(true);
    expect([...(await jobsOf(GOOD)).keys()].some((id) => id.includes(goodTask))).toBe(true);
    expect((await store.meta([GOOD]))[0]?.lastError).toBeUndefined();
  });

  it.each(ACCEPTED)('%s: accepted; what it enqueues is already normalised', async (fixture, jobs) => {
    const before = await jobsOf(HOSTILE);
    const { results } = await pollWith(fixture);
    expect(results.every((r) => r.ok)).toBe(true);
    const added = [...(await jobsOf(HOSTILE))].filter(([id]) => !before.has(id));
    expect(added).toHaveLength(jobs);
    for (const [, data] of added) {
      for (const n of data.notifications) {
        for (const url of [n.task.internetUrl, n.task.intranetUrl]) {
          if (url !== undefined) expect(new URL(url).protocol).toMatch(/^https?:$/);
        }
        for (const value of Object.values(n.task)) {
          if (typeof value === 'string') expect(value.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
        }
      }
    }
    expect((await store.meta([HOSTILE]))[0]?.lastError).toBeUndefined();
  });

  it('logged no pre-signed query string and no megabyte of API text along the way', () => {
    expect(lines.length).toBeGreaterThan(REFUSED.length);
    for (const line of lines) {
      const text = JSON.stringify(line);
      expect(text.length).toBeLessThan(20_000);
      expect(text).not.toMatch(/Signature=|OSSAccessKeyId=/);
    }
  });
});
