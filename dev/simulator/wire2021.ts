/**
 * The simulator's DBS 2021-01-01 API (advanced downloads): DescribeDownloadTask,
 * DescribeDownloadBackupSetStorageInfo, DescribeDownloadSupport,
 * RetryDownloadTask — same signature checks as 2019-03-06, the 2021 envelope
 * (`Success` a string, `Code`/`ErrCode`/`Message`/`ErrMessage`, no
 * `HttpStatusCode`), list items with every value a string. Business errors
 * come on HTTP 200 with `Success: "false"`; RAM denial is a 403
 * `Request.Forbidden`. Faults from the shared queue apply (matched by action,
 * InstanceName as `planId`, CurrentPage − 1 as `pageNum`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { verifyRequest } from './signing.js';
import { gatewayError, newRequestId } from './wire.js';
import { type AdvancedListQuery, SIM_ADVANCED_STATES, type SimAdvancedTask } from './world2021.js';

export const DBS_2021_VERSION = '2021-01-01';
export const ADVANCED_ACTIONS: ReadonlySet<string> = new Set([
  'DescribeDownloadTask',
  'DescribeDownloadBackupSetStorageInfo',
  'DescribeDownloadSupport',
  'RetryDownloadTask',
]);
/** Inferred: PageSize default and maximum are undocumented; 10 is the example's, 100 a guess. */
const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 100;

interface Answer2021 {
  status: number;
  body: Record<string, unknown>;
  outcome: string;
  headers?: Record<string, string>;
}

/** The success envelope; `Success` as the string `"true"` (or `"True"`, as RetryDownloadTask's example). */
export function okEnvelope(requestId: string, data: unknown, success = 'true'): Record<string, unknown> {
  return { RequestId: requestId, Success: success, Code: 'Success', ErrCode: 'Success', Message: '', ErrMessage: '', Data: data };
}

/** A 2021 business error: HTTP 200, `Success: "false"`, the code in both Code and ErrCode. */
export function businessError2021(requestId: string, code: string, message: string): Record<string, unknown> {
  return { RequestId: requestId, Success: 'false', Code: code, ErrCode: code, Message: message, ErrMessage: message };
}

/** A list item: every value a string (reference §3). Quirks: `queuing`/`Initializing` spellings on some tasks. */
export function advancedTaskToWire(task: SimAdvancedTask, quirks: boolean): Record<string, string> {
  let status = task.DownloadStatus;
  if (quirks && status === 'queueing' && task.seq % 2 === 1) status = 'queuing';
  if (quirks && status === 'initializing' && task.seq % 3 === 2) status = 'Initializing';
  return {
    TaskId: task.TaskId,
    RegionCode: task.RegionCode,
    Format: task.Format,
    DbList: task.DbList,
    BakSetId: task.BakSetId,
    DownloadStatus: status,
    ExportDataSize: String(task.ExportDataSize),
    ImportDataSize: String(task.ImportDataSize),
    BackupSetTime: String(task.BackupSetTime),
    TargetType: task.TargetType,
    TargetPath: task.TargetPath,
    Progress: task.Progress,
    GmtCreate: String(task.GmtCreate),
  };
}

function send(res: ServerResponse, status: number, body: unknown, requestId: string, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-acs-request-id': requestId,
    ...headers,
  });
  res.end(text);
}

function positiveInt(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  return /^\d+$/.test(value) && Number(value) > 0 ? Number(value) : Number.NaN;
}

function epochParam(value: string | undefined): number | undefined | 'invalid' {
  if (value === undefined || value === '') return undefined;
  return /^\d+$/.test(value) ? Number(value) : 'invalid';
}

function answer(ctx: SimContext, action: string, requestId: string, p: Record<string, string>): Answer2021 {
  const w = ctx.world2021;
  const invalid = (message: string): Answer2021 => ({
    status: 200,
    body: businessError2021(requestId, 'DBS.ParamIsInValid', message),
    outcome: 'DBS.ParamIsInValid',
  });
  const notFound = (): Answer2021 => ({
    status: 200,
    body: businessError2021(requestId, 'Forbidden.InstanceNotFound', 'instance not found'),
    outcome: 'Forbidden.InstanceNotFound',
  });
  const cannotFind = (): Answer2021 => ({
    status: 200,
    body: businessError2021(requestId, 'DBS.DownloadTask.CannotFind', 'Can not find download task.'),
    outcome: 'DBS.DownloadTask.CannotFind',
  });
  if (w.deniedActions.has(action)) {
    return { status: 403, body: gatewayError(requestId, 'Request.Forbidden', 'Have no Permissions'), outcome: 'Request.Forbidden' };
  }
  if (!p.RegionCode && action !== 'RetryDownloadTask') return invalid('Argument: regionCode Must not be empty');
  switch (action) {
    case 'DescribeDownloadTask': {
      // Documented as required by the text (the schema says optional); inferred: refused when missing.
      if (!p.InstanceName) return invalid('instanceName can not be empty');
      const instance = w.instance(p.InstanceName);
      // Inferred: an instance asked for in another region is not found there.
      if (!instance || instance.region !== p.RegionCode) return notFound();
      const currentPage = positiveInt(p.CurrentPage, 1);
      const pageSize = positiveInt(p.PageSize, DEFAULT_PAGE_SIZE);
      if (Number.isNaN(currentPage)) return invalid('currentPage must be a positive integer');
      if (Number.isNaN(pageSize) || pageSize > MAX_PAGE_SIZE) return invalid(`pageSize must be 1..${MAX_PAGE_SIZE}`);
      const startTime = epochParam(p.StartTime);
      const endTime = epochParam(p.EndTime);
      if (startTime === 'invalid' || endTime === 'invalid') return invalid('startTime/endTime must be epoch milliseconds');
      const state = p.State || undefined;
      if (state && ![...SIM_ADVANCED_STATES, 'queuing'].includes(state.toLowerCase())) return invalid(`state ${state} is not valid`);
      if (p.TaskType && p.TaskType !== 'full' && p.TaskType !== 'pitr') return invalid('taskType must be full or pitr');
      if (p.OrderColumn && p.OrderColumn !== 'gmt_create') return invalid('orderColumn must be gmt_create');
      if (p.OrderDirect && p.OrderDirect !== 'asc' && p.OrderDirect !== 'desc') return invalid('orderDirect must be asc or desc');
      const query: AdvancedListQuery = {
        instanceName: instance.instanceName,
        order: p.OrderDirect === 'asc' ? 'asc' : 'desc',
        currentPage,
        pageSize,
        ...(state ? { state } : {}),
        ...(p.TaskType ? { taskType: p.TaskType } : {}),
        ...(p.BackupSetId ? { backupSetId: p.BackupSetId } : {}),
        ...(startTime !== undefined ? { startTime } : {}),
        ...(endTime !== undefined ? { endTime } : {}),
      };
      const page = w.list(query);
      return {
        status: 200,
        body: okEnvelope(requestId, {
          PageNumber: currentPage,
          PageSize: pageSize,
          TotalPages: Math.ceil(page.total / pageSize),
          TotalElements: page.total,
          Extra: '',
          Content: { List: page.items.map((t) => advancedTaskToWire(t, ctx.quirks)) },
        }),
        outcome: 'ok',
      };
    }
    case 'DescribeDownloadBackupSetStorageInfo': {
      const duration = positiveInt(p.Duration, 7_200);
      if (Number.isNaN(duration) || duration < 300 || duration > 86_400) return invalid('duration must be 300..86400');
      if (!p.TaskId) return invalid('taskId can not be empty');
      const task = w.task(p.TaskId);
      // The error for a task that is not (or no longer) downloadable is undocumented; CannotFind is the closest.
      if (!task || task.RegionCode !== p.RegionCode || task.DownloadStatus !== 'finished' || task.TargetType !== 'URL') return cannotFind();
      const expiresSec = Math.floor(w.now() / 1000) + duration;
      const host = (internal: boolean) =>
        `dbs-137383785969-${task.RegionCode}-${task.TaskId.slice(3)}.oss-${task.RegionCode}${internal ? '-internal' : ''}.example`;
      // Inferred: real URLs are OSS pre-signed URLs (Expires, OSSAccessKeyId, Signature); the official example shows none.
      const signed = (internal: boolean) =>
        `http://${host(internal)}/${task.TaskId}/dbs_target_file_path/${task.DbList.replace(/[^A-Za-z0-9_]/g, '')}.tar.gz?Expires=${expiresSec}&OSSAccessKeyId=STS.sim&Signature=${encodeURIComponent(`sig${task.seq}${expiresSec}`)}`;
      return {
        status: 200,
        body: okEnvelope(requestId, {
          PublicUrl: signed(false),
          PrivateUrl: signed(true),
          ExpirationTime: w.expirationUnit === 's' ? expiresSec : expiresSec * 1000,
        }),
        outcome: 'ok',
      };
    }
    case 'DescribeDownloadSupport': {
      if (!p.InstanceName) return invalid('instanceName can not be empty');
      const instance = w.instance(p.InstanceName);
      if (!instance || instance.region !== p.RegionCode) return notFound();
      return { status: 200, body: okEnvelope(requestId, instance.supported ? 'true' : 'false'), outcome: 'ok' };
    }
    case 'RetryDownloadTask': {
      // The page marks nothing required; its example error says instanceName is needed (inferred: all three are).
      if (!p.InstanceName)
        return { status: 200, body: businessError2021(requestId, 'DBS.InternalError', 'instanceName can not be empty'), outcome: 'DBS.InternalError' };
      if (!p.RegionCode) return invalid('Argument: regionCode Must not be empty');
      const task = p.TaskId ? w.task(p.TaskId) : undefined;
      if (!task || task.instanceName !== p.InstanceName) return cannotFind();
      // Only failed tasks can be retried (documented); the error for others is not (inferred).
      if (task.DownloadStatus !== 'failed') return invalid(`task ${task.TaskId} is not failed`);
      w.retry(task.TaskId);
      // The official example answers "True" (capital T).
      return { status: 200, body: okEnvelope(requestId, '', 'True'), outcome: 'ok' };
    }
    default:
      return { status: 404, body: gatewayError(requestId, 'InvalidApi.NotFound', 'Specified api is not found.'), outcome: 'InvalidApi.NotFound' };
  }
}

/** Serves one 2021-01-01 request (the server dispatches here on `x-acs-version` / `Version`). */
export function handleApi2021(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer,
  query: Array<[string, string]>,
  form: Array<[string, string]>,
): undefined {
  const requestId = newRequestId();
  const now = Date.now();
  const all = [...query, ...form];
  const lastOf = (name: string) => all.filter(([k]) => k === name).at(-1)?.[1];
  const header = req.headers['x-acs-action'];
  const action = (Array.isArray(header) ? header[0] : header) ?? lastOf('Action');
  const instanceName = lastOf('InstanceName') || undefined;
  ctx.stats.request(now, action, instanceName);
  // Answers and ends the request: `return fail(…)` reads as the early exit it is.
  const fail = (status: number, code: string, message: string, headers?: Record<string, string>): undefined => {
    ctx.stats.outcome(code);
    send(res, status, gatewayError(requestId, code, message), requestId, headers);
    return undefined;
  };
  if (url.pathname !== '/') return fail(404, 'InvalidApi.NotFound', 'Specified api is not found, please check your url and method.');
  // Inferred: RPC operations accept GET as well as POST (the SDK only sends POST).
  if (req.method !== 'GET' && req.method !== 'POST') return fail(400, 'UnsupportedHTTPMethod', `Specified HTTP method ${req.method} is not supported.`);
  const verified = verifyRequest(
    { method: req.method, path: url.pathname, query, headers: req.headersDistinct, body, form },
    { secretOf: (id) => ctx.credentials.get(id), nowMs: now, nonces: ctx.nonces, actions: ADVANCED_ACTIONS, version: DBS_2021_VERSION },
  );
  if (!verified.ok) return fail(verified.status, verified.code, verified.message);
  ctx.world2021.tick();

  const params = verified.params;
  const page = Number(params.CurrentPage ?? '1');
  const fault = ctx.faults.take({
    action: verified.action,
    ...(instanceName !== undefined ? { planId: instanceName } : {}),
    pageNum: Number.isInteger(page) && page > 0 ? page - 1 : 0,
  });
  if (fault) {
    switch (fault.kind) {
      case 'throttle': {
        const timeLeft = fault.timeLeftMs ?? 1000;
        return fail(400, 'Throttling.User', 'Request was denied due to user flow control.', {
          'x-ratelimit-user-api': `Limit:1,Remain:0,TimeLeft:${timeLeft},Reset:${Date.now() + timeLeft}`,
        });
      }
      case 'unavailable':
        return fail(503, 'ServiceUnavailable', 'The request has failed due to a temporary failure of the server.');
      case 'internal':
        return fail(500, 'InternalError', 'The request processing has failed due to some unknown error, exception or failure.');
      case 'business-error': {
        const code = fault.errCode ?? 'DBS.InternalError';
        ctx.stats.outcome(code);
        send(res, 200, businessError2021(requestId, code, fault.errMessage ?? 'internal error'), requestId);
        return undefined;
      }
      case 'raw': {
        const out = fault.body ?? '';
        ctx.stats.outcome('raw');
        res.writeHead(fault.status ?? 200, { 'content-type': fault.contentType ?? 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(out) });
        res.end(out);
        return;
      }
      case 'timeout':
      case 'malformed':
      case 'shift':
        // Not modelled for 2021 (the 2019 half covers the client's handling of these); answer normally.
        break;
    }
  }
  const result = answer(ctx, verified.action, requestId, params);
  ctx.stats.outcome(result.outcome);
  send(res, result.status, result.body, requestId, result.headers);
}
