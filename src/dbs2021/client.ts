/**
 * The DBS 2021-01-01 "advanced download" edge: four RPC operations through
 * the same official `@alicloud/openapi-client` transport as the 2019 client
 * (signing, request gate, header capture, gateway-error plumbing come from
 * `createDbsRpcTransport`), with this version's envelope: `Success` is a
 * string compared case-insensitively, business errors come on HTTP 200, and
 * list items sit at `Data.Content.List` with every value a string.
 *
 * The client takes an endpoint and a credential as inputs; which endpoint an
 * instance's region uses is decided by `endpointForRegion` (endpoint.ts).
 */
import { type CredentialLike, createDbsRpcTransport } from '../dbs/client.js';
import { DbsApiError, invalidResponse } from '../dbs/errors.js';
import { normaliseDownloadUrl, type Warn } from '../dbs/normalise.js';
import type { Logger } from '../logger.js';
import type { RequestGate } from '../rate-limit.js';
import { classifyDbs2021Failure } from './errors.js';
import { type AdvancedDownloadTask, type AdvancedState, expirationMs, isSuccess, normaliseAdvancedTask } from './task.js';

/** OpenAPI version of the advanced-download operations. */
export const DBS_2021_API_VERSION = '2021-01-01';

/** Shortest and longest validity DescribeDownloadBackupSetStorageInfo accepts, seconds. */
export const MIN_LINK_SECONDS = 300;
export const MAX_LINK_SECONDS = 86_400;

/** One page of an instance's advanced download tasks. */
export interface AdvancedTaskPage {
  readonly requestId?: string;
  /** 1-based. */
  readonly pageNumber: number;
  readonly pageSize: number;
  readonly totalPages: number;
  readonly totalElements: number;
  readonly items: AdvancedDownloadTask[];
}

/** A DescribeDownloadTask query. */
export interface AdvancedTaskQuery {
  /** RegionCode of the instance. */
  readonly region: string;
  /** Instance (cluster) id: `rm-…`, `pc-…`, `dds-…`. */
  readonly instanceName: string;
  /** 1-based. */
  readonly currentPage: number;
  readonly pageSize: number;
  readonly state?: AdvancedState;
  /** Creation-time bounds, epoch ms. */
  readonly startTime?: number;
  readonly endTime?: number;
  /** Default `asc`: new tasks land on the last page instead of shifting earlier ones. */
  readonly order?: 'asc' | 'desc';
}

/** Fresh download links of a finished URL-target task. Bearer credentials: never logged, never stored. */
export interface MintedLinks {
  readonly publicUrl?: string;
  readonly privateUrl?: string;
  /** Epoch ms when the links stop working. */
  readonly expiresAt: number;
}

/** The 2021-01-01 reads (and the one write, `retryDownloadTask`) dbswatch makes. */
export interface Dbs2021Api {
  describeDownloadTaskPage(query: AdvancedTaskQuery): Promise<AdvancedTaskPage>;
  /** `validitySeconds` is clamped to 300..86400. */
  describeDownloadLinks(query: { region: string; taskId: string; validitySeconds: number }): Promise<MintedLinks>;
  describeDownloadSupport(query: { region: string; instanceName: string }): Promise<boolean>;
  retryDownloadTask(query: { region: string; instanceName: string; taskId: string }): Promise<{ requestId?: string }>;
}

export interface Dbs2021ClientOptions {
  /** `host[:port]`, no scheme. */
  readonly endpoint: string;
  readonly protocol: 'http' | 'https';
  readonly timeoutMs: number;
  /** Default: the standard credential chain. */
  readonly credential?: CredentialLike;
  readonly gate?: RequestGate;
  readonly log?: Logger;
  /** Clock for a missing ExpirationTime (now + validity). Default: Date.now. */
  readonly now?: () => number;
}

export function createDbs2021Client(options: Dbs2021ClientOptions): Dbs2021Api {
  const transport = createDbsRpcTransport({
    ...options,
    version: DBS_2021_API_VERSION,
    classify: classifyDbs2021Failure,
    shareOf: (query) => query.InstanceName,
  });
  const now = options.now ?? Date.now;
  const log = options.log;

  /** One call; the checked body of a successful answer, else a classified, counted `DbsApiError`. */
  async function call(action: string, query: Record<string, string>): Promise<Record<string, unknown>> {
    const answer = await transport.send(action, query);
    try {
      const body = checkAnswer2021(answer);
      transport.ok();
      return body;
    } catch (error) {
      throw error instanceof DbsApiError ? transport.fail(error, action) : error;
    }
  }

  return {
    async describeDownloadTaskPage(query) {
      const action = 'DescribeDownloadTask';
      const params: Record<string, string> = {
        RegionCode: query.region,
        InstanceName: query.instanceName,
        CurrentPage: String(query.currentPage),
        PageSize: String(query.pageSize),
        OrderColumn: 'gmt_create',
        OrderDirect: query.order ?? 'asc',
      };
      if (query.state) params.State = query.state;
      if (query.startTime !== undefined) params.StartTime = String(query.startTime);
      if (query.endTime !== undefined) params.EndTime = String(query.endTime);
      const body = await call(action, params);
      const warn: Warn = (message, fields) => log?.warn({ ...fields, instance: query.instanceName }, message);
      try {
        return decodeAdvancedTaskPage(body, query, warn);
      } catch (error) {
        throw error instanceof DbsApiError ? transport.fail(error, action) : error;
      }
    },

    async describeDownloadLinks(query) {
      const seconds = clampLinkSeconds(query.validitySeconds);
      const body = await call('DescribeDownloadBackupSetStorageInfo', {
        RegionCode: query.region,
        TaskId: query.taskId,
        Duration: String(seconds),
      });
      return decodeMintedLinks(body, now() + seconds * 1000);
    },

    async describeDownloadSupport(query) {
      const body = await call('DescribeDownloadSupport', { RegionCode: query.region, InstanceName: query.instanceName });
      return isSuccess(body.Data) === true;
    },

    async retryDownloadTask(query) {
      const body = await call('RetryDownloadTask', {
        RegionCode: query.region,
        InstanceName: query.instanceName,
        TaskId: query.taskId,
      });
      return typeof body.RequestId === 'string' ? { requestId: body.RequestId.slice(0, 128) } : {};
    },
  };
}

/** 300 ≤ seconds ≤ 86400, whole seconds. */
export function clampLinkSeconds(seconds: number): number {
  return Math.min(MAX_LINK_SECONDS, Math.max(MIN_LINK_SECONDS, Math.round(Number.isFinite(seconds) ? seconds : MAX_LINK_SECONDS)));
}

/**
 * The envelope check (pure): a JSON object whose `Success` says true, in any
 * case. `Success: "false"` is a business error (usually HTTP 200); a missing
 * or unreadable `Success` is an invalid response — success is decided from
 * `Success` only, never from the presence of `ErrCode` (the docs fill it in on success).
 */
export function checkAnswer2021(answer: { body?: unknown; headers?: unknown; statusCode?: number }): Record<string, unknown> {
  const body = answer.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidResponse('the body is not a JSON object');
  const map = body as Record<string, unknown>;
  const success = isSuccess(map.Success);
  if (success === false) {
    throw classifyDbs2021Failure({ kind: 'business', body: map, httpStatus: answer.statusCode, headers: answer.headers });
  }
  if (success === undefined) throw invalidResponse('Success is missing or not "true"/"false"');
  return map;
}

/** `Data.Content.List` of a DescribeDownloadTask answer, normalised (pure). A missing Data/Content/List is an empty page. */
export function decodeAdvancedTaskPage(body: Record<string, unknown>, query: { currentPage: number; pageSize: number }, warn?: Warn): AdvancedTaskPage {
  const data = objectOr(body.Data);
  const list = objectOr(data.Content).List;
  if (list !== undefined && list !== null && !Array.isArray(list)) throw invalidResponse('Data.Content.List is not an array');
  const items = (Array.isArray(list) ? list : []).map((raw) => normaliseAdvancedTask(raw, warn));
  const count = (name: string, fallback: number): number => {
    const value = data[name];
    if (value === undefined || value === null || value === '') return fallback;
    const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
    if (!Number.isInteger(n) || n < 0) throw invalidResponse(`Data.${name} is not a whole number`);
    return n;
  };
  const page = {
    pageNumber: count('PageNumber', query.currentPage),
    pageSize: count('PageSize', query.pageSize),
    totalPages: count('TotalPages', items.length > 0 ? query.currentPage : 0),
    totalElements: count('TotalElements', items.length),
    items,
  };
  return typeof body.RequestId === 'string' ? { requestId: body.RequestId.slice(0, 128), ...page } : page;
}

/** `Data.PublicUrl` / `PrivateUrl` / `ExpirationTime` (pure). URLs are cleaned like 2019 ones; none usable → invalid. */
export function decodeMintedLinks(body: Record<string, unknown>, fallbackExpiry: number): MintedLinks {
  const data = objectOr(body.Data);
  const publicUrl = normaliseDownloadUrl(data.PublicUrl);
  const privateUrl = normaliseDownloadUrl(data.PrivateUrl);
  if (!publicUrl && !privateUrl) throw invalidResponse('DescribeDownloadBackupSetStorageInfo returned no usable URL');
  return {
    ...(publicUrl ? { publicUrl } : {}),
    ...(privateUrl ? { privateUrl } : {}),
    expiresAt: expirationMs(data.ExpirationTime) ?? fallbackExpiry,
  };
}

function objectOr(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
