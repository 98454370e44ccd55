/**
 * `dbswatch run` as a child process (from source) against the DBS simulator,
 * the Slack sink and the shared Redis (own prefix):
 * - /metrics right after start has zero-valued series for every known label value;
 * - a silence added with the CLI stops a notification in the running process, without a reload,
 *   while another plan's failure still goes out;
 * - a revoked credential (the simulator answers InvalidAccessKeyId.NotFound) yields exactly one
 *   `plan-failing`, and once fixed exactly one `plan-recovered`;
 * - POST /-/reload (token-protected) reloads, and a broken file shows in the reload metric.
 */
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { type SlackSink, startSlackSink } from '../../dev/sinks/slack-sink.js';
import { freePort } from '../helpers/private-redis.js';
import { childEnv, killAll, type ManagedProcess, startDbswatch, writeConfig } from '../helpers/processes.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const QUIET = 'plan-quiet';
const LOUD = 'plan-loud';
const TOKEN = 'e2e-alerting-token-0123456789';

describe('alerting in a running dbswatch', () => {
  let sim: RunningSimulator;
  let slack: SlackSink;
  let prefix: string;
  let configPath: string;
  let yaml: string;
  let port: number;
  let probe: Redis;
  let child: ManagedProcess;

  const env = () => childEnv({ REDIS_URL: redisUrl(), LOG_LEVEL: 'info' });
  const text = (i: number) => JSON.stringify(slack.messages[i]?.body ?? '');
  const texts = () => slack.messages.map((_, i) => text(i));
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

  beforeAll(async () => {
    prefix = uniquePrefix('e2e-alerting');
    sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
    for (const planId of [QUIET, LOUD]) {
      sim.world.addPlan({ planId, name: `${planId}-name` });
      sim.world.addTasks(planId, 3, { status: 'running' });
    }
    slack = await startSlackSink();
    port = await freePort();
    yaml = `
redis: { prefix: "${prefix}" }
dbs: { endpoint: "${sim.endpoint}", protocol: http, timeout: 5s }
defaults: { interval: 5s, notify: [ops] }
plans:
  - { id: ${QUIET}, name: "${QUIET}-name" }
  - { id: ${LOUD}, name: "${LOUD}-name" }
channels:
  ops: { type: slack, webhookUrl: "${slack.url('/services/T1/B1/alerting')}" }
notify: { backoff: 200, maxBackoff: 1s }
watchdog: { notify: [ops] }
http: { port: ${port}, authToken: "${TOKEN}" }
`;
    configPath = writeConfig(yaml);
    probe = new Redis(redisUrl(), { maxRetriesPerRequest: null });
    probe.on('error', () => {});
    child = startDbswatch(['run', '--config', configPath], env());
    await child.waitForLine(/HTTP server listening/);
  }, 60_000);

  afterAll(async () => {
    await killAll();
    probe?.disconnect();
    await Promise.allSettled([sim?.close(), slack?.close()]);
    if (prefix) await deletePrefix(prefix);
  });

  it('serves zero-valued series right after start', async () => {
    const body = await metrics();
    expect(body).toContain('dbswatch_notifications_total{channel_type="slack",channel="ops",result="failed"} 0');
    expect(body).toContain('dbswatch_notifications_total{channel_type="slack",channel="ops",result="silenced"} 0');
    expect(body).toContain('dbswatch_polls_total{result="failed",source="plan"} 0');
    expect(body).toContain('dbswatch_dbs_requests_total{outcome="permanent"} 0');
    expect(body).toContain('dbswatch_transitions_total{event="failed",source="plan"} 0');
    expect(body).toMatch(new RegExp(`dbswatch_plan_up\\{plan="${QUIET}"\\} [01]`));
    expect(body).toMatch(new RegExp(`dbswatch_plan_last_success_timestamp_seconds\\{plan="${LOUD}"\\} \\d`));
    expect(body).toContain('dbswatch_config_last_reload_successful 1');
  });

  it('a silence added from the CLI stops a notification in the running process, without a reload', async () => {
    await expect
      .poll(async () => (await Promise.all([QUIET, LOUD].map((id) => probe.hget(`${prefix}:plan:${id}:meta`, 'baseline')))).every((f) => f === '1'), {
        timeout: 30_000,
      })
      .toBe(true);
    const cli = startDbswatch(
      ['silence', 'add', '--config', configPath, '--plan', 'plan-qu*', '--event', 'failed', '--for', '1h', '--reason', 'migration'],
      env(),
    );
    expect(await cli.exited).toBe(0);
    expect(cli.lines.join('\n')).toMatch(/silence [0-9a-f]+ added/);

    const [quietTask] = sim.world.tasksOf(QUIET);
    const [loudTask] = sim.world.tasksOf(LOUD);
    sim.world.setStatus(quietTask!.BackupSetDownloadTaskId, 'stop', { errMessage: 'quiet failure' });
    sim.world.setStatus(loudTask!.BackupSetDownloadTaskId, 'stop', { errMessage: 'loud failure' });
    // The other plan's failure arrives: the pipeline works.
    await slack.waitFor((ms) => ms.some((m) => JSON.stringify(m.body).includes(loudTask!.BackupSetDownloadTaskId)), 30_000);
    // The silenced one is recorded as silenced…
    await expect
      .poll(async () => (await probe.lrange(`${prefix}:silenced`, 0, -1)).join('\n'), { timeout: 30_000 })
      .toContain(quietTask!.BackupSetDownloadTaskId);
    // …and never sent.
    expect(texts().some((t) => t.includes(quietTask!.BackupSetDownloadTaskId))).toBe(false);
    expect(await metrics()).toContain('dbswatch_notifications_total{channel_type="slack",channel="ops",result="silenced"} 1');
    expect(child.lines.some((l) => l.includes('configuration reloaded'))).toBe(false);

    const status = startDbswatch(['status', '--config', configPath], env());
    expect(await status.exited).toBe(0);
    expect(status.lines.join('\n')).toContain('SILENCED NOTIFICATIONS');
  });

  it('a revoked credential yields exactly one plan-failing and, once fixed, one plan-recovered', async () => {
    const failing = () => texts().filter((t) => t.includes(`cannot poll plan ${LOUD}-name`));
    const recovered = () => texts().filter((t) => t.includes(`polls plan ${LOUD}-name again`));
    sim.injectFault({
      kind: 'raw',
      count: 100_000,
      planId: LOUD,
      status: 404,
      body: JSON.stringify({ RequestId: 'e2e', Code: 'InvalidAccessKeyId.NotFound', Message: 'Specified access key is not found.' }),
    });
    await expect.poll(() => failing().length, { timeout: 30_000 }).toBe(1);
    expect(failing()[0]).toContain('InvalidAccessKeyId');
    // More failed polls (every 5 s) raise nothing more.
    const polled = sim.stats().requests;
    await expect.poll(() => sim.stats().requests, { timeout: 30_000 }).toBeGreaterThan(polled + 2);
    expect(await metrics()).toMatch(new RegExp(`dbswatch_plan_up\\{plan="${LOUD}"\\} 0`));
    sim.clearFaults();
    await expect.poll(() => recovered().length, { timeout: 40_000 }).toBe(1);
    expect(failing()).toHaveLength(1);
    expect(recovered()).toHaveLength(1);
    // The quiet plan was never reported.
    expect(texts().some((t) => t.includes(`plan ${QUIET}-name`) && t.includes('dbswatch'))).toBe(false);
  });

  it('POST /-/reload needs the token, reloads, and reports a broken file in the metric', async () => {
    const url = `http://127.0.0.1:${port}/-/reload`;
    expect((await fetch(url, { method: 'POST' })).status).toBe(401);
    const ok = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'reloaded', plans: 2 });
    writeFileSync(configPath, `${yaml}\nbogus: 1\n`);
    const bad = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bad.status).toBe(500);
    expect(((await bad.json()) as { message: string }).message).toContain('bogus');
    expect(await metrics()).toContain('dbswatch_config_last_reload_successful 0');
  });
});
