/**
 * Plan discovery and permanent poll errors, on real Redis, BullMQ and the
 * simulator: discovered plans get schedules and the discover block's
 * settings; a permanent error is not retried and is logged once per hour.
 */
import { Writable } from 'node:stream';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SIM_CREDENTIAL, type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { accessKeyCredential, createDbsClient } from '../../src/dbs/client.js';
import { listAllBackupPlans } from '../../src/dbs/plans.js';
import { startPollWorker } from '../../src/jobs/poll.js';
import { createLogger } from '../../src/logger.js';
import { discoverPlans, planResolver, trackedPlans } from '../../src/scheduler.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { pipelineConfig, pollDeps, testQueues } from '../helpers/pipeline.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

describe('plan discovery and permanent errors', () => {
  const prefix = uniquePrefix('discovery');
  const redis = connect('discovery', { worker: true });
  let sim: RunningSimulator;
  let queues: ReturnType<typeof testQueues>;
  let worker: Worker | undefined;

  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
    for (const planId of ['planknown01', 'planfound01', 'planfound02']) {
      sim.world.addPlan({ planId, name: `${planId} name` });
      sim.world.addTasks(planId, 3, { status: 'running' });
    }
    queues = testQueues(redis, prefix);
  });

  afterAll(async () => {
    await worker?.close();
    await queues.close();
    await sim.close();
    await close(redis);
    await deletePrefix(prefix);
  });

  it('tracks discovered plans with the discover block settings and schedules them', async () => {
    const config = pipelineConfig({
      prefix,
      sim,
      plans: ['planknown01'],
      extra: 'discover: { enabled: true, interval: 10m, notify: [mail-b], events: [failed] }',
    });
    const api = createDbsClient({ endpoint: sim.endpoint, protocol: 'http', timeoutMs: 5_000, credential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL) });
    const found = await discoverPlans({ config, redis, queue: queues.poll, listPlans: () => listAllBackupPlans(api), log: createLogger({ level: 'silent' }) });
    expect(found).toBe(3);
    const plans = await trackedPlans(config, redis);
    expect(plans.map((p) => [p.id, p.discovered])).toEqual([
      ['planknown01', false],
      ['planfound01', true],
      ['planfound02', true],
    ]);
    const discovered = await planResolver(() => config, redis)('planfound01');
    expect(discovered).toMatchObject({ name: 'planfound01 name', notify: ['mail-b'], events: ['failed'], discovered: true });
    const schedulers = (await queues.poll.getJobSchedulers(0, -1)).map((s) => s.key).sort();
    expect(schedulers).toEqual(['discover', 'plan.planfound01', 'plan.planfound02', 'plan.planknown01']);

    // A discovered plan polls like a configured one.
    worker = startPollWorker({ ...pollDeps(config, redis, queues.notify), connection: redis, concurrency: 1 });
    const [result] = await queues.pollAll(['planfound02'], 'discovered');
    expect(result?.ok).toBe(true);
    expect((await new RedisStateStore(redis, prefix).meta(['planfound02']))[0]).toMatchObject({ baselineDone: true, taskCount: 3 });
    await worker.close();
    worker = undefined;
  });

  it('does not retry a permanent error, records it, and logs it at error level once per hour', async () => {
    const lines: { level: string; msg: string }[] = [];
    const log = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _enc, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    });
    const config = pipelineConfig({ prefix, sim, plans: ['plangone001'] });
    worker = startPollWorker({ ...pollDeps(config, redis, queues.notify), log, connection: redis, concurrency: 1 });
    for (const tag of ['gone1', 'gone2', 'gone3']) {
      const job = await queues.poll.add(
        'poll',
        { v: 1, planId: 'plangone001' },
        { jobId: `${tag}-plangone001`, attempts: 5, backoff: { type: 'fixed', delay: 10 } },
      );
      await job.waitUntilFinished(queues.pollEvents).catch(() => {});
      const failed = await queues.poll.getJob(job.id as string);
      expect(failed?.attemptsMade).toBe(1); // UnrecoverableError: no retry loop
      expect(failed?.failedReason).toMatch(/plan.*not found|Param\.NotFound/i);
    }
    const errors = lines.filter((l) => l.level === 'error' && l.msg.includes('plangone001'));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(/retrying cannot help/);
    const meta = (await new RedisStateStore(redis, prefix).meta(['plangone001']))[0];
    expect(meta?.lastError).toMatch(/not found|Param\.NotFound/i);
    expect(meta?.baselineDone).toBe(false);
  });
});
