/**
 * Request-signature verification for the DBS simulator, pure (no I/O, the
 * clock and the nonce cache are passed in). Two schemes, as the real gateway
 * accepts them (shared/reference/dbs-api.md, "Signing"):
 *
 * - V3 `ACS3-HMAC-SHA256`: `Authorization` header naming its own
 *   `SignedHeaders`, body hash in `x-acs-content-sha256`, action/version in
 *   `x-acs-action` / `x-acs-version`, date in `x-acs-date`.
 * - RPC HMAC-SHA1 (`@alicloud/pop-core`, openapi-client with
 *   `signatureAlgorithm: 'v2'`): everything, including `Signature`, among the
 *   parameters — in the query or an `application/x-www-form-urlencoded` body.
 *
 * The builders are exported so tests can reproduce the published vectors and
 * hand-sign requests (stale dates, reused nonces) with the same code.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const V3_ALGORITHM = 'ACS3-HMAC-SHA256';
/** Largest allowed difference between the request's date and the server clock (15 min). */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** RFC 3986 percent-encoding: `A-Z a-z 0-9 - _ . ~` kept, everything else (space too) `%XX`. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export type ParamList = Record<string, string> | ReadonlyArray<readonly [string, string]>;

function entriesOf(params: ParamList): Array<[string, string]> {
  return Array.isArray(params) ? params.map(([k, v]) => [k, v] as [string, string]) : Object.entries(params as Record<string, string>);
}

function byName(a: [string, string], b: [string, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/** Canonical query: sorted by name, names and values percent-encoded, `k=` for an empty value, joined by `&`. */
export function canonicalQuery(params: ParamList): string {
  return entriesOf(params)
    .sort(byName)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v ?? '')}`)
    .join('&');
}

export type HeaderMap = Record<string, string | readonly string[] | undefined>;

/** Values of one header (case-insensitive name), trimmed; several occurrences are sorted as the client does. */
function headerValues(headers: HeaderMap, name: string): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    if (typeof value === 'string') out.push(value.trim());
    else for (const v of value) out.push(v.trim());
  }
  return out.sort();
}

/** Canonical headers for the given signed header names: `name:value\n` each, sorted by name. */
export function canonicalHeaders(headers: HeaderMap, signedHeaders: readonly string[]): string {
  return [...signedHeaders]
    .map((h) => h.toLowerCase())
    .sort()
    .map((h) => `${h}:${headerValues(headers, h).join(',')}\n`)
    .join('');
}

export interface V3CanonicalInput {
  method: string;
  /** Default `/`. */
  path?: string;
  query: ParamList;
  headers: HeaderMap;
  /** Lower-case header names, in any order. */
  signedHeaders: readonly string[];
  /** Hex sha256 of the body. */
  payloadHash: string;
}

export function v3CanonicalRequest(input: V3CanonicalInput): string {
  const signed = [...input.signedHeaders].map((h) => h.toLowerCase()).sort();
  return [
    input.method.toUpperCase(),
    input.path ?? '/',
    canonicalQuery(input.query),
    canonicalHeaders(input.headers, signed),
    signed.join(';'),
    input.payloadHash,
  ].join('\n');
}

export function v3StringToSign(canonicalRequest: string): string {
  return `${V3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
}

export function v3Signature(accessKeySecret: string, stringToSign: string): string {
  return createHmac('sha256', accessKeySecret).update(stringToSign).digest('hex');
}

export interface ParsedAuthorization {
  algorithm: string;
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=a;b,Signature=…`; undefined when it is not that shape. */
export function parseV3Authorization(header: string): ParsedAuthorization | undefined {
  const match = /^\s*(\S+)\s+(.*)$/.exec(header);
  if (!match) return undefined;
  const fields: Record<string, string> = {};
  for (const part of (match[2] ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  if (fields.Credential === undefined || fields.SignedHeaders === undefined || fields.Signature === undefined) {
    return undefined;
  }
  return {
    algorithm: match[1] ?? '',
    accessKeyId: fields.Credential,
    signedHeaders: fields.SignedHeaders.split(';').filter(Boolean),
    signature: fields.Signature,
  };
}

/** `YYYY-MM-DDThh:mm:ssZ` of a time, as the clients write `x-acs-date` / `Timestamp`. */
export function acsDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Parses an ISO 8601 UTC date (`…Z`); NaN when it is not one. */
export function parseAcsDate(value: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value)) return Number.NaN;
  return Date.parse(value);
}

export interface SignV3Input {
  accessKeyId: string;
  accessKeySecret: string;
  method?: string;
  /** `host[:port]`. */
  host: string;
  action: string;
  version: string;
  query?: Record<string, string>;
  /** Raw body (e.g. a form string); default empty. */
  body?: string;
  contentType?: string;
  /** Default: now. */
  date?: string;
  /** Default: random. */
  nonce?: string;
}

/** Builds the headers of a V3-signed request, as @alicloud/openapi-client does (for tests and tools). */
export function signV3(input: SignV3Input): Record<string, string> {
  const body = input.body ?? '';
  const headers: Record<string, string> = {
    host: input.host,
    'x-acs-action': input.action,
    'x-acs-version': input.version,
    'x-acs-date': input.date ?? acsDate(Date.now()),
    'x-acs-signature-nonce': input.nonce ?? createHash('sha1').update(`${Math.random()}${Date.now()}`).digest('hex'),
    'x-acs-content-sha256': sha256Hex(body),
  };
  if (input.contentType) headers['content-type'] = input.contentType;
  const signedHeaders = Object.keys(headers).sort();
  const canonical = v3CanonicalRequest({
    method: input.method ?? 'POST',
    query: input.query ?? {},
    headers,
    signedHeaders,
    payloadHash: headers['x-acs-content-sha256'] ?? '',
  });
  const signature = v3Signature(input.accessKeySecret, v3StringToSign(canonical));
  headers.authorization = `${V3_ALGORITHM} Credential=${input.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${signature}`;
  return headers;
}

/** RPC string to sign: `METHOD&%2F&` + percentEncode(canonical query of every parameter but `Signature`). */
export function rpcStringToSign(method: string, params: ParamList): string {
  const kept = entriesOf(params).filter(([k]) => k !== 'Signature');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalQuery(kept))}`;
}

/** base64 HMAC-SHA1 with key `secret&`. */
export function rpcSignature(accessKeySecret: string, stringToSign: string): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign).digest('base64');
}

export interface SignRpcInput {
  accessKeyId: string;
  accessKeySecret: string;
  method?: string;
  action: string;
  version: string;
  params?: Record<string, string>;
  /** Default: now. */
  timestamp?: string;
  /** Default: random. */
  nonce?: string;
}

/** Every parameter of an RPC HMAC-SHA1-signed request, `Signature` included (send them as query or form body). */
export function signRpc(input: SignRpcInput): Record<string, string> {
  const params: Record<string, string> = {
    Action: input.action,
    Version: input.version,
    Format: 'JSON',
    AccessKeyId: input.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: input.nonce ?? createHash('sha1').update(`${Math.random()}${Date.now()}`).digest('hex'),
    Timestamp: input.timestamp ?? acsDate(Date.now()),
    ...input.params,
  };
  params.Signature = rpcSignature(input.accessKeySecret, rpcStringToSign(input.method ?? 'POST', params));
  return params;
}

/**
 * Remembers nonces for `ttlMs` (the clock-skew window: an older request is
 * rejected by its date anyway), at most `max` of them; past the cap the
 * oldest are forgotten first (insertion order of a Map).
 */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly ttlMs = MAX_CLOCK_SKEW_MS * 2,
    private readonly max = 100_000,
  ) {}

  /** Records the nonce; false when it was already seen (and not yet expired). */
  use(nonce: string, nowMs: number): boolean {
    const at = this.seen.get(nonce);
    if (at !== undefined && nowMs - at < this.ttlMs) return false;
    if (at !== undefined) this.seen.delete(nonce);
    this.seen.set(nonce, nowMs);
    this.evict(nowMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private evict(nowMs: number): void {
    for (const [nonce, at] of this.seen) {
      if (this.seen.size > this.max || nowMs - at >= this.ttlMs) this.seen.delete(nonce);
      else break;
    }
  }
}

/** A gateway-level rejection: HTTP status and `Code` of the error body. */
export interface SignatureRejection {
  ok: false;
  status: number;
  code: string;
  message: string;
}

export interface VerifiedRequest {
  ok: true;
  scheme: 'v3' | 'rpc';
  accessKeyId: string;
  action: string;
  version: string;
  /** Business parameters: query and form body merged, protocol parameters removed. */
  params: Record<string, string>;
}

export interface IncomingSignedRequest {
  method: string;
  path: string;
  /** Decoded query parameters, in order. */
  query: ReadonlyArray<readonly [string, string]>;
  headers: HeaderMap;
  /** Raw body bytes. */
  body: Buffer;
  /** Decoded form-body parameters (empty when the body is not a form). */
  form: ReadonlyArray<readonly [string, string]>;
}

export interface VerifyContext {
  /** Secret of an AccessKeyId, undefined when unknown. */
  secretOf(accessKeyId: string): string | undefined;
  nowMs: number;
  nonces: NonceCache;
  /** Known actions; a known-good request for another one is `InvalidApi.NotFound`. */
  actions: ReadonlySet<string>;
  /** Accepted API version. */
  version: string;
}

const PROTOCOL_PARAMS = new Set([
  'Action',
  'Version',
  'Format',
  'AccessKeyId',
  'SignatureMethod',
  'SignatureVersion',
  'SignatureNonce',
  'SignatureType',
  'Timestamp',
  'Signature',
  'SecurityToken',
  'RegionId',
]);

function reject(status: number, code: string, message: string): SignatureRejection {
  return { ok: false, status, code, message };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function lastValue(list: ReadonlyArray<readonly [string, string]>, name: string): string | undefined {
  let out: string | undefined;
  for (const [k, v] of list) if (k === name) out = v;
  return out;
}

function firstHeader(headers: HeaderMap, name: string): string | undefined {
  const values = headerValues(headers, name);
  return values.length ? values[0] : undefined;
}

function businessParams(query: IncomingSignedRequest['query'], form: IncomingSignedRequest['form']): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [k, v] of [...query, ...form]) if (!PROTOCOL_PARAMS.has(k)) params[k] = v;
  return params;
}

const MISSING = (name: string) =>
  reject(400, 'MissingParameter', `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);

/**
 * Checks a request the way the gateway does: action and version present,
 * action known, AccessKeyId known, date within 15 minutes, signature right,
 * nonce fresh (recorded only once the signature is right).
 */
export function verifyRequest(req: IncomingSignedRequest, ctx: VerifyContext): VerifiedRequest | SignatureRejection {
  const authorization = firstHeader(req.headers, 'authorization');
  const all = [...req.query, ...req.form];
  const isV3 = authorization?.trim().startsWith(V3_ALGORITHM) === true;

  const action = isV3 ? (firstHeader(req.headers, 'x-acs-action') ?? lastValue(all, 'Action')) : lastValue(all, 'Action');
  const version = isV3 ? (firstHeader(req.headers, 'x-acs-version') ?? lastValue(all, 'Version')) : lastValue(all, 'Version');
  if (!action) return MISSING('Action');
  if (!version) return MISSING('Version');
  if (version !== ctx.version) return reject(400, 'InvalidVersion', `Specified parameter Version is not valid.`);
  if (!ctx.actions.has(action)) {
    return reject(404, 'InvalidApi.NotFound', 'Specified api is not found, please check your url and method.');
  }

  if (isV3) {
    const auth = parseV3Authorization(authorization ?? '');
    if (!auth || auth.algorithm !== V3_ALGORITHM) {
      return reject(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.');
    }
    const secret = ctx.secretOf(auth.accessKeyId);
    if (secret === undefined) return reject(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    const date = firstHeader(req.headers, 'x-acs-date');
    if (!date) return MISSING('x-acs-date');
    const at = parseAcsDate(date);
    if (Number.isNaN(at)) return reject(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
    if (Math.abs(ctx.nowMs - at) > MAX_CLOCK_SKEW_MS) {
      return reject(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
    }
    const nonce = firstHeader(req.headers, 'x-acs-signature-nonce');
    if (!nonce) return MISSING('x-acs-signature-nonce');
    const signed = auth.signedHeaders.map((h) => h.toLowerCase());
    for (const required of ['x-acs-date', 'x-acs-signature-nonce']) {
      if (!signed.includes(required)) {
        return reject(400, 'IncompleteSignature', `The request signature does not sign the header ${required}.`);
      }
    }
    const bodyHash = sha256Hex(req.body);
    const declared = firstHeader(req.headers, 'x-acs-content-sha256');
    if (declared !== undefined && declared.toLowerCase() !== bodyHash) {
      return reject(400, 'SignatureDoesNotMatch', 'The request body does not match x-acs-content-sha256.');
    }
    const canonical = v3CanonicalRequest({
      method: req.method,
      path: req.path,
      query: req.query,
      headers: req.headers,
      signedHeaders: signed,
      payloadHash: declared ?? bodyHash,
    });
    const stringToSign = v3StringToSign(canonical);
    if (!safeEqual(v3Signature(secret, stringToSign), auth.signature.toLowerCase())) {
      return reject(400, 'SignatureDoesNotMatch', `The request signature does not conform to Aliyun standards. server string to sign is:${stringToSign}`);
    }
    if (!ctx.nonces.use(nonce, ctx.nowMs)) {
      return reject(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    }
    return { ok: true, scheme: 'v3', accessKeyId: auth.accessKeyId, action, version, params: businessParams(req.query, req.form) };
  }

  const accessKeyId = lastValue(all, 'AccessKeyId');
  if (!accessKeyId) return reject(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
  const secret = ctx.secretOf(accessKeyId);
  if (secret === undefined) return reject(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
  const signature = lastValue(all, 'Signature');
  if (!signature) return MISSING('Signature');
  const method = lastValue(all, 'SignatureMethod');
  if (method !== 'HMAC-SHA1') {
    return reject(400, 'InvalidSignatureMethod', 'Specified signature method is not supported.');
  }
  const timestamp = lastValue(all, 'Timestamp');
  if (!timestamp) return MISSING('Timestamp');
  const at = parseAcsDate(timestamp);
  if (Number.isNaN(at)) return reject(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
  if (Math.abs(ctx.nowMs - at) > MAX_CLOCK_SKEW_MS) {
    return reject(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
  }
  const nonce = lastValue(all, 'SignatureNonce');
  if (!nonce) return MISSING('SignatureNonce');
  const stringToSign = rpcStringToSign(req.method, all);
  if (!safeEqual(rpcSignature(secret, stringToSign), signature)) {
    return reject(400, 'SignatureDoesNotMatch', `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`);
  }
  if (!ctx.nonces.use(nonce, ctx.nowMs)) {
    return reject(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
  }
  return { ok: true, scheme: 'rpc', accessKeyId, action, version, params: businessParams(req.query, req.form) };
}
