/**
 * The Redis sliding-window limiter, shared by two limiter instances on two
 * connections (two processes, in production): no 1-second window may ever
 * hold more than `limit` grants. A correctness check on recorded grant
 * times — not a timing assertion.
 */
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisRateLimiter } from '../../src/rate-limit.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

const LIMIT = 20;
const GRANTS_PER_LIMITER = 30;
const CALLERS_PER_LIMITER = 3;
const WINDOW_MS = 1_000;

let connections: Redis[] = [];
let prefix = '';

afterEach(async () => {
  await Promise.all(connections.map((c) => close(c)));
  connections = [];
  if (prefix) await deletePrefix(prefix);
});

describe('createRedisRateLimiter', () => {
  it(`never grants more than ${LIMIT} per ${WINDOW_MS} ms across two limiters on two connections`, async () => {
    prefix = uniquePrefix('rate-limit');
    const key = `${prefix}:dbs`;
    const a = connect('limiter-a');
    const b = connect('limiter-b');
    const observer = connect('observer');
    connections = [a, b, observer];
    const limiters = [createRedisRateLimiter(a, { key, limit: LIMIT }), createRedisRateLimiter(b, { key, limit: LIMIT })];

    // Exact grant times: the limiter logs each grant in a sorted set scored by Redis' own clock, and keeps
    // it for a full window — so reading the log right after every grant captures every grant's exact time.
    const grantTimes = new Map<string, number>();
    const recordGrants = async () => {
      const flat = await observer.zrange(key, '0', '-1', 'WITHSCORES');
      for (let i = 0; i + 1 < flat.length; i += 2) grantTimes.set(flat[i] as string, Number(flat[i + 1]));
    };
    await Promise.all(
      limiters.map(async (limiter) => {
        // Several callers per limiter, like concurrent jobs in one worker.
        await Promise.all(
          Array.from({ length: CALLERS_PER_LIMITER }, async () => {
            for (let i = 0; i < GRANTS_PER_LIMITER / CALLERS_PER_LIMITER; i++) {
              await limiter.acquire();
              await recordGrants();
            }
          }),
        );
      }),
    );

    expect(grantTimes.size).toBe(2 * GRANTS_PER_LIMITER);
    const times = [...grantTimes.values()].sort((x, y) => x - y);
    // Every window that starts at a grant (the worst case for a sliding window) holds at most LIMIT grants.
    let busiest = 0;
    for (const start of times) {
      busiest = Math.max(busiest, times.filter((t) => t >= start && t < start + WINDOW_MS).length);
    }
    expect(busiest).toBeLessThanOrEqual(LIMIT);
    // And the limiter did let the budget through (a gate that grants one per second would also pass the check above).
    expect(busiest).toBe(LIMIT);
  });

  // Issue 15: before the fair share, grants were first come, first served: a plan paging with 4 concurrent
  // polls got 4 grants for each one of a healthy plan.
  it('gives two active shares an equal part of the budget, however many callers one of them has', async () => {
    prefix = uniquePrefix('rate-limit-fair');
    const key = `${prefix}:dbs`;
    const a = connect('limiter-fair-a');
    const b = connect('limiter-fair-b');
    connections = [a, b];
    const hostileGate = createRedisRateLimiter(a, { key, limit: 10 });
    const healthyGate = createRedisRateLimiter(b, { key, limit: 10 });
    const order: string[] = [];
    let healthyDone = false;
    const hostile = Array.from({ length: 4 }, async () => {
      while (!healthyDone) {
        await hostileGate.acquire('hostile-plan');
        order.push('H');
      }
    });
    // Let the hostile share run alone first: it then has the whole budget.
    while (order.length < 10) await hostileGate.acquire('hostile-plan').then(() => order.push('H'));
    const aloneUntil = order.length;
    for (let i = 0; i < 12; i++) {
      await healthyGate.acquire('healthy-plan');
      order.push('h');
    }
    healthyDone = true;
    await Promise.all(hostile);
    const contended = order.slice(order.indexOf('h', aloneUntil), order.lastIndexOf('h') + 1);
    const hostileGrants = contended.filter((x) => x === 'H').length;
    const healthyGrants = contended.filter((x) => x === 'h').length;
    expect(healthyGrants).toBe(12);
    // Equal shares: about one hostile grant per healthy one (first come, first served gave about 4).
    expect(hostileGrants).toBeLessThanOrEqual(healthyGrants + 2);
  });
});
