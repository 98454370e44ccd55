/**
 * SIGHUP re-reads the config: a running `dbswatch scheduler` adds the
 * schedule of a new plan and removes that of a plan that left, without a
 * restart; an invalid file is refused and the previous config kept.
 */
import { writeFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../../src/queues.js';
import { killAll, startDbswatch, writeConfig } from '../helpers/processes.js';
import { close, connect, deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const yamlFor = (prefix: string, plans: string[]) => `
redis: { url: "${redisUrl()}", prefix: "${prefix}" }
dbs: { endpoint: "127.0.0.1:9", protocol: http }
defaults: { interval: 1h }
plans:
${plans.map((id) => `  - { id: ${id} }`).join('\n')}
http: { port: 0 }
`;

describe('SIGHUP config reload', () => {
  const prefix = uniquePrefix('reload');
  const redis = connect('reload');
  const queue = new Queue(QUEUE_NAMES.poll, { connection: redis, prefix });

  afterAll(async () => {
    await killAll();
    await queue.close();
    await close(redis);
    await deletePrefix(prefix);
  });

  const schedulers = async () => (await queue.getJobSchedulers(0, -1)).map((s) => s.key).sort();
  const until = (what: string, check: () => Promise<boolean>) => waitFor(what, check, { timeoutMs: 30_000 });

  it('applies added and removed plans, and keeps the old config when the new one is invalid', async () => {
    const path = writeConfig(yamlFor(prefix, ['planhup0001', 'planhup0002']));
    const scheduler = startDbswatch(['scheduler', '--config', path]);
    await scheduler.waitForLine(/poll schedules reconciled/);
    expect(await schedulers()).toEqual(['plan.planhup0001', 'plan.planhup0002']);
    const keptNext = (await queue.getJobSchedulers(0, -1)).find((s) => s.key === 'plan.planhup0001')?.next;

    writeFileSync(path, yamlFor(prefix, ['planhup0001', 'planhup0003']));
    scheduler.child.kill('SIGHUP');
    await until('the reload', async () => (await schedulers()).join() === 'plan.planhup0001,plan.planhup0003');
    expect((await queue.getJobSchedulers(0, -1)).find((s) => s.key === 'plan.planhup0001')?.next).toBe(keptNext);

    writeFileSync(path, 'plans: [ { id: "not valid!" } ]');
    scheduler.child.kill('SIGHUP');
    await scheduler.waitForLine(/configuration reload failed; keeping the previous configuration/);
    expect(await schedulers()).toEqual(['plan.planhup0001', 'plan.planhup0003']);
    expect(scheduler.child.exitCode).toBeNull();
    expect(await scheduler.stop('SIGTERM')).toBe(0);
  });
});
