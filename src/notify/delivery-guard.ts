/**
 * Exactly-once delivery per notification id, across job re-runs, duplicate
 * jobs and digests overlapping singles. BullMQ job ids dedupe *enqueues*;
 * this guards *sends*:
 *
 * 1. claim: for each id, skip it if a `done` marker exists, else take a
 *    short-lived claim (SET NX PX) — atomically for the whole batch (Lua);
 * 2. send only what was claimed;
 * 3. mark: after a successful send set `done` (kept `notify.keepDelivered`)
 *    and drop the claims; on failure release the claims.
 *
 * A crash between a send and its mark leaves a claim that expires (TTL ≈ 3×
 * the send timeout) and the message is sent again: at-least-once for that
 * one message, the narrowest window Slack and SMTP allow (neither has an
 * idempotency key). Claims carry a random token so a job only ever extends
 * or releases its own claims.
 *
 * Keys: `${prefix}:delivery:done:<id>`, `${prefix}:delivery:claim:<id>`, and the
 * `${prefix}:delivery:done-index` zset that caps the markers by count as well as age.
 * With a hash-tag prefix (`{dbswatch}`) they share one Redis Cluster slot,
 * which the multi-key scripts need.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from '../keys.js';

// KEYS = done1, claim1, done2, claim2, …; ARGV = token, ttlMs.
// Returns one code per id: 1 claimed, 0 already delivered, 2 claimed by someone else (in flight).
const CLAIM = `
local out = {}
for i = 1, #KEYS, 2 do
  local done, claim = KEYS[i], KEYS[i + 1]
  if redis.call('EXISTS', done) == 1 then
    out[#out + 1] = 0
  elseif redis.call('SET', claim, ARGV[1], 'NX', 'PX', ARGV[2]) then
    out[#out + 1] = 1
  elseif redis.call('GET', claim) == ARGV[1] then
    redis.call('PEXPIRE', claim, ARGV[2])
    out[#out + 1] = 1
  else
    out[#out + 1] = 2
  end
end
return out
`;

// KEYS = claims; ARGV = token, ttlMs. Returns the number of claims still ours (and extended).
const EXTEND = `
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
    n = n + 1
  end
end
return n
`;

// KEYS = index, done1, claim1, …; ARGV = token, keepMs, deliveredAt, keepCount. Marks delivered, drops our
// claims, and keeps at most keepCount markers: the index (a zset of done keys by delivery time) drops the
// oldest beyond the cap together with their markers (keys of the same prefix, so the same Cluster slot).
const MARK = `
for i = 2, #KEYS, 2 do
  redis.call('SET', KEYS[i], ARGV[3], 'PX', ARGV[2])
  redis.call('ZADD', KEYS[1], ARGV[3], KEYS[i])
  if redis.call('GET', KEYS[i + 1]) == ARGV[1] then redis.call('DEL', KEYS[i + 1]) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[2]))
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, over - 1)
  for _, key in ipairs(oldest) do redis.call('DEL', key) end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, over - 1)
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

// KEYS = claims; ARGV = token. Deletes only our own claims.
const RELEASE = `
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 1
`;

export interface ClaimResult {
  /** Ids this holder may send now. */
  readonly claimed: readonly string[];
  /** Ids already delivered (skip). */
  readonly delivered: readonly string[];
  /** Ids another job is sending right now (check again later). */
  readonly inFlight: readonly string[];
}

/** One holder's view of the guard (one job run): its claims carry its own token. */
export interface DeliveryClaims {
  claim(ids: readonly string[]): Promise<ClaimResult>;
  /** Re-arms the TTL of our claims; false when one was lost (expired and taken). */
  extend(ids: readonly string[]): Promise<boolean>;
  markDelivered(ids: readonly string[], at?: number): Promise<void>;
  release(ids: readonly string[]): Promise<void>;
}

export interface DeliveryGuardOptions {
  /** Deployment prefix (the BullMQ prefix). */
  readonly prefix: string;
  /** Claim lifetime, ≈ 3× the channel's send timeout. */
  readonly claimTtlMs: number;
  /** How long a delivered marker lives (`notify.keepDelivered`). */
  readonly keepDeliveredMs: number;
  /** Most delivered markers kept; the oldest go first (`notify.keepDeliveredCount`). Default: 100,000. */
  readonly keepDeliveredCount?: number;
}

/** Default of `notify.keepDeliveredCount`. */
export const DEFAULT_KEEP_DELIVERED_COUNT = 100_000;

type Script = (...args: (string | number)[]) => Promise<unknown>;
interface GuardCommands {
  dbswatchGuardClaim: Script;
  dbswatchGuardExtend: Script;
  dbswatchGuardMark: Script;
  dbswatchGuardRelease: Script;
}

function commands(redis: Redis): GuardCommands {
  const r = redis as unknown as Partial<GuardCommands>;
  if (!r.dbswatchGuardClaim) {
    redis.defineCommand('dbswatchGuardClaim', { lua: CLAIM });
    redis.defineCommand('dbswatchGuardExtend', { lua: EXTEND });
    redis.defineCommand('dbswatchGuardMark', { lua: MARK });
    redis.defineCommand('dbswatchGuardRelease', { lua: RELEASE });
  }
  return redis as unknown as GuardCommands;
}

/** The zset indexing delivered markers by time, for the count cap. */
export function deliveredIndexKey(prefix: string): string {
  return redisKeys(prefix).deliveredIndex;
}

export function deliveryKeys(prefix: string, id: string): { done: string; claim: string } {
  const keys = redisKeys(prefix);
  return { done: keys.deliveryDone(id), claim: keys.deliveryClaim(id) };
}

/** Opens a claim holder with a fresh token (one per job run). */
export function openDeliveryClaims(redis: Redis, options: DeliveryGuardOptions): DeliveryClaims {
  const cmd = commands(redis);
  const token = randomBytes(12).toString('hex');
  const pairs = (ids: readonly string[]) =>
    ids.flatMap((id) => {
      const k = deliveryKeys(options.prefix, id);
      return [k.done, k.claim];
    });
  const claimKeys = (ids: readonly string[]) => ids.map((id) => deliveryKeys(options.prefix, id).claim);
  const ttl = Math.max(1_000, Math.round(options.claimTtlMs));
  return {
    async claim(ids) {
      const unique = [...new Set(ids)];
      if (unique.length === 0) return { claimed: [], delivered: [], inFlight: [] };
      const keys = pairs(unique);
      const codes = (await cmd.dbswatchGuardClaim(keys.length, ...keys, token, ttl)) as number[];
      const claimed: string[] = [];
      const delivered: string[] = [];
      const inFlight: string[] = [];
      unique.forEach((id, i) => {
        const code = Number(codes[i]);
        if (code === 1) claimed.push(id);
        else if (code === 0) delivered.push(id);
        else inFlight.push(id);
      });
      return { claimed, delivered, inFlight };
    },
    async extend(ids) {
      if (ids.length === 0) return true;
      const keys = claimKeys(ids);
      const n = Number(await cmd.dbswatchGuardExtend(keys.length, ...keys, token, ttl));
      return n === keys.length;
    },
    async markDelivered(ids, at = Date.now()) {
      if (ids.length === 0) return;
      const keys = [deliveredIndexKey(options.prefix), ...pairs(ids)];
      const keepCount = Math.max(1, options.keepDeliveredCount ?? DEFAULT_KEEP_DELIVERED_COUNT);
      await cmd.dbswatchGuardMark(keys.length, ...keys, token, Math.max(1_000, options.keepDeliveredMs), at, keepCount);
    },
    async release(ids) {
      if (ids.length === 0) return;
      const keys = claimKeys(ids);
      await cmd.dbswatchGuardRelease(keys.length, ...keys, token);
    },
  };
}
