/**
 * The real client (official @alicloud/openapi-client, V3 signature) against
 * the real simulator on 127.0.0.1: reads, and every failure shape turned
 * into the right DbsApiError.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SIM_CREDENTIAL, type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { accessKeyCredential, createDbsClient, type DbsClient } from '../../src/dbs/client.js';
import { DEFAULT_THROTTLE_DELAY_MS } from '../../src/dbs/errors.js';
import { dbsRequestsTotal } from '../../src/metrics.js';
import type { RequestGate } from '../../src/rate-limit.js';
import { failureOf } from '../helpers/dbs.js';

const PLAN = 'plan-client-1';
let sim: RunningSimulator;

function clientWith(options: { secret?: string; gate?: RequestGate; timeoutMs?: number } = {}): DbsClient {
  return createDbsClient({
    endpoint: sim.endpoint,
    protocol: 'http',
    timeoutMs: options.timeoutMs ?? 5_000,
    credential: accessKeyCredential({
      accessKeyId: DEFAULT_SIM_CREDENTIAL.accessKeyId,
      accessKeySecret: options.secret ?? DEFAULT_SIM_CREDENTIAL.accessKeySecret,
    }),
    ...(options.gate ? { gate: options.gate } : {}),
  });
}

async function outcomeCount(outcome: string): Promise<number> {
  const metric = await dbsRequestsTotal.get();
  return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual' });
  sim.world.addPlan({ planId: PLAN, name: 'orders' });
  sim.world.addTasks(PLAN, 3, { status: 'running' });
  sim.world.addTask(PLAN, { status: 'finish', taskId: 'finished-task-1', downloadWay: 'manual' });
});

afterAll(async () => {
  await sim?.close();
});

beforeEach(() => {
  sim.clearFaults();
  sim.resetStats();
});

describe('createDbsClient against the simulator', () => {
  it('reads a page of a plan, signed with V3, items normalised', async () => {
    const okBefore = await outcomeCount('ok');
    let acquired = 0;
    const page = await clientWith({ gate: { acquire: async () => void acquired++ } }).describeDownloadTaskPage({
      planId: PLAN,
      pageNum: 0,
      pageSize: 30,
    });
    expect(page).toMatchObject({ pageNum: 0, pageSize: 30, totalPages: 1, totalElements: 4 });
    expect(page.requestId).toEqual(expect.any(String));
    expect(page.items.map((t) => t.taskId).sort()).toEqual(
      sim.world
        .tasksOf(PLAN)
        .map((t) => t.BackupSetDownloadTaskId)
        .sort(),
    );
    // Newest first, as DBS lists them.
    expect(page.items[0]?.taskId).toBe('finished-task-1');
    const finished = page.items[0];
    expect(finished?.status).toBe('finish');
    expect(finished?.planId).toBe(PLAN);
    expect(finished?.internetUrl).toMatch(/^https:\/\//);
    expect(typeof finished?.dataSize).toBe('number');
    expect(typeof finished?.createdAt).toBe('number');
    expect(acquired).toBe(1);
    expect(sim.stats().requests).toBe(1);
    expect(await outcomeCount('ok')).toBe(okBefore + 1);
  });

  it('reads a raw page: the envelope checked, the items exactly as DBS sent them, one gated request', async () => {
    const okBefore = await outcomeCount('ok');
    let acquired = 0;
    const page = await clientWith({ gate: { acquire: async () => void acquired++ } }).describeRawDownloadTaskPage?.({ planId: PLAN, pageNum: 0, pageSize: 30 });
    expect(page).toMatchObject({ pageNum: 0, pageSize: 30, totalPages: 1, totalElements: 4 });
    // Not normalised: the wire names and values, newest first as DBS lists them.
    const items = (page?.items ?? []) as Record<string, unknown>[];
    expect(items.map((item) => item.BackupSetDownloadTaskId)).toEqual(sim.world.tasksOf(PLAN).map((t) => t.BackupSetDownloadTaskId));
    expect(items[0]).toMatchObject({ BackupSetDownloadTaskId: 'finished-task-1', BackupSetDownloadStatus: 'finish' });
    expect(items[0]).not.toHaveProperty('taskId');
    expect(acquired).toBe(1);
    expect(sim.stats().requests).toBe(1);
    expect(await outcomeCount('ok')).toBe(okBefore + 1);
  });

  it('fails a raw page whose envelope is broken, like a normalised one', async () => {
    const body = { RequestId: 'r', Success: true, TotalElements: 'many', Items: { BackupSetDownloadTaskDetail: [] } };
    sim.injectFault({ kind: 'raw', count: 1, body: JSON.stringify(body) });
    const error = await failureOf(clientWith().describeRawDownloadTaskPage?.({ planId: PLAN, pageNum: 0, pageSize: 30 }) ?? Promise.resolve());
    expect(error.code).toBe('InvalidResponse');
    expect(error.message).toMatch(/TotalElements/);
  });

  it('reads one task by id', async () => {
    const page = await clientWith().describeDownloadTaskPage({ taskId: 'finished-task-1' });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ taskId: 'finished-task-1', planId: PLAN, status: 'finish' });
  });

  it('reads the plan list', async () => {
    const page = await clientWith().describeBackupPlanPage({ pageNum: 0, pageSize: 100 });
    expect(page.items).toEqual([expect.objectContaining({ planId: PLAN, name: 'orders' })]);
    expect(page.totalElements).toBe(1);
  });

  it('a wrong secret is a permanent SignatureDoesNotMatch whose message names the fix and not the secret', async () => {
    const wrongSecret = 'wrong-secret-value-123456';
    const error = await failureOf(clientWith({ secret: wrongSecret }).describeDownloadTaskPage({ planId: PLAN, pageNum: 0, pageSize: 30 }));
    expect(error).toMatchObject({ apiCode: 'SignatureDoesNotMatch', retry: { kind: 'permanent' } });
    expect(error.httpStatus).toBeGreaterThanOrEqual(400);
    expect(error.message).toMatch(/ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
    expect(error.requestId).toEqual(expect.any(String));
    expect(error.message).toContain(`request id ${error.requestId}`);
    const everything = JSON.stringify({ message: error.message, error, stack: error.stack });
    expect(everything).not.toContain(wrongSecret);
    expect(everything).not.toContain(DEFAULT_SIM_CREDENTIAL.accessKeySecret);
    expect(everything).not.toContain('ACS3-HMAC-SHA256');
  });

  it('an unknown plan is a permanent Param.NotFound (a business error on HTTP 200)', async () => {
    const error = await failureOf(clientWith().describeDownloadTaskPage({ planId: 'no-such-plan', pageNum: 0, pageSize: 30 }));
    expect(error).toMatchObject({ apiCode: 'Param.NotFound', httpStatus: 200, retry: { kind: 'permanent' } });
    expect(error.message).toMatch(/check plans\[\]\.id/);
  });

  it('a throttled request is rate-limited with the wait from the x-ratelimit header', async () => {
    const throttledBefore = await outcomeCount('throttled');
    sim.injectFault({ kind: 'throttle', count: 1, timeLeftMs: 3_456 });
    const error = await failureOf(clientWith().describeDownloadTaskPage({ planId: PLAN, pageNum: 0, pageSize: 30 }));
    expect(error).toMatchObject({ apiCode: 'Throttling.User', httpStatus: 400 });
    // 3 456 ms is not the default (DEFAULT_THROTTLE_DELAY_MS): it can only have come from the header.
    expect(DEFAULT_THROTTLE_DELAY_MS).not.toBe(3_456);
    expect(error.retry).toEqual({ kind: 'rate-limited', delayMs: 3_456 });
    expect(await outcomeCount('throttled')).toBe(throttledBefore + 1);
  });

  it.each(['truncated', 'html', 'empty'] as const)('a %s body is an invalid response', async (variant) => {
    const invalidBefore = await outcomeCount('invalid');
    sim.injectFault({ kind: 'malformed', count: 1, variant });
    const error = await failureOf(clientWith().describeDownloadTaskPage({ planId: PLAN, pageNum: 0, pageSize: 30 }));
    expect(error).toMatchObject({ code: 'InvalidResponse', retry: { kind: 'retryable' } });
    expect(await outcomeCount('invalid')).toBe(invalidBefore + 1);
  });

  it.each([
    ['unavailable', 'ServiceUnavailable', 503],
    ['internal', 'InternalError', 500],
  ] as const)('%s is retryable', async (kind, apiCode, status) => {
    sim.injectFault({ kind, count: 1 });
    const error = await failureOf(clientWith().describeDownloadTaskPage({ planId: PLAN, pageNum: 0, pageSize: 30 }));
    expect(error).toMatchObject({ apiCode, httpStatus: status, retry: { kind: 'retryable' } });
  });

  it('a request that gets no answer in time is a retryable timeout', async () => {
    sim.injectFault({ kind: 'timeout', count: 1, delayMs: 2_000 });
    const error = await failureOf(clientWith({ timeoutMs: 200 }).describeDownloadTaskPage({ planId: PLAN, pageNum: 0, pageSize: 30 }));
    expect(error).toMatchObject({ code: 'Timeout', retry: { kind: 'retryable' } });
    expect(error.message).not.toContain('127.0.0.1');
  });

  it('a closed port is a retryable network error', async () => {
    const closed = await startSimulator();
    const endpoint = closed.endpoint;
    await closed.close();
    const client = createDbsClient({
      endpoint,
      protocol: 'http',
      timeoutMs: 2_000,
      credential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL),
    });
    const error = await failureOf(client.describeDownloadTaskPage({ planId: PLAN, pageNum: 0, pageSize: 30 }));
    expect(error).toMatchObject({ code: 'NetworkError', retry: { kind: 'retryable' } });
  });
});
