/**
 * A rate limit shared by every process on one Redis: a sliding-window log
 * (a sorted set of request times, Redis' own clock). It guarantees that no
 * 1-second window (or `windowMs`) ever holds more than `limit` grants, which
 * is exactly what an API quota or Slack's "1 message per second per webhook"
 * asks for — a token bucket would allow bursts across window edges.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Something that lets a caller through when it may go. */
export interface RequestGate {
  /** Resolves when the caller may make one request. */
  acquire(): Promise<void>;
}

/** A gate that never waits (for tests and one-off CLI reads). */
export const OPEN_GATE: RequestGate = { acquire: async () => {} };

// KEYS[1] = window set; ARGV = limit, windowMs, member. Returns 0 when granted, else ms to wait.
const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3] .. ':' .. now)
  redis.call('PEXPIRE', KEYS[1], window * 2)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now + 1)
`;

type AcquireCommand = (key: string, limit: number, windowMs: number, member: string) => Promise<number>;

export interface RedisRateLimiterOptions {
  /** Redis key of the window (include the deployment prefix). */
  readonly key: string;
  /** Grants per window. */
  readonly limit: number;
  /** Window length. Default: 1000 ms. */
  readonly windowMs?: number;
}

/**
 * A Redis-backed gate. `limit` may be fractional (e.g. 0.5/s): it is then
 * applied as 1 grant per `windowMs / limit`.
 */
export function createRedisRateLimiter(redis: Redis, options: RedisRateLimiterOptions): RequestGate {
  const baseWindow = options.windowMs ?? 1_000;
  const limit = options.limit >= 1 ? Math.floor(options.limit) : 1;
  const windowMs = options.limit >= 1 ? baseWindow : Math.ceil(baseWindow / options.limit);
  if (!(redis as unknown as { dbswatchAcquire?: AcquireCommand }).dbswatchAcquire) {
    redis.defineCommand('dbswatchAcquire', { numberOfKeys: 1, lua: ACQUIRE_SCRIPT });
  }
  const acquireOnce = (redis as unknown as { dbswatchAcquire: AcquireCommand }).dbswatchAcquire.bind(redis);
  const member = randomBytes(6).toString('hex');
  let counter = 0;
  return {
    async acquire() {
      for (;;) {
        counter = (counter + 1) % 1_000_000;
        const waitMs = Number(await acquireOnce(options.key, limit, windowMs, `${member}${counter}`));
        if (waitMs <= 0) return;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    },
  };
}
