/**
 * Redis for tests: a unique key prefix per test and cleanup that deletes
 * exactly that prefix (never FLUSHALL: the Redis is shared).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

const open = new Map<Redis, string>();

export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** A unique prefix for one test's keys and queues, e.g. `t-poll-3f9a1c`. */
export function uniquePrefix(name: string): string {
  return `t-${name.replace(/[^A-Za-z0-9-]/g, '-')}-${randomBytes(4).toString('hex')}`;
}

/** A tracked connection; `openConnections()` reports those not closed. */
export function connect(label: string, options: { worker?: boolean } = {}): Redis {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: options.worker ? null : 3 });
  redis.on('error', () => {});
  open.set(redis, label);
  redis.once('end', () => open.delete(redis));
  return redis;
}

export async function close(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
  open.delete(redis);
}

export function openConnections(): string[] {
  return [...open.entries()].filter(([r]) => r.status !== 'end').map(([, label]) => label);
}

/** Deletes every key under the prefix (SCAN + UNLINK; no FLUSHALL). */
export async function deletePrefix(prefix: string): Promise<number> {
  const redis = new Redis(redisUrl());
  redis.on('error', () => {});
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
  return deleted;
}
