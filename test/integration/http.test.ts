/**
 * The operations HTTP server on a real port, with a real Redis, real BullMQ
 * queues and a real Worker: health, readiness (running, worker closed, Redis
 * unreachable), Prometheus metrics with sampled queue depths, routing errors.
 */
import { connect as netConnect } from 'node:net';
import { Worker } from 'bullmq';
import express from 'express';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../src/config.js';
import { type HttpServer, startHttpServer } from '../../src/http.js';
import { silentLogger } from '../../src/logger.js';
import { createRedis, openQueues, type Queues } from '../../src/queues.js';
import { VERSION } from '../../src/version.js';
import { close, connect, deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix('http');
let redis: Redis;
let queues: Queues;
let worker: Worker;
let config: Config;
const servers: HttpServer[] = [];

function testConfig(extra = ''): Config {
  return parseConfig(`redis:\n  prefix: ${prefix}\nhttp:\n  port: 0\n  host: 127.0.0.1\n${extra}`, { REDIS_URL: redisUrl() });
}

async function start(overrides: Partial<Parameters<typeof startHttpServer>[0]> = {}): Promise<HttpServer> {
  const server = await startHttpServer({
    config: () => config,
    redis,
    queues,
    workers: [worker],
    role: 'run',
    log: silentLogger,
    ...overrides,
  });
  servers.push(server);
  return server;
}

async function get(server: HttpServer, path: string, init?: RequestInit) {
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

beforeAll(async () => {
  config = testConfig();
  redis = connect('http-worker-conn', { worker: true });
  queues = openQueues(redis, prefix);
  // A trivial processor on the poll queue; nothing is added there, so it just idles in its loop.
  worker = new Worker('poll', async () => undefined, { connection: redis, prefix });
  worker.on('error', () => {});
  await worker.waitUntilReady();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await worker.close();
  await queues.close();
  await close(redis);
  await deletePrefix(prefix);
});

describe('startHttpServer', () => {
  it('binds an ephemeral port when the config says 0 and reports the real one', async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('GET /healthz answers 200 {"status":"ok","version":…}', async () => {
    const server = await start();
    const res = await get(server, '/healthz');
    expect(res.status).toBe(200);
    expect(res.type).toContain('application/json');
    expect(JSON.parse(res.text)).toEqual({ status: 'ok', version: VERSION });
  });

  it('GET /readyz answers 200 while Redis answers and every worker runs', async () => {
    const server = await start();
    expect(worker.isRunning()).toBe(true);
    const res = await get(server, '/readyz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ status: 'ready', role: 'run' });
  });

  it('GET /readyz answers 503 with a reason once a worker of the role is closed', async () => {
    const own = new Worker('notify', async () => undefined, { connection: redis, prefix: `${prefix}-closed` });
    own.on('error', () => {});
    await own.waitUntilReady();
    const server = await start({ workers: [worker, own] });
    expect((await get(server, '/readyz')).status).toBe(200);

    await own.close();
    const res = await get(server, '/readyz');
    expect(res.status).toBe(503);
    expect(JSON.parse(res.text)).toEqual({ status: 'not ready', role: 'run', reasons: ['worker notify: not running'] });
  });

  it('GET /readyz answers 503 when Redis does not answer, and /metrics still answers 200', async () => {
    // Nothing listens on port 1: a worker-style connection queues the PING forever, so only the timer can answer.
    const unreachable = createRedis('redis://127.0.0.1:1', 'worker');
    try {
      const server = await start({ redis: unreachable, workers: [], role: 'scheduler' });
      const res = await get(server, '/readyz');
      expect(res.status).toBe(503);
      const body = JSON.parse(res.text) as { status: string; reasons: string[] };
      expect(body.status).toBe('not ready');
      expect(body.reasons).toEqual(['redis: no answer within 1s']);
      expect(res.text).not.toContain('127.0.0.1:1');

      const metrics = await get(server, '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toContain('# TYPE dbswatch_queue_jobs gauge');
      // Depths that could not be sampled are absent, not stale.
      expect(metrics.text).not.toMatch(/^dbswatch_queue_jobs\{/m);
    } finally {
      unreachable.disconnect();
    }
  });

  it('GET /metrics serves Prometheus text with queue depths sampled at scrape time', async () => {
    const server = await start();
    const job = await queues.notify.add('notify', { v: 1, channel: 'ops-slack', notifications: [] }, { jobId: 'http-test-job-1' });
    try {
      const res = await get(server, '/metrics');
      expect(res.status).toBe(200);
      expect(res.type).toContain('text/plain');
      const lines = res.text.split('\n').filter((l) => l.length > 0);
      expect(lines).toContain('# HELP dbswatch_polls_total Polls by result (ok, failed, conflict, skipped) and source kind (plan, instance).');
      expect(lines).toContain('# TYPE dbswatch_polls_total counter');
      expect(lines).toContain('# TYPE dbswatch_queue_jobs gauge');
      expect(lines).toContain('dbswatch_queue_jobs{queue="notify",state="waiting"} 1');
      expect(lines).toContain('dbswatch_queue_jobs{queue="poll",state="waiting"} 0');
      // Every other line is a sample: name, optional labels, a number (Prometheus parses NaN/Inf case-insensitively,
      // and prom-client writes an empty event-loop histogram's mean as "Nan").
      const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|[Nn][Aa][Nn]|[+-]?[Ii]nf)( \d+)?$/;
      for (const line of lines) {
        if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
        expect(line).toMatch(sample);
      }
      // Label values are small closed sets: no ids, prefixes or URLs.
      const labelValues = [...res.text.matchAll(/="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? '');
      expect(labelValues.length).toBeGreaterThan(0);
      for (const value of labelValues) {
        expect(value).not.toMatch(/:\/\/|http-test-job|ops-slack|^t-http|\d{6,}/);
      }
    } finally {
      await job.remove();
    }
  });

  it('answers 404 for unknown paths and 405 (with Allow) for wrong methods; HEAD works on GET routes', async () => {
    const server = await start();
    const missing = await get(server, '/nope?x=1');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toEqual({ status: 'not found', path: '/nope' });

    const res = await fetch(`${server.url}/healthz`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    await res.text();

    const head = await fetch(`${server.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('survives a malformed request and keeps serving', async () => {
    const server = await start();
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = netConnect(server.port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await get(server, '/healthz')).status).toBe(200);
  });

  it('serves added routes; closed ones need the token (Bearer, or Basic as password) when one is configured', async () => {
    const token = 'a-test-token-of-24-chars';
    config = testConfig(`  authToken: ${token}\n`);
    try {
      const routes = express.Router().get('/private', (_req, res) => {
        res.json({ secret: false });
      });
      const server = await start({ routes });
      expect((await get(server, '/private')).status).toBe(401);
      expect((await get(server, '/private', { headers: { authorization: 'Bearer wrong-token-of-24-chars!' } })).status).toBe(401);
      expect((await get(server, '/private', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      const basic = Buffer.from(`anyone:${token}`).toString('base64');
      expect((await get(server, '/private', { headers: { authorization: `Basic ${basic}` } })).status).toBe(200);
      // Health stays open for probes.
      expect((await get(server, '/healthz')).status).toBe(200);
    } finally {
      config = testConfig();
    }
  });

  it('refuses to start with a clear error when the port is taken', async () => {
    const first = await start();
    config = parseConfig(`redis:\n  prefix: ${prefix}\nhttp:\n  port: ${first.port}\n`, { REDIS_URL: redisUrl() });
    try {
      await expect(start()).rejects.toThrow(`port ${first.port} is in use: set http.port or stop the other process`);
    } finally {
      config = testConfig();
    }
  });
});
