/**
 * DBS API failures as typed errors with retry policy as data.
 *
 * Two shapes arrive here (see shared/reference/dbs-api.md "Errors"):
 * gateway errors thrown by @alicloud/openapi-client for HTTP 4xx/5xx, and DBS
 * business errors (`Success: false` + `ErrCode`) that the client hands back
 * as a normal 2xx answer. Both become a `DbsApiError` whose message tells the
 * operator what to do. Messages are built here from known fields only — the
 * library's own message can carry URLs, so it is never copied — nor attached
 * as `cause` (pino would print a cause's message).
 */
import { DbswatchError, PERMANENT, RETRYABLE, type RetryPolicy, rateLimited } from '../errors.js';
import { CredentialsUnavailableError, NO_CREDENTIALS_MESSAGE } from './credential-source.js';

/** Wait used for a throttled request when DBS does not say how long. Default: 2 s. */
export const DEFAULT_THROTTLE_DELAY_MS = 2_000;
/** Upper bound on a server-requested wait, so a garbage header cannot park a worker for days. */
export const MAX_THROTTLE_DELAY_MS = 5 * 60_000;

/** What DBS (or the network) said, kept for logs and support tickets. */
export interface DbsErrorDetails {
  /** RequestId of the failed call, when DBS sent one (quote it to Alibaba support). */
  readonly requestId?: string | undefined;
  /** HTTP status, when a response arrived. */
  readonly httpStatus?: number | undefined;
  /** `Code` / `ErrCode` as DBS sent it; absent for network and invalid-response failures. */
  readonly apiCode?: string | undefined;
}

/** A failed DBS call. `code` is the apiCode when DBS sent one, else a dbswatch reason (`InvalidResponse`, `Timeout`, …). */
export class DbsApiError extends DbswatchError {
  readonly requestId?: string;
  readonly httpStatus?: number;
  readonly apiCode?: string;

  constructor(message: string, code: string, retry: RetryPolicy, details: DbsErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, code, retry, options);
    if (details.requestId !== undefined) this.requestId = details.requestId;
    if (details.httpStatus !== undefined) this.httpStatus = details.httpStatus;
    if (details.apiCode !== undefined) this.apiCode = details.apiCode;
  }
}

/** A response that does not have the shape dbswatch relies on: the poll fails and is retried. */
export function invalidResponse(what: string, details: DbsErrorDetails = {}): DbsApiError {
  return new DbsApiError(`DBS returned an invalid response: ${what}${requestIdSuffix(details.requestId)}`, 'InvalidResponse', RETRYABLE, details);
}

type PolicyKind = 'throttled' | 'retryable' | 'permanent';
interface CodeRule {
  readonly kind: PolicyKind;
  /** What the operator should do; the code and request id are appended. */
  readonly advice: string;
}

/**
 * Known DBS / POP gateway codes. Like graphile-worker's RETRYABLE_ERROR_CODES:
 * the policy is data, one row per code, easy to review and extend.
 */
export const DBS_ERROR_CODES: Readonly<Record<string, CodeRule>> = {
  Throttling: { kind: 'throttled', advice: 'DBS is throttling requests: lower dbs.requestsPerSecond' },
  'Throttling.User': { kind: 'throttled', advice: 'DBS is throttling this account: lower dbs.requestsPerSecond' },
  'Throttling.Api': { kind: 'throttled', advice: 'DBS is throttling this API: lower dbs.requestsPerSecond' },
  ServiceUnavailable: { kind: 'retryable', advice: 'DBS is temporarily unavailable; will retry' },
  InternalError: { kind: 'retryable', advice: 'DBS had an internal error; will retry' },
  'InternalError.Unknown': { kind: 'retryable', advice: 'DBS had an internal error; will retry' },
  SignatureNonceUsed: { kind: 'retryable', advice: 'DBS saw a reused request nonce; will retry with a new one' },
  SignatureDoesNotMatch: {
    kind: 'permanent',
    advice: 'DBS rejected the request signature: check ALIBABA_CLOUD_ACCESS_KEY_SECRET (or the credential profile)',
  },
  IncompleteSignature: {
    kind: 'permanent',
    advice: 'DBS rejected the request signature: check ALIBABA_CLOUD_ACCESS_KEY_SECRET (or the credential profile)',
  },
  'InvalidAccessKeyId.NotFound': {
    kind: 'permanent',
    advice: 'DBS does not know this AccessKey: check ALIBABA_CLOUD_ACCESS_KEY_ID (or the credential profile)',
  },
  'InvalidAccessKeyId.Inactive': {
    kind: 'permanent',
    advice: 'this AccessKey is disabled: enable it or configure another one',
  },
  'InvalidSecurityToken.Expired': {
    kind: 'retryable',
    advice: 'the STS security token expired; the credential provider should refresh it',
  },
  'InvalidTimeStamp.Expired': {
    kind: 'permanent',
    advice: "DBS rejected the request time: this machine's clock is off by more than 15 minutes (fix NTP)",
  },
  'Forbidden.RAM': {
    kind: 'permanent',
    advice: 'the RAM user lacks permission: grant dbs:DescribeBackupSetDownloadTaskList (and dbs:DescribeBackupPlanList for discovery)',
  },
  Forbidden: { kind: 'permanent', advice: 'DBS denied access: check the RAM policy of the AccessKey' },
  MissingParameter: { kind: 'permanent', advice: 'DBS says a request parameter is missing (a dbswatch bug: please report it)' },
  'InvalidApi.NotFound': {
    kind: 'permanent',
    advice: 'DBS does not know this API at this endpoint: check dbs.endpoint (it must be a DBS API endpoint)',
  },
  // DBS's own "Have no Permissions" (HTTP 403 in the body): the credential's RAM policy lacks the action.
  'Request.Forbidden': {
    kind: 'permanent',
    advice:
      'DBS says this credential has no permission (Have no Permissions): grant its RAM user or role dbs:DescribeBackupSetDownloadTaskList (and dbs:DescribeBackupPlanList for discovery and plan checks)',
  },
  // Param.NotFound is DBS's generic "the specified parameter is not valid", not "plan not found".
  'Param.NotFound': {
    kind: 'permanent',
    advice:
      'DBS rejected a request parameter as invalid: check plans[].id, the account/region the plan lives in (plans[].account, dbs.region) and dbs.pageSize',
  },
  InvalidParameterValid: {
    kind: 'permanent',
    advice:
      'DBS rejected a request parameter as invalid: check plans[].id, the account/region the plan lives in (plans[].account, dbs.region) and dbs.pageSize',
  },
  InvalidParameter: { kind: 'permanent', advice: 'DBS rejected a request parameter: check plans[].id and dbs.pageSize' },
  'DBS.InternalError': { kind: 'retryable', advice: 'DBS had an internal error; will retry' },
};

/** Rule for a code not in the table: family prefixes first, then the HTTP status. */
function ruleFor(apiCode: string | undefined, httpStatus: number | undefined): CodeRule {
  if (apiCode) {
    const exact = DBS_ERROR_CODES[apiCode];
    if (exact) return exact;
    if (apiCode.startsWith('Throttling')) return { kind: 'throttled', advice: 'DBS is throttling requests: lower dbs.requestsPerSecond' };
    if (/^(Forbidden|NoPermission)|\.NoPermission$|NotAuthorized/i.test(apiCode)) {
      return { kind: 'permanent', advice: 'DBS denied access: check the RAM policy of the AccessKey' };
    }
    if (apiCode.startsWith('InvalidAccessKeyId')) {
      return { kind: 'permanent', advice: 'DBS rejected the AccessKey: check ALIBABA_CLOUD_ACCESS_KEY_ID' };
    }
    // The DBS.* family: DBS's own codes. Internal/busy ones pass; the rest are answers about the request.
    if (apiCode.startsWith('DBS.')) {
      if (/Internal|Busy|Timeout|Unavailable/i.test(apiCode) || (httpStatus !== undefined && httpStatus >= 500)) {
        return { kind: 'retryable', advice: 'DBS had an internal error; will retry' };
      }
      return { kind: 'permanent', advice: 'DBS refused the request; see the error code (the next scheduled poll tries again)' };
    }
  }
  if (httpStatus !== undefined && httpStatus >= 500) return { kind: 'retryable', advice: 'DBS failed on its side; will retry' };
  if (httpStatus !== undefined && httpStatus >= 400 && httpStatus !== 429) {
    return { kind: 'permanent', advice: 'DBS rejected the request; see the error code' };
  }
  if (httpStatus === 429) return { kind: 'throttled', advice: 'DBS is throttling requests: lower dbs.requestsPerSecond' };
  // A business error with an unknown code on HTTP 200: retry rather than lose a poll (the next tick would poll again anyway).
  return { kind: 'retryable', advice: 'DBS reported an error; will retry' };
}

/**
 * Milliseconds to wait from `x-ratelimit-user-api` / `x-ratelimit-user`
 * (`Limit:1,Remain:0,TimeLeft:2000,Reset:…`, TimeLeft in ms); the longer of
 * the two when both are present. Undefined when neither is usable.
 */
export function throttleDelayFromHeaders(headers: unknown): number | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const lookup = new Map<string, unknown>();
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) lookup.set(name.toLowerCase(), value);
  let best: number | undefined;
  for (const name of ['x-ratelimit-user-api', 'x-ratelimit-user']) {
    const raw = lookup.get(name);
    const text = Array.isArray(raw) ? raw.join(',') : typeof raw === 'string' ? raw : undefined;
    const match = text ? /(?:^|[,;\s])TimeLeft\s*[:=]\s*(\d+(?:\.\d+)?)/i.exec(text) : null;
    if (!match?.[1]) continue;
    const ms = Math.ceil(Number(match[1]));
    if (Number.isFinite(ms) && ms >= 0) best = Math.max(best ?? 0, ms);
  }
  return best === undefined ? undefined : Math.min(best, MAX_THROTTLE_DELAY_MS);
}

/** One DBS failure, in either of its two shapes. */
export type DbsFailure =
  /** Whatever openapi-client (or the network below it) threw. `headers` when the caller could reach them. */
  | { readonly kind: 'thrown'; readonly error: unknown; readonly headers?: unknown }
  /** A parsed answer with `Success: false` (usually HTTP 200, sometimes 400). */
  | { readonly kind: 'business'; readonly body: Record<string, unknown>; readonly httpStatus?: number | undefined; readonly headers?: unknown };

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Turns a DBS failure into a `DbsApiError` with the right retry policy and an operator-facing message. */
export function classifyDbsFailure(failure: DbsFailure): DbsApiError {
  if (failure.kind === 'business') {
    const body = failure.body;
    const apiCode = text(body.ErrCode) ?? text(body.Code) ?? text(body.code);
    // DBS answers business errors on HTTP 200 with the real status in the body: when the transport
    // says 2xx (or nothing), the body's HttpStatusCode is the one that classifies.
    const bodyStatus = numberOrUndefined(body.HttpStatusCode);
    const transport = failure.httpStatus;
    const httpStatus = transport === undefined || (transport >= 200 && transport < 300) ? (bodyStatus ?? transport) : transport;
    return fromApiCode(apiCode, httpStatus, text(body.RequestId), failure.headers);
  }
  const error = failure.error;
  if (error instanceof DbsApiError) return error;
  const fields = (error && typeof error === 'object' ? error : {}) as Record<string, unknown>;
  const data = (fields.data && typeof fields.data === 'object' ? fields.data : {}) as Record<string, unknown>;
  const httpStatus = numberOrUndefined(fields.statusCode) ?? numberOrUndefined(data.statusCode);
  const name = typeof fields.name === 'string' ? fields.name : '';
  const errno = typeof fields.code === 'string' ? fields.code : undefined;

  if (httpStatus !== undefined) {
    // openapi-client renders a missing Code as the string "undefined"; a 400 business error carries ErrCode instead.
    const apiCode = text(data.Code) ?? text(data.code) ?? text(data.ErrCode) ?? (errno && errno !== 'undefined' ? errno : undefined);
    const headers = failure.headers ?? fields.headers ?? data.headers;
    return fromApiCode(apiCode, httpStatus, text(data.RequestId) ?? text(data.requestId), headers);
  }
  if (error instanceof CredentialsUnavailableError) return new DbsApiError(error.message, error.code, PERMANENT);
  if (name.includes('RequestTimeout') || errno === 'ETIMEDOUT' || errno === 'ESOCKETTIMEDOUT') return dbsDidNotAnswer(undefined);
  if (errno && NETWORK_CODES.has(errno)) {
    return new DbsApiError(`could not reach DBS (${errno}): check dbs.endpoint and network access; will retry`, 'NetworkError', RETRYABLE);
  }
  if (error instanceof SyntaxError || (error instanceof Error && error.message === 'The value is not a object')) {
    return new DbsApiError('DBS returned an invalid response: the body is not a JSON object', 'InvalidResponse', RETRYABLE);
  }
  if (errno === 'InvalidCredentials' || (error instanceof Error && /credential/i.test(error.message))) {
    // Permanent: no hot retry; the next scheduled poll asks the (fresh) chain again.
    return new DbsApiError(NO_CREDENTIALS_MESSAGE, 'CredentialsUnavailable', PERMANENT);
  }
  const kind = error instanceof Error ? error.name : typeof error;
  return new DbsApiError(`DBS request failed unexpectedly (${kind}); will retry`, 'UnknownError', RETRYABLE);
}

/** A request that got no complete answer within dbs.timeout (no answer at all, or a body that drips). */
export function dbsDidNotAnswer(timeoutMs: number | undefined): DbsApiError {
  const within = timeoutMs === undefined ? 'dbs.timeout' : `${timeoutMs < 1_000 ? `${timeoutMs}ms` : `${Math.round(timeoutMs / 100) / 10}s`} (dbs.timeout)`;
  return new DbsApiError(`DBS did not answer within ${within}: check network access to dbs.endpoint, or raise dbs.timeout; will retry`, 'Timeout', RETRYABLE);
}

function fromApiCode(apiCode: string | undefined, httpStatus: number | undefined, requestId: string | undefined, headers: unknown): DbsApiError {
  const rule = ruleFor(apiCode, httpStatus);
  let retry: RetryPolicy;
  switch (rule.kind) {
    case 'throttled':
      retry = rateLimited(throttleDelayFromHeaders(headers) ?? DEFAULT_THROTTLE_DELAY_MS);
      break;
    case 'retryable':
      retry = RETRYABLE;
      break;
    case 'permanent':
      retry = PERMANENT;
      break;
  }
  const label = [apiCode, httpStatus !== undefined ? `HTTP ${httpStatus}` : undefined].filter(Boolean).join(', ');
  const message = `${rule.advice}${label ? ` (${label})` : ''}${requestIdSuffix(requestId)}`;
  const details: DbsErrorDetails = { requestId, httpStatus, apiCode };
  return new DbsApiError(message, apiCode ?? (httpStatus !== undefined ? `HTTP${httpStatus}` : 'UnknownError'), retry, details);
}

function requestIdSuffix(requestId: string | undefined): string {
  return requestId ? ` (request id ${requestId})` : '';
}

/** A short, printable, non-empty string — or undefined. API text is untrusted, so it is cut. */
function text(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const s = String(value).trim();
  if (!s || s === 'undefined') return undefined;
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 128);
}

function numberOrUndefined(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}
