/**
 * Failures of the DBS 2021-01-01 advanced-download operations, with retry
 * policy as data (shared/reference/dbs-2021-downloads.md §11). Gateway errors
 * (signature, throttling, 5xx, unknown key) are the same as 2019-03-06 and
 * fall through to `classifyDbsFailure`; this table only adds the codes the
 * 2021 pages document. Business errors arrive with `Success: "false"` on
 * HTTP 200 and carry `Code`/`ErrCode` — the client must look, it does not throw.
 */
import { classifyDbsFailure, DbsApiError, type DbsFailure } from '../dbs/errors.js';
import { PERMANENT, RETRYABLE, type RetryPolicy } from '../errors.js';

interface CodeRule {
  readonly kind: 'retryable' | 'permanent';
  /** What the operator should do; the code and request id are appended. */
  readonly advice: string;
}

const NOT_ELIGIBLE: CodeRule = {
  kind: 'permanent',
  advice: 'this instance does not support advanced download (check it with DescribeDownloadSupport): remove it from instances',
};

/** Documented 2021-01-01 codes. The reference's classification: retry DBS.InternalError only. */
export const DBS2021_ERROR_CODES: Readonly<Record<string, CodeRule>> = {
  'Request.Forbidden': {
    kind: 'permanent',
    advice:
      'the RAM user lacks permission: grant dbs:DescribeDownloadTask and dbs:DescribeDownloadBackupSetStorageInfo (dbs:RetryDownloadTask for retry-download)',
  },
  'DBS.NoPermissionException': { kind: 'permanent', advice: 'DBS denied access to this instance: check the RAM policy of the AccessKey' },
  'DBS.NotExists': { kind: 'permanent', advice: 'DBS does not know this instance: check instances[].id and instances[].region' },
  'Forbidden.InstanceNotFound': { kind: 'permanent', advice: 'instance not found: check instances[].id and instances[].region' },
  'DBS.ParamIsInValid': { kind: 'permanent', advice: 'DBS rejected a request parameter: check instances[].id and instances[].region' },
  'Param.NotFound': { kind: 'permanent', advice: 'DBS rejected a request parameter: check instances[].id and instances[].region' },
  'DBS.InternalError': { kind: 'retryable', advice: 'DBS had an internal error; will retry' },
  'DBS.DownloadTask.CannotFind': { kind: 'permanent', advice: 'DBS cannot find this download task (it may have expired)' },
  'DBS.DownloadTask.NotSupport': NOT_ELIGIBLE,
};

/** Rule for a 2021 code, or undefined to fall back to the shared gateway table. */
function ruleFor(apiCode: string | undefined): CodeRule | undefined {
  if (!apiCode) return undefined;
  const exact = DBS2021_ERROR_CODES[apiCode];
  if (exact) return exact;
  // Every documented DBS.DownloadTask.* code (JobAlreadyExist, OssForbid, …NotSupport) is a state or eligibility answer.
  if (apiCode.startsWith('DBS.DownloadTask.')) {
    return apiCode.endsWith('NotSupport') ? NOT_ELIGIBLE : { kind: 'permanent', advice: 'DBS refused the download-task operation' };
  }
  return undefined;
}

/** Turns a 2021-01-01 failure (thrown or business) into a `DbsApiError` with the right retry policy. */
export function classifyDbs2021Failure(failure: DbsFailure): DbsApiError {
  const fields = codeAndRequest(failure);
  const rule = ruleFor(fields.apiCode);
  if (!rule) return classifyDbsFailure(failure);
  const retry: RetryPolicy = rule.kind === 'permanent' ? PERMANENT : RETRYABLE;
  const label = [fields.apiCode, fields.httpStatus !== undefined ? `HTTP ${fields.httpStatus}` : undefined].filter(Boolean).join(', ');
  const message = `${rule.advice} (${label})${fields.requestId ? ` (request id ${fields.requestId})` : ''}`;
  return new DbsApiError(message, fields.apiCode ?? 'UnknownError', retry, fields);
}

function codeAndRequest(failure: DbsFailure): { apiCode?: string; httpStatus?: number; requestId?: string } {
  let body: Record<string, unknown>;
  let httpStatus: number | undefined;
  if (failure.kind === 'business') {
    body = failure.body;
    httpStatus = failure.httpStatus;
  } else {
    const fields = (failure.error && typeof failure.error === 'object' ? failure.error : {}) as Record<string, unknown>;
    body = (fields.data && typeof fields.data === 'object' ? fields.data : {}) as Record<string, unknown>;
    httpStatus = typeof fields.statusCode === 'number' ? fields.statusCode : undefined;
  }
  const out: { apiCode?: string; httpStatus?: number; requestId?: string } = {};
  const apiCode = text(body.ErrCode) ?? text(body.Code);
  // The 2021 success examples put "Success" in Code/ErrCode: that is no error code.
  if (apiCode && apiCode.toLowerCase() !== 'success') out.apiCode = apiCode;
  if (httpStatus !== undefined) out.httpStatus = httpStatus;
  const requestId = text(body.RequestId);
  if (requestId) out.requestId = requestId;
  return out;
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  return s && s !== 'undefined' ? s.replace(/[^\x20-\x7e]/g, '?').slice(0, 128) : undefined;
}
