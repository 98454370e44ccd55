/**
 * The simulator's HTTP server (node:http, loopback by default): the DBS RPC
 * API at `/` (GET or POST, parameters in the query or a form body, V3 or
 * HMAC-SHA1 signatures) and the control API under `/_sim/` (control.ts).
 *
 * What is documented and what is invented (issue 13). Documented — by the
 * official SDK models for dbs-20190306, the OpenAPI reference or Alibaba's
 * error-code pages: field names and types; 0-based PageNum; PageSize 30/50/100
 * for the task list and 1–100 for the plan list; TotalPages/TotalElements as
 * optional fields; comma-separated `BackupPlanId` in DescribeBackupPlanList
 * and its `Region`/`ResourceGroupId` filters; business errors on HTTP 200
 * with `Success:false`, `ErrCode` and the real status in `HttpStatusCode`;
 * `Request.Forbidden` ("Have no Permissions", 403); `Param.NotFound` as the
 * generic invalid-parameter code; URLs filled only when a manual download's
 * conversion is complete; OSS V1 (`Expires`) and V4 (`x-oss-date` +
 * `x-oss-expires`) pre-signed URL shapes. Invented (dbswatch's safe reading,
 * not promised anywhere): newest-first list order; the 3-day URL lifetime;
 * which code answers a bad PageSize (`InvalidParameterValid`); whether an
 * unknown plan answers `Param.NotFound` or an empty list (both are served, see
 * `SimRules.unknownPlan`); the wire quirks' frequencies (wire.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SimContext, SimRules } from './context.js';
import { handleControl } from './control.js';
import { handleControl2021 } from './control2021.js';
import { FaultQueue, type FaultSpec } from './faults.js';
import { resolveScenario, type Scenario } from './scenarios.js';
import { type IncomingSignedRequest, NonceCache, verifyRequest } from './signing.js';
import { type SimStats, StatsRecorder } from './stats.js';
import { businessError, gatewayError, newRequestId, pageEnvelope, planToWire, taskToWire } from './wire.js';
import { DBS_2021_VERSION, handleApi2021 } from './wire2021.js';
import { SimWorld } from './world.js';
import { SimWorld2021 } from './world2021.js';

/** The API version the simulator serves. */
export const DBS_API_VERSION = '2019-03-06';
export const TASK_LIST_ACTION = 'DescribeBackupSetDownloadTaskList';
export const PLAN_LIST_ACTION = 'DescribeBackupPlanList';
const ACTIONS: ReadonlySet<string> = new Set([TASK_LIST_ACTION, PLAN_LIST_ACTION]);
const MAX_BODY_BYTES = 1 << 20;

export interface SimCredential {
  accessKeyId: string;
  accessKeySecret: string;
}

/** The simulator's fixed test key (not a real secret). */
export const DEFAULT_SIM_CREDENTIAL: SimCredential = Object.freeze({
  accessKeyId: 'sim-access-key-id',
  accessKeySecret: 'sim-access-key-secret',
});

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Accepted keys. Default [DEFAULT_SIM_CREDENTIAL]. */
  credentials?: SimCredential[];
  /** A scenario name (see scenarioNames()) or object. Default `empty`. */
  scenario?: string | Scenario;
  /** PRNG seed. Default: the scenario's, else 1. */
  seed?: number;
  /** `real` (default): timeline steps apply as time passes. `manual`: only on tick. */
  clock?: 'real' | 'manual';
  /** Serve the odd values real responses contain. Default true. */
  quirks?: boolean;
  /** How closely to follow DBS's own rules; defaults keep the behaviour earlier tests were written against. */
  rules?: Partial<SimRules>;
  /** Shape of the pre-signed URLs. Default `v1`. */
  urlSignature?: 'v1' | 'v4' | 'mixed';
}

export type { SimRules } from './context.js';

export const DEFAULT_SIM_RULES: Readonly<SimRules> = Object.freeze({ unknownPlan: 'error', strictPageSize: false, omitTotals: false });

export interface RunningSimulator {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT` (openapi-client's `endpoint`). */
  endpoint: string;
  port: number;
  world: SimWorld;
  /** Instances and their advanced download tasks (API 2021-01-01). */
  world2021: SimWorld2021;
  injectFault(f: FaultSpec): void;
  clearFaults(): void;
  /** Pending faults with their remaining counts. */
  faults(): Array<FaultSpec & { remaining: number }>;
  stats(): SimStats;
  resetStats(): void;
  /** The live rules; assign fields to change behaviour mid-test. */
  rules: SimRules;
  close(): Promise<void>;
}

/** The list envelope, without the totals when the rules say so. */
function listBody(ctx: SimContext, body: Record<string, unknown>): Record<string, unknown> {
  if (!ctx.rules.omitTotals) return body;
  const { TotalPages: _pages, TotalElements: _elements, ...rest } = body;
  return rest;
}

function sendJson(res: ServerResponse, status: number, body: unknown, requestId?: string, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(requestId ? { 'x-acs-request-id': requestId } : {}),
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** True for a caller on the loopback interface (IPv4, IPv6 or IPv4-mapped IPv6). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function pairs(search: string): Array<[string, string]> {
  return [...new URLSearchParams(search)];
}

function lastOf(list: ReadonlyArray<readonly [string, string]>, name: string): string | undefined {
  let out: string | undefined;
  for (const [k, v] of list) if (k === name) out = v;
  return out;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A non-negative integer parameter, its default when absent, NaN when invalid. */
function intParam(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  return /^\d+$/.test(value) ? Number(value) : Number.NaN;
}

function delay(ctx: SimContext, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ctx.timers.delete(timer);
      resolve();
    }, ms);
    ctx.timers.add(timer);
  });
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  outcome: string;
  headers?: Record<string, string>;
}

function answerTaskList(ctx: SimContext, requestId: string, params: Record<string, string>): Answer {
  const planId = params.BackupPlanId || undefined;
  const taskId = params.BackupSetDownloadTaskId || undefined;
  const pageNum = intParam(params.PageNum, 0);
  const pageSize = intParam(params.PageSize, 30);
  const invalid = (name: string, code = 'InvalidParameter'): Answer => ({
    status: 200,
    body: businessError(requestId, code, `The specified parameter ${name} value is not valid.`),
    outcome: code,
  });
  if (Number.isNaN(pageNum)) return invalid('PageNum');
  if (Number.isNaN(pageSize) || pageSize < 1 || pageSize > 100) return invalid('PageSize');
  if (ctx.rules.strictPageSize && ![30, 50, 100].includes(pageSize)) {
    return {
      status: 200,
      body: businessError(requestId, 'InvalidParameterValid', 'The specified parameter PageSize value is not valid: use 30, 50 or 100.', 400),
      outcome: 'InvalidParameterValid',
    };
  }
  if ((planId === undefined) === (taskId === undefined)) {
    return {
      status: 200,
      body: businessError(
        requestId,
        'Param.NotFound',
        'The specified parameter BackupPlanId or BackupSetDownloadTaskId value is not valid: exactly one of them is required.',
      ),
      outcome: 'Param.NotFound',
    };
  }
  if (planId !== undefined) {
    if (!ctx.world.hasPlan(planId)) {
      if (ctx.rules.unknownPlan === 'error') return invalid('BackupPlanId', 'Param.NotFound');
      // An id DBS does not know may just answer an empty list, forever (issue 13, point 4).
      return { status: 200, body: listBody(ctx, pageEnvelope(requestId, 'BackupSetDownloadTaskDetail', [], { pageNum, pageSize, total: 0 })), outcome: 'ok' };
    }
    const page = ctx.world.page(planId, pageNum, pageSize);
    const items = page.items.map((t) => taskToWire(t, ctx.quirks));
    return {
      status: 200,
      body: listBody(ctx, pageEnvelope(requestId, 'BackupSetDownloadTaskDetail', items, { pageNum, pageSize, total: page.total })),
      outcome: 'ok',
    };
  }
  const task = ctx.world.task(taskId ?? '');
  const all = task ? [taskToWire(task, ctx.quirks)] : [];
  const items = all.slice(pageNum * pageSize, pageNum * pageSize + pageSize);
  return {
    status: 200,
    body: listBody(ctx, pageEnvelope(requestId, 'BackupSetDownloadTaskDetail', items, { pageNum, pageSize, total: all.length })),
    outcome: 'ok',
  };
}

function answerPlanList(ctx: SimContext, requestId: string, params: Record<string, string>): Answer {
  const pageNum = intParam(params.PageNum, 0);
  const pageSize = intParam(params.PageSize, 30);
  if (Number.isNaN(pageNum) || Number.isNaN(pageSize) || pageSize < 1 || pageSize > 100) {
    const name = Number.isNaN(pageNum) ? 'PageNum' : 'PageSize';
    return {
      status: 200,
      body: businessError(requestId, 'InvalidParameter', `The specified parameter ${name} value is not valid.`),
      outcome: 'InvalidParameter',
    };
  }
  // BackupPlanId takes a comma-separated list (documented); unknown ids are simply not listed.
  const wanted = params.BackupPlanId
    ? new Set(
        params.BackupPlanId.split(',')
          .map((id) => id.trim())
          .filter(Boolean),
      )
    : undefined;
  const plans = ctx.world
    .allPlans()
    .filter(
      (p) =>
        (!params.BackupPlanStatus || p.status === params.BackupPlanStatus) &&
        (!params.Region || p.region === params.Region) &&
        (!params.ResourceGroupId || p.resourceGroupId === params.ResourceGroupId) &&
        (!wanted || wanted.has(p.planId)),
    );
  const items = plans.slice(pageNum * pageSize, pageNum * pageSize + pageSize).map(planToWire);
  return {
    status: 200,
    body: listBody(ctx, pageEnvelope(requestId, 'BackupPlanDetail', items, { pageNum, pageSize, total: plans.length })),
    outcome: 'ok',
  };
}

function answer(ctx: SimContext, action: string, requestId: string, params: Record<string, string>): Answer {
  return action === TASK_LIST_ACTION ? answerTaskList(ctx, requestId, params) : answerPlanList(ctx, requestId, params);
}

async function handleApi(ctx: SimContext, req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<void> {
  const requestId = newRequestId();
  const query = pairs(url.search);
  const contentType = headerOf(req, 'content-type') ?? '';
  const form = contentType.includes('application/x-www-form-urlencoded') ? pairs(body.toString('utf8')) : [];
  const all = [...query, ...form];
  // API 2021-01-01 (advanced downloads) has its own actions and envelope: wire2021.ts.
  if ((headerOf(req, 'x-acs-version') ?? lastOf(all, 'Version')) === DBS_2021_VERSION) {
    return handleApi2021(ctx, req, res, url, body, query, form);
  }
  const now = Date.now();
  const action = headerOf(req, 'x-acs-action') ?? lastOf(all, 'Action');
  const planId = lastOf(all, 'BackupPlanId') || undefined;
  ctx.stats.request(now, action, planId);

  const fail = (status: number, code: string, message: string, headers?: Record<string, string>) => {
    ctx.stats.outcome(code);
    sendJson(res, status, gatewayError(requestId, code, message), requestId, headers);
  };

  if (url.pathname !== '/') return fail(404, 'InvalidApi.NotFound', 'Specified api is not found, please check your url and method.');
  if (req.method !== 'GET' && req.method !== 'POST') {
    return fail(400, 'UnsupportedHTTPMethod', `Specified HTTP method ${req.method} is not supported.`);
  }

  const signed: IncomingSignedRequest = {
    method: req.method,
    path: url.pathname,
    query,
    headers: req.headersDistinct,
    body,
    form,
  };
  const verified = verifyRequest(signed, {
    secretOf: (id) => ctx.credentials.get(id),
    nowMs: now,
    nonces: ctx.nonces,
    actions: ACTIONS,
    version: DBS_API_VERSION,
  });
  if (!verified.ok) return fail(verified.status, verified.code, verified.message);

  // Timeline steps due by now become visible before the answer.
  if (ctx.world.clock === 'real') ctx.world.tick();

  const params = verified.params;
  const pageNum = intParam(params.PageNum, 0);
  const fault = ctx.faults.take({
    action: verified.action,
    ...(planId !== undefined ? { planId } : {}),
    pageNum: Number.isNaN(pageNum) ? 0 : pageNum,
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
        const code = fault.errCode ?? 'InternalError';
        ctx.stats.outcome(code);
        return sendJson(
          res,
          200,
          businessError(
            requestId,
            code,
            fault.errMessage ?? (code === 'Request.Forbidden' ? 'Have no Permissions' : 'The request processing has failed due to some unknown error.'),
            fault.bodyStatus ?? (code === 'Request.Forbidden' ? 403 : 200),
          ),
          requestId,
        );
      }
      case 'timeout':
        await delay(ctx, fault.delayMs ?? 10_000);
        if (fault.afterDelay !== 'answer') {
          ctx.stats.outcome('timeout');
          req.socket.destroy();
          return;
        }
        break;
      case 'shift': {
        const target = fault.planId ?? planId;
        if (target && ctx.world.hasPlan(target)) ctx.world.addTasks(target, fault.shiftBy ?? 1);
        break;
      }
      case 'raw': {
        // Exactly the bytes a test asks for: hostile bodies the real client must survive.
        const out = fault.body ?? '';
        ctx.stats.outcome('raw');
        res.writeHead(fault.status ?? 200, {
          'content-type': fault.contentType ?? 'application/json;charset=utf-8',
          'content-length': Buffer.byteLength(out),
          'x-acs-request-id': requestId,
        });
        res.end(out);
        return;
      }
      case 'malformed': {
        const normal = answer(ctx, verified.action, requestId, params);
        const text = JSON.stringify(normal.body);
        const variant = fault.variant ?? 'truncated';
        const out =
          variant === 'html'
            ? '<html><body><h1>502 Bad Gateway</h1></body></html>'
            : variant === 'empty'
              ? ''
              : text.slice(0, Math.max(1, Math.floor(text.length / 2)));
        ctx.stats.outcome('malformed');
        res.writeHead(200, {
          'content-type': variant === 'html' ? 'text/html' : 'application/json;charset=utf-8',
          'content-length': Buffer.byteLength(out),
          'x-acs-request-id': requestId,
        });
        res.end(out);
        return;
      }
    }
  }

  const result = answer(ctx, verified.action, requestId, params);
  ctx.stats.outcome(result.outcome);
  sendJson(res, result.status, result.body, requestId, result.headers);
}

/** Starts the simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const scenario = resolveScenario(options.scenario ?? 'empty');
  const world = new SimWorld({ seed: options.seed ?? scenario.seed ?? 1, clock: options.clock ?? 'real', urlSignature: options.urlSignature ?? 'v1' });
  scenario.build(world);
  const credentials = new Map<string, string>();
  for (const c of options.credentials ?? [DEFAULT_SIM_CREDENTIAL]) credentials.set(c.accessKeyId, c.accessKeySecret);
  const world2021 = new SimWorld2021(world);
  const ctx: SimContext = {
    world,
    world2021,
    faults: new FaultQueue(),
    stats: new StatsRecorder(),
    quirks: options.quirks ?? true,
    credentials,
    nonces: new NonceCache(),
    timers: new Set(),
    rules: { ...DEFAULT_SIM_RULES, ...options.rules },
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://simulator.local');
      if (url.pathname === '/_sim' || url.pathname.startsWith('/_sim/')) {
        if (!isLoopback(req.socket.remoteAddress)) {
          sendJson(res, 403, { error: 'the control API only answers loopback callers' });
          return;
        }
        if (body === undefined) return sendJson(res, 413, { error: 'body too large' });
        if (url.pathname.startsWith('/_sim/2021/')) return handleControl2021(ctx, req, res, url, body);
        return handleControl(ctx, req, res, url, body);
      }
      if (body === undefined) return sendJson(res, 413, gatewayError(newRequestId(), 'RequestEntityTooLarge', 'Request body too large.'));
      await handleApi(ctx, req, res, url, body);
    })().catch((error: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, gatewayError(newRequestId(), 'InternalError', `simulator error: ${String(error)}`));
      } else res.destroy();
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const ticker = world.clock === 'real' ? setInterval(() => world.tick(), 100) : undefined;
  ticker?.unref();

  const hostForUrl = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${port}`,
    endpoint: `${hostForUrl}:${port}`,
    port,
    world,
    world2021,
    injectFault: (f) => ctx.faults.add(f),
    clearFaults: () => ctx.faults.clear(),
    faults: () => ctx.faults.list(),
    stats: () => ctx.stats.snapshot(),
    resetStats: () => ctx.stats.reset(),
    rules: ctx.rules,
    close() {
      closed ??= new Promise<void>((resolve) => {
        if (ticker) clearInterval(ticker);
        for (const timer of ctx.timers) clearTimeout(timer);
        ctx.timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
