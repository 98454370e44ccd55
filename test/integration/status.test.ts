/**
 * `collectStatus` and `statusCommand` against a real Redis: tracking state
 * written by the real state store, a notification moved to failed by a real
 * BullMQ Worker, history from the real recorder — and no signed URL from a
 * job payload anywhere in the report.
 */
import { PassThrough } from 'node:stream';
import { UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { statusCommand } from '../../src/commands/status.js';
import { type Config, parseConfig } from '../../src/config.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { openQueues, type Queues } from '../../src/queues.js';
import { collectStatus } from '../../src/status/report.js';
import { RedisHistory } from '../../src/tracking/history.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { close, connect, deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const SIGNED = 'https://dbs-backup.oss-cn-hangzhou.aliyuncs.com/set-1.tar.gz?Expires=1700000000&OSSAccessKeyId=LTAI&Signature=c2VjcmV0';
const NOW = 1_700_000_000_000;

let prefix = '';
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  if (prefix) await deletePrefix(prefix);
});

function configFor(p: string, url = redisUrl()): Config {
  const yaml = `redis:\n  prefix: ${p}\nplans:\n  - id: dbs1abc\n    name: Prod MySQL\n    interval: 1m\n  - id: dbs2new\n`;
  return parseConfig(yaml, { REDIS_URL: url });
}

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

async function failOneNotification(redis: Redis, queues: Queues): Promise<void> {
  const data: NotifyJobData = {
    v: 1,
    channel: 'ops-slack',
    notifications: [
      {
        id: 'dbs1abc.task-7.3-finish.ops-slack',
        event: 'finished',
        plan: { id: 'dbs1abc', name: 'Prod MySQL' },
        task: { taskId: 'task-7', planId: 'dbs1abc', status: 'finish', name: 'nightly-full', internetUrl: SIGNED, intranetUrl: SIGNED },
        seq: 3,
        detectedAt: NOW,
      },
    ],
  };
  await queues.notify.add('notify', data, { jobId: 'dbs1abc.task-7.3-finish.ops-slack', attempts: 5, removeOnFail: false });
  const worker = new Worker<NotifyJobData>(
    'notify',
    async () => {
      throw new UnrecoverableError('Slack answered 404 no_service: the webhook was revoked');
    },
    { connection: redis, prefix },
  );
  worker.on('error', () => {});
  cleanups.push(() => worker.close());
  await new Promise<void>((resolve) => worker.once('failed', () => resolve()));
  await vi.waitFor(async () => expect(await queues.notify.getFailedCount()).toBe(1));
}

describe('collectStatus', () => {
  it('reports plan state, queue depths, failed notifications and transitions — without signed URLs', async () => {
    prefix = uniquePrefix('status');
    const redis = connect('status-worker', { worker: true });
    cleanups.push(() => close(redis));
    const queues = openQueues(redis, prefix);
    cleanups.push(() => queues.close());
    const config = configFor(prefix);
    const plan = config.plans[0];
    if (!plan) throw new Error('config has no plan');

    const store = new RedisStateStore(redis, prefix);
    const committed = await store.commit('dbs1abc', {
      expectedVersion: 0,
      upserts: new Map([
        ['task-7', { status: 'finish', seq: 3, missed: 0 }],
        ['task-8', { status: 'running', seq: 2, missed: 0 }],
        ['task-9', { status: 'finish', seq: 1, missed: 0 }],
      ]),
      removals: [],
      at: NOW - 30_000,
      byStatus: { finish: 2, running: 1 },
    });
    expect(committed.ok).toBe(true);
    await new RedisHistory(redis, prefix).record(
      plan,
      [{ taskId: 'task-7', from: 'running', to: 'finish', seq: 3, event: 'finished' }],
      new Map([['task-7', { taskId: 'task-7', planId: 'dbs1abc', status: 'finish', name: 'nightly-full', internetUrl: SIGNED }]]),
      NOW - 30_000,
    );
    await failOneNotification(redis, queues);

    const report = await collectStatus({ config, redis, queues, now: () => NOW });

    expect(report.generatedAt).toBe(NOW);
    expect(report.plans).toEqual([
      {
        id: 'dbs1abc',
        name: 'Prod MySQL',
        intervalMs: 60_000,
        discovered: false,
        health: 'ok',
        lastPollAt: NOW - 30_000,
        lastSuccessAt: NOW - 30_000,
        taskCount: 3,
        byStatus: { finish: 2, running: 1 },
        lastError: undefined,
        lastErrorAt: undefined,
      },
      expect.objectContaining({ id: 'dbs2new', health: 'pending', byStatus: {} }),
    ]);
    expect(report.queues.notify.failed).toBe(1);
    expect(report.queues.poll.waiting).toBe(0);
    expect(report.failedNotifications).toEqual([
      {
        id: 'dbs1abc.task-7.3-finish.ops-slack',
        channel: 'ops-slack',
        failedReason: 'Slack answered 404 no_service: the webhook was revoked',
        attemptsMade: 1,
        failedAt: expect.any(Number),
        events: ['finished'],
        plans: ['Prod MySQL'],
        tasks: ['nightly-full'],
      },
    ]);
    expect(report.recentTransitions).toHaveLength(1);
    expect(report.recentTransitions[0]).toMatchObject({ planName: 'Prod MySQL', taskName: 'nightly-full', event: 'finished', to: 'finish', hadLinks: true });

    const json = JSON.stringify(report);
    expect(json).not.toContain('https://');
    expect(json).not.toContain('Signature');
  });

  it('marks a plan whose last poll failed as failing, with the error', async () => {
    prefix = uniquePrefix('status-failing');
    const redis = connect('status-failing');
    cleanups.push(() => close(redis));
    const queues = openQueues(redis, prefix);
    cleanups.push(() => queues.close());
    const config = configFor(prefix);
    await new RedisStateStore(redis, prefix).recordFailure('dbs1abc', 'DBS answered 403 Forbidden.RAM', NOW - 5_000);

    const report = await collectStatus({ config, redis, queues, now: () => NOW });
    expect(report.plans[0]).toMatchObject({ id: 'dbs1abc', health: 'failing', lastError: 'DBS answered 403 Forbidden.RAM', lastErrorAt: NOW - 5_000 });
  });
});

describe('statusCommand', () => {
  it('prints the report as JSON and returns 0', async () => {
    prefix = uniquePrefix('status-cmd');
    const out = capture();
    const err = capture();
    const code = await statusCommand(configFor(prefix), { json: true, out: out.stream, err: err.stream });
    expect(err.text()).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(out.text()) as { plans: { id: string; health: string }[] };
    expect(report.plans.map((p) => [p.id, p.health])).toEqual([
      ['dbs1abc', 'pending'],
      ['dbs2new', 'pending'],
    ]);
  });

  it('prints the text screen and returns 0', async () => {
    prefix = uniquePrefix('status-text');
    const out = capture();
    const code = await statusCommand(configFor(prefix), { json: false, out: out.stream, err: capture().stream });
    expect(code).toBe(0);
    expect(out.text()).toContain('PLANS (2; all healthy or pending)');
    expect(out.text()).toContain('FAILED NOTIFICATIONS: none');
  });

  it('says it cannot reach Redis (URL masked) and returns 1', async () => {
    prefix = uniquePrefix('status-down');
    const out = capture();
    const err = capture();
    const code = await statusCommand(configFor(prefix, 'redis://admin:hunter22secret@127.0.0.1:1/0'), { json: false, out: out.stream, err: err.stream });
    expect(code).toBe(1);
    expect(out.text()).toBe('');
    expect(err.text()).toMatch(/^cannot reach Redis at redis:\/\/\*\*\*@127\.0\.0\.1:1\/\*\*\*: ECONNREFUSED\n$/);
    expect(err.text()).not.toContain('hunter22secret');
  });
});
