/**
 * The new channels' pure edges: answer classification (HTTP status and the
 * platform's JSON error code → retryable / rate-limited / permanent),
 * signing against published or independently computed vectors, rate limits
 * as data, and the config keys with their masking.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ChannelConfig, ConfigError, parseConfig } from '../../src/config.js';
import { classifyHttpAnswer, type HttpAnswer } from '../../src/notify/chat-http.js';
import { DINGTALK_CODES, DINGTALK_RATE_LIMIT_WAIT_MS, dingtalkSign, dingtalkSignedUrl } from '../../src/notify/dingtalk.js';
import { FEISHU_CODES, FEISHU_RATE_LIMIT_WAIT_MS, feishuSign } from '../../src/notify/feishu.js';
import { channelRateLimits, rateLimitKey } from '../../src/notify/rate-limits.js';
import { TEAMS_RATE_LIMIT_WAIT_MS, TEAMS_STATUSES } from '../../src/notify/teams.js';
import { standardWebhookSignature, WEBHOOK_RATE_LIMIT_WAIT_MS, WEBHOOK_STATUSES } from '../../src/notify/webhook.js';
import { WECOM_CODES, WECOM_RATE_LIMIT_WAIT_MS } from '../../src/notify/wecom.js';
import { maskedConfig, secretValues } from '../../src/secrets.js';

const errcode = (body: unknown) => ((body as { errcode?: unknown }).errcode as number | undefined) ?? undefined;
const code = (body: unknown) => ((body as { code?: unknown }).code as number | undefined) ?? undefined;
const PLATFORMS = {
  dingtalk: { kind: 'dingtalk', label: 'DingTalk', codeOf: errcode, codes: DINGTALK_CODES, rateLimitWaitMs: DINGTALK_RATE_LIMIT_WAIT_MS },
  feishu: { kind: 'feishu', label: 'Feishu', codeOf: code, codes: FEISHU_CODES, rateLimitWaitMs: FEISHU_RATE_LIMIT_WAIT_MS },
  wecom: { kind: 'wecom', label: 'WeCom', codeOf: errcode, codes: WECOM_CODES, rateLimitWaitMs: WECOM_RATE_LIMIT_WAIT_MS },
  teams: { kind: 'teams', label: 'Teams', codes: {}, statuses: TEAMS_STATUSES, rateLimitWaitMs: TEAMS_RATE_LIMIT_WAIT_MS },
  webhook: { kind: 'webhook', label: 'Webhook receiver', codes: {}, statuses: WEBHOOK_STATUSES, rateLimitWaitMs: WEBHOOK_RATE_LIMIT_WAIT_MS },
} as const;

const answer = (status: number, body: unknown = '', retryAfter: string | null = null): HttpAnswer => ({
  status,
  text: typeof body === 'string' ? body : JSON.stringify(body),
  retryAfter,
});

describe('answer classification', () => {
  it.each([
    // platform, HTTP status, body, expected policy, delay (rate-limited only)
    ['dingtalk', 200, { errcode: 0, errmsg: 'ok' }, 'ok', undefined],
    ['dingtalk', 200, { errcode: 130101, errmsg: 'send too fast' }, 'rate-limited', 60_000],
    ['dingtalk', 200, { errcode: 310000, errmsg: 'sign not match' }, 'permanent', undefined],
    ['dingtalk', 200, { errcode: 300001, errmsg: 'token is not exist' }, 'permanent', undefined],
    ['dingtalk', 200, { errcode: -1, errmsg: 'system busy' }, 'retryable', undefined],
    ['dingtalk', 200, { errcode: 424242, errmsg: 'new' }, 'retryable', undefined],
    ['dingtalk', 502, '<html>bad gateway</html>', 'retryable', undefined],
    ['feishu', 200, { code: 0, msg: 'success', data: {} }, 'ok', undefined],
    ['feishu', 200, { StatusCode: 0, StatusMessage: 'success' }, 'ok', undefined],
    ['feishu', 200, { code: 9499, msg: 'Too Many Requests' }, 'rate-limited', 10_000],
    ['feishu', 200, { code: 11232, msg: 'frequency limited' }, 'rate-limited', 10_000],
    ['feishu', 200, { code: 19021, msg: 'sign match fail' }, 'permanent', undefined],
    ['feishu', 200, { code: 19024, msg: 'Key Words Not Found' }, 'permanent', undefined],
    ['feishu', 400, { code: 19001, msg: 'param invalid: incoming webhook access token invalid' }, 'permanent', undefined],
    ['wecom', 200, { errcode: 0, errmsg: 'ok' }, 'ok', undefined],
    ['wecom', 200, { errcode: 45009, errmsg: 'api freq out of limit' }, 'rate-limited', 60_000],
    ['wecom', 200, { errcode: 93000, errmsg: 'invalid webhook url' }, 'permanent', undefined],
    ['teams', 202, '', 'ok', undefined],
    ['teams', 200, '1', 'ok', undefined],
    ['teams', 429, '', 'rate-limited', 5_000],
    ['teams', 404, '{"error":{"code":"WorkflowNotFound"}}', 'permanent', undefined],
    ['teams', 413, '', 'permanent', undefined],
    ['teams', 503, '', 'retryable', undefined],
    ['webhook', 204, '', 'ok', undefined],
    ['webhook', 200, '{"errcode":310000}', 'ok', undefined],
    ['webhook', 410, 'gone', 'permanent', undefined],
    ['webhook', 401, 'bad signature', 'permanent', undefined],
    ['webhook', 408, '', 'retryable', undefined],
    ['webhook', 500, 'oops', 'retryable', undefined],
  ] as const)('%s %d %j → %s', (platform, status, body, kind, delayMs) => {
    const error = classifyHttpAnswer(PLATFORMS[platform], 'ops', answer(status, body));
    if (kind === 'ok') {
      expect(error).toBeUndefined();
      return;
    }
    expect(error?.retry.kind).toBe(kind);
    if (delayMs !== undefined) expect(error?.retry).toEqual({ kind: 'rate-limited', delayMs });
    expect(error?.channel).toBe('ops');
    expect(error?.message).toMatch(/\(channel "ops"\)$/);
  });

  it('prefers Retry-After over the platform default', () => {
    expect(classifyHttpAnswer(PLATFORMS.teams, 'ops', answer(429, '', '3'))?.retry).toEqual({ kind: 'rate-limited', delayMs: 3_000 });
    expect(classifyHttpAnswer(PLATFORMS.wecom, 'ops', answer(200, { errcode: 45009 }, '2'))?.retry).toEqual({ kind: 'rate-limited', delayMs: 2_000 });
  });

  it('names the code and the reason, never the platform text (it may quote URLs or keywords)', () => {
    const error = classifyHttpAnswer(
      PLATFORMS.dingtalk,
      'ops-ding',
      answer(200, { errcode: 310000, errmsg: 'keywords not in content, more: [https://open.dingtalk.com/x?access_token=SECRET]' }),
    );
    expect(error?.message).toBe(
      `DingTalk answered 200 with error code 310000: the robot's security check failed: signature, keyword or IP allow-list (check secret, keywords and allowed IPs) (channel "ops-ding")`,
    );
    expect(error?.code).toBe('dingtalk_error_310000');
    const teams = classifyHttpAnswer(PLATFORMS.teams, 'ops-teams', answer(404, 'https://prod.westus.logic.azure.com/workflows/x?sig=SECRET'));
    expect(teams?.message).toBe('Teams answered 404: the workflow was deleted or turned off (channel "ops-teams")');
  });
});

describe('signing', () => {
  it('DingTalk: base64 HMAC-SHA256(secret, "timestamp\\nsecret"), urlencoded into the query', () => {
    // Computed with the Python snippet of DingTalk's documentation.
    expect(dingtalkSign('SECabc123456789', 1_700_000_000_000)).toBe('zgw5oyySJByGE/HZSsaFs1cswYMmf8VdhEwRGSpYE1Q=');
    const url = dingtalkSignedUrl('https://oapi.dingtalk.com/robot/send?access_token=T0K', 'SECabc123456789', 1_700_000_000_000);
    expect(url).toBe('https://oapi.dingtalk.com/robot/send?access_token=T0K&timestamp=1700000000000&sign=zgw5oyySJByGE%2FHZSsaFs1cswYMmf8VdhEwRGSpYE1Q%3D');
    expect(dingtalkSignedUrl('https://oapi.dingtalk.com/robot/send?access_token=T0K', undefined, 1)).toBe(
      'https://oapi.dingtalk.com/robot/send?access_token=T0K',
    );
  });

  it('Feishu: base64 HMAC-SHA256 keyed by "timestamp\\nsecret" over an empty message', () => {
    // Computed with the Python snippet of Feishu's documentation.
    expect(feishuSign('feishu-secret-1', 1_700_000_000)).toBe('O+NhcBzGQTPcmDxsV+GPHkM1FmChG6fUDNuJCOKB2pM=');
  });

  it('Standard Webhooks: the example of the specification', () => {
    expect(standardWebhookSignature('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });
});

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const YAML = `
channels:
  hook: { type: webhook, url: "https://hooks.example.com/dbs", secret: "${SECRET}", headers: { X-Api-Key: "receiver-api-key-123" }, ratePerSecond: 2 }
  ding: { type: dingtalk, webhookUrl: "https://oapi.dingtalk.com/robot/send?access_token=ding-token-abcdef", secret: "SECding-signing-secret", messageType: markdown }
  lark: { type: feishu, webhookUrl: "https://open.larksuite.com/open-apis/bot/v2/hook/lark-token-abcdef", secret: "lark-signing-secret" }
  wx: { type: wecom, webhookUrl: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key-abcdef" }
  ms: { type: teams, webhookUrl: "https://prod-00.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=teams-sig-abcdef", timeout: 5s }
`;

describe('config', () => {
  const config = parseConfig(YAML, {}, 'test');

  it('parses every type with its defaults', () => {
    expect(config.channels.hook).toMatchObject({ type: 'webhook', ratePerSecond: 2, timeout: 10_000 });
    expect(config.channels.ding).toMatchObject({ type: 'dingtalk', messageType: 'markdown' });
    expect(parseConfig('channels:\n  d: { type: dingtalk, webhookUrl: "https://oapi.dingtalk.com/robot/send?access_token=x" }\n', {}).channels.d).toMatchObject(
      { messageType: 'actionCard' },
    );
    expect(config.channels.ms).toMatchObject({ type: 'teams', timeout: 5_000 });
  });

  it('masks every URL, secret and header value, and registers them for redaction', () => {
    const printed = JSON.stringify(maskedConfig(config));
    const secrets = [
      'ding-token-abcdef',
      'SECding-signing-secret',
      'lark-token-abcdef',
      'lark-signing-secret',
      'wecom-key-abcdef',
      'teams-sig-abcdef',
      SECRET,
      SECRET.slice(6),
      'receiver-api-key-123',
    ];
    for (const secret of secrets) {
      expect(printed).not.toContain(secret);
      expect(secretValues(config)).toContain(secret);
    }
    expect(printed).toContain('https://open.larksuite.com/***');
    expect(printed).toContain('"X-Api-Key":"***"');
  });

  it.each([
    [
      'channels:\n  h: { type: webhook, url: "https://x.example", secret: "hunter2-not-whsec" }\n',
      'channels.h.secret: must be "whsec_" followed by base64 (at least 24 bytes; value hidden)',
    ],
    ['channels:\n  h: { type: webhook, secret: "x" }\n', 'channels.h.url: is required'],
    [
      `channels:\n  h: { type: webhook, url: "https://x.example", secret: "${SECRET}", headers: { webhook-signature: "v1,forged" } }\n`,
      'channels.h.headers: may not set webhook-*, content-type, content-length or host',
    ],
    [
      'channels:\n  d: { type: dingtalk, webhookUrl: "http://oapi.dingtalk.com/robot/send?access_token=tok-secret" }\n',
      'channels.d.webhookUrl: webhookUrl must be https (plain http is allowed only to a loopback address)',
    ],
    ['channels:\n  d: { type: dingtalk, webhookUrl: "https://oapi.dingtalk.com/robot/send", messageType: card }\n', 'channels.d.messageType:'],
    ['channels:\n  f: { type: feishu, webhookUrl: "not a url tok-secret" }\n', 'channels.f.webhookUrl: webhookUrl is not a valid URL (value hidden)'],
    [
      'channels:\n  w: { type: wecom, webhookUrl: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", secret: "nope-secret" }\n',
      'channels.w: unknown key "secret"',
    ],
    ['channels:\n  t: { type: teams, url: "https://x.example" }\n', 'channels.t: unknown key "url"'],
    ['channels:\n  t: { type: telegram }\n', 'channels.t.type: channel type must be "slack", "email", "webhook", "dingtalk", "feishu", "wecom" or "teams"'],
  ])('refuses %j naming the key', (yaml, problem) => {
    let error: unknown;
    try {
      parseConfig(yaml, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(
      problems.some((p) => p.startsWith(problem)),
      problems.join('\n'),
    ).toBe(true);
    for (const p of problems) expect(p).not.toMatch(/tok-secret|hunter2|nope-secret|forged/);
  });
});

describe('config/dbswatch.example.yaml', () => {
  it('parses with its commented chat and webhook channels switched on', () => {
    const lines = readFileSync('config/dbswatch.example.yaml', 'utf8').split('\n');
    const start = lines.findIndex((l) => l.includes('# --- More channel types'));
    const end = lines.findIndex((l, i) => i > start && !l.startsWith('  #'));
    expect(start).toBeGreaterThan(0);
    const enabled = [...lines.slice(0, start), ...lines.slice(start + 1, end).map((l) => l.replace(/^ {2}# /, '  ')), ...lines.slice(end)].join('\n');
    const env = new Proxy({} as Record<string, string>, {
      get: (_t, name) => {
        const n = name.toString();
        if (n === 'BACKUP_EVENTS_SECRET') return SECRET;
        if (n === 'REDIS_URL') return undefined;
        if (n === 'SMTP_URL') return 'smtp://127.0.0.1:25';
        return n.endsWith('URL') ? `https://example.com/${n}?key=x` : 'value-of-a-variable';
      },
    });
    const config = parseConfig(enabled, env, 'example');
    expect(
      Object.values(config.channels)
        .map((c) => c.type)
        .sort(),
    ).toEqual(['dingtalk', 'email', 'feishu', 'slack', 'teams', 'webhook', 'wecom']);
  });
});

describe('rate limits per webhook', () => {
  const config = parseConfig(YAML, {}, 'test');
  const limits = (name: string) => channelRateLimits(config.channels[name] as ChannelConfig);

  it('follows each platform (with a margin on the window)', () => {
    expect(limits('ding')).toEqual([{ limit: 20, windowMs: 66_000 }]);
    expect(limits('lark')).toEqual([
      { limit: 5, windowMs: 1_250 },
      { limit: 100, windowMs: 66_000 },
    ]);
    expect(limits('wx')).toEqual([{ limit: 20, windowMs: 66_000 }]);
    expect(limits('ms')).toEqual([{ limit: 4, windowMs: 1_250 }]);
    expect(limits('hook')).toEqual([{ limit: 2, windowMs: 1_250 }]);
  });

  it('keys by the webhook, not the channel name, and never shows the URL', () => {
    const twin = parseConfig(
      `${YAML}  ding2: { type: dingtalk, webhookUrl: "https://oapi.dingtalk.com/robot/send?access_token=ding-token-abcdef" }\n`,
      {},
      'test',
    );
    const [window] = limits('ding');
    const key = rateLimitKey('p', twin.channels.ding as ChannelConfig, window as { limit: number; windowMs: number });
    expect(rateLimitKey('p', twin.channels.ding2 as ChannelConfig, window as { limit: number; windowMs: number })).toBe(key);
    expect(key).toMatch(/^p:ratelimit:dingtalk:[0-9a-f]{16}:20per66000$/);
    expect(key).not.toContain('ding-token');
  });
});
