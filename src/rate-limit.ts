/**
 * A rate limit shared by every process on one Redis: a sliding-window log
 * (a sorted set of request times, Redis' own clock). It guarantees that no
 * 1-second window (or `windowMs`) ever holds more than `limit` grants, which
 * is exactly what an API quota or Slack's "1 message per second per webhook"
 * asks for — a token bucket would allow bursts across window edges.
 *
 * Grants are paced, not burst: each caller reserves the next free slot (at
 * least `windowMs / limit` after the previous one, and within the window
 * cap) in one atomic call and sleeps until it. Without pacing, every waiter
 * woke at the same window edge and `limit` requests left at once; the small
 * delay between a grant and its arrival then pushed part of one burst into
 * the next second at the API (the load test saw 170 in one second for a
 * limit of 150). Reservations also end the herd of retrying waiters.
 *
 * Fair share: a caller may name its share (the DBS gate uses the plan id).
 * When requests queue up (the next free slot is more than one slot away) and
 * A shares are active (asked within the last `activeMs`), each share's grants
 * are spaced at least `A × windowMs / limit` apart, i.e. it gets at most 1/A of
 * the budget; a share that asks too early reserves nothing and is told when to
 * come back, so it never holds a slot another share could use. Without a queue,
 * or alone, a share gets whatever budget is free (a 10-page plan among 1,000
 * one-page plans is not slowed down while the budget has room). This is what keeps a plan that pages without
 * end (or keeps failing and retrying) from starving every other plan.
 */

import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';

/** Something that lets a caller through when it may go. */
export interface RequestGate {
  /** Resolves when the caller may make one request; `share` (e.g. a plan id) gets a fair part of the budget. Default: none. */
  acquire(share?: string): Promise<void>;
}

/** A gate that never waits (for tests and one-off CLI reads). */
export const OPEN_GATE: RequestGate = { acquire: async () => {} };

// KEYS = window set, share → last slot (hash), active shares (zset, score = last ask). ARGV = limit, windowMs,
// member, share ('' = none), activeMs. Reserves the next free slot (a time, Redis clock, fractional ms) and
// returns how many ms from now it is (0 = go now), or -ms: not reserved, the share must ask again in ms.
const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local slot = now
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then slot = math.max(slot, tonumber(last[2]) + window / limit) end
local size = redis.call('ZCARD', KEYS[1])
if size >= limit then
  local nth = redis.call('ZRANGE', KEYS[1], size - limit, size - limit, 'WITHSCORES')
  slot = math.max(slot, tonumber(nth[2]) + window)
end
local share = ARGV[4]
if share ~= '' then
  local activeMs = tonumber(ARGV[5])
  local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - activeMs)
  for _, name in ipairs(gone) do redis.call('HDEL', KEYS[2], name) end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - activeMs)
  redis.call('ZADD', KEYS[3], now, share)
  redis.call('PEXPIRE', KEYS[3], math.ceil(activeMs * 2))
  local active = redis.call('ZCARD', KEYS[3])
  local previous = tonumber(redis.call('HGET', KEYS[2], share) or '')
  -- Only under contention (at least one full slot queued ahead): idle budget goes to whoever asks.
  if active > 1 and previous and slot - now > window / limit then
    local earliest = previous + window * active / limit
    if earliest > slot then return -math.max(1, math.ceil(earliest - now)) end
  end
  redis.call('HSET', KEYS[2], share, slot)
  redis.call('PEXPIRE', KEYS[2], math.ceil(activeMs * 2))
end
redis.call('ZADD', KEYS[1], slot, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(slot - now + window * 2))
return math.ceil(slot - now)
`;

type AcquireCommand = (
  key: string,
  shares: string,
  active: string,
  limit: number,
  windowMs: number,
  member: string,
  share: string,
  activeMs: number,
) => Promise<number>;

export interface RedisRateLimiterOptions {
  /** Redis key of the window (include the deployment prefix). */
  readonly key: string;
  /** Grants per window. */
  readonly limit: number;
  /** Window length. Default: 1000 ms. */
  readonly windowMs?: number;
  /** How long a share counts as active after it last asked. Default: 3 × the window (≥ 3 s). */
  readonly activeMs?: number;
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
    redis.defineCommand('dbswatchAcquire', { numberOfKeys: 3, lua: ACQUIRE_SCRIPT });
  }
  const activeMs = options.activeMs ?? Math.max(3_000, windowMs * 3);
  const acquireOnce = (redis as unknown as { dbswatchAcquire: AcquireCommand }).dbswatchAcquire.bind(redis);
  const member = randomBytes(6).toString('hex');
  let counter = 0;
  return {
    async acquire(share = '') {
      for (;;) {
        counter = (counter + 1) % 1_000_000;
        // The slot is ours once reserved: sleep until it, no second round trip.
        const waitMs = Number(
          await acquireOnce(options.key, `${options.key}:shares`, `${options.key}:active`, limit, windowMs, `${member}${counter}`, share, activeMs),
        );
        if (waitMs >= 0) {
          if (waitMs > 0) await delay(waitMs);
          return;
        }
        // Over this share's part while others are active: nothing reserved; ask again when it is our turn.
        await delay(-waitMs);
      }
    },
  };
}
