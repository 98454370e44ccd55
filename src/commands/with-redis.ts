/**
 * For short CLI commands that change something in Redis (`silence`, `ack`):
 * a fail-fast producer connection, an operator-worded error when Redis
 * cannot be reached, and the connection closed whatever happens.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { createRedis } from '../queues.js';
import { maskUrl, stripUrlQueries } from '../secrets.js';
import { waitForReady } from './status.js';

export async function withRedis(config: Config, action: (redis: Redis) => Promise<number>, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const redis = createRedis(config.redis.url, 'producer');
  try {
    try {
      await waitForReady(redis, 5_000);
    } catch (error) {
      err.write(`cannot reach Redis at ${maskUrl(config.redis.url)}: ${stripUrlQueries(error instanceof Error ? error.message : String(error))}\n`);
      return 1;
    }
    return await action(redis);
  } finally {
    if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  }
}
