/**
 * Issue 15, item 4: how many duplicates dbswatch really produces, measured with real notify worker
 * processes and the Slack and SMTP sinks made slow. Before: a Slack answering after 4 s with a 3 s
 * timeout (or SMTP after 7 s with 5 s) got every message twice, and RELIABILITY.md called the
 * duplicate window "one Redis round trip". Now the default timeouts (Slack 30 s, SMTP 60 s) outlast a
 * slow-but-working provider; a timeout after the request went out is classified "outcome unknown"
 * (logged, counted), its claim is kept until it expires, then it is sent again — the window is the
 * provider's response time, and a worker killed inside it duplicates that message.
 */
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { type SlackSink, startSlackSink } from '../../dev/sinks/slack-sink.js';
import { type SmtpSink, startSmtpSink } from '../../dev/sinks/smtp-sink.js';
import { parseConfig } from '../../src/config.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { sampleNotification } from '../../src/notify/sample.js';
import { notifyJobOptions, QUEUE_NAMES } from '../../src/queues.js';
import { emailIds, slackMessageIds } from '../helpers/chaos.js';
import { killAll, type ManagedProcess, startDbswatch, writeConfig } from '../helpers/processes.js';
import { close, connect, deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

interface Scenario {
  readonly prefix: string;
  readonly slack: SlackSink;
  readonly smtp: SmtpSink;
  readonly queue: Queue<NotifyJobData>;
  readonly path: string;
  enqueue(channel: 'slack' | 'mail', count: number): Promise<string[]>;
  /** Arrivals per id at both sinks. */
  arrivals(): Map<string, number>;
}

const redis = connect('duplicates', { worker: true });
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  await killAll();
  for (const cleanup of cleanups) await cleanup();
  await close(redis);
});

async function scenario(name: string, channelsYaml: (slackUrl: string, smtpUrl: string) => string): Promise<Scenario> {
  const prefix = uniquePrefix(`dup-${name}`);
  const slack = await startSlackSink();
  const smtp = await startSmtpSink();
  const yaml = `
redis: { url: "${redisUrl()}", prefix: "${prefix}" }
channels:
${channelsYaml(slack.url(), smtp.url)}
notify: { backoff: 1s, concurrency: 4 }
http: { port: 0 }
`;
  const config = parseConfig(yaml, {});
  const queue = new Queue<NotifyJobData>(QUEUE_NAMES.notify, { connection: redis, prefix });
  cleanups.push(async () => {
    await queue.close();
    await slack.close();
    await smtp.close();
    await deletePrefix(prefix);
  });
  let next = 0;
  return {
    prefix,
    slack,
    smtp,
    queue,
    path: writeConfig(yaml),
    async enqueue(channel, count) {
      const jobs = Array.from({ length: count }, () => {
        next += 1;
        const n = sampleNotification(next % 3 === 0 ? 'failed' : 'finished', channel, { index: next });
        return { name: 'notify', data: { v: 1 as const, channel, notifications: [n] }, opts: notifyJobOptions(config, n.id) };
      });
      await queue.addBulk(jobs);
      return jobs.map((j) => j.data.notifications[0]?.id as string);
    },
    arrivals() {
      const out = new Map<string, number>();
      for (const id of [...slack.messages.flatMap(slackMessageIds), ...smtp.messages.flatMap(emailIds)]) out.set(id, (out.get(id) ?? 0) + 1);
      return out;
    },
  };
}

const duplicatesOf = (arrivals: Map<string, number>, ids: readonly string[]) => ids.filter((id) => (arrivals.get(id) ?? 0) > 1).length;
const completed = (s: Scenario) => s.queue.getCompletedCount();

describe('duplicates under slow providers and a killed worker', () => {
  // Slower than the old defaults (Slack 10 s, SMTP 20 s), which sent each of these twice.
  it('sends nothing twice when Slack answers after 12 s and SMTP after 25 s (default timeouts)', async () => {
    const s = await scenario(
      'slow',
      (slackUrl, smtpUrl) =>
        `  slack: { type: slack, webhookUrl: "${slackUrl}" }\n  mail: { type: email, smtpUrl: "${smtpUrl}", from: d@example.com, to: [ops@example.com] }`,
    );
    s.slack.respondWith(...Array.from({ length: 4 }, () => ({ status: 200, delayMs: 12_000 })));
    s.smtp.respondWith(...Array.from({ length: 2 }, () => ({ code: 250, delayMs: 25_000 })));
    const worker = startDbswatch(['worker', '--queues', 'notify', '--config', s.path]);
    await worker.waitForLine(/dbswatch started/);
    const ids = [...(await s.enqueue('slack', 4)), ...(await s.enqueue('mail', 2))];
    await expect.poll(() => completed(s), { timeout: 150_000, interval: 500 }).toBe(6);
    const arrivals = s.arrivals();
    const duplicates = duplicatesOf(arrivals, ids);
    console.log(`[duplicates] slow providers, default timeouts: ${duplicates} duplicates of ${ids.length} notifications`);
    expect(ids.every((id) => arrivals.get(id) === 1)).toBe(true);
    expect(worker.lines.some((l) => l.includes('may have been posted') || l.includes('may have been accepted'))).toBe(false);
    await worker.stop('SIGTERM');
  }, 180_000);

  it('sends each unconfirmed message again, and only those, when the timeout is shorter than the provider', async () => {
    const s = await scenario(
      'short',
      (slackUrl, smtpUrl) =>
        `  slack: { type: slack, webhookUrl: "${slackUrl}", timeout: 3s }\n  mail: { type: email, smtpUrl: "${smtpUrl}", from: d@example.com, to: [ops@example.com], timeout: 5s }`,
    );
    // The first 4 of each answer too late; the rest (the resends included) at once.
    s.slack.respondWith(...Array.from({ length: 4 }, () => ({ status: 200, delayMs: 4_000 })));
    s.smtp.respondWith(...Array.from({ length: 4 }, () => ({ code: 250, delayMs: 7_000 })));
    const worker = startDbswatch(['worker', '--queues', 'notify', '--concurrency', '8', '--config', s.path]);
    await worker.waitForLine(/dbswatch started/);
    const slow = [...(await s.enqueue('slack', 4)), ...(await s.enqueue('mail', 4))];
    await expect.poll(() => completed(s), { timeout: 150_000, interval: 500 }).toBe(8);
    const fast = [...(await s.enqueue('slack', 4)), ...(await s.enqueue('mail', 4))];
    await expect.poll(() => completed(s), { timeout: 60_000, interval: 500 }).toBe(16);
    const arrivals = s.arrivals();
    console.log(
      `[duplicates] timeout shorter than the provider: ${duplicatesOf(arrivals, slow)} of ${slow.length} unconfirmed sends arrived twice; ${duplicatesOf(arrivals, fast)} of ${fast.length} confirmed ones`,
    );
    // Every unconfirmed send is an at-least-once delivery: it arrived, and was sent again. Nothing else was.
    expect(slow.map((id) => arrivals.get(id))).toEqual(slow.map(() => 2));
    expect(fast.map((id) => arrivals.get(id))).toEqual(fast.map(() => 1));
    expect(worker.lines.filter((l) => l.includes('may have been posted') || l.includes('may have been accepted')).length).toBeGreaterThanOrEqual(slow.length);
    await worker.stop('SIGTERM');
  }, 240_000);

  it('sends a message again after the worker is killed while Slack is answering (2.5 s)', async () => {
    const s = await scenario('kill', (slackUrl) => `  slack: { type: slack, webhookUrl: "${slackUrl}", timeout: 10s }`);
    s.slack.respondWith({ status: 200, delayMs: 2_500 });
    let worker: ManagedProcess = startDbswatch(['worker', '--queues', 'notify', '--config', s.path]);
    await worker.waitForLine(/dbswatch started/);
    const [id] = await s.enqueue('slack', 1);
    await s.slack.waitFor(1, 30_000);
    const killedAt = Date.now();
    worker.child.kill('SIGKILL');
    await worker.exited;
    worker = startDbswatch(['worker', '--queues', 'notify', '--config', s.path]);
    await worker.waitForLine(/dbswatch started/);
    await s.slack.waitFor(2, 180_000);
    const seconds = (Date.now() - killedAt) / 1000;
    const arrivals = s.arrivals();
    console.log(
      `[duplicates] worker killed while Slack answered: ${arrivals.get(id as string)} copies of 1 notification; the second ${seconds.toFixed(0)} s after the kill`,
    );
    expect(arrivals.get(id as string)).toBe(2);
    await expect.poll(() => completed(s), { timeout: 30_000 }).toBe(1);
    await worker.stop('SIGTERM');
  }, 300_000);
});
