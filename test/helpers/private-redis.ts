/**
 * A private redis-server for tests that stop and restart Redis (never the
 * shared one): append-only with fsync always, so a restart keeps the data —
 * what a production Redis with AOF does.
 */
import { type PrivateRedis, startPrivateRedis as start } from '../../dev/local-redis.js';

export { freePort, type PrivateRedis } from '../../dev/local-redis.js';

export function startPrivateRedis(): Promise<PrivateRedis> {
  return start({ persistent: true });
}
