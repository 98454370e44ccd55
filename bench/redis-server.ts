/**
 * The benchmark's Redis: a private `redis-server` on a free loopback port
 * (no persistence, nothing else talking to it), or REDIS_URL when given.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export interface BenchRedis {
  readonly url: string;
  /** True when we started it: INFO deltas are ours alone and FLUSHALL is allowed. */
  readonly private: boolean;
  readonly version: string;
  stop(): Promise<void>;
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
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
      stdio: 'ignore',
    });
  } catch (error) {
    throw new Error(`cannot start redis-server (is it installed?): ${String(error)}`);
  }
  const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`redis-server: ${e.message}`))));
  spawnError.catch(() => {});
  let version: string | undefined;
  for (let i = 0; i < 200 && !version; i++) {
    if (child.exitCode !== null) break;
    version = await ping(url);
    if (!version) await new Promise((r) => setTimeout(r, 50));
  }
  if (!version) {
    child.kill('SIGKILL');
    throw new Error(`private redis-server on port ${port} did not start`);
  }
  return {
    url,
    private: true,
    version,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
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
