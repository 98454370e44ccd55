/**
 * Finds the Redis the tests use: REDIS_URL, else 127.0.0.1:6379, else a
 * private `redis-server` on a free port for this run. Tests read the result
 * from process.env.REDIS_URL (inherited by the test workers).
 */
import { type PrivateRedis, redisAnswers, startPrivateRedis } from '../../dev/local-redis.js';

let privateRedis: PrivateRedis | undefined;

export async function setup(): Promise<void> {
  const candidates = [process.env.REDIS_URL, 'redis://127.0.0.1:6379'].filter((u): u is string => !!u);
  for (const url of candidates) {
    if (await redisAnswers(url)) {
      process.env.REDIS_URL = url;
      return;
    }
  }
  try {
    privateRedis = await startPrivateRedis();
  } catch (error) {
    throw new Error(
      `No Redis for the tests: none answered at REDIS_URL or 127.0.0.1:6379, and ${error instanceof Error ? error.message : String(error)}. Install it (apt-get install -y redis-server) or set REDIS_URL.`,
    );
  }
  process.env.REDIS_URL = privateRedis.url;
}

export async function teardown(): Promise<void> {
  await privateRedis?.destroy();
}
