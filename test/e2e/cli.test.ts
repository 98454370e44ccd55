/**
 * The command line as an operator meets it: the built `dbswatch` binary,
 * its help, usage errors (exit 2), check-config (exit 0/1, all problems named,
 * secrets never printed or logged), `tasks` against the simulator (`npm run simulate`), and
 * `poll --dry-run`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_PLAN_ID } from '../../dev/simulator/scenarios.js';
import { freePort } from '../helpers/private-redis.js';
import { childEnv, killAll, startTsx, writeConfig } from '../helpers/processes.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const SECRET_TOKEN = 'T000/B000/TopSecretWebhookToken77';
const SMTP_PASSWORD = 'SmtpPassw0rdNeverPrint';

function dbswatch(args: string[], env: NodeJS.ProcessEnv = childEnv()) {
  const result = spawnSync(process.execPath, ['dist/src/cli.js', ...args], { env, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
});

afterAll(async () => {
  await killAll();
});

describe('dbswatch CLI', () => {
  it('lists every command in --help, and each command has its own --help', () => {
    const help = dbswatch(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['run', 'scheduler', 'worker', 'poll', 'tasks', 'status', 'test-notify', 'check-config']) {
      expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
      const own = dbswatch([command, '--help']);
      expect(own.code).toBe(0);
      expect(own.stdout).toContain(`Usage: dbswatch ${command}`);
    }
    // Developer tooling is not part of the product.
    for (const devCommand of ['simulate', 'demo']) expect(help.stdout).not.toMatch(new RegExp(`^\\s+${devCommand}\\b`, 'm'));
  });

  it('the workers/ entry points are the roles: `node dist/workers/worker.js --help` is `dbswatch worker --help`', () => {
    const result = spawnSync(process.execPath, ['dist/workers/worker.js', '--help'], { env: childEnv(), encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: dbswatch worker');
    expect(result.stdout).toContain('--queues <list>');
  });

  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['worker', '--queues', 'poll,bogus'], /unknown queue "bogus"/],
    [['worker', '--concurrency', '0'], /positive whole number/],
    [['poll'], /exactly one of --plan <id> or --instance <id>/],
    [['status', '--colour'], /unknown option '--colour'/],
  ])('exits 2 with a clear message for %j', (args, message) => {
    const result = dbswatch(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('check-config: exit 0 on the example with its variables set, secrets masked', () => {
    const env = childEnv({
      SLACK_WEBHOOK_URL: `https://hooks.slack.com/services/${SECRET_TOKEN}`,
      SMTP_URL: `smtp://dbswatch:${SMTP_PASSWORD}@smtp.example.com:587`,
    });
    const result = dbswatch(['check-config', '--config', 'config/dbswatch.example.yaml'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid');
    // A secret from a variable is printed as the variable, so the output loads back unchanged.
    expect(result.stdout).toContain('webhookUrl: ${SLACK_WEBHOOK_URL}');
    expect(result.stdout + result.stderr).not.toContain('TopSecretWebhookToken77');
    expect(result.stdout + result.stderr).not.toContain(SMTP_PASSWORD);
  });

  it('check-config: exit 1 naming all five problems of a bad file, never the secret', () => {
    const result = dbswatch(['check-config', '--config', 'test/fixtures/config/five-mistakes.yaml']);
    expect(result.code).toBe(1);
    for (const problem of [
      'unknown channel "pager-duty"',
      'duplicate plan id',
      '"soon" is not a duration',
      'DBSWATCH_TEST_UNSET_WEBHOOK is not set',
      'must be https',
    ]) {
      expect(result.stderr).toContain(problem);
    }
    expect(result.stderr).not.toContain('secretpart');
  });

  it('check-config: a missing file says so', () => {
    const result = dbswatch(['check-config', '--config', 'no/such/file.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot read the config file: no such file');
  });

  it('tasks prints the seeded plan of the simulator, and poll --dry-run changes nothing', async () => {
    const sim = startTsx('dev/cli.ts', ['simulate', '--port', '0', '--scenario', 'sample']);
    const line = await sim.waitForLine(/127\.0\.0\.1:\d+/);
    const endpoint = /127\.0\.0\.1:\d+/.exec(line)?.[0];
    const prefix = uniquePrefix('cli-poll');
    const configPath = writeConfig(`
redis: { url: "${redisUrl()}", prefix: "${prefix}" }
dbs: { endpoint: "${endpoint}", protocol: http }
plans: [ { id: ${SAMPLE_PLAN_ID}, name: sample } ]
channels:
  hook: { type: slack, webhookUrl: "https://hooks.example.com/services/${SECRET_TOKEN}" }
defaults: { notify: [hook] }
http: { port: 0 }
`);
    try {
      const tasks = dbswatch(['tasks', '--plan', SAMPLE_PLAN_ID, '--config', configPath]);
      expect(tasks.stderr).toBe('');
      expect(tasks.code).toBe(0);
      const rows = tasks.stdout.trim().split('\n');
      expect(rows[0]).toMatch(/id\s+name\s+status/i);
      expect(rows.length - 1).toBeGreaterThanOrEqual(10);
      expect(tasks.stdout).not.toMatch(/Signature=|OSSAccessKeyId=/);

      const asJson = JSON.parse(dbswatch(['tasks', '--plan', SAMPLE_PLAN_ID, '--json', '--config', configPath]).stdout) as unknown[];
      expect(asJson.length).toBe(rows.length - 1);

      const dry = dbswatch(['poll', '--plan', SAMPLE_PLAN_ID, '--dry-run', '--json', '--config', configPath]);
      expect(dry.code).toBe(0);
      expect(JSON.parse(dry.stdout)).toMatchObject({ planId: SAMPLE_PLAN_ID, result: 'baseline', dryRun: true, jobsEnqueued: 0 });
      // Dry run: the next real poll is still the baseline.
      const real = dbswatch(['poll', '--plan', SAMPLE_PLAN_ID, '--json', '--config', configPath]);
      expect(JSON.parse(real.stdout)).toMatchObject({ result: 'baseline', dryRun: false });
      const again = dbswatch(['poll', '--plan', SAMPLE_PLAN_ID, '--json', '--config', configPath]);
      expect(JSON.parse(again.stdout)).toMatchObject({ result: 'ok', transitions: [] });
    } finally {
      await sim.stop();
      await deletePrefix(prefix);
    }
  });

  it('never logs a config secret, even when a channel fails', async () => {
    const prefix = uniquePrefix('cli-secrets');
    // A port nothing listens on (not port 9: fetch refuses its "bad ports" before connecting at all).
    const closed = await freePort();
    const configPath = writeConfig(`
redis: { url: "${redisUrl()}", prefix: "${prefix}" }
channels:
  hook: { type: slack, webhookUrl: "http://127.0.0.1:${closed}/services/${SECRET_TOKEN}" }
  mail: { type: email, smtpUrl: "smtp://dbswatch:${SMTP_PASSWORD}@127.0.0.1:${closed}", from: "d@example.com", to: [a@example.com] }
http: { port: 0 }
`);
    try {
      for (const channel of ['hook', 'mail']) {
        const result = dbswatch(['test-notify', channel, '--config', configPath, '--log-level', 'trace']);
        expect(result.code).toBe(1);
        const all = result.stdout + result.stderr;
        expect(all).toMatch(/ECONNREFUSED|refused|unreachable/i);
        expect(all).not.toContain('TopSecretWebhookToken77');
        expect(all).not.toContain(SMTP_PASSWORD);
      }
    } finally {
      await deletePrefix(prefix);
    }
    expect(readFileSync('config/dbswatch.example.yaml', 'utf8')).not.toContain('TopSecret');
  });
});
