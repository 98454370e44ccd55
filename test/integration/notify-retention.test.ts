/**
 * Issue 15, item 9: delivered notify jobs and delivered markers are capped by count as well as
 * age, and the Redis memory per 10,000 delivered notifications is measured (MEMORY USAGE of every
 * key under the test's own prefix, so other traffic on the shared Redis does not count).
 */
import { Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { deliveredIndexKey, deliveryKeys, openDeliveryClaims } from '../../src/notify/delivery-guard.js';
import { sampleNotification } from '../../src/notify/sample.js';
import { notifyJobOptions, QUEUE_NAMES } from '../../src/queues.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

const configWith = (prefix: string, count: number) =>
  parseConfig(`redis: { prefix: "${prefix}" }\nnotify: { keepDeliveredCount: ${count} }\nhttp: { port: 0 }\n`, {});

async function keysUnder(redis: ReturnType<typeof connect>, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

/**
 * Delivers `count` notifications the way the notify worker does, minus the channel: each job
 * carries a full notification, the processor marks it delivered in the guard and strips the payload.
 */
async function deliver(redis: ReturnType<typeof connect>, prefix: string, count: number, keepCount: number): Promise<void> {
  const config = configWith(prefix, keepCount);
  const queue = new Queue<NotifyJobData>(QUEUE_NAMES.notify, { connection: redis, prefix });
  const eventsConnection = connect('retention-events', { worker: true });
  const workerConnection = connect('retention-worker', { worker: true });
  const events = new QueueEvents(QUEUE_NAMES.notify, { connection: eventsConnection, prefix });
  const worker = new Worker<NotifyJobData>(
    QUEUE_NAMES.notify,
    async (job) => {
      const claims = openDeliveryClaims(redis, { prefix, claimTtlMs: 90_000, keepDeliveredMs: config.notify.keepDelivered, keepDeliveredCount: keepCount });
      const ids = job.data.notifications.map((n) => n.id);
      await claims.claim(ids);
      await claims.markDelivered(ids);
      await job.updateData({ v: 1, channel: job.data.channel, notifications: [], delivered: { at: Date.now(), ids } });
    },
    { connection: workerConnection, prefix, concurrency: 50 },
  );
  try {
    await events.waitUntilReady();
    let done = 0;
    const finished = new Promise<void>((resolve) => {
      worker.on('completed', () => {
        done += 1;
        if (done === count) resolve();
      });
    });
    for (let i = 0; i < count; i += 1_000) {
      const batch = Array.from({ length: Math.min(1_000, count - i) }, (_, k) => {
        const n = sampleNotification('finished', 'ops-slack', { index: i + k + 1 });
        const id = `dbsplan00001.task${String(i + k).padStart(6, '0')}.2-finish.ops-slack`;
        return { name: 'notify', data: { v: 1 as const, channel: 'ops-slack', notifications: [{ ...n, id }] }, opts: notifyJobOptions(config, id) };
      });
      await queue.addBulk(batch);
    }
    await finished;
  } finally {
    await worker.close();
    await events.close();
    await queue.close();
    await close(eventsConnection);
    await close(workerConnection);
  }
}

describe('retention of delivered notifications', () => {
  const redis = connect('retention', { worker: true });
  const prefixes: string[] = [];
  afterAll(async () => {
    await close(redis);
    for (const p of prefixes) await deletePrefix(p);
  });

  it('keeps at most keepDeliveredCount delivered markers, newest first', async () => {
    const prefix = uniquePrefix('retention-markers');
    prefixes.push(prefix);
    const claims = openDeliveryClaims(redis, { prefix, claimTtlMs: 5_000, keepDeliveredMs: 3_600_000, keepDeliveredCount: 100 });
    for (let i = 0; i < 250; i += 10) {
      const ids = Array.from({ length: 10 }, (_, k) => `n${i + k}`);
      await claims.markDelivered(ids, 1_000_000 + i);
    }
    const done = (await keysUnder(redis, prefix)).filter((k) => k.includes(':delivery:done:'));
    // Before the cap every one of the 250 stayed for keepDelivered (7 days by default).
    expect(done).toHaveLength(100);
    expect(await redis.exists(deliveryKeys(prefix, 'n249').done)).toBe(1);
    expect(await redis.exists(deliveryKeys(prefix, 'n0').done)).toBe(0);
    expect(await redis.zcard(deliveredIndexKey(prefix))).toBe(100);
  });

  it('keeps at most keepDeliveredCount completed notify jobs', async () => {
    const prefix = uniquePrefix('retention-jobs');
    prefixes.push(prefix);
    await deliver(redis, prefix, 300, 100);
    const queue = new Queue<NotifyJobData>(QUEUE_NAMES.notify, { connection: redis, prefix });
    try {
      expect(await queue.getCompletedCount()).toBeLessThanOrEqual(100);
      expect(await queue.getCompletedCount()).toBeGreaterThan(0);
    } finally {
      await queue.close();
    }
  });

  it('measures the Redis memory of 10,000 delivered notifications', async () => {
    const prefix = uniquePrefix('retention-memory');
    prefixes.push(prefix);
    await deliver(redis, prefix, 10_000, 100_000);
    const keys = await keysUnder(redis, prefix);
    let bytes = 0;
    const byKind = new Map<string, number>();
    for (const key of keys) {
      const size = Number((await redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0);
      bytes += size;
      const kind = key.includes(':delivery:done:')
        ? 'delivered markers'
        : key.includes(':delivery:')
          ? 'marker index'
          : /:notify:[^:]+$/.test(key) && !/:notify:(completed|events|meta|id|stalled-check|wait|active|marker)$/.test(key)
            ? 'completed job hashes'
            : 'queue structures';
      byKind.set(kind, (byKind.get(kind) ?? 0) + size);
    }
    const mb = (n: number) => (n / 1_048_576).toFixed(1);
    console.log(
      `[retention] 10,000 delivered notifications: ${mb(bytes)} MB in ${keys.length} keys (${[...byKind].map(([k, v]) => `${k} ${mb(v)} MB`).join(', ')})`,
    );
    expect(keys.filter((k) => k.includes(':delivery:done:'))).toHaveLength(10_000);
    expect(bytes).toBeGreaterThan(0);
  }, 180_000);
});
