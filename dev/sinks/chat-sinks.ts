/**
 * Local stand-ins for the chat platforms and a Standard Webhooks receiver,
 * for tests and trying configs: one loopback HTTP server, one path prefix per
 * platform. Each path checks what the platform checks — the DingTalk
 * `timestamp`/`sign` query, the Feishu `timestamp`/`sign` body fields, the
 * WeCom `key`, the Teams `sig`, the Standard Webhooks headers — and answers
 * the way the platform does (HTTP 200 with `errcode`/`code` for the Chinese
 * platforms, HTTP statuses for Teams and webhooks). Answers can be scripted:
 * the platform's rate-limit error, a bad-signature error, a revoked robot,
 * a server error.
 *
 * The signature checks are written here from the platforms' documentation,
 * independently of src/notify (a shared bug would otherwise pass its own test).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { arrivals } from './arrivals.js';
import { listenWithBodies } from './http-listener.js';

export const CHAT_PLATFORMS = ['webhook', 'dingtalk', 'feishu', 'wecom', 'teams'] as const;
export type ChatPlatform = (typeof CHAT_PLATFORMS)[number];

/** A scripted answer, consumed one per request of that platform. */
export type ChatSinkAnswer = 'rate-limited' | 'bad-signature' | 'revoked' | 'server-error';

export interface ChatArrival {
  readonly platform: ChatPlatform;
  readonly path: string;
  /** The parsed JSON body. */
  readonly body: unknown;
  /** The body exactly as received. */
  readonly raw: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly receivedAt: number;
}

export interface ChatSinkRequest {
  readonly platform: ChatPlatform;
  /** HTTP status answered. */
  readonly status: number;
  /** The platform error code answered (0 = ok), when the platform answers with one. */
  readonly code?: number;
  /** What the sink concluded about the credentials: `unsigned` = a platform without signing whose key/sig was right. */
  readonly auth: 'ok' | 'bad' | 'unsigned';
  readonly at: number;
}

export interface ChatSinkOptions {
  /** DingTalk 加签 secret (unsigned requests are refused, as by a robot with 加签 on). Default: `SECdingtalk-test-secret`. */
  readonly dingtalkSecret?: string;
  /** Feishu signing secret (unsigned requests are refused). Default: `feishu-test-secret`. */
  readonly feishuSecret?: string;
  /** Standard Webhooks secret. Default: `whsec_` + base64 of 32 fixed bytes. */
  readonly webhookSecret?: string;
  readonly host?: string;
  readonly port?: number;
}

export interface ChatSink {
  /** The webhook URL of a platform on this sink, with its credential (access_token, key, sig); `wrong` gives a bad one. */
  url(platform: ChatPlatform, options?: { wrongCredential?: boolean }): string;
  readonly secrets: { readonly dingtalk: string; readonly feishu: string; readonly webhook: string };
  /** Accepted messages, in order. */
  readonly messages: ChatArrival[];
  /** Every request, accepted or not. */
  readonly requests: ChatSinkRequest[];
  respondWith(platform: ChatPlatform, ...answers: ChatSinkAnswer[]): void;
  waitFor(countOrPredicate: number | ((messages: readonly ChatArrival[]) => boolean), timeoutMs?: number): Promise<ChatArrival[]>;
  close(): Promise<void>;
}

const CREDENTIAL = {
  dingtalk: 'dingtalk-access-token',
  feishu: 'feishu-hook-token',
  wecom: 'wecom-robot-key',
  teams: 'teams-flow-sig',
  webhook: 'receiver',
} as const;
const DEFAULT_WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

/** What each platform answers for a scripted or detected condition: HTTP status, JSON body, headers. */
type Reply = { status: number; body: string; code?: number; headers?: Record<string, string> };
const json = (status: number, value: Record<string, unknown>, code?: number): Reply => ({
  status,
  body: JSON.stringify(value),
  ...(code !== undefined ? { code } : {}),
});

const REPLIES: Record<ChatPlatform, Record<ChatSinkAnswer | 'ok', Reply>> = {
  dingtalk: {
    ok: json(200, { errcode: 0, errmsg: 'ok' }, 0),
    'rate-limited': json(200, { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' }, 130101),
    'bad-signature': json(200, { errcode: 310000, errmsg: 'sign not match, more: [https://example.invalid/doc]' }, 310000),
    revoked: json(200, { errcode: 300001, errmsg: 'token is not exist' }, 300001),
    'server-error': { status: 502, body: '<html>bad gateway</html>' },
  },
  feishu: {
    ok: json(200, { code: 0, msg: 'success', data: {} }, 0),
    'rate-limited': json(200, { code: 11232, msg: 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1]', data: {} }, 11232),
    'bad-signature': json(200, { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time', data: {} }, 19021),
    revoked: json(200, { code: 19001, msg: 'param invalid: incoming webhook access token invalid', data: {} }, 19001),
    'server-error': { status: 500, body: 'internal error' },
  },
  wecom: {
    ok: json(200, { errcode: 0, errmsg: 'ok' }, 0),
    'rate-limited': json(200, { errcode: 45009, errmsg: 'api freq out of limit' }, 45009),
    'bad-signature': json(200, { errcode: 93000, errmsg: 'invalid webhook url' }, 93000),
    revoked: json(200, { errcode: 93000, errmsg: 'invalid webhook url' }, 93000),
    'server-error': { status: 503, body: '' },
  },
  teams: {
    ok: { status: 202, body: '' },
    'rate-limited': { status: 429, body: '{"error":{"code":"TooManyRequests"}}', headers: { 'retry-after': '1' } },
    'bad-signature': { status: 401, body: '{"error":{"code":"DirectApiAuthorizationRequired"}}' },
    revoked: { status: 404, body: '{"error":{"code":"WorkflowNotFound"}}' },
    'server-error': { status: 502, body: '' },
  },
  webhook: {
    ok: { status: 204, body: '' },
    'rate-limited': { status: 429, body: 'slow down', headers: { 'retry-after': '1' } },
    'bad-signature': { status: 401, body: 'bad signature' },
    revoked: { status: 410, body: 'gone' },
    'server-error': { status: 500, body: 'oops' },
  },
};

const equal = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** DingTalk: sign = base64(HmacSHA256(key = secret, data = timestamp + "\n" + secret)), timestamp in ms within an hour. */
function dingtalkAuth(query: URLSearchParams, secret: string): 'ok' | 'bad' {
  const timestamp = query.get('timestamp');
  const sign = query.get('sign');
  if (query.get('access_token') !== CREDENTIAL.dingtalk) return 'bad';
  // The robot has 加签 on (the sink always holds a secret): an unsigned request is refused, as DingTalk does.
  if (!timestamp || !sign) return 'bad';
  if (!/^\d{13}$/.test(timestamp) || Math.abs(Date.now() - Number(timestamp)) > 3_600_000) return 'bad';
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(Buffer.from(`${timestamp}\n${secret}`, 'utf8'))
    .digest('base64');
  return equal(sign, expected) ? 'ok' : 'bad';
}

/** Feishu: sign = base64(HmacSHA256(key = timestamp + "\n" + secret, data = empty)), timestamp in s within an hour. */
function feishuAuth(path: string, body: Record<string, unknown>, secret: string): 'ok' | 'bad' {
  if (!path.endsWith(`/hook/${CREDENTIAL.feishu}`)) return 'bad';
  const { timestamp, sign } = body;
  if (typeof timestamp !== 'string' || typeof sign !== 'string' || !/^\d{10}$/.test(timestamp)) return 'bad';
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 3_600) return 'bad';
  const mac = createHmac('sha256', Buffer.from(`${timestamp}\n${secret}`, 'utf8'));
  return equal(sign, mac.digest('base64')) ? 'ok' : 'bad';
}

/** Standard Webhooks: v1,base64(HmacSHA256(key = base64decode(secret without whsec_), data = id.timestamp.body)). */
function webhookAuth(headers: IncomingMessage['headers'], raw: string, secret: string): 'ok' | 'bad' {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return 'bad';
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return 'bad';
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${raw}`).digest('base64')}`;
  return signatures.split(' ').some((s) => equal(s, expected)) ? 'ok' : 'bad';
}

export async function startChatSink(options: ChatSinkOptions = {}): Promise<ChatSink> {
  const secrets = {
    dingtalk: options.dingtalkSecret ?? 'SECdingtalk-test-secret',
    feishu: options.feishuSecret ?? 'feishu-test-secret',
    webhook: options.webhookSecret ?? DEFAULT_WEBHOOK_SECRET,
  };
  const host = options.host ?? '127.0.0.1';
  const messages: ChatArrival[] = [];
  const requests: ChatSinkRequest[] = [];
  const arrived = arrivals(messages, 'chat sink');
  const scripts = new Map<ChatPlatform, ChatSinkAnswer[]>(CHAT_PLATFORMS.map((p) => [p, []]));

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const url = new URL(req.url ?? '/', 'http://sink');
    const platform = CHAT_PLATFORMS.find((p) => url.pathname.startsWith(`/${p}/`));
    if (!platform || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    let body: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      body = {};
    }
    let auth: 'ok' | 'bad' | 'unsigned';
    switch (platform) {
      case 'dingtalk':
        auth = dingtalkAuth(url.searchParams, secrets.dingtalk);
        break;
      case 'feishu':
        auth = feishuAuth(url.pathname, body, secrets.feishu);
        break;
      case 'wecom':
        auth = url.searchParams.get('key') === CREDENTIAL.wecom ? 'unsigned' : 'bad';
        break;
      case 'teams':
        auth = url.searchParams.get('sig') === CREDENTIAL.teams ? 'unsigned' : 'bad';
        break;
      case 'webhook':
        auth = webhookAuth(req.headers, raw, secrets.webhook);
        break;
    }
    // Credentials first (the platforms check them before anything else), then the script.
    const scripted = auth === 'bad' ? undefined : scripts.get(platform)?.shift();
    const answer: ChatSinkAnswer | 'ok' = auth === 'bad' ? (platform === 'wecom' || platform === 'teams' ? 'revoked' : 'bad-signature') : (scripted ?? 'ok');
    const reply = REPLIES[platform][answer];
    requests.push({ platform, status: reply.status, ...(reply.code !== undefined ? { code: reply.code } : {}), auth, at: Date.now() });
    if (answer === 'ok') {
      const headers = Object.fromEntries(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])));
      messages.push({ platform, path: url.pathname, body, raw, headers, receivedAt: Date.now() });
    }
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(reply.body);
    arrived.notify();
  };

  const listener = await listenWithBodies(host, options.port ?? 0, handle);
  const base = listener.base;
  const paths: Record<ChatPlatform, (credential: string) => string> = {
    dingtalk: (c) => `/dingtalk/robot/send?access_token=${c}`,
    feishu: (c) => `/feishu/open-apis/bot/v2/hook/${c}`,
    wecom: (c) => `/wecom/cgi-bin/webhook/send?key=${c}`,
    teams: (c) => `/teams/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=${c}`,
    webhook: (c) => `/webhook/${c}/events`,
  };

  return {
    url: (platform, opts = {}) => `${base}${paths[platform](opts.wrongCredential ? `${CREDENTIAL[platform]}-wrong` : CREDENTIAL[platform])}`,
    secrets,
    messages,
    requests,
    respondWith: (platform, ...answers) => {
      scripts.get(platform)?.push(...answers);
    },
    waitFor: arrived.waitFor,
    close: () => listener.close(),
  };
}

// `npx tsx dev/sinks/chat-sinks.ts [port]`: a sink to point a config at by hand (`dbswatch test-notify`).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const sink = await startChatSink({ port: Number(process.argv[2] ?? 0) });
  const lines = CHAT_PLATFORMS.map((p) => `  ${p.padEnd(8)} ${sink.url(p)}`);
  process.stdout.write(`chat sink listening; webhook URLs:\n${lines.join('\n')}\nsecrets: ${JSON.stringify(sink.secrets)}\n`);
  let seen = 0;
  const report = async (): Promise<void> => {
    await sink.waitFor(seen + 1, 2_147_483_647).catch(() => undefined);
    for (const m of sink.messages.slice(seen)) process.stdout.write(`${new Date(m.receivedAt).toISOString()} ${m.platform}: ${m.raw.slice(0, 400)}\n`);
    seen = sink.messages.length;
    return report();
  };
  void report();
}
