/** The delivery guard on a real Redis: claim, mark, release, in-flight. */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryKeys, openDeliveryClaims } from '../../src/notify/delivery-guard.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

let redis: Redis;
const prefix = uniquePrefix('guard');
const options = { prefix, claimTtlMs: 5_000, keepDeliveredMs: 60_000 };

beforeAll(() => {
  redis = connect('guard');
});
afterAll(async () => {
  await close(redis);
  await deletePrefix(prefix);
});

describe('delivery guard', () => {
  it('claims each id once, skips delivered ones and reports in-flight ones', async () => {
    const a = openDeliveryClaims(redis, options);
    const b = openDeliveryClaims(redis, options);
    expect(await a.claim(['n1', 'n2'])).toEqual({ claimed: ['n1', 'n2'], delivered: [], inFlight: [] });
    expect(await b.claim(['n2', 'n3'])).toEqual({ claimed: ['n3'], delivered: [], inFlight: ['n2'] });

    await a.markDelivered(['n1', 'n2']);
    expect(await redis.exists(deliveryKeys(prefix, 'n1').claim)).toBe(0);
    const ttl = await redis.pttl(deliveryKeys(prefix, 'n1').done);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await b.claim(['n1', 'n2'])).toEqual({ claimed: [], delivered: ['n1', 'n2'], inFlight: [] });
  });

  it('releases only its own claims so a retry can claim again', async () => {
    const a = openDeliveryClaims(redis, options);
    const b = openDeliveryClaims(redis, options);
    expect((await a.claim(['r1'])).claimed).toEqual(['r1']);
    await b.release(['r1']);
    expect((await b.claim(['r1'])).inFlight).toEqual(['r1']);
    await a.release(['r1']);
    expect((await b.claim(['r1'])).claimed).toEqual(['r1']);
    expect(await a.extend(['r1'])).toBe(false);
    expect(await b.extend(['r1'])).toBe(true);
  });

  it('gives claims the configured lifetime so a crashed sender does not block forever', async () => {
    const a = openDeliveryClaims(redis, options);
    await a.claim(['c1']);
    const ttl = await redis.pttl(deliveryKeys(prefix, 'c1').claim);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
  });
});
