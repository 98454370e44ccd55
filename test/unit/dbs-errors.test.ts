import { describe, expect, it } from 'vitest';
import { classifyDbsFailure, DbsApiError, DEFAULT_THROTTLE_DELAY_MS, throttleDelayFromHeaders } from '../../src/dbs/errors.js';

/** The shape @alicloud/openapi-client 0.4.15 throws for a 4xx/5xx (tea ResponseError). */
function gatewayError(status: number, body: Record<string, unknown>): Error {
  const code = String(body.Code ?? body.code ?? 'undefined');
  const error = new Error(
    `${code}: code: ${status}, ${String(body.Message)} request id: ${String(body.RequestId)} https://dbs.example/?AccessKeyId=AKID&Signature=SIG`,
  );
  return Object.assign(error, { code, statusCode: status, data: { ...body, statusCode: status } });
}

function classifyThrown(error: unknown, headers?: unknown): DbsApiError {
  return classifyDbsFailure({ kind: 'thrown', error, headers });
}

describe('classifyDbsFailure: gateway errors', () => {
  it.each([
    ['Throttling.User', 400],
    ['Throttling.Api', 400],
    ['Throttling', 400],
  ])('%s is rate-limited with the default delay when no header is reachable', (code, status) => {
    const error = classifyThrown(gatewayError(status, { Code: code, Message: 'slow down', RequestId: 'R1' }));
    expect(error.retry).toEqual({ kind: 'rate-limited', delayMs: DEFAULT_THROTTLE_DELAY_MS });
    expect(error).toMatchObject({ apiCode: code, httpStatus: status, requestId: 'R1', code });
  });

  it('takes the wait from x-ratelimit-user-api when the headers are reachable', () => {
    const error = classifyThrown(gatewayError(400, { Code: 'Throttling.User', RequestId: 'R' }), {
      'X-RateLimit-User-Api': 'Limit:1,Remain:0,TimeLeft:2750,Reset:1700000000000',
    });
    expect(error.retry).toEqual({ kind: 'rate-limited', delayMs: 2750 });
  });

  it.each([
    ['ServiceUnavailable', 503],
    ['InternalError', 500],
    ['SomethingNew', 502],
    ['SignatureNonceUsed', 400],
  ])('%s (HTTP %i) is retryable', (code, status) => {
    expect(classifyThrown(gatewayError(status, { Code: code, RequestId: 'R' })).retry).toEqual({ kind: 'retryable' });
  });

  it.each([
    ['SignatureDoesNotMatch', 400, /signature.*ALIBABA_CLOUD_ACCESS_KEY_SECRET/],
    ['InvalidAccessKeyId.NotFound', 404, /ALIBABA_CLOUD_ACCESS_KEY_ID/],
    ['InvalidTimeStamp.Expired', 400, /clock is off by more than 15 minutes/],
    ['Forbidden.RAM', 403, /permission.*dbs:DescribeBackupSetDownloadTaskList/],
    ['Forbidden.NoPermission', 403, /RAM policy/],
    ['MissingParameter', 400, /missing/],
    ['InvalidApi.NotFound', 404, /dbs\.endpoint/],
    ['Param.NotFound', 400, /rejected a request parameter as invalid: check plans\[\]\.id/],
    ['InvalidParameterValid', 400, /rejected a request parameter as invalid: check plans\[\]\.id/],
    ['Request.Forbidden', 403, /no permission.*dbs:DescribeBackupSetDownloadTaskList/],
    ['DBS.BackupPlanNotExist', 400, /DBS refused the request/],
  ])('%s is permanent and tells the operator what to do', (code, status, advice) => {
    const error = classifyThrown(gatewayError(status, { Code: code, Message: 'm', RequestId: 'REQ-42' }));
    expect(error.retry).toEqual({ kind: 'permanent' });
    expect(error.message).toMatch(advice);
    expect(error.message).toContain(code);
    expect(error.message).toContain('request id REQ-42');
  });

  it("never copies the library's message (it can carry URLs and signatures)", () => {
    const error = classifyThrown(gatewayError(400, { Code: 'SignatureDoesNotMatch', Message: 'sig mismatch', RequestId: 'R' }));
    expect(error.message).not.toContain('Signature=SIG');
    expect(error.message).not.toContain('AKID');
    expect(error.cause).toBeUndefined();
  });

  it('reads ErrCode from a 400 business-error body thrown by the client (its Code is "undefined")', () => {
    const error = classifyThrown(gatewayError(400, { Success: false, ErrCode: 'Param.NotFound', ErrMessage: 'no plan', RequestId: 'R9' }));
    expect(error).toMatchObject({ apiCode: 'Param.NotFound', retry: { kind: 'permanent' }, requestId: 'R9' });
  });

  it('treats an unknown 4xx as permanent', () => {
    expect(classifyThrown(gatewayError(404, { Code: 'Whatever.NotFound' })).retry.kind).toBe('permanent');
  });
});

describe('classifyDbsFailure: business errors (Success: false)', () => {
  it('classifies by ErrCode', () => {
    const error = classifyDbsFailure({
      kind: 'business',
      body: { Success: false, ErrCode: 'Param.NotFound', ErrMessage: 'The specified parameter BackupPlanId is not valid.', RequestId: 'B1' },
      httpStatus: 200,
    });
    expect(error).toBeInstanceOf(DbsApiError);
    expect(error).toMatchObject({ code: 'Param.NotFound', apiCode: 'Param.NotFound', httpStatus: 200, requestId: 'B1', retry: { kind: 'permanent' } });
  });

  it('retries an unknown business error on HTTP 200 rather than dropping the poll', () => {
    const error = classifyDbsFailure({ kind: 'business', body: { Success: false, ErrCode: 'Odd.Thing' }, httpStatus: 200 });
    expect(error.retry).toEqual({ kind: 'retryable' });
  });

  it('honours a throttle header on a business-error answer', () => {
    const error = classifyDbsFailure({
      kind: 'business',
      body: { Success: false, ErrCode: 'Throttling.User' },
      httpStatus: 200,
      headers: { 'x-ratelimit-user': 'Limit:5,Remain:0,TimeLeft:900,Reset:1' },
    });
    expect(error.retry).toEqual({ kind: 'rate-limited', delayMs: 900 });
  });
});

describe('classifyDbsFailure: error envelopes (HTTP 200, Success: false, real status in the body)', () => {
  const business = (body: Record<string, unknown>, httpStatus?: number) =>
    classifyDbsFailure({ kind: 'business', body: { Success: false, RequestId: 'E1', ...body }, ...(httpStatus !== undefined ? { httpStatus } : {}) });

  it.each<[string, Record<string, unknown>, number | undefined, string, number]>([
    [
      'Request.Forbidden on 200 with 403 in the body',
      { ErrCode: 'Request.Forbidden', ErrMessage: 'Have no Permissions', HttpStatusCode: 403 },
      200,
      'permanent',
      403,
    ],
    ['an unknown code on 200 with 403 in the body', { ErrCode: 'Odd.Thing', HttpStatusCode: 403 }, 200, 'permanent', 403],
    ['an unknown code on 200 with 503 in the body', { ErrCode: 'Odd.Thing', HttpStatusCode: 503 }, 200, 'retryable', 503],
    ['an unknown code on 200 with 200 in the body', { ErrCode: 'Odd.Thing', HttpStatusCode: 200 }, 200, 'retryable', 200],
    ['a body status as a string', { ErrCode: 'Odd.Thing', HttpStatusCode: '400' }, 200, 'permanent', 400],
    ['no transport status: the body decides', { ErrCode: 'Odd.Thing', HttpStatusCode: 404 }, undefined, 'permanent', 404],
    ['a 5xx transport status wins over a 200 body', { ErrCode: 'Odd.Thing', HttpStatusCode: 200 }, 502, 'retryable', 502],
    ['DBS.InternalError is retryable', { ErrCode: 'DBS.InternalError', HttpStatusCode: 500 }, 200, 'retryable', 500],
    ['InvalidParameterValid is permanent', { ErrCode: 'InvalidParameterValid', HttpStatusCode: 400 }, 200, 'permanent', 400],
    ['Param.NotFound is permanent', { ErrCode: 'Param.NotFound', HttpStatusCode: 400 }, 200, 'permanent', 400],
  ])('%s', (_name, body, transport, kind, status) => {
    const error = business(body, transport);
    expect(error.retry.kind).toBe(kind);
    expect(error.httpStatus).toBe(status);
    expect(error.requestId).toBe('E1');
  });

  it('Param.NotFound is no longer worded as "plan not found" (it is the generic invalid-parameter code)', () => {
    expect(business({ ErrCode: 'Param.NotFound' }, 200).message).not.toMatch(/not found/);
  });
});

describe('classifyDbsFailure: no response', () => {
  it('a read timeout is retryable and does not echo the URL', () => {
    const timeout = Object.assign(new Error('ReadTimeout: 10000. POST /?BackupPlanId=p&Signature=SIG failed.'), { name: 'RequestTimeoutError' });
    const error = classifyThrown(timeout);
    expect(error).toMatchObject({ code: 'Timeout', retry: { kind: 'retryable' } });
    expect(error.message).not.toContain('SIG');
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND'])('%s is a retryable network error', (errno) => {
    const error = classifyThrown(Object.assign(new Error(`connect ${errno} 127.0.0.1:1`), { code: errno }));
    expect(error).toMatchObject({ code: 'NetworkError', retry: { kind: 'retryable' } });
    expect(error.message).toContain(errno);
  });

  it('a body that is not JSON is an invalid response', () => {
    expect(classifyThrown(new SyntaxError('Unexpected token < in JSON'))).toMatchObject({ code: 'InvalidResponse', retry: { kind: 'retryable' } });
  });

  it('missing credentials say which variables to set', () => {
    const error = classifyThrown(Object.assign(new Error('Please set up the credentials correctly.'), { code: 'InvalidCredentials' }));
    expect(error.message).toMatch(/ALIBABA_CLOUD_ACCESS_KEY_ID/);
  });
});

describe('throttleDelayFromHeaders', () => {
  it.each([
    [{ 'x-ratelimit-user-api': 'Limit:1,Remain:0,TimeLeft:2000,Reset:1700000000' }, 2000],
    [{ 'x-ratelimit-user': 'Limit:1,Remain:0,TimeLeft:450,Reset:1' }, 450],
    [{ 'x-ratelimit-user-api': 'Limit:1,Remain:0,TimeLeft:300,Reset:1', 'x-ratelimit-user': 'Limit:9,Remain:0,TimeLeft:1200,Reset:1' }, 1200],
    [{ 'x-ratelimit-user-api': 'Limit:1,Remain:0,TimeLeft:999999999,Reset:1' }, 300_000],
  ])('%j → %i ms', (headers, expected) => {
    expect(throttleDelayFromHeaders(headers)).toBe(expected);
  });

  it.each([[undefined], [{}], [{ 'x-ratelimit-user': 'garbage' }], [{ other: 'TimeLeft:5' }]])('%j → undefined', (headers) => {
    expect(throttleDelayFromHeaders(headers)).toBeUndefined();
  });
});
