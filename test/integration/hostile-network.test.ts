/**
 * Security basics on real sockets: dbswatch's HTTP server and the DBS
 * simulator (API and `/_sim/` control API) bind loopback unless told
 * otherwise, so nothing on the network can reach them; the control API
 * would refuse a non-loopback caller anyway; a non-loopback HTTP host needs a
 * token; the container runs as a non-root user.
 */
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { startHttpServer } from '../../src/http.js';
import { silentLogger } from '../../src/logger.js';
import { openQueues, type Queues } from '../../src/queues.js';
import { startSimulator } from '../../dev/simulator/index.js';
import { isLoopback } from '../../dev/simulator/server.js';
import { close, connect, deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

/** This machine's first non-loopback IPv4 address, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return undefined;
}

/** 'open' when a TCP connection to host:port succeeds, else the error code. */
function probe(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('ETIMEDOUT');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

/**
 * Bound to 127.0.0.1 only, not to every interface: 127.0.0.1 answers, while 127.0.0.2 (also routed to `lo`,
 * so it would answer a wildcard bind) and the machine's own network address (when it has one) do not.
 */
async function expectLoopbackOnly(port: number): Promise<void> {
  expect(await probe('127.0.0.1', port)).toBe('open');
  expect(await probe('127.0.0.2', port)).not.toBe('open');
  const external = externalAddress();
  if (external !== undefined) expect(await probe(external, port)).not.toBe('open');
}

describe('loopback by default', () => {
  const prefix = uniquePrefix('hostile-network');
  const redis = connect('hostile-network');
  let queues: Queues;

  beforeAll(() => {
    queues = openQueues(redis, prefix);
  });

  afterAll(async () => {
    await queues.close();
    await close(redis);
    await deletePrefix(prefix);
  });

  it("dbswatch's HTTP server: http.host defaults to 127.0.0.1 and binds nothing else", async () => {
    const config = parseConfig(`redis: { prefix: ${prefix} }\nhttp: { port: 0 }\n`, { REDIS_URL: redisUrl() });
    expect(config.http.host).toBe('127.0.0.1');
    const server = await startHttpServer({ config: () => config, redis, queues, workers: [], role: 'run', log: silentLogger });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      await expectLoopbackOnly(server.port);
    } finally {
      await server.close();
    }
  });

  it('the simulator (API and control API) binds 127.0.0.1 by default', async () => {
    const sim = await startSimulator();
    try {
      expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`);
      await expectLoopbackOnly(sim.port);
      const control = await fetch(`${sim.url}/_sim/faults`);
      expect(control.status).toBe(200);
    } finally {
      await sim.close();
    }
  });

  it('the control API recognises only loopback callers', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopback(address)).toBe(true);
    for (const address of ['10.0.0.5', '192.168.1.20', '::ffff:10.0.0.5', 'fe80::1', '', undefined]) expect(isLoopback(address)).toBe(false);
  });

  it('a non-loopback http.host is refused without an authToken, and the token is never echoed', () => {
    let problems: readonly string[] = [];
    try {
      parseConfig('http: { host: 0.0.0.0 }\n', {});
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }
    expect(problems).toEqual([expect.stringMatching(/^http\.authToken: required when http\.host \(0\.0\.0\.0\) is not loopback/)]);
    const config = parseConfig('http: { host: 0.0.0.0, authToken: "${TOKEN}" }\n', { TOKEN: 'NETWORK-TOKEN-1234567890' });
    expect(config.http.authToken).toBe('NETWORK-TOKEN-1234567890');
  });
});

describe('the container image', () => {
  it('runs as the non-root "node" user', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('node');
    // The user is set before the command, and nothing switches back to root.
    expect(runtime.indexOf('USER node')).toBeLessThan(runtime.indexOf('\nCMD '));
    expect(users).not.toContain('root');
  });
});
