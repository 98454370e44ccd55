/**
 * The benchmark's Redis: a private `redis-server` on a free loopback port
 * (no persistence, nothing else talking to it), or REDIS_URL when given.
 */
import { Redis } from 'ioredis';
import { startPrivateRedis } from '../dev/local-redis.js';

export interface BenchRedis {
  readonly url: string;
  /** True when we started it: INFO deltas are ours alone and FLUSHALL is allowed. */
  readonly private: boolean;
  readonly version: string;
  stop(): Promise<void>;
}

async function ping(url: string): Promise<string | undefined> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const info = await redis.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const external = process.env.REDIS_URL;
  if (external) {
    const version = await ping(external);
    if (!version) throw new Error(`REDIS_URL=${external} does not answer`);
    return { url: external, private: false, version, stop: async () => {} };
  }
  const redis = await startPrivateRedis();
  const version = await ping(redis.url);
  if (!version) {
    await redis.destroy();
    throw new Error(`private redis-server at ${redis.url} does not answer INFO`);
  }
  return { url: redis.url, private: true, version, stop: () => redis.destroy() };
}

/** The parts of INFO the benchmark compares before/after a phase. */
export interface RedisInfo {
  /** Calls per command (INFO commandstats), `info` itself excluded. Lua-internal calls are included. */
  calls: Record<string, number>;
  netInputBytes: number;
  netOutputBytes: number;
  usedMemory: number;
  cpuUserS: number;
  cpuSysS: number;
}

export async function redisInfo(redis: Redis): Promise<RedisInfo> {
  const text = await redis.info('everything');
  const calls: Record<string, number> = {};
  const num = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const name = match[1] as string;
    if (name === 'info') continue;
    calls[name] = Number(match[2]);
  }
  return {
    calls,
    netInputBytes: num('total_net_input_bytes'),
    // The reply to this very INFO is counted in the next snapshot; take it out.
    netOutputBytes: num('total_net_output_bytes') + Buffer.byteLength(text) + 16,
    usedMemory: num('used_memory'),
    cpuUserS: num('used_cpu_user'),
    cpuSysS: num('used_cpu_sys'),
  };
}

export interface RedisDelta {
  commands: number;
  byCommand: Record<string, number>;
  netInputBytes: number;
  netOutputBytes: number;
  usedMemoryDelta: number;
  cpuMs: number;
}

export function redisDelta(before: RedisInfo, after: RedisInfo): RedisDelta {
  const byCommand: Record<string, number> = {};
  let commands = 0;
  for (const [name, value] of Object.entries(after.calls)) {
    const d = value - (before.calls[name] ?? 0);
    if (d > 0) {
      byCommand[name] = d;
      commands += d;
    }
  }
  return {
    commands,
    byCommand,
    netInputBytes: after.netInputBytes - before.netInputBytes,
    netOutputBytes: after.netOutputBytes - before.netOutputBytes,
    usedMemoryDelta: after.usedMemory - before.usedMemory,
    cpuMs: (after.cpuUserS + after.cpuSysS - before.cpuUserS - before.cpuSysS) * 1000,
  };
}

/** Deletes every key under `prefix` (SCAN + UNLINK). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  let guard = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0' && ++guard < 1_000_000);
}
