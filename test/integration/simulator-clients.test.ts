/**
 * Both official clients against the simulator: @alicloud/openapi-client (V3
 * signature by default, and the older RPC signature with
 * `signatureAlgorithm: 'v2'`) and @alicloud/pop-core (RPC HMAC-SHA1), with
 * parameters in the query and in a form body. Plus the gateway's rejections.
 */
import * as OpenApi from '@alicloud/openapi-client';
import RPCClient from '@alicloud/pop-core';
import { RuntimeOptions } from '@alicloud/tea-util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SIM_CREDENTIAL, type RunningSimulator, SAMPLE_PLAN_ID, startSimulator } from '../../dev/simulator/index.js';
import { acsDate, signRpc, signV3 } from '../../dev/simulator/signing.js';

type OpenApiClient = {
  callApi(
    params: OpenApi.Params,
    request: OpenApi.OpenApiRequest,
    runtime: RuntimeOptions,
  ): Promise<{ body: Record<string, any>; statusCode: number; headers: Record<string, string> }>;
};
const ClientClass: new (config: OpenApi.Config) => OpenApiClient =
  typeof (OpenApi as any).default === 'function' ? (OpenApi as any).default : (OpenApi as any).default.default;

const ACTION = 'DescribeBackupSetDownloadTaskList';
const VERSION = '2019-03-06';

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ scenario: 'sample' });
});
afterAll(async () => {
  await sim.close();
});

function openApi(options: { secret?: string; accessKeyId?: string; signatureAlgorithm?: string } = {}): OpenApiClient {
  return new ClientClass(
    new OpenApi.Config({
      accessKeyId: options.accessKeyId ?? DEFAULT_SIM_CREDENTIAL.accessKeyId,
      accessKeySecret: options.secret ?? DEFAULT_SIM_CREDENTIAL.accessKeySecret,
      endpoint: sim.endpoint,
      protocol: 'http',
      readTimeout: 10_000,
      connectTimeout: 10_000,
      ...(options.signatureAlgorithm ? { signatureAlgorithm: options.signatureAlgorithm } : {}),
    }),
  );
}

function params(action = ACTION): OpenApi.Params {
  return new OpenApi.Params({
    action,
    version: VERSION,
    protocol: 'HTTP',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
}

const noRetry = () => new RuntimeOptions({ autoretry: false });

/** Reads every page of a plan with the given client; returns task ids in list order. */
async function readAll(client: OpenApiClient, where: 'query' | 'body', pageSize = 5): Promise<string[]> {
  const ids: string[] = [];
  for (let pageNum = 0; ; pageNum++) {
    const p = { BackupPlanId: SAMPLE_PLAN_ID, PageNum: String(pageNum), PageSize: String(pageSize) };
    const res = await client.callApi(params(), new OpenApi.OpenApiRequest(where === 'query' ? { query: p } : { body: p }), noRetry());
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ Success: true, PageNum: pageNum, PageSize: pageSize, HttpStatusCode: 200 });
    for (const item of res.body.Items.BackupSetDownloadTaskDetail) ids.push(item.BackupSetDownloadTaskId);
    if (pageNum >= res.body.TotalPages - 1) break;
  }
  return ids;
}

function expectedIds(): string[] {
  return sim.world.tasksOf(SAMPLE_PLAN_ID).map((t) => t.BackupSetDownloadTaskId);
}

describe('@alicloud/openapi-client', () => {
  it.each([
    ['V3 (default), params in the query', undefined, 'query'],
    ['V3 (default), params in a form body', undefined, 'body'],
    ['v2 (RPC HMAC-SHA1), params in the query', 'v2', 'query'],
    ['v2 (RPC HMAC-SHA1), params in a form body', 'v2', 'body'],
  ] as const)('reads every task of a plan: %s', async (_name, signatureAlgorithm, where) => {
    const ids = await readAll(openApi(signatureAlgorithm ? { signatureAlgorithm } : {}), where);
    expect(ids).toEqual(expectedIds());
    expect(ids.length).toBeGreaterThanOrEqual(12);
  });

  it('lists plans', async () => {
    const res = await openApi().callApi(params('DescribeBackupPlanList'), new OpenApi.OpenApiRequest({ query: { PageNum: '0', PageSize: '10' } }), noRetry());
    expect(res.body.Items.BackupPlanDetail).toEqual([
      expect.objectContaining({ BackupPlanId: SAMPLE_PLAN_ID, BackupPlanName: 'sample-mysql', DatabaseType: 'MySQL' }),
    ]);
  });

  it.each([undefined, 'v2'])('throws SignatureDoesNotMatch for a wrong secret (signature %s)', async (signatureAlgorithm) => {
    const client = openApi({ secret: 'wrong-secret', ...(signatureAlgorithm ? { signatureAlgorithm } : {}) });
    await expect(client.callApi(params(), new OpenApi.OpenApiRequest({ query: { BackupPlanId: SAMPLE_PLAN_ID } }), noRetry())).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
      statusCode: 400,
    });
  });

  it('throws InvalidAccessKeyId.NotFound (404) for an unknown key, with the real error body', async () => {
    const error = await openApi({ accessKeyId: 'who-is-this' })
      .callApi(params(), new OpenApi.OpenApiRequest({ query: { BackupPlanId: SAMPLE_PLAN_ID } }), noRetry())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'InvalidAccessKeyId.NotFound', statusCode: 404 });
    const data = (error as { data: Record<string, unknown> }).data;
    expect(Object.keys(data)).toEqual(expect.arrayContaining(['RequestId', 'HostId', 'Code', 'Message', 'Recommend']));
  });

  it('throws InvalidApi.NotFound for an unknown action', async () => {
    await expect(openApi().callApi(params('DescribeNothing'), new OpenApi.OpenApiRequest({ query: {} }), noRetry())).rejects.toMatchObject({
      code: 'InvalidApi.NotFound',
      statusCode: 404,
    });
  });

  it('returns (does not throw) a business error for an unknown plan', async () => {
    const res = await openApi().callApi(params(), new OpenApi.OpenApiRequest({ query: { BackupPlanId: 'nope' } }), noRetry());
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ Success: false, ErrCode: 'Param.NotFound' });
    expect(res.body.Code).toBeUndefined();
  });
});

describe('@alicloud/pop-core', () => {
  const pop = (secret = DEFAULT_SIM_CREDENTIAL.accessKeySecret) =>
    new RPCClient({
      accessKeyId: DEFAULT_SIM_CREDENTIAL.accessKeyId,
      accessKeySecret: secret,
      endpoint: sim.url,
      apiVersion: VERSION,
    });

  it.each(['POST', 'GET'])('reads every task of a plan (%s)', async (method) => {
    const client = pop();
    const ids: string[] = [];
    for (let pageNum = 0; ; pageNum++) {
      const body = await client.request<Record<string, any>>(ACTION, { BackupPlanId: SAMPLE_PLAN_ID, PageNum: pageNum, PageSize: 5 }, { method });
      for (const item of body.Items.BackupSetDownloadTaskDetail) ids.push(item.BackupSetDownloadTaskId);
      if (pageNum >= body.TotalPages - 1) break;
    }
    expect(ids).toEqual(expectedIds());
  });

  it('throws SignatureDoesNotMatch for a wrong secret', async () => {
    await expect(pop('wrong-secret').request(ACTION, { BackupPlanId: SAMPLE_PLAN_ID }, { method: 'POST' })).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });
});

describe('hand-signed requests (dates and nonces)', () => {
  const host = () => sim.endpoint;
  const v3 = (over: { date?: string; nonce?: string } = {}) => {
    const query = { BackupPlanId: SAMPLE_PLAN_ID };
    const headers = signV3({ ...DEFAULT_SIM_CREDENTIAL, host: host(), action: ACTION, version: VERSION, query, ...over });
    return fetch(`${sim.url}/?${new URLSearchParams(query)}`, { method: 'POST', headers });
  };

  it('rejects a V3 request dated 16 minutes ago with InvalidTimeStamp.Expired', async () => {
    const res = await v3({ date: acsDate(Date.now() - 16 * 60_000) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ Code: 'InvalidTimeStamp.Expired', HostId: expect.any(String) });
    expect((await v3({ date: acsDate(Date.now() - 14 * 60_000) })).status).toBe(200);
  });

  it('rejects an RPC request with a stale Timestamp', async () => {
    const form = signRpc({
      ...DEFAULT_SIM_CREDENTIAL,
      action: ACTION,
      version: VERSION,
      params: { BackupPlanId: SAMPLE_PLAN_ID },
      timestamp: acsDate(Date.now() + 20 * 60_000),
    });
    const res = await fetch(`${sim.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ Code: 'InvalidTimeStamp.Expired' });
  });

  it('rejects a reused nonce with SignatureNonceUsed (V3 and RPC)', async () => {
    const nonce = `nonce-${Date.now()}`;
    expect((await v3({ nonce })).status).toBe(200);
    const again = await v3({ nonce });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ Code: 'SignatureNonceUsed' });

    const query = signRpc({ ...DEFAULT_SIM_CREDENTIAL, action: ACTION, version: VERSION, method: 'GET', params: { BackupPlanId: SAMPLE_PLAN_ID } });
    const url = `${sim.url}/?${new URLSearchParams(query)}`;
    expect((await fetch(url)).status).toBe(200);
    const replay = await fetch(url);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ Code: 'SignatureNonceUsed' });
  });

  it('rejects a request without an action or version with MissingParameter', async () => {
    const res = await fetch(`${sim.url}/?BackupPlanId=x`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ Code: 'MissingParameter' });
  });

  it('counts outcomes in the stats', () => {
    const stats = sim.stats();
    expect(stats.byOutcome.ok).toBeGreaterThan(0);
    expect(stats.byOutcome.SignatureDoesNotMatch).toBeGreaterThanOrEqual(3);
    expect(stats.byOutcome['InvalidTimeStamp.Expired']).toBe(2);
    expect(stats.byOutcome.SignatureNonceUsed).toBe(2);
    expect(stats.byPlan[SAMPLE_PLAN_ID]).toBeGreaterThan(0);
  });
});
