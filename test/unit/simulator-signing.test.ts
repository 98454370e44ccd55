import { describe, expect, it } from 'vitest';
import {
  canonicalQuery,
  type IncomingSignedRequest,
  NonceCache,
  parseV3Authorization,
  percentEncode,
  rpcSignature,
  rpcStringToSign,
  sha256Hex,
  signRpc,
  signV3,
  type VerifyContext,
  v3CanonicalRequest,
  v3Signature,
  v3StringToSign,
  verifyRequest,
} from '../../dev/simulator/signing.js';

describe('V3 ACS3-HMAC-SHA256: the published worked example', () => {
  const headers = {
    host: 'ecs.cn-shanghai.aliyuncs.com',
    'x-acs-action': 'RunInstances',
    'x-acs-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'x-acs-date': '2023-10-26T10:22:32Z',
    'x-acs-signature-nonce': '3156853299f313e23d1673dc12e1703d',
    'x-acs-version': '2014-05-26',
  };
  const canonical = v3CanonicalRequest({
    method: 'POST',
    path: '/',
    query: { ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', RegionId: 'cn-shanghai' },
    headers,
    signedHeaders: Object.keys(headers),
    payloadHash: sha256Hex(''),
  });

  it('hashes the canonical request to 7ea06492…e259', () => {
    expect(sha256Hex(canonical)).toBe('7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259');
  });

  it('signs to 06563a9e…83c0', () => {
    expect(v3Signature('YourAccessKeySecret', v3StringToSign(canonical))).toBe('06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0');
  });

  it('parses the Authorization header it belongs to', () => {
    const auth = parseV3Authorization(
      'ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0',
    );
    expect(auth).toMatchObject({ algorithm: 'ACS3-HMAC-SHA256', accessKeyId: 'YourAccessKeyId' });
    expect(auth?.signedHeaders).toHaveLength(6);
  });
});

describe('RPC HMAC-SHA1: the published test vector', () => {
  it('signs to OLeaidS1JvxuMvnyHOwuJ+uX5qY=', () => {
    const params = {
      AccessKeyId: 'testid',
      Action: 'DescribeRegions',
      Format: 'XML',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      SignatureVersion: '1.0',
      Timestamp: '2016-02-23T12:46:24Z',
      Version: '2014-05-26',
    };
    expect(rpcSignature('testsecret', rpcStringToSign('GET', params))).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('leaves Signature itself out of the string to sign', () => {
    expect(rpcStringToSign('GET', { A: '1', Signature: 'x' })).toBe(rpcStringToSign('GET', { A: '1' }));
  });
});

describe('canonical query encoding', () => {
  it.each([
    ['space becomes %20', { k: 'a b' }, 'k=a%20b'],
    ['~ is kept', { k: 'a~b' }, 'k=a~b'],
    ['unreserved - _ . are kept', { k: 'a-b_c.d' }, 'k=a-b_c.d'],
    ['empty value is k=', { k: '' }, 'k='],
    ['sorted by name', { b: '2', a: '1', B: '0' }, 'B=0&a=1&b=2'],
    ['reserved and sub-delims are encoded', { k: "!'()*+/=&:" }, 'k=%21%27%28%29%2A%2B%2F%3D%26%3A'],
    ['UTF-8 bytes are encoded', { k: 'é' }, 'k=%C3%A9'],
    ['names are encoded too', { 'a b': '1' }, 'a%20b=1'],
  ])('%s', (_name, params, expected) => {
    expect(canonicalQuery(params)).toBe(expected);
  });

  it('percentEncode matches RFC 3986', () => {
    expect(percentEncode('A-Za-z0-9-_.~')).toBe('A-Za-z0-9-_.~');
    expect(percentEncode(' ')).toBe('%20');
  });
});

describe('verifyRequest', () => {
  const secret = 'the-secret';
  const ctx = (nowMs = Date.now()): VerifyContext => ({
    secretOf: (id) => (id === 'the-id' ? secret : undefined),
    nowMs,
    nonces: new NonceCache(),
    actions: new Set(['DescribeBackupSetDownloadTaskList']),
    version: '2019-03-06',
  });
  const v3Request = (over: Partial<Parameters<typeof signV3>[0]> = {}): IncomingSignedRequest => {
    const query = over.query ?? { BackupPlanId: 'p1', PageNum: '0' };
    const headers = signV3({
      accessKeyId: 'the-id',
      accessKeySecret: secret,
      host: '127.0.0.1:1',
      action: 'DescribeBackupSetDownloadTaskList',
      version: '2019-03-06',
      ...over,
      query,
    });
    return { method: 'POST', path: '/', query: Object.entries(query), headers, body: Buffer.from(over.body ?? ''), form: [] };
  };

  it('accepts a V3 request and returns its business parameters', () => {
    const result = verifyRequest(v3Request(), ctx());
    expect(result).toMatchObject({ ok: true, scheme: 'v3', action: 'DescribeBackupSetDownloadTaskList' });
    expect(result.ok && result.params).toEqual({ BackupPlanId: 'p1', PageNum: '0' });
  });

  it('rejects a V3 request whose query was changed', () => {
    const req = v3Request();
    const result = verifyRequest({ ...req, query: [['BackupPlanId', 'p2']] }, ctx());
    expect(result).toMatchObject({ ok: false, status: 400, code: 'SignatureDoesNotMatch' });
  });

  it('rejects a body that does not match x-acs-content-sha256', () => {
    const req = v3Request({ body: 'a=1', contentType: 'application/x-www-form-urlencoded' });
    const result = verifyRequest({ ...req, body: Buffer.from('a=2') }, ctx());
    expect(result).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  it('rejects a reused nonce, and a stale date', () => {
    const c = ctx();
    const req = v3Request({ nonce: 'n-1' });
    expect(verifyRequest(req, c).ok).toBe(true);
    expect(verifyRequest(req, c)).toMatchObject({ ok: false, code: 'SignatureNonceUsed' });
    const stale = v3Request({ date: new Date(Date.now() - 16 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z') });
    expect(verifyRequest(stale, c)).toMatchObject({ ok: false, status: 400, code: 'InvalidTimeStamp.Expired' });
  });

  it('rejects unknown keys, missing and unknown actions', () => {
    expect(verifyRequest(v3Request({ accessKeyId: 'nobody' }), ctx())).toMatchObject({
      status: 404,
      code: 'InvalidAccessKeyId.NotFound',
    });
    expect(verifyRequest(v3Request({ action: 'DeleteEverything' }), ctx())).toMatchObject({
      status: 404,
      code: 'InvalidApi.NotFound',
    });
    const bare: IncomingSignedRequest = { method: 'GET', path: '/', query: [], headers: {}, body: Buffer.alloc(0), form: [] };
    expect(verifyRequest(bare, ctx())).toMatchObject({ status: 400, code: 'MissingParameter' });
  });

  it('accepts an RPC request with its parameters in the query or in a form body', () => {
    const params = signRpc({
      accessKeyId: 'the-id',
      accessKeySecret: secret,
      action: 'DescribeBackupSetDownloadTaskList',
      version: '2019-03-06',
      params: { BackupPlanId: 'p 1' },
    });
    const inQuery: IncomingSignedRequest = {
      method: 'POST',
      path: '/',
      query: Object.entries(params),
      headers: {},
      body: Buffer.alloc(0),
      form: [],
    };
    const c = ctx();
    expect(verifyRequest(inQuery, c)).toMatchObject({ ok: true, scheme: 'rpc', params: { BackupPlanId: 'p 1' } });
    const again = signRpc({ accessKeyId: 'the-id', accessKeySecret: secret, action: 'DescribeBackupSetDownloadTaskList', version: '2019-03-06' });
    const inForm: IncomingSignedRequest = { ...inQuery, query: [], form: Object.entries(again) };
    expect(verifyRequest(inForm, c)).toMatchObject({ ok: true });
    const wrong = signRpc({ accessKeyId: 'the-id', accessKeySecret: 'nope', action: 'DescribeBackupSetDownloadTaskList', version: '2019-03-06' });
    expect(verifyRequest({ ...inQuery, query: Object.entries(wrong) }, c)).toMatchObject({ code: 'SignatureDoesNotMatch' });
  });
});

describe('NonceCache', () => {
  it('forgets nonces after the TTL and past its cap', () => {
    const cache = new NonceCache(1000, 3);
    expect(cache.use('a', 0)).toBe(true);
    expect(cache.use('a', 500)).toBe(false);
    expect(cache.use('a', 1500)).toBe(true);
    for (const n of ['b', 'c', 'd', 'e']) cache.use(n, 1600);
    expect(cache.size).toBeLessThanOrEqual(3);
  });
});
