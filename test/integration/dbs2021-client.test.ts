/**
 * The 2021-01-01 client (official @alicloud/openapi-client, V3 signature,
 * version 2021-01-01) and the complete pager against the real simulator on
 * 127.0.0.1: 1-based paging with string-typed items, every state, minted
 * links with their expiry, the string `Success` envelope and its errors.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SIM_CREDENTIAL, type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { accessKeyCredential } from '../../src/dbs/client.js';
import { type AdvancedTaskQuery, createDbs2021Client, type Dbs2021Api } from '../../src/dbs2021/client.js';
import { listAllAdvancedTasks } from '../../src/dbs2021/pager.js';
import { failureOf } from '../helpers/dbs.js';

const REGION = 'cn-beijing';
const PAGED = 'rm-paged0001';
const STATES = 'rm-states001';
let sim: RunningSimulator;

function client(): Dbs2021Api {
  return createDbs2021Client({
    endpoint: sim.endpoint,
    protocol: 'http',
    timeoutMs: 5_000,
    credential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL),
  });
}

/** A client that records every page query it makes. */
function recording(): { api: Dbs2021Api; queries: AdvancedTaskQuery[] } {
  const inner = client();
  const queries: AdvancedTaskQuery[] = [];
  return {
    queries,
    api: {
      ...inner,
      describeDownloadTaskPage: (query) => {
        queries.push(query);
        return inner.describeDownloadTaskPage(query);
      },
    },
  };
}

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual' });
  sim.world2021.addInstance({ instanceName: PAGED, region: REGION });
  const base = sim.world.now() - 10 * 3_600_000;
  for (let i = 0; i < 120; i++) {
    sim.world2021.addTask(PAGED, { TaskId: `dt-page${String(i).padStart(8, '0')}`, DownloadStatus: 'running', GmtCreate: base + i * 1000 });
  }
  sim.world2021.addInstance({ instanceName: STATES, region: REGION });
  const states = ['initializing', 'queueing', 'queueing', 'running', 'failed', 'finished', 'expired'];
  states.forEach((state, i) => {
    sim.world2021.addTask(STATES, {
      TaskId: `dt-state${String(i).padStart(7, '0')}`,
      DownloadStatus: state,
      GmtCreate: base + i,
      ExportDataSize: 1_234_567 + i,
      ...(i === 1 || i === 2 ? { TargetType: 'OSS' as const, TargetPath: 'exports/orders' } : {}),
    });
  });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.clearFaults();
  sim.world2021.deniedActions.clear();
  sim.world2021.expirationUnit = 's';
});

describe('DescribeDownloadTask paging', () => {
  it('reads every page 1-based until PageNumber reaches TotalPages, items normalised from strings', async () => {
    const { api, queries } = recording();
    const result = await listAllAdvancedTasks(api, { id: PAGED, region: REGION }, { pageSize: 50 });
    expect(queries.map((q) => q.currentPage)).toEqual([1, 2, 3]);
    expect(result.tasks).toHaveLength(120);
    expect(new Set(result.tasks.map((t) => t.taskId)).size).toBe(120);
    // asc: oldest first, as requested so new tasks land on the last page.
    expect(result.tasks[0]?.taskId).toBe('dt-page00000000');
    expect(result.tasks[119]?.taskId).toBe('dt-page00000119');
    const first = result.tasks[0];
    expect(typeof first?.createdAt).toBe('number');
    expect(typeof first?.exportDataSize).toBe('number');
    expect(first?.region).toBe(REGION);
  });

  it('a task created mid-read: the pager re-reads and returns a complete, distinct list', async () => {
    const { api, queries } = recording();
    let added = false;
    const shifting: Dbs2021Api = {
      ...api,
      describeDownloadTaskPage: async (query) => {
        const page = await api.describeDownloadTaskPage(query);
        if (query.currentPage === 1 && !added) {
          added = true;
          // A newer task than all others, listed first in desc order: pages shift by one.
          sim.world2021.addTask(PAGED, { TaskId: 'dt-latecomer0001', DownloadStatus: 'initializing', GmtCreate: sim.world.now() });
        }
        return page;
      },
    };
    const result = await listAllAdvancedTasks(shifting, { id: PAGED, region: REGION }, { pageSize: 50 });
    expect(result.tasks).toHaveLength(121);
    expect(new Set(result.tasks.map((t) => t.taskId)).size).toBe(121);
    expect(queries.length).toBeGreaterThan(3);
  });

  it('honours the simulator filters: state (queuing = queueing), creation-time window, desc order', async () => {
    const api = client();
    const base = { region: REGION, instanceName: STATES, currentPage: 1, pageSize: 50 } as const;
    const queueing = await api.describeDownloadTaskPage({ ...base, state: 'queueing' });
    expect(queueing.items.map((t) => t.status)).toEqual(['queueing', 'queueing']);
    const desc = await api.describeDownloadTaskPage({ ...base, order: 'desc' });
    expect(desc.items[0]?.taskId).toBe('dt-state0000006');
    const all = await api.describeDownloadTaskPage(base);
    const created = all.items.map((t) => t.createdAt ?? 0);
    const window = await api.describeDownloadTaskPage({ ...base, startTime: created[2] ?? 0, endTime: created[4] ?? 0 });
    expect(window.items.map((t) => t.taskId)).toEqual(['dt-state0000002', 'dt-state0000003', 'dt-state0000004']);
  });
});

describe('states and fields', () => {
  it('normalises every documented state, whatever spelling the wire used', async () => {
    const { tasks } = await listAllAdvancedTasks(client(), { id: STATES, region: REGION });
    expect(tasks.map((t) => t.status)).toEqual(['initializing', 'queueing', 'queueing', 'running', 'failed', 'finished', 'expired']);
    const oss = tasks.find((t) => t.taskId === 'dt-state0000001');
    expect(oss?.targetType).toBe('OSS');
    expect(oss?.targetPath).toBe('exports/orders');
    expect(tasks.find((t) => t.taskId === 'dt-state0000005')?.exportDataSize).toBe(1_234_572);
  });
});

describe('minted links', () => {
  it('returns public and private URLs with their expiry (ExpirationTime in seconds or in ms)', async () => {
    const api = client();
    const now = sim.world.now();
    const seconds = await api.describeDownloadLinks({ region: REGION, taskId: 'dt-state0000005', validitySeconds: 3600 });
    expect(seconds.publicUrl).toMatch(/^http:\/\/.*dt-state0000005.*\?Expires=/);
    expect(seconds.privateUrl).toContain('-internal.');
    expect(Math.abs(seconds.expiresAt - (now + 3_600_000))).toBeLessThan(2_000);
    sim.world2021.expirationUnit = 'ms';
    const ms = await api.describeDownloadLinks({ region: REGION, taskId: 'dt-state0000005', validitySeconds: 3600 });
    expect(Math.abs(ms.expiresAt - (now + 3_600_000))).toBeLessThan(2_000);
  });

  it('clamps the validity into 300..86400 seconds', async () => {
    const now = sim.world.now();
    const links = await client().describeDownloadLinks({ region: REGION, taskId: 'dt-state0000005', validitySeconds: 10 * 86_400 });
    expect(Math.abs(links.expiresAt - (now + 86_400_000))).toBeLessThan(2_000);
  });

  it('refuses a task that is not finished, as a permanent error', async () => {
    const error = await failureOf(client().describeDownloadLinks({ region: REGION, taskId: 'dt-state0000006', validitySeconds: 600 }));
    expect(error.apiCode).toBe('DBS.DownloadTask.CannotFind');
    expect(error.retry.kind).toBe('permanent');
  });
});

describe('errors', () => {
  it('a business error on HTTP 200 with Success "false" is thrown, DBS.InternalError as retryable', async () => {
    sim.injectFault({ kind: 'business-error', count: 1, action: 'DescribeDownloadTask', errCode: 'DBS.InternalError' });
    const error = await failureOf(client().describeDownloadTaskPage({ region: REGION, instanceName: STATES, currentPage: 1, pageSize: 10 }));
    expect(error.apiCode).toBe('DBS.InternalError');
    expect(error.httpStatus).toBe(200);
    expect(error.retry.kind).toBe('retryable');
  });

  it('an unknown instance is a permanent business error naming the key to fix', async () => {
    const error = await failureOf(client().describeDownloadTaskPage({ region: REGION, instanceName: 'rm-nosuch', currentPage: 1, pageSize: 10 }));
    expect(error.apiCode).toBe('Forbidden.InstanceNotFound');
    expect(error.retry.kind).toBe('permanent');
    expect(error.message).toContain('instances[].id');
  });

  it('Request.Forbidden (HTTP 403) is permanent and names the RAM action to grant', async () => {
    sim.world2021.deniedActions.add('DescribeDownloadTask');
    const error = await failureOf(client().describeDownloadTaskPage({ region: REGION, instanceName: STATES, currentPage: 1, pageSize: 10 }));
    expect(error.apiCode).toBe('Request.Forbidden');
    expect(error.httpStatus).toBe(403);
    expect(error.retry.kind).toBe('permanent');
    expect(error.message).toContain('dbs:DescribeDownloadTask');
  });

  it('the pager does not retry a permanent error', async () => {
    sim.world2021.deniedActions.add('DescribeDownloadTask');
    const { api, queries } = recording();
    await failureOf(listAllAdvancedTasks(api, { id: STATES, region: REGION }, { backoffBaseMs: 1 }));
    expect(queries).toHaveLength(1);
  });

  it('the pager retries a throttled page and completes', async () => {
    sim.injectFault({ kind: 'throttle', count: 1, action: 'DescribeDownloadTask', timeLeftMs: 10 });
    const { api, queries } = recording();
    const result = await listAllAdvancedTasks(api, { id: STATES, region: REGION }, { sleep: async () => {} });
    expect(result.tasks).toHaveLength(7);
    expect(queries).toHaveLength(2);
  });
});

describe('support and retry', () => {
  it('DescribeDownloadSupport answers the string "true"/"false"', async () => {
    sim.world2021.addInstance({ instanceName: 'rm-unsupported', region: REGION, supported: false });
    expect(await client().describeDownloadSupport({ region: REGION, instanceName: STATES })).toBe(true);
    expect(await client().describeDownloadSupport({ region: REGION, instanceName: 'rm-unsupported' })).toBe(false);
  });

  it('RetryDownloadTask puts a failed task back (Success "True" accepted); a finished one is refused', async () => {
    sim.world2021.addTask(STATES, { TaskId: 'dt-retryme00001', DownloadStatus: 'failed' });
    await client().retryDownloadTask({ region: REGION, instanceName: STATES, taskId: 'dt-retryme00001' });
    expect(sim.world2021.task('dt-retryme00001')?.DownloadStatus).toBe('initializing');
    const error = await failureOf(client().retryDownloadTask({ region: REGION, instanceName: STATES, taskId: 'dt-state0000005' }));
    expect(error.retry.kind).toBe('permanent');
  });
});

describe('simulator control API (/_sim/2021/)', () => {
  it('shapes instances and tasks for child-process runs, and RAM denial', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${sim.url}/_sim/2021/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('instances', { instanceName: 'rm-control01', region: REGION })).status).toBe(201);
    expect((await post('instances/rm-control01/tasks', { tasks: [{ TaskId: 'dt-control00001', DownloadStatus: 'running' }] })).status).toBe(201);
    expect((await post('instances/rm-control01/tasks', { tasks: [{ Colour: 'red' }] })).status).toBe(400);
    expect((await post('tasks/dt-control00001/status', { status: 'finished' })).status).toBe(200);
    const { tasks } = await listAllAdvancedTasks(client(), { id: 'rm-control01', region: REGION });
    expect(tasks.map((t) => [t.taskId, t.status])).toEqual([['dt-control00001', 'finished']]);
    const events = (await (await fetch(`${sim.url}/_sim/2021/events`)).json()) as { taskId: string; to: string }[];
    expect(events.some((e) => e.taskId === 'dt-control00001' && e.to === 'finished')).toBe(true);
    await post('deny', { action: 'DescribeDownloadSupport' });
    expect((await failureOf(client().describeDownloadSupport({ region: REGION, instanceName: 'rm-control01' }))).apiCode).toBe('Request.Forbidden');
  });
});
