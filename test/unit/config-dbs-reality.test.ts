/**
 * The config keys of issue 13 — dbs.region, accounts, plans[].account,
 * discover.accounts/include/exclude/statuses/region/resourceGroupId,
 * defaults.initFailedAfter, defaults.waitForLinks — and the pure parts
 * behind them: credentials per account, plan selection globs.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { credentialFor } from '../../src/dbs/accounts.js';
import { globMatch, selectPlans } from '../../src/dbs/plans.js';
import { maskedConfig, secretValues } from '../../src/secrets.js';

const problems = (text: string, env: Record<string, string> = {}): string[] => {
  try {
    parseConfig(text, env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
};

describe('dbs.region and dbs.endpoint', () => {
  it.each([
    ['', 'dbs-api.cn-hangzhou.aliyuncs.com'],
    ['dbs: { region: ap-southeast-1 }', 'dbs-api.ap-southeast-1.aliyuncs.com'],
    ['dbs: { region: cn-shanghai }', 'dbs-api.cn-hangzhou.aliyuncs.com'],
    ['dbs: { region: ap-southeast-1, endpoint: "127.0.0.1:9000" }', '127.0.0.1:9000'],
  ])('%j → %s', (text, endpoint) => {
    expect(parseConfig(text, {}).dbs.endpoint).toBe(endpoint);
  });

  it('names the key of an unknown region', () => {
    expect(problems('dbs: { region: mars-north-1 }').join('\n')).toMatch(
      /^dbs\.region: is not a region DBS serves \(known: cn-qingdao, .*set the endpoint instead/,
    );
  });
});

describe('defaults.initFailedAfter and defaults.waitForLinks', () => {
  it('default to 3 polls each', () => {
    expect(parseConfig('', {}).defaults).toMatchObject({ initFailedAfter: 3, waitForLinks: 3 });
  });
  it.each([
    ['defaults: { initFailedAfter: 0 }', 'defaults.initFailedAfter'],
    ['defaults: { initFailedAfter: 2.5 }', 'defaults.initFailedAfter'],
    ['defaults: { waitForLinks: -1 }', 'defaults.waitForLinks'],
    ['defaults: { waitForLinks: many }', 'defaults.waitForLinks'],
  ])('%s is refused, naming %s', (text, key) => {
    expect(problems(text).some((p) => p.startsWith(`${key}:`))).toBe(true);
  });
  it('waitForLinks: 0 turns the hold off', () => {
    expect(parseConfig('defaults: { waitForLinks: 0 }', {}).defaults.waitForLinks).toBe(0);
  });
});

describe('accounts, plans[].account, discover.accounts', () => {
  const accounts = `
accounts:
  - { id: sg, region: ap-southeast-1, accessKeyId: "\${SG_ID}", accessKeySecret: "\${SG_SECRET}" }
  - { id: prof, profile: finance }
  - { id: role, region: eu-central-1, roleArn: "acs:ram::1234567890123456:role/dbswatch-read" }
  - { id: local, endpoint: "127.0.0.1:9100", protocol: http }
plans:
  - { id: p1 }
  - { id: p2, account: sg }
discover: { enabled: true, accounts: [default, prof] }
`;
  const env = { SG_ID: 'LTAIsgkeyid', SG_SECRET: 'sg-secret-value-123' };

  it('resolves every account, the default one first, each with its endpoint and credential kind', () => {
    const config = parseConfig(accounts, env);
    expect(config.accounts.map((a) => [a.id, a.endpoint, a.protocol, a.credential.kind, a.roleArn ?? '-'])).toEqual([
      ['default', 'dbs-api.cn-hangzhou.aliyuncs.com', 'https', 'chain', '-'],
      ['sg', 'dbs-api.ap-southeast-1.aliyuncs.com', 'https', 'keys', '-'],
      ['prof', 'dbs-api.cn-hangzhou.aliyuncs.com', 'https', 'profile', '-'],
      ['role', 'dbs-api.eu-central-1.aliyuncs.com', 'https', 'chain', 'acs:ram::1234567890123456:role/dbswatch-read'],
      ['local', '127.0.0.1:9100', 'http', 'chain', '-'],
    ]);
    expect(config.plans.map((p) => p.account ?? 'default')).toEqual(['default', 'sg']);
    expect(config.discover.accounts).toEqual(['default', 'prof']);
  });

  it("an existing config without accounts keeps today's behaviour: one default account on the chain", () => {
    const config = parseConfig('plans: [ { id: p1 } ]', {});
    expect(config.accounts).toEqual([
      { id: 'default', endpoint: 'dbs-api.cn-hangzhou.aliyuncs.com', protocol: 'https', region: 'cn-hangzhou', credential: { kind: 'chain' } },
    ]);
    expect(config.plans[0]?.account).toBeUndefined();
    expect(config.discover.accounts).toEqual(['default']);
  });

  it('hides key secrets when printed and registers them for redaction', () => {
    const config = parseConfig(accounts, env);
    const printed = JSON.stringify(maskedConfig(config));
    expect(printed).not.toContain('sg-secret-value-123');
    expect(printed).toContain('LTAIsgkeyid');
    expect(secretValues(config)).toContain('sg-secret-value-123');
  });

  it('builds a credential per kind without a network call (the default chain is left to the client)', () => {
    const config = parseConfig(accounts, env);
    const [main, sg, prof, role] = config.accounts;
    expect(credentialFor(main as never)).toBeUndefined();
    for (const account of [sg, prof, role]) expect(credentialFor(account as never)).toBeDefined();
  });

  it.each([
    ['plans: [ { id: p1, account: nowhere } ]', 'plans[0].account: unknown account "nowhere" (accounts: default)'],
    ['discover: { accounts: [nowhere] }', 'discover.accounts[0]: unknown account "nowhere"'],
    ['accounts: [ { id: default } ]', 'accounts[0].id: "default" is the built-in account'],
    ['accounts: [ { id: a }, { id: a } ]', 'accounts[1].id: duplicate account id "a"'],
    ['accounts: [ { id: a, accessKeyId: x } ]', 'accounts[0]: give accessKeyId and accessKeySecret together'],
    ['accounts: [ { id: a, profile: p, accessKeyId: x, accessKeySecret: y } ]', 'accounts[0]: give profile or accessKeyId/accessKeySecret, not both'],
    ['accounts: [ { id: a, roleArn: "arn:aws:iam::1:role/x" } ]', 'accounts[0].roleArn: must look like acs:ram::<account uid>:role/<role name>'],
    ['accounts: [ { id: a, region: atlantis-1 } ]', 'accounts[0].region: is not a region DBS serves'],
    ['accounts: [ { id: a, endpoint: "https://x" } ]', 'accounts[0].endpoint: must be host[:port]'],
    ['accounts: [ { id: "a b" } ]', 'accounts[0].id: may hold only'],
    ['accounts: [ { id: a, secret: x } ]', 'accounts[0]: unknown key "secret"'],
    ['discover: { statuses: ["run ning"] }', 'discover.statuses[0]: is not a backup plan status'],
    ['discover: { statuses: [] }', 'discover.statuses'],
    ['discover: { region: "CN HANGZHOU" }', 'discover.region: is not a region id'],
    ['discover: { resourceGroupId: "rg/1" }', 'discover.resourceGroupId: is not a resource group id'],
    ['discover: { include: "prod-*" }', 'discover.include'],
  ])('%s → %s', (text, expected) => {
    expect(problems(text).join('\n')).toContain(expected);
  });
});

describe('discovery selection', () => {
  it.each([
    ['prod-*', 'prod-orders', true],
    ['prod-*', 'dev-orders', false],
    ['*-tmp', 'prod-orders-tmp', true],
    ['plan??', 'plan01', true],
    ['plan??', 'plan001', false],
    ['a.b', 'axb', false],
    ['a.b', 'a.b', true],
    ['(x)+', '(x)+', true],
    ['*', '', true],
  ])('glob %j on %j → %s', (glob, text, expected) => {
    expect(globMatch(glob, text)).toBe(expected);
  });

  const plans = [
    { planId: 'p1', name: 'prod-a', status: 'running' },
    { planId: 'p2', name: 'prod-b', status: 'wait' },
    { planId: 'p3', name: 'prod-c-tmp', status: 'running' },
    { planId: 'p4', name: 'dev-a', status: 'pause' },
    { planId: 'p5' },
  ];
  it.each<[string, Parameters<typeof selectPlans>[1], string[]]>([
    ['default: every status except wait (a plan without status is kept)', {}, ['p1', 'p3', 'p4', 'p5']],
    ['statuses replace the default', { statuses: ['wait', 'pause'] }, ['p2', 'p4']],
    ['include by name or id', { include: ['prod-*', 'p5'] }, ['p1', 'p3', 'p5']],
    ['exclude wins over include', { include: ['prod-*'], exclude: ['*-tmp'] }, ['p1']],
  ])('%s', (_name, selection, expected) => {
    expect(selectPlans(plans, selection).map((p) => p.planId)).toEqual(expected);
  });
});
