/**
 * Finds the Redis the tests use: REDIS_URL, else 127.0.0.1:6379, else a
 * private `redis-server` on a free port for this run. Tests read the result
 * from process.env.REDIS_URL (inherited by the test workers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

async function answers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

let privateRedis: ChildProcess | undefined;
let privateDir: string | undefined;

export async function setup(): Promise<void> {
  const candidates = [process.env.REDIS_URL, 'redis://127.0.0.1:6379'].filter((u): u is string => !!u);
  for (const url of candidates) {
    if (await answers(url)) {
      process.env.REDIS_URL = url;
      return;
    }
  }
  const port = await freePort();
  privateDir = mkdtempSync(join(tmpdir(), 'dbswatch-test-redis-'));
  privateRedis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', privateDir],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await answers(url)) {
      process.env.REDIS_URL = url;
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    'No Redis for the tests: none answered at REDIS_URL or 127.0.0.1:6379 and redis-server could not be started. Install it (apt-get install -y redis-server) or set REDIS_URL.',
  );
}

export async function teardown(): Promise<void> {
  privateRedis?.kill('SIGTERM');
  if (privateDir) rmSync(privateDir, { recursive: true, force: true });
}
