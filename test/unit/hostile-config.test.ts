/**
 * The hostile config corpus (test/fixtures/hostile/config, indexed in its
 * README.md) through `parseConfig`: every file is refused with a
 * `ConfigError` whose problems name each broken key, and no problem — nor the
 * error's message — repeats a secret value from the file or the environment.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { configFixture, configFixtureNames } from '../fixtures/hostile/load.js';

/** Secrets handed in through `${VAR}`: they must not come back either. */
const ENV = {
  DBSWATCH_HOSTILE_BAD_WEBHOOK: 'ftp://dbswatch:ENV-WEBHOOK-SECRET-ss99@files.example/hook',
  DBSWATCH_HOSTILE_SHORT_TOKEN: 'ENV-TOK-tt00',
};

/** Every secret-looking value in the fixtures follows this shape (e.g. CONFIG-SMTP-PASS-kk11). */
const SECRET_TOKEN = /\b(?:CONFIG|ENV)-[A-Z]+(?:-[A-Z]+)*-[a-z]{2}\d{2}\b/g;

/** Per file: the key each problem must start with (in any order), and nothing else. */
const EXPECTED: Record<string, readonly string[]> = {
  'alias-bomb.yaml': ['the file is not valid YAML: ReferenceError: Excessive alias count'],
  'bad-identifiers.yaml': ['plans[0].id', 'plans[1].id', 'plans[2].id', 'plans[3].id', 'channels.ops:slack', 'channels.<!channel>'],
  'bad-urls.yaml': ['redis.url', 'channels.a.webhookUrl', 'channels.b.webhookUrl', 'channels.c.smtpUrl', 'channels.d.webhookUrl'],
  'bad-values.yaml': [
    'redis.prefix',
    'dbs.endpoint',
    'dbs.pageSize',
    'defaults.interval',
    'defaults.events',
    'plans[0].events[0]',
    'plans[0].interval',
    'channels.ops-slack.mentionOnFailure',
    'channels.ops-slack.timeout',
    'http.authToken',
  ],
  'bad-yaml.yaml': ['the file is not valid YAML: Flow sequence'],
  'duplicate-keys.yaml': ['the file is not valid YAML: Map keys must be unique'],
  'duplicate-plans.yaml': ['plans[2].id: duplicate plan id "dbsplan00001"', 'plans[3].id: duplicate plan id "dbsplan00001"'],
  'file-webhook.yaml': ['channels.f.webhookUrl', 'channels.j.webhookUrl', 'channels.x.webhookUrl'],
  'huge-numbers.yaml': [
    'dbs.requestsPerSecond',
    'dbs.timeout: dbs.timeout is too long',
    'defaults.interval: defaults.interval is too long',
    'poll.concurrency',
    'poll.attempts',
    'notify.backoff: Infinity is not a duration',
    'notify.maxBackoff: Infinity is not a duration',
    'notify.keepDelivered: notify.keepDelivered is too long',
    'http.port',
    'shutdown.deadline: shutdown.deadline is too long',
  ],
  'missing-channel.yaml': [
    'channels.ops-slack.type: channel type must be "slack", "email", "webhook", "dingtalk", "feishu", "wecom" or "teams"',
    'defaults.notify[0]: unknown channel "ghost"',
    'discover.notify[0]: unknown channel "phantom"',
    'plans[0].notify[1]: unknown channel "pager-duty"',
  ],
  'negative-numbers.yaml': [
    'dbs.requestsPerSecond',
    'dbs.timeout',
    'defaults.interval',
    'defaults.forgetAfterMissedPolls',
    'poll.concurrency',
    'poll.attempts',
    'poll.backoff',
    'notify.attempts',
    'notify.digestThreshold',
    'http.port',
  ],
  'open-http.yaml': ['http.authToken: required when http.host (0.0.0.0) is not loopback'],
  'smtp-password.yaml': [
    'channels.m1.smtpUrl: smtpUrl must use smtp or smtps (got smtpx)',
    'channels.m2.smtpUrl: smtpUrl is not a valid URL (value hidden)',
    'channels.m3: give smtpUrl or host/port/secure/auth, not both',
    'channels.m3.to',
    'channels.m4.auth: unknown key "token"',
    'channels.m4.to[0]',
  ],
  'tabs.yaml': ['the file is not valid YAML: Tabs are not allowed as indentation'],
  'top-level-list.yaml': ['the file must hold a YAML mapping'],
  'unknown-keys.yaml': [
    '(top level): unknown key "chanels"',
    'plans[0]: unknown key "intervall"',
    'dbs: unknown key "regionId"', // dbs.region is a real key since issue 13
    'channels.ops-slack: unknown key "webhook_url"',
    'channels.ops-slack.webhookUrl: is required',
  ],
  'unknown-variable.yaml': [
    'channels.s1.webhookUrl: environment variable DBSWATCH_HOSTILE_UNSET_WEBHOOK is not set',
    'channels.s2.webhookUrl: webhookUrl must use https or http (got ftp)',
    'http.authToken: must be at least 16 characters',
  ],
  'wrong-types.yaml': [
    'plans',
    'dbs.protocol',
    'dbs.pageSize',
    'dbs.requestsPerSecond',
    'defaults.notify',
    'defaults.events',
    'defaults.notifyOnFirstSight',
    'channels.ops-slack.webhookUrl',
    'poll.concurrency',
    'poll.attempts',
    'notify.digestThreshold',
    'notify.keepDelivered',
    'http.port',
  ],
};

function refuse(name: string): ConfigError {
  try {
    parseConfig(configFixture(name), ENV, `hostile/${name}`);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`${name} was accepted`);
}

describe('hostile config files', () => {
  it('has an expectation for every fixture file and a file for every expectation', () => {
    expect(configFixtureNames()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s is refused, naming each key', (name, expected) => {
    const error = refuse(name);
    expect(error.source).toBe(`hostile/${name}`);
    const problems = [...error.problems];
    // One problem per expected key, in any order, and no extra noise.
    for (const prefix of expected) {
      const key = prefix.includes(':') || prefix.startsWith('the file') ? prefix : `${prefix}:`;
      const found = problems.filter((p) => p.startsWith(key));
      expect(found, `${name}: no problem starts with ${JSON.stringify(prefix)}; got\n${problems.join('\n')}`).toHaveLength(1);
    }
    expect(problems).toHaveLength(expected.length);
    for (const problem of problems) expect(problem.length).toBeLessThan(300);
  });

  it.each(Object.keys(EXPECTED))('%s: no secret from the file or the environment is echoed', (name) => {
    const error = refuse(name);
    const secrets = [...(configFixture(name).match(SECRET_TOKEN) ?? []), ...Object.values(ENV)];
    const everything = `${error.message}\n${error.problems.join('\n')}\n${error.stack ?? ''}`;
    for (const secret of secrets) expect(everything).not.toContain(secret);
    // Nor a part of an env secret that is a credential on its own.
    expect(everything).not.toContain('ENV-WEBHOOK-SECRET');
  });

  it('the corpus really carries secrets in the broken values (the check above is not vacuous)', () => {
    const carrying = configFixtureNames().filter((name) => SECRET_TOKEN.test(configFixture(name)));
    SECRET_TOKEN.lastIndex = 0;
    expect(carrying.length).toBeGreaterThanOrEqual(7);
    // The env secrets are read: s2's webhook is judged by its scheme, so the variable was resolved.
    expect(refuse('unknown-variable.yaml').problems.join('\n')).toContain('(got ftp)');
  });

  it('the alias bomb is refused quickly, without expanding it', () => {
    const started = performance.now();
    refuse('alias-bomb.yaml');
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
