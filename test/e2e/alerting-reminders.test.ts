/**
 * Reminders across two `dbswatch run` processes (from source) sharing one
 * Redis: each reminder slot of a failed download is sent exactly once, marked
 * as a reminder with its slot; an acknowledged task gets no further reminders.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { type SlackSink, startSlackSink } from '../../dev/sinks/slack-sink.js';
import { childEnv, killAll, type ManagedProcess, startDbswatch, writeConfig } from '../helpers/processes.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const PLAN = 'plan-remind';

/** Notification ids each Slack message names (`notification <id>`). */
const idsIn = (body: unknown) => [...JSON.stringify(body).matchAll(/notification ([A-Za-z0-9~._-]+)/g)].map((m) => m[1] as string);

describe('reminders across two worker processes', () => {
  let sim: RunningSimulator;
  let slack: SlackSink;
  let prefix: string;
  let configPath: string;
  let probe: Redis;
  let queue: Queue;
  const processes: ManagedProcess[] = [];
  const env = () => childEnv({ REDIS_URL: redisUrl() });
  const sentIds = () => slack.messages.flatMap((m) => idsIn(m.body));

  beforeAll(async () => {
    prefix = uniquePrefix('e2e-remind');
    sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
    sim.world.addPlan({ planId: PLAN, name: 'orders' });
    sim.world.addTasks(PLAN, 2, { status: 'running' });
    slack = await startSlackSink();
    configPath = writeConfig(`
redis: { prefix: "${prefix}" }
dbs: { endpoint: "${sim.endpoint}", protocol: http, timeout: 5s }
defaults: { interval: 5s, notify: [ops], remind: { every: 3s, times: 3 } }
plans: [{ id: ${PLAN}, name: orders }]
channels:
  ops: { type: slack, webhookUrl: "${slack.url('/services/T1/B1/remind')}" }
notify: { backoff: 200, maxBackoff: 1s }
http: { port: 0 }
`);
    probe = new Redis(redisUrl(), { maxRetriesPerRequest: null });
    probe.on('error', () => {});
    queue = new Queue('notify', { connection: probe, prefix });
    for (let i = 0; i < 2; i++) processes.push(startDbswatch(['run', '--config', configPath], env()));
    await Promise.all(processes.map((p) => p.waitForLine(/dbswatch started/)));
  }, 60_000);

  afterAll(async () => {
    await killAll();
    await queue?.close();
    probe?.disconnect();
    await Promise.allSettled([sim?.close(), slack?.close()]);
    if (prefix) await deletePrefix(prefix);
  });

  it('sends every slot once, and stops after an ack', async () => {
    await expect.poll(() => probe.hget(`${prefix}:plan:${PLAN}:meta`, 'baseline'), { timeout: 30_000 }).toBe('1');
    const [kept, acked] = sim.world.tasksOf(PLAN);
    // Acknowledged up front (a CLI start can take longer than a slot on a busy machine): the ack is
    // checked when each slot fires, so the task's failure is announced but none of its reminders are.
    const ack = startDbswatch(['ack', acked!.BackupSetDownloadTaskId, '--config', configPath, '--by', 'e2e'], env());
    expect(await ack.exited).toBe(0);
    expect(ack.lines.join('\n')).toContain('acknowledged');
    sim.world.setStatus(kept!.BackupSetDownloadTaskId, 'stop', { errMessage: 'disk full' });
    sim.world.setStatus(acked!.BackupSetDownloadTaskId, 'stop', { errMessage: 'network' });

    const of = (taskId: string) => sentIds().filter((id) => id.includes(`.${taskId}.`));
    await expect.poll(() => of(acked!.BackupSetDownloadTaskId).length, { timeout: 30_000 }).toBe(1);
    const original = of(acked!.BackupSetDownloadTaskId)[0] as string;

    // Every slot of the other task, each exactly once.
    await expect.poll(() => of(kept!.BackupSetDownloadTaskId).length, { timeout: 40_000 }).toBe(4);
    const keptOriginal = of(kept!.BackupSetDownloadTaskId).find((id) => !/\.r\d$/.test(id)) as string;
    expect(of(kept!.BackupSetDownloadTaskId).sort()).toEqual([keptOriginal, `${keptOriginal}.r1`, `${keptOriginal}.r2`, `${keptOriginal}.r3`].sort());
    const reminder = slack.messages.find((m) => idsIn(m.body).includes(`${keptOriginal}.r2`));
    expect(JSON.stringify(reminder?.body)).toContain('Reminder 2 of 3');

    // The acked task's slots ran and were skipped (not sent).
    for (const n of [1, 2, 3]) {
      await expect.poll(async () => (await queue.getJob(`${original}.r${n}`))?.getState(), { timeout: 30_000 }).toBe('completed');
    }
    const ackedIds = of(acked!.BackupSetDownloadTaskId);
    expect(ackedIds).toEqual([original]);
    // Nothing at all was sent twice, by either process.
    expect(sentIds().length).toBe(new Set(sentIds()).size);
    // Both processes did notify work (the exactly-once above is across them).
    expect(processes.every((p) => p.lines.some((l) => l.includes('notification delivered') || l.includes('held back')))).toBe(true);
  });
});
