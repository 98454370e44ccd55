/**
 * One scheduled poll per plan at a time. A plan whose poll outlasts its
 * interval (a runaway list paging up to `dbs.maxPagesPerPoll`, a DBS that
 * answers slowly) would otherwise start a new poll every tick until its polls
 * fill every worker slot and no other plan is polled. The Job Scheduler's next
 * job finds the plan busy and is skipped; the plan is polled again at the tick
 * after its running poll ends. Polls added by hand (`poll-once`, tests, the
 * status page) are not guarded: overlapping polls are safe (state is
 * compare-and-set), only a pile-up is not.
 *
 * The guard is a `SET NX PX` key renewed while the poll runs, so a worker that
 * dies leaves it for at most `POLL_GUARD_TTL_MS`. Kept short on purpose: while
 * it lingers the plan is not polled at all, and a failure DBS shows only for a
 * while (a user retries it) could go unseen — the chaos suite caught exactly
 * that with a 60 s guard after a SIGKILL. A renewal that fails lets one poll
 * overlap, which is safe (state is compare-and-set).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from './keys.js';

export const POLL_GUARD_TTL_MS = 10_000;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export function pollGuardKey(prefix: string, planId: string): string {
  return redisKeys(prefix).planPolling(planId);
}

/** Takes the plan's guard; returns its release, or undefined when another poll of the plan holds it. */
export async function takePollGuard(redis: Redis, prefix: string, planId: string): Promise<(() => Promise<void>) | undefined> {
  const key = pollGuardKey(prefix, planId);
  const token = randomBytes(9).toString('hex');
  if ((await redis.set(key, token, 'PX', POLL_GUARD_TTL_MS, 'NX')) !== 'OK') return undefined;
  const timer = setInterval(() => {
    void redis.eval(RENEW, 1, key, token, POLL_GUARD_TTL_MS).catch(() => {});
  }, POLL_GUARD_TTL_MS / 3);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await redis.eval(RELEASE, 1, key, token).catch(() => {});
  };
}
