/**
 * The simulator's control API, fault injection, stats and paging, over real
 * HTTP with requests signed exactly as a client signs them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SIM_CREDENTIAL, type FaultSpec, type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { isLoopback } from '../../dev/simulator/server.js';
import { signV3 } from '../../dev/simulator/signing.js';
import { waitFor } from '../helpers/wait.js';

const ACTION = 'DescribeBackupSetDownloadTaskList';

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ scenario: 'empty', seed: 11 });
});
afterAll(async () => {
  await sim.close();
});

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

async function api(query: Record<string, string>, action = ACTION, target: RunningSimulator = sim): Promise<Reply> {
  const headers = signV3({ ...DEFAULT_SIM_CREDENTIAL, host: target.endpoint, action, version: '2019-03-06', query });
  const res = await fetch(`${target.url}/?${new URLSearchParams(query)}`, { method: 'POST', headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

async function control(method: string, path: string, body?: unknown, target: RunningSimulator = sim) {
  const res = await fetch(`${target.url}/_sim${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('control API', () => {
  it('adds a plan and tasks, forces a transition, records it, deletes a task', async () => {
    expect((await control('POST', '/plans', { planId: 'ctl1', name: 'control plan', dbType: 'PostgreSQL' })).status).toBe(201);
    expect((await control('POST', '/plans', { planId: 'ctl1' })).status).toBe(409);
    expect((await control('POST', '/plans', {})).status).toBe(400);
    const plans = await control('GET', '/plans');
    expect(plans.body.plans).toEqual(
      expect.arrayContaining([expect.objectContaining({ planId: 'ctl1', name: 'control plan', dbType: 'PostgreSQL', taskCount: 0 })]),
    );

    const added = await control('POST', '/plans/ctl1/tasks', {
      count: 3,
      tasks: [{ taskId: 'fixedtask001', status: 'running', name: '<b>x</b>' }],
    });
    expect(added.status).toBe(201);
    expect(added.body.tasks).toHaveLength(4);
    expect(added.body.tasks[3]).toMatchObject({ BackupSetDownloadTaskId: 'fixedtask001', BackupSetDownloadStatus: 'running' });
    expect((await control('POST', '/plans/ctl1/tasks', { tasks: [{ bogus: 1 }] })).status).toBe(400);
    expect((await control('POST', '/plans/nope/tasks', { count: 1 })).status).toBe(404);

    const since = (await control('GET', '/events')).body.next as number;
    const moved = await control('POST', '/tasks/fixedtask001/status', { status: 'finish' });
    expect(moved.body.task).toMatchObject({ BackupSetDownloadStatus: 'finish' });
    expect(moved.body.task.BackupSetDownloadInternetUrl).toMatch(/^\/\/dbs-/);
    const events = await control('GET', `/events?since=${since}`);
    expect(events.body.events).toEqual([expect.objectContaining({ planId: 'ctl1', taskId: 'fixedtask001', from: 'running', to: 'finish' })]);
    expect(sim.world.events.at(-1)).toMatchObject({ taskId: 'fixedtask001', to: 'finish' });

    const page = (await api({ BackupPlanId: 'ctl1' })).json();
    expect(page.Items.BackupSetDownloadTaskDetail[0]).toMatchObject({ BackupSetDownloadTaskId: 'fixedtask001', BackupSetDownloadStatus: 'finish' });

    expect((await control('DELETE', '/tasks/fixedtask001')).status).toBe(200);
    expect((await control('DELETE', '/tasks/fixedtask001')).status).toBe(404);
    expect((await api({ BackupPlanId: 'ctl1' })).json().TotalElements).toBe(3);
    expect((await control('GET', '/nothing-here')).status).toBe(404);
  });

  it('applies timeline steps on tick with a manual clock', async () => {
    const manual = await startSimulator({ clock: 'manual' });
    try {
      await control('POST', '/plans', { planId: 'tl' }, manual);
      await control(
        'POST',
        '/plans/tl/tasks',
        {
          tasks: [
            {
              taskId: 'timeline0001',
              steps: [
                { atMs: 1000, status: 'check_pass' },
                { atMs: 5000, status: 'init', errMessage: 'precheck failed' },
              ],
            },
          ],
        },
        manual,
      );
      expect((await control('POST', '/tick', { advanceMs: 2000 }, manual)).body.applied).toBe(1);
      expect((await api({ BackupPlanId: 'tl' }, ACTION, manual)).json().Items.BackupSetDownloadTaskDetail[0].BackupSetDownloadStatus).toBe('check_pass');
      expect((await control('POST', '/tick', { advanceMs: 10_000 }, manual)).body.applied).toBe(1);
      const events = (await control('GET', '/events', undefined, manual)).body.events;
      expect(events.map((e: { to: string }) => e.to)).toEqual(['check_pass', 'init']);
      expect(manual.world.task('timeline0001')?.ErrMessage).toBe('precheck failed');
    } finally {
      await manual.close();
    }
  });

  it('applies timeline steps as real time passes with the real clock', async () => {
    await control('POST', '/plans', { planId: 'rt' });
    const elapsed = sim.world.elapsedMs();
    await control('POST', '/plans/rt/tasks', { tasks: [{ taskId: 'realtime0001', steps: [{ atMs: elapsed + 400, status: 'check_pass' }] }] });
    const statusNow = async () => (await api({ BackupPlanId: 'rt' })).json().Items.BackupSetDownloadTaskDetail[0].BackupSetDownloadStatus;
    expect(await statusNow()).toBe('checking');
    // Poll until the real clock has passed the step (bounded), instead of sleeping a guessed amount.
    await waitFor('the step to apply', async () => (await statusNow()) === 'check_pass', { timeoutMs: 5_000, intervalMs: 20 });
    expect(sim.world.elapsedMs()).toBeGreaterThanOrEqual(elapsed + 400);
  });

  it('answers only loopback callers: the address check', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopback(address)).toBe(true);
    for (const address of ['10.0.0.1', '192.168.1.5', '::ffff:10.0.0.1', '0.0.0.0', '', undefined]) expect(isLoopback(address)).toBe(false);
  });
});

describe('faults for the next N matching requests', () => {
  beforeAll(async () => {
    await control('POST', '/plans', { planId: 'f1' });
    await control('POST', '/plans', { planId: 'f2' });
    await control('POST', '/plans/f1/tasks', { count: 5 });
    await control('POST', '/plans/f2/tasks', { count: 5 });
  });

  const inject = async (spec: FaultSpec) => {
    const res = await control('POST', '/faults', spec);
    expect(res.status).toBe(201);
  };

  it('rejects an invalid fault spec', async () => {
    expect((await control('POST', '/faults', { kind: 'explode', count: 1 })).status).toBe(400);
    expect((await control('POST', '/faults', { kind: 'throttle', count: 0 })).status).toBe(400);
    expect(() => sim.injectFault({ kind: 'throttle', count: -1 })).toThrow(/count/);
  });

  it('throttle: 400 Throttling.User with x-ratelimit-user-api, for exactly N requests', async () => {
    await inject({ kind: 'throttle', count: 2, timeLeftMs: 1500 });
    for (let i = 0; i < 2; i++) {
      const res = await api({ BackupPlanId: 'f1' });
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ Code: 'Throttling.User', RequestId: expect.any(String), Recommend: expect.any(String) });
      expect(res.headers.get('x-ratelimit-user-api')).toMatch(/^Limit:1,Remain:0,TimeLeft:1500,Reset:\d+$/);
    }
    expect((await api({ BackupPlanId: 'f1' })).status).toBe(200);
  });

  it.each([
    ['unavailable', 503, 'ServiceUnavailable'],
    ['internal', 500, 'InternalError'],
  ] as const)('%s: HTTP %i %s', async (kind, status, code) => {
    await inject({ kind, count: 1 });
    const res = await api({ BackupPlanId: 'f1' });
    expect(res.status).toBe(status);
    expect(res.json()).toMatchObject({ Code: code, HostId: expect.any(String) });
    expect((await api({ BackupPlanId: 'f1' })).status).toBe(200);
  });

  it('business-error: 200, Success false, the given ErrCode, no Code', async () => {
    await inject({ kind: 'business-error', count: 1, errCode: 'Param.NotFound' });
    const res = await api({ BackupPlanId: 'f1' });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ Success: false, ErrCode: 'Param.NotFound' });
    expect(res.json().Code).toBeUndefined();
  });

  it('malformed: 200 with a truncated JSON body, or an HTML page', async () => {
    await inject({ kind: 'malformed', count: 1 });
    const res = await api({ BackupPlanId: 'f1' });
    expect(res.status).toBe(200);
    expect(() => res.json()).toThrow();
    expect(res.text.startsWith('{"RequestId"')).toBe(true);
    await inject({ kind: 'malformed', count: 1, variant: 'html' });
    const html = await api({ BackupPlanId: 'f1' });
    expect(html.text).toContain('<html>');
  });

  it('timeout: holds the response, then destroys the socket (or answers)', async () => {
    await inject({ kind: 'timeout', count: 1, delayMs: 150 });
    const started = Date.now();
    await expect(api({ BackupPlanId: 'f1' })).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await inject({ kind: 'timeout', count: 1, delayMs: 150, afterDelay: 'answer' });
    const t1 = Date.now();
    expect((await api({ BackupPlanId: 'f1' })).status).toBe(200);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(140);
  });

  it('shift: adds tasks before answering, so the list moves under a paging reader', async () => {
    const first = (await api({ BackupPlanId: 'f2', PageSize: '30' })).json();
    expect(first.TotalElements).toBe(5);
    const oldest = first.Items.BackupSetDownloadTaskDetail.at(-1).BackupSetDownloadTaskId;
    await inject({ kind: 'shift', count: 1, planId: 'f2', pageNum: 1, shiftBy: 3 });
    // A page-0 read does not match the fault.
    expect((await api({ BackupPlanId: 'f2', PageSize: '3' })).json().TotalElements).toBe(5);
    const page1 = (await api({ BackupPlanId: 'f2', PageSize: '3', PageNum: '1' })).json();
    expect(page1.TotalElements).toBe(8);
    expect(page1.TotalPages).toBe(3);
    // Before the shift page 1 held tasks 4-5 of 5; now it holds tasks 4-6 of 8 — the first three of the old list.
    expect(page1.Items.BackupSetDownloadTaskDetail.map((t: { BackupSetDownloadTaskId: string }) => t.BackupSetDownloadTaskId)).toEqual(
      first.Items.BackupSetDownloadTaskDetail.slice(0, 3).map((t: { BackupSetDownloadTaskId: string }) => t.BackupSetDownloadTaskId),
    );
    expect(sim.world.tasksOf('f2').at(-1)?.BackupSetDownloadTaskId).toBe(oldest);
  });

  it('matches only the given plan, page and action', async () => {
    await inject({ kind: 'internal', count: 1, planId: 'f2', pageNum: 1, action: ACTION });
    expect((await api({ BackupPlanId: 'f1', PageNum: '1', PageSize: '3' })).status).toBe(200);
    expect((await api({ BackupPlanId: 'f2', PageNum: '0', PageSize: '3' })).status).toBe(200);
    expect((await api({ PageNum: '1' }, 'DescribeBackupPlanList')).status).toBe(200);
    expect((await control('GET', '/faults')).body.faults).toHaveLength(1);
    expect((await api({ BackupPlanId: 'f2', PageNum: '1', PageSize: '3' })).status).toBe(500);
    expect((await control('GET', '/faults')).body.faults).toHaveLength(0);
  });

  it('DELETE /_sim/faults clears pending faults', async () => {
    await inject({ kind: 'internal', count: 5 });
    expect((await control('DELETE', '/faults')).status).toBe(200);
    expect((await api({ BackupPlanId: 'f1' })).status).toBe(200);
  });
});

describe('stats', () => {
  it('counts requests by action, outcome, plan and second; resets', async () => {
    expect((await control('POST', '/stats/reset')).status).toBe(200);
    await api({ BackupPlanId: 'f1' });
    await api({ BackupPlanId: 'f1' });
    await api({ BackupPlanId: 'missing-plan' });
    await api({}, 'DescribeBackupPlanList');
    sim.injectFault({ kind: 'throttle', count: 1 });
    await api({ BackupPlanId: 'f2' });
    const stats = (await control('GET', '/stats')).body;
    expect(stats).toMatchObject({
      requests: 5,
      byAction: { [ACTION]: 4, DescribeBackupPlanList: 1 },
      byOutcome: { ok: 3, 'Param.NotFound': 1, 'Throttling.User': 1 },
      byPlan: { f1: 2, 'missing-plan': 1, f2: 1 },
    });
    const perSecond = Object.values(stats.perSecond as Record<string, number>);
    expect(perSecond.reduce((a, b) => a + b, 0)).toBe(5);
    expect(stats.maxPerSecond).toBe(Math.max(...perSecond));
    expect(sim.stats()).toEqual(stats);
    sim.resetStats();
    expect(sim.stats().requests).toBe(0);
  });
});

describe('paging', () => {
  const cases = [0, 1, 100, 101].flatMap((tasks) => [30, 50, 100].map((size) => [tasks, size] as const));

  beforeAll(() => {
    for (const tasks of [0, 1, 100, 101]) {
      sim.world.addPlan({ planId: `pg${tasks}` });
      sim.world.addTasks(`pg${tasks}`, tasks);
    }
  });

  it.each(cases)('%i tasks at PageSize %i: ⌈T/size⌉ pages, every task once, newest first', async (tasks, size) => {
    const expectedPages = Math.ceil(tasks / size);
    const seen: string[] = [];
    for (let pageNum = 0; pageNum <= expectedPages; pageNum++) {
      const body = (await api({ BackupPlanId: `pg${tasks}`, PageNum: String(pageNum), PageSize: String(size) })).json();
      expect(body).toMatchObject({ Success: true, PageNum: pageNum, PageSize: size, TotalPages: expectedPages, TotalElements: tasks });
      const items = body.Items.BackupSetDownloadTaskDetail as Array<{ BackupSetDownloadTaskId: string }>;
      const expectedCount = pageNum < expectedPages ? Math.min(size, tasks - pageNum * size) : 0;
      expect(items).toHaveLength(expectedCount);
      seen.push(...items.map((i) => i.BackupSetDownloadTaskId));
    }
    expect(seen).toEqual(sim.world.tasksOf(`pg${tasks}`).map((t) => t.BackupSetDownloadTaskId));
  });

  it('defaults to PageNum 0 and PageSize 30', async () => {
    const body = (await api({ BackupPlanId: 'pg101' })).json();
    expect(body).toMatchObject({ PageNum: 0, PageSize: 30, TotalPages: 4 });
    expect(body.Items.BackupSetDownloadTaskDetail).toHaveLength(30);
  });

  it('reads one task by BackupSetDownloadTaskId; both or neither id is a business error', async () => {
    const id = sim.world.tasksOf('pg1')[0]?.BackupSetDownloadTaskId ?? '';
    const one = (await api({ BackupSetDownloadTaskId: id })).json();
    expect(one).toMatchObject({ Success: true, TotalElements: 1 });
    expect(one.Items.BackupSetDownloadTaskDetail[0].BackupSetDownloadTaskId).toBe(id);
    for (const query of [{}, { BackupPlanId: 'pg1', BackupSetDownloadTaskId: id }] as Array<Record<string, string>>) {
      const res = await api(query);
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ Success: false, ErrCode: 'Param.NotFound' });
    }
    expect((await api({ BackupPlanId: 'pg1', PageSize: '500' })).json()).toMatchObject({ Success: false, ErrCode: 'InvalidParameter' });
  });

  it('pages the plan list (0-based)', async () => {
    const total = sim.world.planIds().length;
    const page0 = (await api({ PageSize: '2' }, 'DescribeBackupPlanList')).json();
    expect(page0).toMatchObject({ TotalElements: total, TotalPages: Math.ceil(total / 2), PageNum: 0 });
    expect(page0.Items.BackupPlanDetail[0]).toEqual({
      BackupPlanId: 'ctl1',
      BackupPlanName: 'control plan',
      BackupPlanStatus: 'running',
      DatabaseType: 'PostgreSQL',
      SourceEndpointRegion: 'cn-hangzhou',
      OpenBackupSetAutoDownload: false,
    });
  });
});
