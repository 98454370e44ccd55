/**
 * Send-time link minting on real parts: the notify worker (BullMQ, real
 * Redis), the 2021 client against the simulator, the Slack sink. A finished
 * instance notification gets fresh links at send time; a retryable minting
 * failure retries the delivery (and mints again, once delivered, once sent);
 * a permanent refusal sends the message without links and says why.
 */
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SIM_CREDENTIAL, type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { type SlackSink, startSlackSink } from '../../dev/sinks/slack-sink.js';
import { type Config, parseConfig } from '../../src/config.js';
import { accessKeyCredential } from '../../src/dbs/client.js';
import { createDbs2021Client } from '../../src/dbs2021/client.js';
import { toPipelineTask } from '../../src/dbs2021/pipeline.js';
import { createLinkMinter } from '../../src/dbs2021/source.js';
import { startNotifyWorker } from '../../src/jobs/notify.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { silentLogger } from '../../src/logger.js';
import { type Notification, notificationId } from '../../src/notify/event.js';
import { ChannelPool } from '../../src/notify/registry.js';
import { notifyJobOptions, QUEUE_NAMES } from '../../src/queues.js';
import { sourceKey } from '../../src/tracking/source.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

const ID = 'rm-links00001';
const REGION = 'cn-hangzhou';
let sim: RunningSimulator;
let slack: SlackSink;
let prefix: string;
let config: Config;
let redis: Redis;
let connection: Redis;
let queue: Queue<NotifyJobData>;
let worker: Worker;
let channels: ChannelPool;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual' });
  slack = await startSlackSink();
  prefix = uniquePrefix('instance-links');
  sim.world2021.addInstance({ instanceName: ID, region: REGION });
  config = parseConfig(
    `
redis: { prefix: ${prefix} }
instances: [ { id: ${ID}, region: ${REGION}, notify: [ops], linkValidity: 10m } ]
channels:
  ops: { type: slack, webhookUrl: "${slack.url()}", timeout: 5s }
notify: { backoff: 50, maxBackoff: 100, attempts: 5 }
`,
    {},
  );
  redis = connect('links-commands');
  connection = connect('links-worker', { worker: true });
  channels = new ChannelPool(() => config);
  queue = new Queue<NotifyJobData>(QUEUE_NAMES.notify, { connection: redis, prefix });
  const api = createDbs2021Client({ endpoint: sim.endpoint, protocol: 'http', timeoutMs: 5_000, credential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL) });
  worker = startNotifyWorker({
    config: () => config,
    redis,
    prefix,
    channels,
    log: silentLogger,
    connection,
    beforeRender: createLinkMinter({ config: () => config, clientFor: () => api }),
  });
});

afterAll(async () => {
  await worker?.close();
  await queue?.close();
  await channels?.close();
  await close(redis);
  await close(connection);
  await deletePrefix(prefix);
  await slack.close();
  await sim.close();
});

/** A finished-task notification as the poll worker would enqueue it (no links). */
async function enqueueFinished(taskId: string): Promise<string> {
  sim.world2021.addTask(ID, { TaskId: taskId, DownloadStatus: 'finished' });
  const instance = config.instances[0];
  if (!instance) throw new Error('no instance');
  const task = toPipelineTask({ taskId, status: 'finished', targetType: 'URL', region: REGION }, instance, sim.world.now(), sim.world.now());
  const key = sourceKey('instance', ID);
  const n: Notification = {
    id: notificationId(key, taskId, 2, 'finish', 'ops'),
    event: 'finished',
    plan: { id: key, name: ID },
    task,
    seq: 2,
    detectedAt: sim.world.now(),
  };
  await queue.add('notify', { v: 1, channel: 'ops', notifications: [n] }, notifyJobOptions(config, n.id));
  return n.id;
}

async function completed(jobId: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const state = await queue.getJobState(jobId);
      if (state !== 'completed') throw new Error(`job is ${state}`);
    },
    { timeout: 15_000, interval: 50 },
  );
}

describe('links minted at send time', () => {
  it('a retryable minting failure retries the delivery; the message goes out once, with fresh links', async () => {
    sim.injectFault({ kind: 'business-error', count: 2, action: 'DescribeDownloadBackupSetStorageInfo', errCode: 'DBS.InternalError' });
    const before = slack.messages.length;
    const id = await enqueueFinished('dt-linksretry01');
    await completed(id);
    const job = await queue.getJob(id);
    expect(job?.attemptsMade).toBeGreaterThanOrEqual(2);
    const sent = slack.messages.slice(before).map((m) => JSON.stringify(m.body));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/dt-linksretry01\/dbs_target_file_path\/[^"]*\?Expires=/);
    expect(JSON.stringify(job?.data)).not.toContain('Expires=');
  });

  it('a permanent refusal (RAM denies minting) sends the message without links, saying why', async () => {
    sim.world2021.deniedActions.add('DescribeDownloadBackupSetStorageInfo');
    const before = slack.messages.length;
    const id = await enqueueFinished('dt-linksdenied1');
    await completed(id);
    sim.world2021.deniedActions.clear();
    const sent = slack.messages.slice(before).map((m) => JSON.stringify(m.body));
    expect(sent).toHaveLength(1);
    expect(sent[0]).not.toContain('Expires=');
    expect(sent[0]).toContain('no links: the RAM user lacks permission');
  });
});
