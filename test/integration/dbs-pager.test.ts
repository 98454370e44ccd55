/**
 * The pager with the real client against the real simulator: complete,
 * duplicate-free snapshots in the minimum number of requests, and never a
 * partial list when pages fail or the list moves.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SIM_CREDENTIAL, type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { accessKeyCredential, createDbsClient, type DbsClient } from '../../src/dbs/client.js';
import { DbsApiError } from '../../src/dbs/errors.js';
import { listAllDownloadTasks } from '../../src/dbs/pager.js';
import { listAllBackupPlans } from '../../src/dbs/plans.js';

let sim: RunningSimulator;
let client: DbsClient;
/** Backoff waits the pager asked for; recorded instead of slept so tests stay fast. */
let waits: number[] = [];
const recordWait = async (ms: number) => {
  waits.push(ms);
};

const COUNTS = [0, 1, 99, 100, 101, 2_350] as const;
const planFor = (count: number) => `plan-${count}`;
const idsInWorld = (planId: string) =>
  sim.world
    .tasksOf(planId)
    .map((t) => t.BackupSetDownloadTaskId)
    .sort();

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual' });
  for (const count of COUNTS) {
    sim.world.addPlan({ planId: planFor(count) });
    sim.world.addTasks(planFor(count), count, { status: 'running' });
  }
  client = createDbsClient({ endpoint: sim.endpoint, protocol: 'http', timeoutMs: 5_000, credential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL) });
});

afterAll(async () => {
  await sim?.close();
});

beforeEach(() => {
  sim.clearFaults();
  sim.resetStats();
  waits = [];
});

describe('listAllDownloadTasks against the simulator', () => {
  const cases = COUNTS.flatMap((count) => ([30, 50, 100] as const).map((pageSize) => [count, pageSize] as const));
  it.each(cases)('%i tasks at page size %i: exactly the right set in ⌈T/pageSize⌉ requests', async (count, pageSize) => {
    const planId = planFor(count);
    const snapshot = await listAllDownloadTasks(client, planId, { pageSize, sleep: recordWait });
    const ids = snapshot.tasks.map((t) => t.taskId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(idsInWorld(planId));
    const expected = Math.max(1, Math.ceil(count / pageSize));
    expect(sim.stats().requests).toBe(expected);
    expect(snapshot).toMatchObject({ planId, requests: expected, pages: expected });
  });

  it('a list that grows by 7 tasks while paging still yields the complete, duplicate-free set', async () => {
    const planId = 'plan-shifting';
    sim.world.addPlan({ planId });
    sim.world.addTasks(planId, 120, { status: 'running' });
    sim.injectFault({ kind: 'shift', count: 1, planId, pageNum: 1, shiftBy: 7 });

    const snapshot = await listAllDownloadTasks(client, planId, { pageSize: 30, sleep: recordWait });
    const ids = snapshot.tasks.map((t) => t.taskId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(idsInWorld(planId));
    expect(ids).toHaveLength(127);
    // The shift was noticed on page 1 and the list re-read from page 0 (5 pages of 127).
    expect(sim.stats().requests).toBe(2 + 5);
  });

  it('a list that keeps growing on every read throws ListChangedWhilePaging instead of returning a partial set', async () => {
    const planId = 'plan-always-shifting';
    sim.world.addPlan({ planId });
    sim.world.addTasks(planId, 90, { status: 'running' });
    sim.injectFault({ kind: 'shift', count: 10, planId, pageNum: 1, shiftBy: 7 });
    await expect(listAllDownloadTasks(client, planId, { pageSize: 30, maxRereads: 2, sleep: recordWait })).rejects.toMatchObject({
      code: 'ListChangedWhilePaging',
      retry: { kind: 'retryable' },
    });
  });

  describe('a failing page 3 of 5', () => {
    const planId = 'plan-five-pages';
    beforeAll(() => {
      sim.world.addPlan({ planId });
      sim.world.addTasks(planId, 140, { status: 'running' });
    });

    it.each(['unavailable', 'throttle'] as const)('%s with page retries exhausted throws, never a partial result', async (kind) => {
      sim.injectFault({ kind, count: 3, planId, pageNum: 3 });
      const failure = listAllDownloadTasks(client, planId, { pageSize: 30, pageAttempts: 3, sleep: recordWait });
      await expect(failure).rejects.toBeInstanceOf(DbsApiError);
      await expect(failure).rejects.toMatchObject({ apiCode: kind === 'throttle' ? 'Throttling.User' : 'ServiceUnavailable' });
      // Pages 0–2 once, page 3 three times, page 4 never.
      expect(sim.stats().requests).toBe(3 + 3);
    });

    it('503 with retries allowed recovers with the full set', async () => {
      sim.injectFault({ kind: 'unavailable', count: 2, planId, pageNum: 3 });
      const snapshot = await listAllDownloadTasks(client, planId, { pageSize: 30, pageAttempts: 3, sleep: recordWait });
      expect(snapshot.tasks.map((t) => t.taskId).sort()).toEqual(idsInWorld(planId));
      expect(snapshot.requests).toBe(5 + 2);
      expect(waits).toHaveLength(2);
    });

    it('a throttle with retries allowed waits at least the time DBS asked for, then returns the full set', async () => {
      sim.injectFault({ kind: 'throttle', count: 1, planId, pageNum: 3, timeLeftMs: 2_500 });
      const snapshot = await listAllDownloadTasks(client, planId, { pageSize: 30, pageAttempts: 3, sleep: recordWait });
      expect(snapshot.tasks).toHaveLength(140);
      expect(waits).toHaveLength(1);
      expect(waits[0]).toBeGreaterThanOrEqual(2_500);
    });
  });
});

describe('listAllBackupPlans against the simulator', () => {
  it('returns every plan', async () => {
    const plans = await listAllBackupPlans(client, { sleep: recordWait });
    expect(plans.map((p) => p.planId).sort()).toEqual(sim.world.planIds().sort());
  });
});
