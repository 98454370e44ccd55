/**
 * The five new channels end to end on real parts: BullMQ + Redis, the
 * notify worker (rate limiter, delivery guard, retry policy), the real
 * senders over loopback HTTP into the local chat sink (dev/sinks), which
 * checks each platform's signature or credential the way the platform does.
 * One table, five platforms: delivery with a verified signature, a digest,
 * the platform's rate-limit answer (waits, then succeeds once, no attempt
 * burnt), a bad signature / revoked robot (failed at once, visible in the
 * failed set, not retried), and `test-notify`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ChatPlatform, type ChatSink, startChatSink } from '../../dev/sinks/chat-sinks.js';
import { testNotify } from '../../src/commands/test-notify.js';
import { type Config, parseConfig } from '../../src/config.js';
import { startNotifyWorker } from '../../src/jobs/notify.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { silentLogger } from '../../src/logger.js';
import type { Notification } from '../../src/notify/event.js';
import { ChannelPool } from '../../src/notify/registry.js';
import { sampleBurst, sampleNotification } from '../../src/notify/sample.js';
import { notifyJobOptions, QUEUE_NAMES } from '../../src/queues.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

let sink: ChatSink;
beforeAll(async () => {
  sink = await startChatSink();
});
afterAll(async () => {
  await sink.close();
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const WRONG_WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;

/** Two channels per platform: `ok-…` with the right credentials, `bad-…` with a wrong secret or a revoked URL. */
function chatConfig(prefix: string): Config {
  const common = 'timeout: 5s, rateLimitBackoff: 1s';
  return parseConfig(
    `
redis: { prefix: ${prefix} }
channels:
  ok-webhook: { type: webhook, url: "${sink.url('webhook')}", secret: "${sink.secrets.webhook}", headers: { X-Receiver-Key: "k-123" }, ${common} }
  bad-webhook: { type: webhook, url: "${sink.url('webhook')}", secret: "${WRONG_WEBHOOK_SECRET}", ${common} }
  ok-dingtalk: { type: dingtalk, webhookUrl: "${sink.url('dingtalk')}", secret: "${sink.secrets.dingtalk}", ${common} }
  bad-dingtalk: { type: dingtalk, webhookUrl: "${sink.url('dingtalk')}", secret: "SECsomebody-else", ${common} }
  ok-feishu: { type: feishu, webhookUrl: "${sink.url('feishu')}", secret: "${sink.secrets.feishu}", ${common} }
  bad-feishu: { type: feishu, webhookUrl: "${sink.url('feishu')}", secret: "not-the-feishu-secret", ${common} }
  ok-wecom: { type: wecom, webhookUrl: "${sink.url('wecom')}", ${common} }
  bad-wecom: { type: wecom, webhookUrl: "${sink.url('wecom', { wrongCredential: true })}", ${common} }
  ok-teams: { type: teams, webhookUrl: "${sink.url('teams')}", ${common} }
  bad-teams: { type: teams, webhookUrl: "${sink.url('teams', { wrongCredential: true })}", ${common} }
notify: { backoff: 50, maxBackoff: 200, attempts: 5, concurrency: 4 }
`,
    {},
    'chat-test',
  );
}

async function harness() {
  const prefix = uniquePrefix('chat');
  cleanups.push(() => deletePrefix(prefix));
  const config = chatConfig(prefix);
  const redis: Redis = connect('chat-commands');
  cleanups.push(() => close(redis));
  const connection: Redis = connect('chat-worker', { worker: true });
  cleanups.push(() => close(connection));
  const channels = new ChannelPool(() => config);
  cleanups.push(() => channels.close());
  const queue = new Queue<NotifyJobData>(QUEUE_NAMES.notify, { connection: redis, prefix });
  cleanups.push(() => queue.close());
  const worker: Worker = startNotifyWorker({ config: () => config, redis, prefix, channels, log: silentLogger, connection });
  cleanups.push(() => worker.close());
  return {
    config,
    queue,
    async add(channel: string, notifications: readonly Notification[], options: { jobId?: string; attempts?: number } = {}) {
      const id = options.jobId ?? (notifications.length === 1 ? (notifications[0] as Notification).id : `digest.${channel}.${notifications.length}`);
      const opts = notifyJobOptions(config, id);
      await queue.add('notify', { v: 1, channel, notifications }, options.attempts ? { ...opts, attempts: options.attempts } : opts);
      return id;
    },
    async waitForState(jobId: string, state: 'completed' | 'failed', timeoutMs = 30_000) {
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

/** What the sink concluded about each platform's credentials on a good channel. */
const SIGNED: Record<ChatPlatform, 'ok' | 'unsigned'> = { webhook: 'ok', dingtalk: 'ok', feishu: 'ok', wecom: 'unsigned', teams: 'unsigned' };

/** The operator message of each platform's permanent failure (bad signature / revoked robot). */
const PERMANENT_REASON: Record<ChatPlatform, RegExp> = {
  webhook: /^Webhook receiver answered 401: the receiver refused the signature or credentials \(channel "bad-webhook"\)$/,
  dingtalk: /^DingTalk answered 200 with error code 310000: the robot's security check failed.* \(channel "bad-dingtalk"\)$/,
  feishu: /^Feishu answered 200 with error code 19021: signature check failed.* \(channel "bad-feishu"\)$/,
  wecom: /^WeCom answered 200 with error code 93000: the webhook key is invalid.* \(channel "bad-wecom"\)$/,
  teams: /^Teams answered 404: the workflow was deleted or turned off \(channel "bad-teams"\)$/,
};

describe.each(['webhook', 'dingtalk', 'feishu', 'wecom', 'teams'] as const)('%s channel through the notify worker', (platform) => {
  const ok = `ok-${platform}`;

  it('delivers a single and a digest once each, signed, and strips the payload', async () => {
    const h = await harness();
    const since = sink.requests.length;
    const before = sink.messages.length;
    const single = sampleNotification('finished', ok);
    const burst = sampleBurst(8, ok);
    const ids = [await h.add(ok, [single]), await h.add(ok, burst)];
    for (const id of ids) await h.waitForState(id, 'completed');

    const arrived = sink.messages.slice(before).filter((m) => m.platform === platform);
    const requests = sink.requests.slice(since).filter((r) => r.platform === platform);
    expect(requests.every((r) => r.auth === SIGNED[platform])).toBe(true);
    expect(arrived).toHaveLength(2);
    // Every notification reached the platform exactly once.
    for (const n of [single, ...burst]) expect(arrived.filter((m) => m.raw.includes(n.task.name as string)).length, n.task.name).toBe(1);
    const singleArrival = arrived.find((m) => m.raw.includes(single.task.taskId) && !m.raw.includes(burst[0]?.task.taskId as string));
    expect(singleArrival?.raw).toContain(JSON.stringify(single.task.internetUrl).slice(1, -1));
    if (platform === 'webhook') {
      expect(singleArrival?.headers['webhook-id']).toBe(single.id);
      expect(singleArrival?.headers['x-receiver-key']).toBe('k-123');
      expect((singleArrival?.body as { type?: string } | undefined)?.type).toBe('download.finished');
    }
    for (const id of ids) {
      const job = await h.queue.getJob(id);
      expect(job?.data.notifications).toEqual([]);
      expect(JSON.stringify(job?.data)).not.toMatch(/https?:/);
    }
  });

  it("waits out the platform's rate-limit answer and then delivers once, without burning an attempt", async () => {
    const h = await harness();
    const since = sink.requests.length;
    sink.respondWith(platform, 'rate-limited');
    // One attempt: if the rate-limit answer cost an attempt, the job would fail.
    const n = sampleNotification('failed', ok, { index: 3 });
    const id = await h.add(ok, [n], { attempts: 1 });
    await h.waitForState(id, 'completed');
    const requests = sink.requests.slice(since).filter((r) => r.platform === platform);
    expect(requests.map((r) => r.status === 429 || (r.code !== undefined && r.code !== 0))).toEqual([true, false]);
    expect((requests[1]?.at ?? 0) - (requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
    expect((await h.queue.getJob(id))?.returnvalue).toMatchObject({ result: 'sent', sent: 1 });
  });

  it('fails at once on a bad signature or revoked robot, visible in the failed set', async () => {
    const h = await harness();
    const since = sink.requests.length;
    const bad = `bad-${platform}`;
    const id = await h.add(bad, [sampleNotification('failed', bad)]);
    await h.waitForState(id, 'failed');
    const requests = sink.requests.slice(since).filter((r) => r.platform === platform);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.auth).toBe('bad');
    const failed = await h.queue.getFailed();
    expect(failed.map((j) => j.id)).toEqual([id]);
    expect(failed[0]?.attemptsMade).toBe(1);
    expect(failed[0]?.failedReason).toMatch(PERMANENT_REASON[platform]);
    expect(failed[0]?.failedReason).not.toContain('127.0.0.1');
  });

  it('test-notify sends a sample and reports the exact reason for a bad channel', async () => {
    const config = chatConfig(uniquePrefix('chat-tn'));
    const before = sink.messages.length;
    await expect(testNotify(config, ok, 'finished', silentLogger)).resolves.toEqual({ ok: true });
    const arrived = await sink.waitFor((ms) => ms.slice(before).some((m) => m.platform === platform), 5_000);
    expect(arrived.slice(before).find((m) => m.platform === platform)?.raw).toContain('dbswatch test-notify (sample)');
    const result = await testNotify(config, `bad-${platform}`, 'failed', silentLogger);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(PERMANENT_REASON[platform]);
  });
});

describe('per-webhook rate limit across workers', () => {
  it('paces two workers sending to one Teams webhook at 4 per second together', async () => {
    const h = await harness();
    // A second worker process's processor: same Redis and prefix, its own connections.
    const redis2: Redis = connect('chat-commands-2');
    cleanups.push(() => close(redis2));
    const connection2: Redis = connect('chat-worker-2', { worker: true });
    cleanups.push(() => close(connection2));
    const channels2 = new ChannelPool(() => h.config);
    cleanups.push(() => channels2.close());
    const worker2 = startNotifyWorker({
      config: () => h.config,
      redis: redis2,
      prefix: h.config.redis.prefix,
      channels: channels2,
      log: silentLogger,
      connection: connection2,
    });
    cleanups.push(() => worker2.close());

    const before = sink.messages.length;
    const ns = Array.from({ length: 9 }, (_, i) => sampleNotification('finished', 'ok-teams', { index: 20 + i }));
    const ids = await Promise.all(ns.map((n) => h.add('ok-teams', [n])));
    for (const id of ids) await h.waitForState(id, 'completed');
    const times = sink.messages
      .slice(before)
      .filter((m) => m.platform === 'teams')
      .map((m) => m.receivedAt)
      .sort((a, b) => a - b);
    expect(times).toHaveLength(9);
    // Unpaced, nine sends arrive within a few ms; paced at 4 per 1.25 s (a slot every 312 ms) the third to the
    // ninth span at least 6 slots. (The first send of each worker also sets up its connection, so those two can
    // arrive late; a lower bound on the rest holds however slow the machine is.)
    expect((times[8] ?? 0) - (times[2] ?? 0)).toBeGreaterThanOrEqual(1_500);
    const jobs = await Promise.all(ids.map((id) => h.queue.getJob(id)));
    expect(jobs.every((j) => j?.returnvalue?.result === 'sent')).toBe(true);
  });
});

describe('the sink refuses what the platform refuses', () => {
  it.each(['dingtalk', 'feishu'] as const)('%s: an unsigned request to a robot with signing on is a bad signature', async (platform) => {
    const config = parseConfig(`channels:\n  plain: { type: ${platform}, webhookUrl: "${sink.url(platform)}", timeout: 5s }\n`, {});
    const since = sink.requests.length;
    const result = await testNotify(config, 'plain', 'finished', silentLogger);
    expect(result.ok).toBe(false);
    expect(sink.requests.slice(since).map((r) => r.auth)).toEqual(['bad']);
  });
});

describe('unreachable chat webhooks', () => {
  it('reports a network error without the URL', async () => {
    const gone = await startChatSink();
    const url = gone.url('dingtalk');
    await gone.close();
    const config = parseConfig(`channels:\n  dead: { type: dingtalk, webhookUrl: "${url}", secret: "SECdead-secret", timeout: 2s }\n`, {});
    expect(await testNotify(config, 'dead', 'finished', silentLogger)).toEqual({
      ok: false,
      reason: 'DingTalk webhook unreachable: network error ECONNREFUSED, will retry (channel "dead")',
    });
  });

  it('gives up on a webhook that never answers after the configured timeout', async () => {
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const port = (hanging.address() as AddressInfo).port;
    try {
      const config = parseConfig(`channels:\n  slow: { type: teams, webhookUrl: "http://127.0.0.1:${port}/teams/x?sig=abcdef123456", timeout: 300 }\n`, {});
      expect(await testNotify(config, 'slow', 'finished', silentLogger)).toEqual({
        ok: false,
        reason: 'Teams webhook unreachable: timed out, will retry (channel "slow")',
      });
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});
