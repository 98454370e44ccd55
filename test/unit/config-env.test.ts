/**
 * Config from the environment: `${VAR}`, `${VAR:-default}`, `${VAR:?message}`,
 * coercion where the schema wants a number or boolean, `<secret>File` keys,
 * structured problems and a printed config that loads back unchanged.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config.js';
import { printableConfig } from '../../src/secrets.js';

const SLACK = 'https://hooks.slack.com/services/T000/B000/SuperSecretToken1234';
const dir = mkdtempSync(join(tmpdir(), 'dbswatch-config-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(text: string, env: Record<string, string>): string[] {
  try {
    parseConfig(text, env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('interpolation', () => {
  it.each([
    ['${A}', { A: 'x' }, 'x'],
    ['${A:-fallback}', {}, 'fallback'],
    ['${A:-fallback}', { A: '' }, 'fallback'],
    ['${A:-fallback}', { A: 'set' }, 'set'],
    ['x${A:-}', {}, 'x'],
    ['pre-${A}-${B:-b}', { A: 'a' }, 'pre-a-b'],
    ['$${A}', { A: 'x' }, '${A}'],
    ['${A:?give A}', { A: 'ok' }, 'ok'],
  ])('%s with %j → %j', (template, env, expected) => {
    const config = parseConfig(`http: { host: "127.0.0.1" }\nplans: [ { id: p1, name: "${template}" } ]`, env);
    expect(config.plans[0]?.name).toBe(expected);
  });

  it.each([
    ['${A}', {}, 'plans[0].name: environment variable A is not set'],
    ['${A}', { A: '' }, 'plans[0].name: environment variable A is empty'],
    ['${A:?set A to the plan name}', {}, 'plans[0].name: environment variable A is not set: set A to the plan name'],
    ['${A:?set A}', { A: '' }, 'plans[0].name: environment variable A is empty: set A'],
  ])('%s with %j is refused: %s', (template, env, problem) => {
    expect(problemsOf(`plans: [ { id: p1, name: "${template}" } ]`, env)).toContain(problem);
  });
});

describe('coercion where the schema expects a number or boolean', () => {
  it('turns variables into numbers, booleans and durations', () => {
    const config = parseConfig(
      'http:\n  port: ${PORT}\ndbs:\n  pageSize: ${PAGE:-50}\n  requestsPerSecond: ${RPS}\n  timeout: ${T:-30s}\ndefaults:\n  notifyOnFirstSight: ${FIRST}',
      { PORT: '8080', RPS: '2.5', FIRST: 'true' },
    );
    expect(config.http.port).toBe(8080);
    expect(config.dbs).toMatchObject({ pageSize: 50, requestsPerSecond: 2.5, timeout: 30_000 });
    expect(config.defaults.notifyOnFirstSight).toBe(true);
  });

  it('keeps a numeric variable a string where the schema wants a string', () => {
    const config = parseConfig('plans: [ { id: "${PLAN}", name: "${NAME}" } ]', { PLAN: '12345', NAME: '2024' });
    expect(config.plans[0]).toMatchObject({ id: '12345', name: '2024' });
  });

  it('does not coerce literal YAML strings, and names a non-number', () => {
    expect(problemsOf('http: { port: "8080" }', {})).toEqual([expect.stringMatching(/^http\.port: /)]);
    expect(problemsOf('http:\n  port: ${PORT}', { PORT: 'eighty' })).toEqual([expect.stringMatching(/^http\.port: /)]);
  });
});

describe('<secret>File keys', () => {
  const hook = join(dir, 'hook');
  writeFileSync(hook, `${SLACK}\n`);
  const token = join(dir, 'token');
  writeFileSync(token, 'a-token-of-at-least-16-chars\n');

  it('reads webhookUrlFile and authTokenFile (trailing newline dropped), also through a variable', () => {
    const config = parseConfig(`channels: { s: { type: slack, webhookUrlFile: "\${HOOK_FILE}" } }\nhttp: { authTokenFile: ${token} }`, { HOOK_FILE: hook });
    expect(config.channels.s).toMatchObject({ webhookUrl: SLACK });
    expect(config.http.authToken).toBe('a-token-of-at-least-16-chars');
  });

  it('reads smtpUrlFile and any future secret key generically (url, secret)', () => {
    const smtp = join(dir, 'smtp');
    writeFileSync(smtp, 'smtp://u:p@mail.example.com:587');
    const config = parseConfig(`channels: { m: { type: email, smtpUrlFile: ${smtp}, from: a@b.c, to: [d@e.f] } }`, {});
    expect(config.channels.m).toMatchObject({ smtpUrl: 'smtp://u:p@mail.example.com:587' });
    const redisFile = join(dir, 'redis');
    writeFileSync(redisFile, 'redis://:pw@127.0.0.1:6390');
    expect(parseConfig(`redis: { urlFile: ${redisFile} }`, {}).redis.url).toBe('redis://:pw@127.0.0.1:6390');
  });

  it('names a missing file and a key given twice', () => {
    expect(problemsOf(`channels: { s: { type: slack, webhookUrlFile: ${join(dir, 'nope')} } }`, {})).toEqual([
      `channels.s.webhookUrlFile: cannot read ${join(dir, 'nope')}: no such file`,
    ]);
    expect(problemsOf(`channels: { s: { type: slack, webhookUrl: "${SLACK}", webhookUrlFile: ${hook} } }`, {})).toEqual([
      'channels.s.webhookUrlFile: give webhookUrl or webhookUrlFile, not both',
    ]);
  });
});

describe('ConfigError.details', () => {
  it('splits every problem into path and message', () => {
    try {
      parseConfig('http: { port: -1 }\nplans: [ { id: "bad id!" } ]\nbogus: 1', {});
      throw new Error('expected a ConfigError');
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const paths = error.details.map((d) => d.path);
      expect(paths).toEqual(expect.arrayContaining(['http.port', 'plans[0].id', '(top level)']));
      for (const detail of error.details) expect(detail.message.length).toBeGreaterThan(0);
    }
  });

  it('uses an empty path for a problem with the whole file', () => {
    try {
      parseConfig('a: [', {});
      throw new Error('expected a ConfigError');
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      expect(error.details).toEqual([{ path: '', message: expect.stringContaining('not valid YAML') }]);
    }
  });
});

describe('printableConfig', () => {
  const text = `
defaults: &d { interval: 5m, notify: [s] }
discover: { enabled: true, notify: [s] }
plans:
  - { id: p1, interval: 90s }
channels:
  s: { type: slack, webhookUrl: "\${SLACK}", timeout: 15s }
  t: { type: slack, webhookUrl: "${SLACK}" }
http:
  port: \${PORT}
  host: 127.0.0.1
`;
  const env = { SLACK, PORT: '9999' };

  it('prints original keys and units, no anchors, secrets as variables or masked, and loads back unchanged', () => {
    const config = parseConfig(text, env);
    const printed = stringify(printableConfig(config));
    expect(printed).not.toMatch(/[&*]a\d|intervalMs|discovered/);
    expect(printed).toContain('interval: 5m');
    expect(printed).toContain('interval: 90s');
    expect(printed).toContain('webhookUrl: ${SLACK}');
    expect(printed).toContain('port: 9999');
    expect(printed).not.toContain('SuperSecretToken1234');
    const again = parseConfig(printed, env);
    const { channels: c1, source: _s1, ...rest1 } = config;
    const { channels: c2, source: _s2, ...rest2 } = again;
    expect(rest2).toEqual(rest1);
    expect(c2.s).toEqual(c1.s);
  });
});
