/**
 * End-to-end delivery on real parts: BullMQ + Redis, the notify worker, the
 * local Slack sink (HTTP) and the local SMTP sink (smtp-server), parsed
 * with mailparser.
 */
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type SlackSink, startSlackSink } from '../../dev/sinks/slack-sink.js';
import { type SmtpSink, startSmtpSink } from '../../dev/sinks/smtp-sink.js';
import { type Config, parseConfig } from '../../src/config.js';
import { startNotifyWorker } from '../../src/jobs/notify.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { silentLogger } from '../../src/logger.js';
import type { Notification } from '../../src/notify/event.js';
import { ChannelPool } from '../../src/notify/registry.js';
import { sampleBurst, sampleNotification } from '../../src/notify/sample.js';
import { notifyJobOptions, QUEUE_NAMES } from '../../src/queues.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

interface ParsedMail {
  subject?: string;
  text?: string;
  html?: string | false;
}
// mailparser ships no types; a computed specifier keeps the compiler from looking for them.
async function parseMail(raw: string): Promise<ParsedMail> {
  const specifier = 'mailparser';
  const { simpleParser } = (await import(specifier)) as { simpleParser: (raw: string) => Promise<ParsedMail> };
  return simpleParser(raw);
}

interface Harness {
  readonly config: Config;
  readonly queue: Queue<NotifyJobData>;
  readonly worker: Worker;
  readonly slack: SlackSink;
  readonly smtp: SmtpSink;
  add(channel: string, notifications: readonly Notification[], jobId?: string): Promise<string>;
  waitForState(jobId: string, state: 'completed' | 'failed', timeoutMs?: number): Promise<void>;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  // Reverse order: worker before connections, connections before deleting keys.
  while (cleanups.length) await cleanups.pop()?.();
});

async function harness(options: { attempts?: number } = {}): Promise<Harness> {
  const prefix = uniquePrefix('notify');
  cleanups.push(() => deletePrefix(prefix));
  const slack = await startSlackSink();
  cleanups.push(() => slack.close());
  const smtp = await startSmtpSink();
  cleanups.push(() => smtp.close());
  const config = parseConfig(
    `
redis: { prefix: ${prefix} }
channels:
  ops-slack: { type: slack, webhookUrl: "${slack.url()}", timeout: 5s }
  ops-mail:
    type: email
    host: 127.0.0.1
    port: ${smtp.port}
    from: dbswatch@example.com
    to: [ops@example.com]
    timeout: 5s
notify: { backoff: 50, maxBackoff: 200, attempts: ${options.attempts ?? 5}, concurrency: 4 }
`,
    {},
  );
  const redis: Redis = connect('notify-commands');
  cleanups.push(() => close(redis));
  const connection: Redis = connect('notify-worker', { worker: true });
  cleanups.push(() => close(connection));
  const channels = new ChannelPool(() => config);
  cleanups.push(() => channels.close());
  const queue = new Queue<NotifyJobData>(QUEUE_NAMES.notify, { connection: redis, prefix });
  cleanups.push(() => queue.close());
  const worker = startNotifyWorker({ config: () => config, redis, prefix, channels, log: silentLogger, connection });
  cleanups.push(() => worker.close());
  return {
    config,
    queue,
    worker,
    slack,
    smtp,
    async add(channel, notifications, jobId = notifications.length === 1 ? notifications[0]?.id : undefined) {
      const id = jobId ?? `digest.${channel}.${notifications.length}`;
      await queue.add('notify', { v: 1, channel, notifications }, notifyJobOptions(config, id));
      return id;
    },
    async waitForState(jobId, state, timeoutMs = 15_000) {
      await vi.waitFor(
        async () => {
          const current = await queue.getJobState(jobId);
          if (current !== state) throw new Error(`job ${jobId} is ${current}, waiting for ${state}`);
        },
        { timeout: timeoutMs, interval: 50 },
      );
    },
  };
}

describe('notify worker delivery', () => {
  it('delivers each notification exactly once per channel, then strips the payload', async () => {
    const h = await harness();
    const finished = sampleNotification('finished', 'ops-slack');
    const failedMail = sampleNotification('failed', 'ops-mail', { index: 7 });
    const finishedMail = sampleNotification('finished', 'ops-mail', { index: 8 });
    const ids = [await h.add('ops-slack', [finished]), await h.add('ops-mail', [failedMail]), await h.add('ops-mail', [finishedMail])];
    for (const id of ids) await h.waitForState(id, 'completed');

    expect(h.slack.messages).toHaveLength(1);
    expect(JSON.stringify(h.slack.messages[0]?.body)).toContain('Download ready');
    expect(h.smtp.messages).toHaveLength(2);

    const parsed = await Promise.all(h.smtp.messages.map((m) => parseMail(m.raw)));
    const ready = parsed.find((p) => p.subject?.startsWith('[dbswatch] Download ready'));
    const failed = parsed.find((p) => p.subject?.startsWith('[dbswatch] Download FAILED'));
    expect(ready?.text).toContain(finishedMail.task.internetUrl);
    expect(ready?.text).toContain(finishedMail.task.intranetUrl);
    expect(ready?.html).toContain(finishedMail.task.internetUrl?.replace(/&/g, '&amp;'));
    expect(ready?.html).toContain(finishedMail.task.intranetUrl?.replace(/&/g, '&amp;'));
    expect(failed?.text).toContain(failedMail.task.errorMessage);
    expect(h.smtp.messages.every((m) => m.to.includes('ops@example.com'))).toBe(true);

    for (const id of ids) {
      const job = await h.queue.getJob(id);
      expect(job?.data.notifications).toEqual([]);
      expect(job?.data.delivered?.ids).toHaveLength(1);
      expect(JSON.stringify(job?.data)).not.toMatch(/https?:/);
    }
  });

  it('waits out Slack 429 Retry-After without burning attempts', async () => {
    // Two attempts: if each 429 cost an attempt, the job would fail.
    const h = await harness({ attempts: 2 });
    h.slack.respondWith({ status: 429, retryAfter: 2 }, { status: 429, retryAfter: 2 }, { status: 429, retryAfter: 2 });
    const id = await h.add('ops-slack', [sampleNotification('finished', 'ops-slack')]);
    await h.waitForState(id, 'completed', 20_000);

    expect(h.slack.messages).toHaveLength(1);
    const tries = h.slack.requests;
    expect(tries.map((r) => r.status)).toEqual([429, 429, 429, 200]);
    for (let i = 1; i < tries.length; i++) {
      expect(tries[i]?.at).toBeGreaterThanOrEqual((tries[i - 1]?.at ?? 0) + 2_000);
    }
    const job = await h.queue.getJob(id);
    expect(job?.attemptsMade).toBeLessThanOrEqual(1);
  });

  it('retries Slack 5xx and delivers once', async () => {
    const h = await harness();
    h.slack.respondWith({ status: 500 }, { status: 503 });
    const id = await h.add('ops-slack', [sampleNotification('finished', 'ops-slack')]);
    await h.waitForState(id, 'completed');
    expect(h.slack.messages).toHaveLength(1);
    expect(h.slack.requests.map((r) => r.status)).toEqual([500, 503, 200]);
    expect((await h.queue.getJob(id))?.attemptsMade).toBe(3);
  });

  it('fails permanently on Slack 404 no_service after one try, visible in the failed set', async () => {
    const h = await harness();
    h.slack.respondWith({ status: 404, body: 'no_service' });
    const id = await h.add('ops-slack', [sampleNotification('failed', 'ops-slack')]);
    await h.waitForState(id, 'failed');
    expect(h.slack.requests).toHaveLength(1);
    const failed = await h.queue.getFailed();
    expect(failed.map((j) => j.id)).toEqual([id]);
    const job = failed[0];
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toBe('Slack answered 404 no_service: the webhook was revoked or deleted (channel "ops-slack")');
    expect(job?.failedReason).not.toContain('/services/');
    // Nothing was delivered, so the payload stays for an operator to retry.
    expect(job?.data.notifications).toHaveLength(1);
  });

  it('retries SMTP 451 and delivers once; fails permanently on 550', async () => {
    const h = await harness();
    h.smtp.respondWith({ code: 451, message: 'Greylisted, try again' });
    const okId = await h.add('ops-mail', [sampleNotification('finished', 'ops-mail')]);
    await h.waitForState(okId, 'completed');
    expect(h.smtp.answers.map((a) => a.code)).toEqual([451, 250]);
    expect(h.smtp.messages).toHaveLength(1);

    h.smtp.respondWith({ code: 550, message: 'Mailbox unavailable' });
    const badId = await h.add('ops-mail', [sampleNotification('failed', 'ops-mail', { index: 3 })]);
    await h.waitForState(badId, 'failed');
    const job = await h.queue.getJob(badId);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/^SMTP server answered 550 Mailbox unavailable: .*\(channel "ops-mail"\)$/);
    expect(h.smtp.messages).toHaveLength(1);
  });

  it('sends a notification once even when it is both a single job and part of a digest', async () => {
    const h = await harness();
    const burst = sampleBurst(8, 'ops-slack');
    const single = burst[0] as Notification;
    const ids = [await h.add('ops-slack', [single]), await h.add('ops-slack', burst, 'digest.ops-slack.overlap')];
    // And the same single again under another job id (a replayed enqueue).
    ids.push(await h.add('ops-slack', [single], `${single.id}.replay`));
    for (const id of ids) await h.waitForState(id, 'completed', 20_000);

    const bodies = h.slack.messages.map((m) => JSON.stringify(m.body));
    const mentions = (n: Notification) => bodies.filter((b) => b.includes(`${n.task.name}*`)).length;
    for (const n of burst) expect(mentions(n)).toBe(1);
    // Every job completed, at least one of them by finding its notification already delivered.
    const results = await Promise.all(ids.map(async (id) => (await h.queue.getJob(id))?.returnvalue));
    expect(results.some((r) => r?.result === 'duplicate')).toBe(true);
  });

  it('sends a digest of 40 as one Slack message, and later duplicates as nothing', async () => {
    const h = await harness();
    const burst = sampleBurst(40, 'ops-slack');
    const id = await h.add('ops-slack', burst, 'digest.ops-slack.forty');
    await h.waitForState(id, 'completed');
    expect(h.slack.messages).toHaveLength(1);
    const body = JSON.stringify(h.slack.messages[0]?.body);
    expect(body).toContain('40 downloads: 38 ready, 2 failed');
    const job = await h.queue.getJob(id);
    expect(job?.data.notifications).toEqual([]);
    expect(job?.data.delivered?.ids).toHaveLength(40);
    expect(JSON.stringify(job?.data)).not.toContain('Signature=');

    const again = await h.add('ops-slack', [burst[5] as Notification], 'late-single');
    await h.waitForState(again, 'completed');
    expect((await h.queue.getJob(again))?.returnvalue).toEqual({ result: 'duplicate', duplicate: 1 });
    expect(h.slack.messages).toHaveLength(1);
  });

  it('rejects malformed payloads and unknown channels as permanent failures', async () => {
    const h = await harness();
    await h.queue.add('notify', { v: 1, channel: 'ops-slack', notifications: [{ id: 'x' }] } as never, {
      jobId: 'malformed',
      attempts: 3,
    });
    await h.add('gone', [sampleNotification('finished', 'gone')], 'unknown-channel');
    await h.waitForState('malformed', 'failed');
    await h.waitForState('unknown-channel', 'failed');
    const malformed = await h.queue.getJob('malformed');
    expect(malformed?.failedReason).toMatch(/^malformed notify job payload \(notifications\.0\./);
    expect(malformed?.attemptsMade).toBe(1);
    expect((await h.queue.getJob('unknown-channel'))?.failedReason).toBe('channel "gone" is no longer configured');
    expect(h.slack.requests).toHaveLength(0);
  });
});
