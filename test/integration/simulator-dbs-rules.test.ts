/**
 * The simulator serves every DBS behaviour issue 13 names (point 9), through
 * the real client and the control API: business errors with the real status
 * in the body, Request.Forbidden, finish without URLs, an unknown plan that
 * answers an empty list, PageSize 30/50/100 for the task list (1–100 for the
 * plan list), comma-separated BackupPlanId, omitted totals, V1 and V4 URLs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SIM_CREDENTIAL, type RunningSimulator, SIM_URL_LIFETIME_S, startSimulator } from '../../dev/simulator/index.js';
import { accessKeyCredential, createDbsClient, type DbsClient } from '../../src/dbs/client.js';
import { DbsApiError } from '../../src/dbs/errors.js';
import { linkExpiresAt } from '../../src/dbs/link-expiry.js';

describe('simulator: the DBS behaviours of issue 13', () => {
  let sim: RunningSimulator;
  let api: DbsClient;
  const control = async (path: string, body?: unknown) => {
    const res = await fetch(`${sim.url}/_sim/${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error as DbsApiError,
    );

  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
    sim.world.addPlan({ planId: 'rules01', name: 'one' });
    sim.world.addPlan({ planId: 'rules02', name: 'two' });
    sim.world.addPlan({ planId: 'rules03', name: 'three' });
    sim.world.addTasks('rules01', 4, { status: 'finish', downloadWay: 'manual' });
    api = createDbsClient({ endpoint: sim.endpoint, protocol: 'http', timeoutMs: 5_000, credential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL) });
  });

  afterAll(async () => {
    await sim.close();
  });

  it('business error on HTTP 200 with another status in the body; Request.Forbidden is 403 "Have no Permissions"', async () => {
    const raw = await fetch(`${sim.url}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'business-error', count: 1, errCode: 'Request.Forbidden' }),
    });
    expect(raw.status).toBe(201);
    const error = await failure(api.describeDownloadTaskPage({ planId: 'rules01', pageNum: 0, pageSize: 30 }));
    expect(error).toBeInstanceOf(DbsApiError);
    expect(error).toMatchObject({ apiCode: 'Request.Forbidden', httpStatus: 403, retry: { kind: 'permanent' } });
    expect((await control('faults', { kind: 'business-error', count: 1, bodyStatus: 1000 })).status).toBe(400);
  });

  it('a finished manual task without URLs, then with them (control API)', async () => {
    const [task] = sim.world.tasksOf('rules01');
    const id = task?.BackupSetDownloadTaskId as string;
    expect((await control(`tasks/${id}/links`, { withheld: true })).status).toBe(200);
    let page = await api.describeDownloadTaskPage({ taskId: id });
    expect(page.items[0]).toMatchObject({ status: 'finish', downloadWay: 'manual' });
    expect(page.items[0]?.internetUrl).toBeUndefined();
    expect((await control(`tasks/${id}/links`, { withheld: false })).status).toBe(200);
    page = await api.describeDownloadTaskPage({ taskId: id });
    expect(page.items[0]?.internetUrl).toMatch(/^https:\/\//);
  });

  it('an unknown plan: Param.NotFound by default, an empty list when the rule says so', async () => {
    const unknown = () => api.describeDownloadTaskPage({ planId: 'nosuchplan', pageNum: 0, pageSize: 30 });
    expect(await failure(unknown())).toMatchObject({ apiCode: 'Param.NotFound' });
    expect((await control('rules', { unknownPlan: 'empty' })).json.rules).toMatchObject({ unknownPlan: 'empty' });
    expect(await unknown()).toMatchObject({ items: [], totalElements: 0 });
    await control('rules', { unknownPlan: 'error' });
  });

  it('PageSize: 30/50/100 for the task list under strictPageSize, 1–100 for the plan list', async () => {
    await control('rules', { strictPageSize: true });
    const error = await failure(api.describeDownloadTaskPage({ planId: 'rules01', pageNum: 0, pageSize: 10 }));
    expect(error).toMatchObject({ apiCode: 'InvalidParameterValid', httpStatus: 400, retry: { kind: 'permanent' } });
    for (const size of [30, 50, 100]) {
      expect((await api.describeDownloadTaskPage({ planId: 'rules01', pageNum: 0, pageSize: size })).items).toHaveLength(4);
    }
    expect((await api.describeBackupPlanPage({ pageNum: 0, pageSize: 1 })).items).toHaveLength(1);
    await control('rules', { strictPageSize: false });
    expect((await control('rules', { strictPageSize: 'yes' })).status).toBe(400);
  });

  it('comma-separated BackupPlanId in the plan list; unknown ids are just not listed', async () => {
    const page = await api.describeBackupPlanPage({ pageNum: 0, pageSize: 100, planIds: ['rules01', 'nosuchplan', 'rules03'] });
    expect(page.items.map((p) => p.planId).sort()).toEqual(['rules01', 'rules03']);
    expect(page.totalElements).toBe(2);
  });

  it('leaves TotalPages/TotalElements out when asked', async () => {
    await control('rules', { omitTotals: true });
    const page = await api.describeDownloadTaskPage({ planId: 'rules01', pageNum: 0, pageSize: 30 });
    expect(page.items).toHaveLength(4);
    expect(page.totalPages).toBeUndefined();
    expect(page.totalElements).toBeUndefined();
    await control('rules', { omitTotals: false });
  });

  it('serves V1 and V4 pre-signed URL shapes, both carrying the same lifetime', async () => {
    const shapes = new Set<string>();
    for (const style of ['v1', 'v4', 'mixed'] as const) {
      expect((await control('rules', { urlSignature: style })).json.urlSignature).toBe(style);
      const page = await api.describeDownloadTaskPage({ planId: 'rules01', pageNum: 0, pageSize: 30 });
      for (const task of page.items) {
        const url = task.internetUrl as string;
        const v4 = url.includes('x-oss-signature-version=OSS4-HMAC-SHA256');
        shapes.add(`${style}:${v4 ? 'v4' : 'v1'}`);
        expect(url).toMatch(v4 ? /x-oss-date=\d{8}T\d{6}Z&x-oss-expires=\d+/ : /[?&]Expires=\d{10}&/);
        expect(linkExpiresAt(url)).toBe((Math.floor((task.finishedAt as number) / 1000) + SIM_URL_LIFETIME_S) * 1000);
      }
    }
    expect([...shapes].sort()).toEqual(['mixed:v1', 'mixed:v4', 'v1:v1', 'v4:v4']);
    await control('rules', { urlSignature: 'v1' });
  });
});
