/**
 * Redis work per poll must not grow with the number of tasks: counted with
 * MONITOR on a private redis-server (no other traffic), filtered to the
 * poll's own connection.
 */

import { once } from 'node:events';
import { connect as connectSocket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateRedis, startPrivateRedis } from '../../dev/local-redis.js';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { pollPlan } from '../../src/jobs/poll.js';
import { QUEUE_NAMES } from '../../src/queues.js';
import { pipelineConfig, pollDeps } from '../helpers/pipeline.js';

/**
 * Commands sent by `client` while `action` runs (Lua-internal commands excluded: they are not round trips).
 * MONITOR is read over a plain socket: ioredis' monitor mode can misparse a reply that arrives together
 * with the first monitored lines.
 */
async function commandsDuring(url: string, client: Redis, action: () => Promise<unknown>): Promise<string[]> {
  const port = (client as unknown as { stream: { localPort: number } }).stream.localPort;
  const { hostname, port: redisPort } = new URL(url);
  const socket = connectSocket(Number(redisPort), hostname);
  await once(socket, 'connect');
  const seen: string[] = [];
  let buffer = '';
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let end = buffer.indexOf('\r\n');
    while (end >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      // +<time> [<db> <source>] "<command>" ...
      const match = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
      if (match?.[1]?.endsWith(`:${port}`)) seen.push(String(match[2]).toLowerCase());
      end = buffer.indexOf('\r\n');
    }
  });
  socket.write('MONITOR\r\n');
  // Wait until MONITOR is live: ping until our own marker command shows up.
  for (let i = 0; !seen.includes('ping'); i++) {
    if (i > 500) throw new Error('MONITOR never showed our commands');
    await client.ping('monitor-start');
    await delay(10);
  }
  seen.length = 0;
  await action();
  await client.ping('monitor-end');
  for (let i = 0; seen.at(-1) !== 'ping'; i++) {
    if (i > 1000) throw new Error('MONITOR never showed the end marker');
    await delay(5);
  }
  seen.pop();
  socket.destroy();
  return seen;
}

describe('Redis commands per poll', () => {
  const prefix = 'round-trips';
  let privateRedis: PrivateRedis;
  let redis: Redis;
  let sim: RunningSimulator;
  let notifyQueue: Queue<NotifyJobData>;

  beforeAll(async () => {
    privateRedis = await startPrivateRedis();
    redis = new Redis(privateRedis.url, { maxRetriesPerRequest: null });
    sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
    sim.world.addPlan({ planId: 'small0001' });
    sim.world.addPlan({ planId: 'large0001' });
    sim.world.addPlan({ planId: 'warm00001' });
    sim.world.addTasks('warm00001', 1, { status: 'running' });
    sim.world.addTasks('small0001', 100, { status: 'running' });
    sim.world.addTasks('large0001', 2_000, { status: 'running' });
    notifyQueue = new Queue(QUEUE_NAMES.notify, { connection: redis, prefix });
  });

  afterAll(async () => {
    await notifyQueue.close();
    await sim.close();
    redis.disconnect();
    await privateRedis.destroy();
  });

  it('is the same for 100 and 2,000 tasks: baseline, steady and transition polls', async () => {
    const config = pipelineConfig({ prefix, sim, plans: ['small0001', 'large0001', 'warm00001'], pageSize: 100, redisUrl: privateRedis.url });
    const deps = pollDeps(config, redis, notifyQueue);
    const counts: Record<string, Record<string, number>> = {};
    // Load the state scripts once first: ioredis' first use of a script (EVAL, or EVALSHA then EVAL) is not per task.
    await pollPlan(deps, 'warm00001');
    for (const planId of ['small0001', 'large0001']) {
      const baseline = await commandsDuring(privateRedis.url, redis, () => pollPlan(deps, planId));
      const steady = await commandsDuring(privateRedis.url, redis, () => pollPlan(deps, planId));
      // 1% of the tasks finish (1 vs 20): the notification jobs go out in one addBulk.
      const tasks = sim.world.tasksOf(planId);
      for (const task of tasks.slice(0, tasks.length / 100)) sim.world.setStatus(task.BackupSetDownloadTaskId, 'finish');
      const moving = await commandsDuring(privateRedis.url, redis, () => pollPlan(deps, planId));
      counts[planId] = { baseline: baseline.length, steady: steady.length, moving: moving.length };
      expect(baseline.length).toBeGreaterThan(0);
    }
    expect(counts.large0001?.baseline).toBe(counts.small0001?.baseline);
    expect(counts.large0001?.steady).toBe(counts.small0001?.steady);
    // addBulk is one MULTI whose size grows with the jobs (not the tasks): compare round trips, i.e. without MULTI bodies.
    expect(counts.large0001?.steady).toBeLessThanOrEqual(8);
  });
});
