/**
 * What an operator must be able to trust, on the built CLI (`node dist/src/cli.js`):
 * start-up is all or nothing (a taken port exits 1 with one line, nothing
 * polled, nothing sent — while the same config on a free port does send),
 * `${VAR}` / `${VAR:-default}` / `*File` from the environment, one JSON
 * document on stdout even with warnings or an invalid file, and `--version`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/local-redis.js';
import { DEFAULT_SIM_CREDENTIAL, type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { type SlackSink, startSlackSink } from '../../dev/sinks/slack-sink.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { openQueues } from '../../src/queues.js';
import { childEnv, killAll, startBuiltDbswatch, startTsx, writeConfig } from '../helpers/processes.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const PLAN = 'dbstrustplan1';
const WEBHOOK_PATH = '/services/TTRUST/BTRUST/trustsecret0001';

/** Runs the built CLI to its end without blocking this process (the simulator and sinks live here). */
function dbswatch(args: string[], env: NodeJS.ProcessEnv = childEnv()): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['dist/src/cli.js', ...args], { env, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

let sim: RunningSimulator;
let slack: SlackSink;
const prefixes: string[] = [];

beforeAll(async () => {
  execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
  sim = await startSimulator({ scenario: 'empty', credentials: [DEFAULT_SIM_CREDENTIAL] });
  sim.world.addPlan({ planId: PLAN, name: 'trust' });
  // Finished before dbswatch first looks: with notifyOnFirstSight it is announced on the first poll.
  sim.world.addTask(PLAN, { status: 'finish', name: 'trust-finished' });
  // A status dbswatch does not know: the pager logs a warning for it.
  sim.world.addTask(PLAN, { status: 'brand_new_status', name: 'trust-odd' });
  slack = await startSlackSink();
});

afterAll(async () => {
  await killAll();
  await Promise.allSettled([sim?.close(), slack?.close()]);
  for (const prefix of prefixes) await deletePrefix(prefix);
});

/** A config whose first poll would send one Slack message; the webhook URL comes from a file, the port and prefix from variables. */
function sendingConfig(prefix: string): string {
  const path = writeConfig(`
redis:
  url: "${redisUrl()}"
  prefix: \${DBSWATCH_TEST_PREFIX:-${prefix}}
dbs: { endpoint: "${sim.endpoint}", protocol: http, timeout: 5s }
defaults: { notify: [hook], notifyOnFirstSight: true, interval: 5s }
plans: [ { id: ${PLAN}, name: trust } ]
channels:
  hook: { type: slack, webhookUrlFile: "\${HOOK_FILE}" }
http:
  port: \${PORT}
  host: 127.0.0.1
shutdown: { deadline: 5s }
`);
  writeFileSync(join(dirname(path), 'hook'), `${slack.url(WEBHOOK_PATH)}\n`);
  return path;
}

describe('start-up is all or nothing', () => {
  it('on a free port (${PORT}, ${X:-default}, webhookUrlFile) it starts, answers /healthz with the version and sends', async () => {
    const prefix = uniquePrefix('trust-ok');
    prefixes.push(prefix);
    const configPath = sendingConfig(prefix);
    const port = await freePort();
    const before = slack.messages.length;
    const run = startBuiltDbswatch(['run', '--config', configPath], childEnv({ PORT: String(port), HOOK_FILE: join(dirname(configPath), 'hook') }));
    await run.waitForLine(/HTTP server listening/);
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { status: string; version: string };
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(health).toEqual({ status: 'ok', version: pkg.version });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain(`dbswatch_build_info{version="${pkg.version}"`);
    const sent = await slack.waitFor((messages) => messages.length > before, 60_000);
    expect(sent.at(-1)?.path).toBe(WEBHOOK_PATH);
    expect(await run.stop()).toBe(0);
  });

  it('with the port taken it exits 1 within seconds with one clear line, having polled and sent nothing', async () => {
    const prefix = uniquePrefix('trust-busy');
    prefixes.push(prefix);
    const configPath = sendingConfig(prefix);
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    sim.resetStats();
    const sentBefore = slack.requests.length;
    try {
      const run = startBuiltDbswatch(['run', '--config', configPath], childEnv({ PORT: String(port), HOOK_FILE: join(dirname(configPath), 'hook') }));
      expect(await run.exited).toBe(1);
      const fatal = run.lines.filter((line) => line.includes('"level":"fatal"'));
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toContain(`port ${port} is in use: set http.port or stop the other process`);
      expect(run.lines.some((line) => line.includes('dbswatch started'))).toBe(false);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    expect(sim.stats().requests).toBe(0);
    expect(slack.requests.length).toBe(sentBefore);
  });
});

describe('start-up without Redis', () => {
  it('gives up after 15 s with one fatal line naming redis.url, and exits 1 (nothing hangs on a QUIT)', async () => {
    const port = await freePort();
    const configPath = writeConfig(`redis: { url: "redis://127.0.0.1:${port}" }\nhttp: { port: 0 }\n`);
    const run = startBuiltDbswatch(['run', '--config', configPath], { ...childEnv(), REDIS_URL: '' });
    expect(await run.exited).toBe(1);
    const fatal = run.lines.filter((line) => line.includes('"level":"fatal"'));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toContain(`Redis at redis://127.0.0.1:${port} did not answer within 15s: check redis.url (or REDIS_URL)`);
  });
});

describe('the demo starts all or nothing too', () => {
  it('on a taken port it exits 1 at once (not after --duration) and leaves no Redis key behind', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const demo = startTsx('dev/cli.ts', ['demo', '--duration', '10m', '--port', String(port)], childEnv({ REDIS_URL: redisUrl() }));
      expect(await demo.exited).toBe(1);
      const line = demo.lines.find((l) => l.startsWith('dbswatch demo cannot start:')) ?? '';
      expect(line).toContain(`port ${port} is in use: set http.port or stop the other process`);
      const prefix = /Redis keys \(([^:]+):\*\)/.exec(line)?.[1];
      expect(prefix).toMatch(/^dbswatch-demo-[0-9a-f]{6}$/);
      const redis = new Redis(redisUrl());
      try {
        expect(await redis.keys(`${prefix}:*`)).toEqual([]);
      } finally {
        redis.disconnect();
      }
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

describe('stdout is for results', () => {
  it('tasks --json with a warning logged still prints exactly one JSON document (ISO 8601 timestamps); the warning goes to stderr', async () => {
    const configPath = writeConfig(`dbs: { endpoint: "${sim.endpoint}", protocol: http }\nplans: [ { id: ${PLAN}, name: trust } ]\n`);
    const result = await dbswatch(['tasks', '--plan', PLAN, '--json', '--config', configPath]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('unknown download status');
    const tasks = JSON.parse(result.stdout) as { name?: string; createdAt?: string }[];
    expect(tasks.map((t) => t.name).sort()).toEqual(['trust-finished', 'trust-odd']);
    expect(tasks[0]?.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('tasks without --plan lists every configured plan', async () => {
    const configPath = writeConfig(`dbs: { endpoint: "${sim.endpoint}", protocol: http }\nplans: [ { id: ${PLAN}, name: trust } ]\n`);
    const result = await dbswatch(['tasks', '--json', '--config', configPath]);
    expect(result.code).toBe(0);
    const plans = JSON.parse(result.stdout) as { planId: string; tasks: unknown[] }[];
    expect(plans.map((p) => [p.planId, p.tasks.length])).toEqual([[PLAN, 2]]);
  });

  it('check-config --json on a bad file prints one document listing every problem with its path', async () => {
    const result = await dbswatch(['check-config', '--json', '--config', 'test/fixtures/config/five-mistakes.yaml']);
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout) as { valid: boolean; problems: { path: string; message: string }[] };
    expect(doc.valid).toBe(false);
    expect(doc.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['plans[0].notify[0]', 'plans[1].id', 'plans[2].interval', 'channels.ops-slack.webhookUrl', 'channels.plain-slack.webhookUrl']),
    );
    expect(doc.problems.length).toBeGreaterThanOrEqual(5);
    expect(result.stdout).not.toContain('secretpart');
  });

  it('check-config prints a config that loads back unchanged; --json wraps it', async () => {
    const configPath = sendingConfig('trust-print');
    const env = childEnv({ PORT: '9555', HOOK_FILE: join(dirname(configPath), 'hook') });
    const first = await dbswatch(['check-config', '--config', configPath], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('webhookUrlFile: ${HOOK_FILE}');
    expect(first.stdout).toContain('interval: 5s');
    expect(first.stdout).toContain('port: 9555');
    expect(first.stdout).not.toMatch(/&a\d|\*a\d|intervalMs/);
    const again = writeConfig(first.stdout);
    writeFileSync(join(dirname(again), 'hook'), readFileSync(join(dirname(configPath), 'hook')));
    const second = await dbswatch(['check-config', '--config', again], childEnv({ PORT: '9555', HOOK_FILE: join(dirname(again), 'hook') }));
    expect(second.code).toBe(0);
    expect(second.stdout.split('\n').slice(1)).toEqual(first.stdout.split('\n').slice(1));
    const json = JSON.parse((await dbswatch(['check-config', '--json', '--config', configPath], env)).stdout) as {
      valid: boolean;
      config: { http: { port: number } };
    };
    expect(json).toMatchObject({ valid: true, config: { http: { port: 9555 } } });
  });

  it('check-config --online names the credential source and never the secret', async () => {
    const configPath = writeConfig(`dbs: { endpoint: "${sim.endpoint}", protocol: http }\n`);
    const result = await dbswatch(['check-config', '--online', '--json', '--config', configPath]);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { online: { ok: boolean; credentials: { ok: boolean; credentialSource: string }[] } };
    expect(doc.online.ok).toBe(true);
    expect(doc.online.credentials).toEqual([expect.objectContaining({ ok: true, credentialSource: expect.stringContaining('environment variables') })]);
    expect(result.stdout + result.stderr).not.toContain(DEFAULT_SIM_CREDENTIAL.accessKeySecret);
  });

  it('tasks shows signed links cut, and whole only with --reveal-links', async () => {
    const configPath = writeConfig(`dbs: { endpoint: "${sim.endpoint}", protocol: http }\nplans: [ { id: ${PLAN}, name: trust } ]\n`);
    type Row = { name?: string; internetUrl?: string };
    const finished = (out: string) => (JSON.parse(out) as Row[]).find((t) => t.name === 'trust-finished');
    const cut = finished((await dbswatch(['tasks', '--plan', PLAN, '--json', '--config', configPath])).stdout);
    expect(cut?.internetUrl).toMatch(/^https?:\/\/[^?]+ \(signed\)$/);
    const whole = finished((await dbswatch(['tasks', '--plan', PLAN, '--json', '--reveal-links', '--config', configPath])).stdout);
    expect(whole?.internetUrl).toMatch(/\?.+/);
    expect(whole?.internetUrl?.startsWith(cut?.internetUrl?.replace(' (signed)', '') ?? '-')).toBe(true);
    const text = await dbswatch(['tasks', '--plan', PLAN, '--reveal-links', '--config', configPath]);
    expect(text.stdout).toContain(whole?.internetUrl ?? '-');
  });

  it('retry --all re-queues every failed notification, like the page; --id of an unknown job exits 1', async () => {
    const prefix = uniquePrefix('trust-retry');
    prefixes.push(prefix);
    const redis = new Redis(redisUrl(), { maxRetriesPerRequest: null });
    const queues = openQueues(redis, prefix);
    try {
      const data: NotifyJobData = { v: 1, channel: 'hook', notifications: [] };
      await queues.notify.add('notify', data, { jobId: 'trust.retry.1', attempts: 3, removeOnFail: false });
      const worker = new Worker<NotifyJobData>(
        'notify',
        async () => {
          throw new UnrecoverableError('Slack answered 404 no_service');
        },
        { connection: redis.duplicate(), prefix },
      );
      worker.on('error', () => {});
      await new Promise<void>((resolve) => worker.on('failed', () => resolve()));
      await worker.close();
      expect(await queues.notify.getJobState('trust.retry.1')).toBe('failed');

      const configPath = writeConfig(`redis: { url: "${redisUrl()}", prefix: "${prefix}" }\n`);
      const result = await dbswatch(['retry', '--all', '--json', '--config', configPath]);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, retried: 1, results: [{ id: 'trust.retry.1', status: 'retrying' }] });
      expect(await queues.notify.getJobState('trust.retry.1')).toBe('waiting');

      const unknown = await dbswatch(['retry', '--id', 'no.such.job', '--config', configPath]);
      expect(unknown.code).toBe(1);
      expect(unknown.stdout).toContain('no notification job with id no.such.job');
      expect((await dbswatch(['retry', '--config', configPath])).code).toBe(2);
    } finally {
      await queues.close();
      redis.disconnect();
    }
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const result = await dbswatch(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });
});
