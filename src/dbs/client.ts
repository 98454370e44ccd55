/**
 * The DBS API edge: two read calls through the official generic
 * `@alicloud/openapi-client` (V3 signature), each behind the global request
 * gate, counted, validated and normalised. No retries here — the pager and
 * the queue retry with dbswatch's own policy.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import * as Credentials from '@alicloud/credentials';
import * as OpenApi from '@alicloud/openapi-client';
import * as TeaUtil from '@alicloud/tea-util';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { dbsRequestsTotal } from '../metrics.js';
import { OPEN_GATE, type RequestGate } from '../rate-limit.js';
import { credentialChain } from './credential-source.js';
import { classifyDbsFailure, DbsApiError, type DbsFailure, dbsDidNotAnswer, invalidResponse } from './errors.js';
import { normaliseTask, type Warn } from './normalise.js';
import { DEFAULT_MAX_RESPONSE_BYTES, withResponseCap } from './response-cap.js';
import { type ListBody, parseBackupPlanListBody, parseDownloadTaskListBody } from './schema.js';
import type { DownloadTask } from './task.js';

/** DBS OpenAPI version. */
export const DBS_API_VERSION = '2019-03-06';

/** One page of download tasks, items normalised. */
export interface DownloadTaskPage {
  readonly requestId?: string;
  /** 0-based. */
  readonly pageNum: number;
  readonly pageSize: number;
  /** Absent when DBS did not send it. */
  readonly totalPages?: number;
  /** Absent when DBS did not send it. */
  readonly totalElements?: number;
  readonly items: DownloadTask[];
}

/** What discovery needs to know about one backup plan. */
export interface BackupPlanSummary {
  readonly planId: string;
  readonly name?: string;
  /** e.g. `running`, `pause`, `wait`. */
  readonly status?: string;
  /** e.g. `MySQL`. */
  readonly dbType?: string;
  /** Region of the source database. */
  readonly region?: string;
}

/** One page of backup plans. */
export interface BackupPlanPage {
  readonly requestId?: string;
  readonly pageNum: number;
  readonly pageSize: number;
  /** Absent when DBS did not send it. */
  readonly totalPages?: number;
  /** Absent when DBS did not send it. */
  readonly totalElements?: number;
  readonly items: BackupPlanSummary[];
}

/** A page of one plan's download tasks, or one task by id. */
export type DownloadTaskQuery = { planId: string; pageNum: number; pageSize: number } | { taskId: string };

/** A page of DescribeBackupPlanList, optionally filtered the ways the API offers. */
export interface BackupPlanQuery {
  readonly pageNum: number;
  readonly pageSize: number;
  /** Only these plans (sent comma-separated in `BackupPlanId`; plan-check.ts batches them). */
  readonly planIds?: readonly string[];
  /** `Region`: region of the source database. */
  readonly region?: string;
  /** `ResourceGroupId`. */
  readonly resourceGroupId?: string;
}

/** One page of a plan's download tasks with the envelope checked and the items left as DBS sent them. */
export interface RawDownloadTaskPage {
  /** 0-based. */
  readonly pageNum: number;
  readonly pageSize: number;
  /** Absent when DBS did not send it. */
  readonly totalPages?: number;
  /** Absent when DBS did not send it. */
  readonly totalElements?: number;
  /** Raw `BackupSetDownloadTaskDetail` items: `observeTask` reads id and status, `normaliseTask` the rest. */
  readonly items: readonly unknown[];
}

/** The DBS reads dbswatch makes; the port the pager and the poll worker depend on. */
export interface DbsApi {
  describeDownloadTaskPage(query: DownloadTaskQuery): Promise<DownloadTaskPage>;
  describeBackupPlanPage(query: BackupPlanQuery): Promise<BackupPlanPage>;
  /**
   * The same page as `describeDownloadTaskPage`, items not normalised (lazy normalisation, issue 16: a poll
   * reads id and status of every task and normalises only the few that changed). Optional: a reader
   * without it is swept through the normalised pages.
   */
  describeRawDownloadTaskPage?(query: { planId: string; pageNum: number; pageSize: number }): Promise<RawDownloadTaskPage>;
}

/** Alias kept for readers of the brief: the client is just a `DbsApi`. */
export type DbsClient = DbsApi;

/** Anything openapi-client accepts as a credential (an `@alicloud/credentials` Credential). */
export type CredentialLike = InstanceType<typeof CredentialClass>;

export interface DbsClientOptions {
  /** `host[:port]`, no scheme. */
  readonly endpoint: string;
  readonly protocol: 'http' | 'https';
  /** Connect and read timeout per request. */
  readonly timeoutMs: number;
  /** Default: the standard credential chain (env, profile, ECS RAM role, OIDC). */
  readonly credential?: CredentialLike;
  /** Global request rate. Default: OPEN_GATE (no limit). */
  readonly gate?: RequestGate;
  /** Default: silent. */
  readonly log?: Logger;
  /** Largest response read (`dbs.maxResponseBytes`). Default: 20 MB. */
  readonly maxResponseBytes?: number;
}

// The @alicloud packages are CommonJS with `exports.default = Class`; under ESM the class sits one level down.
// TypeScript (NodeNext) models `default` as module.exports, so the class type is `.default.default`.
const OpenApiClient = resolveDefault<typeof OpenApi.default.default>(OpenApi.default);
const CredentialClass = resolveDefault<typeof Credentials.default.default>(Credentials.default);

/** A fixed AccessKey credential (the simulator's key, tests, demos); production uses the default chain. */
export function accessKeyCredential(key: { accessKeyId: string; accessKeySecret: string }): CredentialLike {
  return new CredentialClass(new Credentials.Config({ type: 'access_key', ...key }));
}

/** A credential backed by one `@alicloud/credentials` provider (a profile, a RAM role …); see accounts.ts. */
export function providerCredential(provider: ConstructorParameters<typeof CredentialClass>[1]): CredentialLike {
  return new CredentialClass(null, provider);
}

function resolveDefault<T>(mod: unknown): T {
  return (typeof mod === 'function' ? mod : (mod as { default: unknown }).default) as T;
}

/*
 * openapi-client 0.4.15 throws away the response headers when it throws for a 4xx/5xx, and the
 * throttle wait lives in `x-ratelimit-user[-api]`. Node's http diagnostics channels let us see the
 * response below the library without patching it: the request is tied to the call that made it through
 * AsyncLocalStorage (http.request runs synchronously inside our call), and only the rate-limit headers
 * are kept.
 */
interface HeaderCapture {
  rateLimitHeaders?: Record<string, string>;
}
const currentCall = new AsyncLocalStorage<HeaderCapture>();
const captureOfRequest = new WeakMap<object, HeaderCapture>();
let headerCaptureInstalled = false;

function installHeaderCapture(): void {
  if (headerCaptureInstalled) return;
  headerCaptureInstalled = true;
  diagnosticsChannel.subscribe('http.client.request.start', (message) => {
    const capture = currentCall.getStore();
    const request = (message as { request?: object }).request;
    if (capture && request) captureOfRequest.set(request, capture);
  });
  diagnosticsChannel.subscribe('http.client.response.finish', (message) => {
    const { request, response } = message as { request?: object; response?: { headers?: Record<string, unknown> } };
    const capture = request ? captureOfRequest.get(request) : undefined;
    if (!capture || !response?.headers) return;
    const kept: Record<string, string> = {};
    for (const name of ['x-ratelimit-user-api', 'x-ratelimit-user']) {
      const value = response.headers[name];
      if (typeof value === 'string') kept[name] = value;
    }
    capture.rateLimitHeaders = kept;
  });
}

/** The openapi-client call shape of a DBS RPC operation (what a generated SDK would pass). */
export function dbsRpcParams(action: string, protocol: 'http' | 'https', version = DBS_API_VERSION): InstanceType<typeof OpenApi.Params> {
  return new OpenApi.Params({
    action,
    version,
    protocol,
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
}

export function createDbsClient(options: DbsClientOptions): DbsClient {
  const log = options.log ?? silentLogger;
  // Signing, gate, header capture and thrown-error classification: shared with the 2021-01-01 client.
  const transport = createDbsRpcTransport({ ...options, version: DBS_API_VERSION });

  /** One signed call; returns the parsed body of a successful answer, throws a classified DbsApiError otherwise. */
  async function call(action: string, query: Record<string, string>): Promise<Record<string, unknown>> {
    const response = await transport.send(action, query);
    try {
      return checkAnswer(response);
    } catch (error) {
      throw error instanceof DbsApiError ? count(error, log, action) : error;
    }
  }

  async function validated<T>(action: string, parse: () => T): Promise<T> {
    try {
      const out = parse();
      dbsRequestsTotal.inc({ outcome: 'ok' });
      return out;
    } catch (error) {
      if (error instanceof DbsApiError) throw count(error, log, action);
      throw error;
    }
  }

  return {
    async describeDownloadTaskPage(query) {
      const action = 'DescribeBackupSetDownloadTaskList';
      const params: Record<string, string> =
        'taskId' in query
          ? { BackupSetDownloadTaskId: query.taskId }
          : { BackupPlanId: query.planId, PageNum: String(query.pageNum), PageSize: String(query.pageSize) };
      const body = await call(action, params);
      return validated(action, () => {
        const planId = 'planId' in query ? query.planId : '';
        const warn = (message: string, fields?: object) => log.warn({ ...fields, planId: planId || undefined }, message);
        return decodeDownloadTaskPage(body, query, warn);
      });
    },

    async describeRawDownloadTaskPage(query) {
      const action = 'DescribeBackupSetDownloadTaskList';
      const body = await call(action, { BackupPlanId: query.planId, PageNum: String(query.pageNum), PageSize: String(query.pageSize) });
      return validated(action, () => {
        const list = parseDownloadTaskListBody(body);
        return pageOf(list, query.pageNum, query.pageSize, list.items);
      });
    },

    async describeBackupPlanPage(query) {
      const action = 'DescribeBackupPlanList';
      const params: Record<string, string> = { PageNum: String(query.pageNum), PageSize: String(query.pageSize) };
      if (query.planIds?.length) params.BackupPlanId = query.planIds.join(',');
      if (query.region) params.Region = query.region;
      if (query.resourceGroupId) params.ResourceGroupId = query.resourceGroupId;
      const body = await call(action, params);
      return validated(action, () => {
        const list = parseBackupPlanListBody(body);
        return pageOf(list, query.pageNum, query.pageSize, list.items.map(normalisePlan));
      });
    },
  };
}

/** Rejects with `dbsDidNotAnswer` when `work` has not settled after `ms`; its late outcome is ignored. */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(dbsDidNotAnswer(ms)), ms);
  });
  work.catch(() => {});
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** What `createDbsRpcTransport` needs beyond the client options. */
export interface DbsRpcTransportOptions extends DbsClientOptions {
  /** OpenAPI version, e.g. `2021-01-01`. */
  readonly version: string;
  /** Classifies a failure; default: `classifyDbsFailure` (the 2019-03-06 table). */
  readonly classify?: (failure: DbsFailure) => DbsApiError;
  /** The fair-share key of a call's query (the rate limiter's `share`). Default: its `BackupPlanId`. */
  readonly shareOf?: (query: Record<string, string>) => string | undefined;
}

/** One signed RPC call's raw answer (HTTP 2xx; the body not yet checked). */
export interface RpcAnswer {
  readonly body?: unknown;
  readonly headers?: unknown;
  readonly statusCode?: number;
}

/**
 * The signing, gating, header capture and thrown-error classification of
 * `createDbsClient`, for another API version of the same product (the
 * 2021-01-01 advanced-download client). Checking the body is the caller's job
 * (the envelope differs by version); `fail` counts and logs a classified error.
 */
export function createDbsRpcTransport(options: DbsRpcTransportOptions): {
  send(action: string, query: Record<string, string>): Promise<RpcAnswer>;
  fail(error: DbsApiError, action: string): DbsApiError;
  ok(): void;
} {
  installHeaderCapture();
  const log = options.log ?? silentLogger;
  const gate = options.gate ?? OPEN_GATE;
  const classify = options.classify ?? classifyDbsFailure;
  const client = new OpenApiClient(
    new OpenApi.Config({
      credential: options.credential ?? credentialChain(),
      endpoint: options.endpoint,
      protocol: options.protocol,
      readTimeout: options.timeoutMs,
      connectTimeout: options.timeoutMs,
    }),
  );
  return {
    async send(action, query) {
      // The plan (or instance) is the fair-share key: one cannot take the whole budget (rate-limit.ts).
      await gate.acquire(options.shareOf?.(query) ?? query.BackupPlanId);
      const capture: HeaderCapture = {};
      const started = Date.now();
      try {
        // dbs.timeout bounds the whole request: a body that drips stays under the socket's idle timeout;
        // dbs.maxResponseBytes bounds its size.
        return await withDeadline(
          withResponseCap(options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, action, () =>
            currentCall.run(capture, () =>
              client.callApi(
                dbsRpcParams(action, options.protocol, options.version),
                new OpenApi.OpenApiRequest({ query }),
                new TeaUtil.RuntimeOptions({ autoretry: false, readTimeout: options.timeoutMs, connectTimeout: options.timeoutMs }),
              ),
            ),
          ),
          options.timeoutMs,
        );
      } catch (thrown) {
        if (thrown instanceof DbsApiError && thrown.code === 'ResponseTooLarge') throw count(thrown, log, action);
        const failure = thrown instanceof DbsApiError ? thrown : classify({ kind: 'thrown', error: thrown, headers: capture.rateLimitHeaders });
        const late = Date.now() - started >= options.timeoutMs && (failure.code === 'NetworkError' || failure.code === 'Timeout');
        throw count(late ? dbsDidNotAnswer(options.timeoutMs) : failure, log, action);
      }
    },
    fail: (error, action) => count(error, log, action),
    ok: () => dbsRequestsTotal.inc({ outcome: 'ok' }),
  };
}

/**
 * The checks every parsed answer passes before anything reads it (pure):
 * a JSON object, and not a DBS business error (`Success: false`, also as the
 * string `"false"`). Throws a classified `DbsApiError`.
 */
export function checkAnswer(response: { body?: unknown; headers?: unknown; statusCode?: number }): Record<string, unknown> {
  const body = response.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidResponse('the body is not a JSON object');
  const map = body as Record<string, unknown>;
  if (map.Success === false || map.Success === 'false') {
    throw classifyDbsFailure({ kind: 'business', body: map, httpStatus: response.statusCode, headers: response.headers });
  }
  return map;
}

/** Validates (schema.ts) and normalises (normalise.ts) one DescribeBackupSetDownloadTaskList answer (pure). */
export function decodeDownloadTaskPage(body: unknown, query: DownloadTaskQuery, warn?: Warn): DownloadTaskPage {
  const list = parseDownloadTaskListBody(body);
  const planId = 'planId' in query ? query.planId : '';
  const items = list.items.map((raw) => normaliseTask(raw, warn ? { planId, warn } : { planId }));
  return pageOf(list, 'pageNum' in query ? query.pageNum : 0, 'pageSize' in query ? query.pageSize : items.length, items);
}

function pageOf<Items>(list: ListBody, pageNum: number, pageSize: number, items: Items) {
  const page: { pageNum: number; pageSize: number; totalPages?: number; totalElements?: number; items: Items } = {
    pageNum: list.pageNum ?? pageNum,
    pageSize: list.pageSize ?? pageSize,
    items,
  };
  if (list.totalPages !== undefined) page.totalPages = list.totalPages;
  if (list.totalElements !== undefined) page.totalElements = list.totalElements;
  return list.requestId ? { requestId: list.requestId, ...page } : page;
}

/** Raw `BackupPlanDetail` → summary; a plan without an id makes the answer invalid. */
export function normalisePlan(raw: unknown): BackupPlanSummary {
  const item = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const field = (name: string, max = 256): string | undefined => {
    const value = item[name];
    const s = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
    return s ? s.slice(0, max) : undefined;
  };
  const planId = field('BackupPlanId');
  if (!planId) throw invalidResponse('a BackupPlanDetail has no BackupPlanId');
  const plan: { -readonly [K in keyof BackupPlanSummary]: BackupPlanSummary[K] } = { planId };
  const name = field('BackupPlanName', 4_096);
  const status = field('BackupPlanStatus');
  const dbType = field('DatabaseType');
  const region = field('SourceEndpointRegion');
  if (name) plan.name = name;
  if (status) plan.status = status;
  if (dbType) plan.dbType = dbType;
  if (region) plan.region = region;
  return plan;
}

/** Counts the failure by outcome and logs it once, without secrets (the message is ours). */
function count(error: DbsApiError, log: Logger, action: string): DbsApiError {
  const outcome =
    error.code === 'InvalidResponse'
      ? 'invalid'
      : error.retry.kind === 'rate-limited'
        ? 'throttled'
        : error.retry.kind === 'permanent'
          ? 'permanent'
          : 'retryable';
  dbsRequestsTotal.inc({ outcome });
  log.debug({ action, code: error.code, apiCode: error.apiCode, httpStatus: error.httpStatus, requestId: error.requestId, retry: error.retry }, error.message);
  return error;
}
