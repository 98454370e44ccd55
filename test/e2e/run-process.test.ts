/**
 * The built `dbswatch run` as a real child process against the simulator,
 * a Slack sink, an SMTP sink and a private Redis: notifications arrive once;
 * /readyz, /metrics and `status` work; SIGTERM mid-poll exits 0 in time and a
 * restarted process finishes the work without loss or duplicate; a Redis
 * restart is survived.
 */
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { type SlackSink, startSlackSink } from '../../dev/sinks/slack-sink.js';
import { type SmtpSink, startSmtpSink } from '../../dev/sinks/smtp-sink.js';
import { freePort, type PrivateRedis, startPrivateRedis } from '../helpers/private-redis.js';
import { childEnv, killAll, type ManagedProcess, startBuiltDbswatch, writeConfig } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const PLANS = ['planrun0001', 'planrun0002'];
const DEADLINE_MS = 8_000;

/** Notification ids each sink received (one message may carry several). */
function idsIn(body: unknown): string[] {
  return [...JSON.stringify(body).matchAll(/notification ((?:planrun\d+)\.[A-Za-z0-9~]+\.\d+-[a-z_]+\.[a-z-]+)/g)].map((m) => m[1] as string);
}

const until = <T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> => waitFor(what, check, { timeoutMs });

describe('dbswatch run, built, as a child process', () => {
  let redis: PrivateRedis;
  let sim: RunningSimulator;
  let slack: SlackSink;
  let smtp: SmtpSink;
  let configPath: string;
  let httpPort: number;
  let probe: Redis;

  beforeAll(async () => {
    execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
    redis = await startPrivateRedis();
    sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
    for (const planId of PLANS) {
      sim.world.addPlan({ planId, name: `${planId}-name` });
      sim.world.addTasks(planId, 8, { status: 'running' });
      sim.world.addTasks(planId, 3, { status: 'finish' });
    }
    slack = await startSlackSink();
    smtp = await startSmtpSink();
    httpPort = await freePort();
    configPath = writeConfig(`
redis: { url: "${redis.url}", prefix: "e2e-run" }
dbs: { endpoint: "${sim.endpoint}", protocol: http, pageSize: 30, timeout: 20s }
defaults: { interval: 5s, notify: [slack, mail] }
plans:
${PLANS.map((id) => `  - { id: ${id}, name: "${id}-name" }`).join('\n')}
channels:
  slack: { type: slack, webhookUrl: "${slack.url('/services/T1/B1/run')}" }
  mail: { type: email, smtpUrl: "${smtp.url}", from: "dbswatch <d@example.com>", to: [dba@example.com] }
notify: { backoff: 200, maxBackoff: 2s }
http: { port: ${httpPort} }
shutdown: { deadline: ${DEADLINE_MS} }
`);
    probe = new Redis(redis.url, { maxRetriesPerRequest: null });
    probe.on('error', () => {});
  });

  afterAll(async () => {
    await killAll();
    probe?.disconnect();
    await Promise.allSettled([sim?.close(), slack?.close(), smtp?.close()]);
    await redis?.destroy();
  });

  const start = async (): Promise<ManagedProcess> => {
    const child = startBuiltDbswatch(['run', '--config', configPath], childEnv({ REDIS_URL: '' }));
    await child.waitForLine(/dbswatch started/);
    return child;
  };
  const slackIds = () => slack.messages.flatMap((m) => idsIn(m.body));
  const mailIds = () => smtp.messages.flatMap((m) => [...m.raw.matchAll(/Notification: (\S+)/g)].map((x) => x[1] as string));
  const baselineDone = async () => {
    const flags = await Promise.all(PLANS.map((id) => probe.hget(`e2e-run:plan:${id}:meta`, 'baseline')));
    return flags.every((f) => f === '1') || undefined;
  };
  const finishSome = (planId: string, count: number, status = 'finish') => {
    const moved = sim.world
      .tasksOf(planId)
      .filter((t) => t.BackupSetDownloadStatus === 'running')
      .slice(0, count);
    for (const t of moved) sim.world.setStatus(t.BackupSetDownloadTaskId, status);
    return moved.map((t) => `${planId}.${t.BackupSetDownloadTaskId}`);
  };
  const expectDeliveredOnce = async (taskKeys: string[]) => {
    await until('all deliveries', () => {
      const s = slackIds();
      const m = mailIds();
      return taskKeys.every((k) => s.some((id) => id.startsWith(`${k}.`)) && m.some((id) => id.startsWith(`${k}.`))) || undefined;
    });
    for (const ids of [slackIds(), mailIds()]) expect(ids.length).toBe(new Set(ids).size);
  };

  it('delivers, reports ready, survives SIGTERM mid-poll and a Redis restart, without loss or duplicate', async () => {
    let child = await start();
    await until('/readyz 200', async () => ((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200 ? true : undefined));
    await until('baseline of both plans', baselineDone);
    expect(slack.messages).toHaveLength(0); // the baseline is silent

    // 1. Plain delivery.
    const first = [...finishSome(PLANS[0]!, 2), ...finishSome(PLANS[1]!, 1, 'stop')];
    await expectDeliveredOnce(first);

    // 2. SIGTERM while a poll is in flight: slow the API down, change a task, wait for a request to hang.
    const before = sim.stats().requests;
    sim.injectFault({ kind: 'timeout', count: 1_000, delayMs: 2_000, afterDelay: 'answer' });
    const second = finishSome(PLANS[0]!, 2);
    await until('a poll in flight', () => (sim.stats().requests > before ? true : undefined), 20_000);
    const stoppedAt = Date.now();
    child.child.kill('SIGTERM');
    const code = await child.exited;
    expect(code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(DEADLINE_MS + 3_000);
    expect(child.lines.some((l) => l.includes('shutdown complete'))).toBe(true);
    sim.clearFaults();
    child = await start();
    await expectDeliveredOnce([...first, ...second]);

    // 3. Redis restarted while it runs.
    await redis.stop();
    await until('/readyz 503 while Redis is down', async () => ((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 503 ? true : undefined));
    const third = finishSome(PLANS[1]!, 2);
    await redis.start();
    await expectDeliveredOnce([...first, ...second, ...third]);
    await until('/readyz 200 again', async () => ((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200 ? true : undefined));

    // 4. Metrics move with the scenario and parse as Prometheus text.
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    for (const line of metrics.split('\n').filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eENaInf]+$/);
    }
    const sent = Number(/dbswatch_notifications_total\{channel_type="slack",[^}]*result="sent"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
    expect(sent).toBeGreaterThanOrEqual(3); // this process delivered at least the Redis-restart batch
    expect(Number(/dbswatch_polls_total\{result="ok"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0)).toBeGreaterThan(0);

    // 5. `dbswatch status` shows the plans.
    const status = JSON.parse(
      execFileSync(process.execPath, ['dist/src/cli.js', 'status', '--json', '--config', configPath], {
        env: childEnv({ REDIS_URL: '' }),
        encoding: 'utf8',
      }),
    ) as { plans: { id: string; health: string }[] };
    expect(status.plans.map((p) => p.id).sort()).toEqual(PLANS);

    expect(await child.stop('SIGTERM')).toBe(0);
    for (const line of child.lines) expect(line).not.toMatch(/unhandled|uncaught/i);
  }, 240_000);
});
