import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { routeEvent } from '../../src/notify/routing.js';
import { maskedConfig } from '../../src/secrets.js';
import { parseDuration } from '../../src/text/duration.js';

const SLACK = 'https://hooks.slack.com/services/T000/B000/SuperSecretToken1234';
const env = { SLACK_WEBHOOK_URL: SLACK, SMTP_URL: 'smtp://dbswatch:MailPassw0rd!@smtp.example.com:587' };

function problems(text: string, vars: Record<string, string> = env): string[] {
  try {
    parseConfig(text, vars);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const minimal = `
defaults: { notify: [ops-slack] }
plans: [ { id: dbsplan00001 } ]
channels:
  ops-slack: { type: slack, webhookUrl: "\${SLACK_WEBHOOK_URL}" }
`;

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['250ms', 250],
    ['2d', 172_800_000],
    [1500, 1500],
    ['1500', 1500],
  ])('%j → %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms));
  it.each(['soon', '5 minutes', '-1s', '', '1y'])('rejects %j', (input) => expect(parseDuration(input)).toBeUndefined());
});

describe('parseConfig', () => {
  it('loads the shipped example with its variables set', () => {
    const config = parseConfig(readFileSync('config/dbswatch.example.yaml', 'utf8'), env, 'example');
    expect(config.plans[0]).toMatchObject({ id: 'dbsqhnuhyw3xxxx', name: 'orders-prod', intervalMs: 30_000 });
    expect(config.plans[0]?.notify).toEqual(['ops-slack', 'dba-email']);
    expect(config.channels['ops-slack']).toMatchObject({ type: 'slack', name: 'ops-slack', webhookUrl: SLACK });
    expect(config.dbs).toMatchObject({ pageSize: 100, requestsPerSecond: 5, timeout: 10_000 });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.plans[0])).toBe(true);
  });

  it('fills defaults into plans', () => {
    const config = parseConfig(minimal, env);
    expect(config.plans[0]).toEqual({
      id: 'dbsplan00001',
      name: 'dbsplan00001',
      intervalMs: 60_000,
      notify: ['ops-slack'],
      events: ['finished', 'failed'],
      discovered: false,
    });
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'dbswatch' });
    expect(config.http).toEqual({ port: 9464, host: '127.0.0.1' });
  });

  it('keeps the state of a removed plan 7 days by default, and names the key when the value is wrong', () => {
    expect(parseConfig(minimal, env).defaults.forgetRemovedPlansAfter).toBe(7 * 86_400_000);
    const withGrace = (value: string) =>
      minimal.replace('defaults: { notify: [ops-slack] }', `defaults: { notify: [ops-slack], forgetRemovedPlansAfter: ${value} }`);
    expect(parseConfig(withGrace('2d'), env).defaults.forgetRemovedPlansAfter).toBe(2 * 86_400_000);
    expect(() => parseConfig(withGrace('soon'), env)).toThrow(/defaults\.forgetRemovedPlansAfter/);
  });

  it('lets REDIS_URL override redis.url', () => {
    const config = parseConfig(minimal, { ...env, REDIS_URL: 'redis://10.0.0.5:6380' });
    expect(config.redis.url).toBe('redis://10.0.0.5:6380');
  });

  it('names all five problems of a bad file at once, without echoing secrets', () => {
    const text = readFileSync('test/fixtures/config/five-mistakes.yaml', 'utf8');
    const found = problems(text, {});
    const joined = found.join('\n');
    expect(joined).toContain('plans[0].notify[0]: unknown channel "pager-duty"');
    expect(joined).toContain('plans[1].id: duplicate plan id "dbsplan00001"');
    expect(joined).toMatch(/plans\[2\]\.interval: "soon" is not a duration/);
    expect(joined).toContain('channels.ops-slack.webhookUrl: environment variable DBSWATCH_TEST_UNSET_WEBHOOK is not set');
    expect(joined).toContain('channels.plain-slack.webhookUrl: webhookUrl must be https');
    expect(joined).not.toContain('secretpart');
    expect(found).toHaveLength(5);
  });

  it.each([
    ['interval below 5s', `defaults: { interval: 2s }`, 'defaults.interval: must be at least 5s'],
    ['bad page size', `dbs: { pageSize: 20 }`, 'dbs.pageSize: must be 30, 50 or 100'],
    ['endpoint with scheme', `dbs: { endpoint: "https://dbs.example.com" }`, 'dbs.endpoint: must be host[:port]'],
    ['unknown key', `dbz: {}`, 'unknown key "dbz"'],
    ['unknown event', `defaults: { events: [finished, exploded] }`, 'defaults.events[1]'],
    [
      'email without recipients',
      `channels: { mail: { type: email, host: smtp.example.com, from: a@example.com } }`,
      'channels.mail.to: an email channel needs at least one recipient',
    ],
    ['email without server', `channels: { mail: { type: email, from: a@example.com, to: [b@example.com] } }`, 'channels.mail: needs either smtpUrl or host'],
    [
      'unknown channel type',
      `channels: { x: { type: telegram, url: "https://x" } }`,
      'channels.x.type: channel type must be "slack", "email", "webhook", "dingtalk", "feishu", "wecom" or "teams"',
    ],
    ['open HTTP without token', `http: { host: 0.0.0.0 }`, 'http.authToken: required when http.host (0.0.0.0) is not loopback'],
    ['not a mapping', `- just\n- a list`, 'YAML mapping'],
    ['broken YAML', `plans: [ { id: x `, 'not valid YAML'],
    [
      'bad channel name',
      `channels: { "ops slack": { type: slack, webhookUrl: "https://hooks.example.com/x" } }`,
      'channels.ops slack: a channel name may hold only',
    ],
    // Issue 15: destinations (src/destinations.ts).
    [
      'webhook at the metadata service',
      `channels: { s: { type: slack, webhookUrl: "https://169.254.169.254/latest/meta-data" } }`,
      'channels.s.webhookUrl: webhookUrl points at a link-local address (cloud metadata services live here) (169.254.169.254)',
    ],
    [
      'webhook at Alibaba metadata',
      `channels: { s: { type: slack, webhookUrl: "https://100.100.100.200/latest" } }`,
      "channels.s.webhookUrl: webhookUrl points at Alibaba Cloud's metadata service",
    ],
    [
      'webhook at EC2 IPv6 metadata',
      `channels: { s: { type: slack, webhookUrl: "https://[fd00:ec2::254]/x" } }`,
      'channels.s.webhookUrl: webhookUrl points at the EC2 metadata service',
    ],
    [
      'webhook at mapped IPv6 metadata',
      `channels: { s: { type: slack, webhookUrl: "https://[::ffff:169.254.169.254]/x" } }`,
      'channels.s.webhookUrl: webhookUrl points at a link-local address',
    ],
    [
      'webhook at hex loopback',
      `channels: { s: { type: slack, webhookUrl: "http://0x7f000001:9/x" } }`,
      'channels.s.webhookUrl: webhookUrl writes an IP address in an encoded form (0x7f000001 is 127.0.0.1)',
    ],
    [
      'webhook at decimal loopback',
      `channels: { s: { type: slack, webhookUrl: "http://2130706433/x" } }`,
      'channels.s.webhookUrl: webhookUrl writes an IP address in an encoded form (2130706433 is 127.0.0.1)',
    ],
    [
      'webhook at octal loopback',
      `channels: { s: { type: slack, webhookUrl: "http://0177.0.0.1/x" } }`,
      'channels.s.webhookUrl: webhookUrl writes an IP address in an encoded form (0177.0.0.1 is 127.0.0.1)',
    ],
    [
      'webhook at a private network',
      `channels: { s: { type: slack, webhookUrl: "https://10.1.2.3/x" } }`,
      'channels.s.webhookUrl: webhookUrl points at a private network (10.1.2.3): refused, set allowPrivateDestinations: true',
    ],
    [
      'smtpUrl without a host',
      `channels: { m: { type: email, smtpUrl: "smtp:///", from: a@example.com, to: [b@example.com] } }`,
      'channels.m.smtpUrl: smtpUrl names no host',
    ],
    [
      'smtp host at link-local',
      `channels: { m: { type: email, host: 169.254.0.9, from: a@example.com, to: [b@example.com] } }`,
      'channels.m.host: host points at a link-local address',
    ],
    [
      'smtpUrl at hex loopback',
      `channels: { m: { type: email, smtpUrl: "smtp://0x7f.1:25", from: a@example.com, to: [b@example.com] } }`,
      'channels.m.smtpUrl: smtpUrl writes an IP address in an encoded form',
    ],
    [
      'recipient @@@',
      `channels: { m: { type: email, host: smtp.example.com, from: a@example.com, to: ["@@@"] } }`,
      'channels.m.to[0]: is not an email address',
    ],
    [
      'recipient without domain',
      `channels: { m: { type: email, host: smtp.example.com, from: a@example.com, to: [b@example.com], cc: ["c@"] } }`,
      'channels.m.cc[0]: is not an email address',
    ],
    [
      'sender with a space',
      `channels: { m: { type: email, host: smtp.example.com, from: "a b@example.com", to: [b@example.com] } }`,
      'channels.m.from: is not an email address',
    ],
  ])('%s', (_name, text, expected) => {
    expect(problems(text).join('\n')).toContain(expected);
  });

  it('accepts plain loopback, public hosts, named addresses, and private destinations when the channel allows them', () => {
    const config = parseConfig(
      `channels:
  local: { type: slack, webhookUrl: "http://127.0.0.1:9/x" }
  v6: { type: slack, webhookUrl: "http://[::1]:9/x" }
  lan: { type: slack, webhookUrl: "https://10.1.2.3/x", allowPrivateDestinations: true }
  relay: { type: email, host: 192.168.1.5, allowPrivateDestinations: true, from: "dbswatch <d@example.com>", to: ["Ops <ops@example.com>", "dba@例え.jp"] }
  mail: { type: email, smtpUrl: "smtp://u:p@smtp.example.com:587", from: d@localhost, to: [x@example.com] }`,
      {},
    );
    expect(Object.keys(config.channels)).toEqual(['local', 'v6', 'lan', 'relay', 'mail']);
    expect(config.channels.local?.allowPrivateDestinations).toBe(false);
  });

  it('interpolates ${VAR}, keeps $$ as a literal dollar', () => {
    const config = parseConfig(`channels: { s: { type: slack, webhookUrl: "\${SLACK_WEBHOOK_URL}", mentionOnFailure: "cost $$5" } }`, env);
    const channel = config.channels.s;
    expect(channel?.type === 'slack' && channel.webhookUrl).toBe(SLACK);
    expect(channel?.type === 'slack' && channel.mentionOnFailure).toBe('cost $5');
  });

  it('does not re-interpolate a variable whose value looks like ${VAR}', () => {
    const config = parseConfig(`channels: { s: { type: slack, webhookUrl: "\${SLACK_WEBHOOK_URL}", mentionOnFailure: "\${MENTION}" } }`, {
      ...env,
      MENTION: '${SLACK_WEBHOOK_URL}',
    });
    const channel = config.channels.s;
    expect(channel?.type === 'slack' && channel.mentionOnFailure).toBe('${SLACK_WEBHOOK_URL}');
  });

  it('routes by plan events and channel event filters', () => {
    const config = parseConfig(
      `
defaults: { notify: [all, failures], events: [finished, failed, progress] }
plans: [ { id: p1 }, { id: p2, events: [finished] } ]
channels:
  all: { type: slack, webhookUrl: "https://hooks.example.com/a" }
  failures: { type: slack, webhookUrl: "https://hooks.example.com/b", events: [failed] }
`,
      {},
    );
    const [p1, p2] = config.plans;
    if (!p1 || !p2) throw new Error('plans missing');
    expect(routeEvent(config, p1, 'failed').map((c) => c.name)).toEqual(['all', 'failures']);
    expect(routeEvent(config, p1, 'finished').map((c) => c.name)).toEqual(['all']);
    expect(routeEvent(config, p2, 'failed').map((c) => c.name)).toEqual([]);
    expect(routeEvent(config, p2, 'finished').map((c) => c.name)).toEqual(['all']);
  });

  it('masks every secret in the printable config', () => {
    const config = parseConfig(readFileSync('config/dbswatch.example.yaml', 'utf8'), {
      ...env,
      REDIS_URL: 'redis://:RedisPassw0rd@127.0.0.1:6379',
    });
    const printed = JSON.stringify(maskedConfig(config));
    for (const secret of ['SuperSecretToken1234', 'MailPassw0rd', 'RedisPassw0rd']) expect(printed).not.toContain(secret);
    expect(printed).toContain('hooks.slack.com');
  });
});
