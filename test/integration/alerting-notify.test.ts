/**
 * The alerting features at send time, on real parts (BullMQ + Redis, the
 * notify worker, the local Slack and SMTP sinks): a zh-CN/Asia/Shanghai
 * channel, silences (drop and replay), acknowledged reminders, watchdog
 * notices and `notifications-failing`.
 */
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type SlackSink, startSlackSink } from '../../dev/sinks/slack-sink.js';
import { type SmtpSink, startSmtpSink } from '../../dev/sinks/smtp-sink.js';
import { acknowledge } from '../../src/alerting/acks.js';
import { reminderNotification } from '../../src/alerting/reminders.js';
import { SilenceStore } from '../../src/alerting/silence-store.js';
import { WatchdogRunner } from '../../src/alerting/watchdog-runner.js';
import { type Config, parseConfig } from '../../src/config.js';
import { startNotifyWorker } from '../../src/jobs/notify.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { silentLogger } from '../../src/logger.js';
import { notificationsTotal } from '../../src/metrics.js';
import type { Notification } from '../../src/notify/event.js';
import { ChannelPool } from '../../src/notify/registry.js';
import { sampleNotification } from '../../src/notify/sample.js';
import { notifyJobOptions, QUEUE_NAMES } from '../../src/queues.js';
import { encodeTracked } from '../../src/tracking/diff.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

async function parseMail(raw: string): Promise<{ subject?: string; text?: string; html?: string | false }> {
  const specifier = 'mailparser';
  const { simpleParser } = (await import(specifier)) as { simpleParser: (raw: string) => Promise<{ subject?: string; text?: string }> };
  return simpleParser(raw);
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

interface Harness {
  readonly prefix: string;
  readonly config: Config;
  readonly redis: Redis;
  readonly queue: Queue<NotifyJobData>;
  readonly slack: SlackSink;
  readonly cn: SlackSink;
  readonly smtp: SmtpSink;
  readonly worker: Worker;
  add(channel: string, notifications: readonly Notification[], jobId?: string): Promise<string>;
  finished(jobId: string): Promise<string>;
}

async function harness(extraYaml = ''): Promise<Harness> {
  const prefix = uniquePrefix('alerting');
  cleanups.push(() => deletePrefix(prefix));
  const slack = await startSlackSink();
  cleanups.push(() => slack.close());
  const cn = await startSlackSink();
  cleanups.push(() => cn.close());
  const smtp = await startSmtpSink();
  cleanups.push(() => smtp.close());
  const config = parseConfig(
    `
redis: { prefix: ${prefix} }
plans: [{ id: dbsplan-sample, name: orders }]
channels:
  ops: { type: slack, webhookUrl: "${slack.url()}", timeout: 5s }
  cn-slack: { type: slack, webhookUrl: "${cn.url('/services/T1/B1/cn')}", timeout: 5s, locale: zh-CN, timezone: Asia/Shanghai }
  cn-mail: { type: email, host: 127.0.0.1, port: ${smtp.port}, from: d@example.com, to: [dba@example.com], timeout: 5s, locale: zh-CN, timezone: Asia/Shanghai }
notify: { backoff: 50, maxBackoff: 200, attempts: 2 }
watchdog: { notify: [ops], recoverAfter: 1 }
${extraYaml}
`,
    {},
  );
  const redis = connect('alerting-commands');
  cleanups.push(() => close(redis));
  const connection = connect('alerting-worker', { worker: true });
  cleanups.push(() => close(connection));
  const channels = new ChannelPool(() => config);
  cleanups.push(() => channels.close());
  const queue = new Queue<NotifyJobData>(QUEUE_NAMES.notify, { connection: redis, prefix });
  cleanups.push(() => queue.close());
  const watchdog = new WatchdogRunner({ redis, prefix, config: () => config, notifyQueue: queue, log: silentLogger });
  const worker = startNotifyWorker({ config: () => config, redis, prefix, channels, log: silentLogger, connection, watchdog });
  cleanups.push(() => worker.close());
  const finished = new Map<string, string>();
  worker.on('completed', (job) => finished.set(String(job.id), 'completed'));
  worker.on('failed', (job) => job && finished.set(String(job.id), 'failed'));
  return {
    prefix,
    config,
    redis,
    queue,
    slack,
    cn,
    smtp,
    worker,
    async add(channel, notifications, jobId) {
      const id = jobId ?? (notifications[0] as Notification).id;
      await queue.add('notify', { v: 1, channel, notifications }, notifyJobOptions(config, id));
      return id;
    },
    async finished(jobId) {
      await expect.poll(() => finished.get(jobId), { timeout: 15_000 }).toBeDefined();
      return finished.get(jobId) as string;
    },
  };
}

const counter = async (channel: string, result: string) =>
  (await notificationsTotal.get()).values.find((v) => v.labels.channel === channel && v.labels.result === result)?.value ?? 0;

describe('alerting at send time', () => {
  it('a zh-CN + Asia/Shanghai channel renders Chinese text and UTC+8 times (Slack and email)', async () => {
    const h = await harness();
    const n = sampleNotification('finished', 'cn-slack');
    await h.add('cn-slack', [n]);
    await h.add('cn-mail', [{ ...sampleNotification('failed', 'cn-mail') }]);
    const [message] = await h.cn.waitFor(1);
    const body = JSON.stringify(message?.body);
    expect(body).toContain('下载已就绪');
    expect(body).toContain('创建时间');
    // The sample task was created 2024-05-01 02:00 UTC: 10:00 in Shanghai.
    expect(body).toContain('2024-05-01 10:00:00 UTC+8');
    expect(body).not.toContain('02:00:00 UTC');
    const [mail] = await h.smtp.waitFor(1);
    const parsed = await parseMail(mail?.raw ?? '');
    expect(parsed.subject).toContain('下载失败');
    expect(parsed.text).toContain('创建时间: 2024-05-01 10:00:00 UTC+8');
  });

  it('a silence stops a notification (recorded, counted, not sent); another plan still goes out', async () => {
    const h = await harness();
    const store = new SilenceStore(h.redis, h.prefix);
    await store.add({ plans: ['dbsplan-*'], events: ['failed'], forMs: 3_600_000, reason: 'migration' });
    const before = await counter('ops', 'silenced');
    const silenced = sampleNotification('failed', 'ops');
    const other = { ...sampleNotification('failed', 'ops', { index: 7 }), id: 'other-plan.t7.2-stop.ops', plan: { id: 'prod-plan', name: 'prod' } };
    expect(await h.finished(await h.add('ops', [silenced]))).toBe('completed');
    await h.add('ops', [other]);
    await h.slack.waitFor(1);
    expect(h.slack.messages).toHaveLength(1);
    expect(JSON.stringify(h.slack.messages[0]?.body)).toContain(other.id);
    expect(await counter('ops', 'silenced')).toBe(before + 1);
    const records = await store.recentSilenced();
    expect(records).toMatchObject([{ notificationId: silenced.id, planId: 'dbsplan-sample', channel: 'ops', reason: 'migration', replay: false }]);
  });

  it('a replay silence holds the notification and sends it once the silence ends', async () => {
    const until = new Date(Date.now() + 1_500).toISOString();
    const h = await harness(`silences: [{ plans: ["dbsplan-*"], until: "${until}", reason: "maintenance window", replay: true }]`);
    const n = sampleNotification('failed', 'ops');
    await h.add('ops', [n]);
    await expect.poll(async () => (await h.queue.getJob(n.id))?.isDelayed(), { timeout: 10_000 }).toBe(true);
    expect(h.slack.messages).toHaveLength(0);
    const [message] = await h.slack.waitFor(1, 15_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(until));
    expect(JSON.stringify(message?.body)).toContain(n.id);
  });

  it('a reminder goes out while the failure stands, and not once the task is acknowledged', async () => {
    const h = await harness('defaults: { remind: { every: 1h, times: 3 } }');
    const original = sampleNotification('failed', 'ops', { seq: 2 });
    // The task is still tracked in its failed state (seq 2).
    await h.redis.hset(
      new RedisStateStore(h.redis, h.prefix).tasksKey(original.plan.id),
      original.task.taskId,
      encodeTracked({ status: 'stop', seq: 2, missed: 0 }),
    );
    const first = reminderNotification(original, 1, 3);
    await h.add('ops', [first]);
    const [message] = await h.slack.waitFor(1);
    expect(JSON.stringify(message?.body)).toContain('Reminder 1 of 3');
    await acknowledge(h.redis, h.prefix, { taskId: original.task.taskId, by: 'test', at: Date.now() });
    const skippedBefore = await counter('ops', 'reminder_skipped');
    const second = reminderNotification(original, 2, 3);
    expect(await h.finished(await h.add('ops', [second]))).toBe('completed');
    expect(await counter('ops', 'reminder_skipped')).toBe(skippedBefore + 1);
    expect(h.slack.messages).toHaveLength(1);
  });

  it('a channel whose deliveries fail permanently raises one notifications-failing to the watchdog channel', async () => {
    const h = await harness();
    h.cn.respondWith({ status: 404 }, { status: 404 }, { status: 404 });
    for (const index of [1, 2, 3]) {
      const id = await h.add('cn-slack', [sampleNotification('failed', 'cn-slack', { index })]);
      expect(await h.finished(id)).toBe('failed');
    }
    const [alert] = await h.slack.waitFor(1);
    // Slack text is made inert with zero-width spaces around formatting marks (`no_service`): read it as shown.
    const text = JSON.stringify(alert?.body).replace(/\u200b/g, '');
    expect(text).toContain('Notifications to channel cn-slack are failing');
    expect(text).toContain('no_service');
    // Once per state change: the second and third failure raised nothing more.
    await h.add('ops', [sampleNotification('finished', 'ops')]);
    await h.slack.waitFor(2);
    expect(h.slack.messages.filter((m) => JSON.stringify(m.body).includes('are failing'))).toHaveLength(1);
  });
});
