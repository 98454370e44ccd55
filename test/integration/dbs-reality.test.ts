/**
 * Issue 13 — behaving right against the real DBS — on real parts: Redis,
 * BullMQ, the real openapi-client and the simulator, one describe per point
 * of the issue. The simulator serves the documented behaviours (and the
 * switchable ones in `SimRules`); nothing here mocks DBS, Redis or fetch.
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SIM_CREDENTIAL, type RunningSimulator, type SimRules, startSimulator } from '../../dev/simulator/index.js';
import { startSlackSink } from '../../dev/sinks/slack-sink.js';
import { type Config, parseConfig } from '../../src/config.js';
import { DbsClients } from '../../src/dbs/accounts.js';
import { accessKeyCredential, createDbsClient } from '../../src/dbs/client.js';
import { DbsApiError } from '../../src/dbs/errors.js';
import { linkExpiresAt } from '../../src/dbs/link-expiry.js';
import { listAllDownloadTasks } from '../../src/dbs/pager.js';
import { checkConfigOnline } from '../../src/dbs/plan-check.js';
import { startNotifyWorker } from '../../src/jobs/notify.js';
import type { NotifyJobData, PollJobData } from '../../src/jobs/payloads.js';
import { startPollWorker } from '../../src/jobs/poll.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { dbsRequestsTotal } from '../../src/metrics.js';
import type { Notification } from '../../src/notify/event.js';
import { ChannelPool } from '../../src/notify/registry.js';
import { renderSlack } from '../../src/notify/slack-render.js';
import { notifyJobOptions } from '../../src/queues.js';
import { createPlanChecker, discoverAcrossAccounts, discoverPlans, planResolver, readUnknownPlans, trackedPlans } from '../../src/scheduler.js';
import { renderStatusText } from '../../src/status/render-text.js';
import { collectStatus } from '../../src/status/report.js';
import { formatTimestamp } from '../../src/text/format.js';
import { RedisStateStore } from '../../src/tracking/state.js';
import { renderStatusPage } from '../../src/web/page.js';
import { pipelineConfig, pipelineYaml, pollDeps, testQueues } from '../helpers/pipeline.js';
import { childEnv, writeConfig } from '../helpers/processes.js';
import { close, connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const simCredential = accessKeyCredential(DEFAULT_SIM_CREDENTIAL);

async function simulator(
  options: { rules?: Partial<SimRules>; urlSignature?: 'v1' | 'v4' | 'mixed'; credentials?: { accessKeyId: string; accessKeySecret: string }[] } = {},
) {
  const sim = await startSimulator({ scenario: 'empty', clock: 'manual', ...options });
  cleanups.push(() => sim.close());
  return sim;
}

/** A poll worker on the simulator, a config, and helpers to poll and read the notify jobs. */
async function pipeline(options: {
  plans: string[];
  defaults?: string;
  extra?: string;
  sim?: RunningSimulator;
  rules?: Partial<SimRules>;
  urlSignature?: 'v1' | 'v4' | 'mixed';
}) {
  const sim =
    options.sim ??
    (await simulator({ ...(options.rules ? { rules: options.rules } : {}), ...(options.urlSignature ? { urlSignature: options.urlSignature } : {}) }));
  for (const planId of options.plans) if (!sim.world.hasPlan(planId)) sim.world.addPlan({ planId });
  const prefix = uniquePrefix('reality');
  cleanups.push(() => deletePrefix(prefix));
  const redis = connect('reality', { worker: true });
  cleanups.push(() => close(redis));
  const queues = testQueues(redis, prefix);
  cleanups.push(() => queues.close());
  const config = pipelineConfig({
    prefix,
    sim,
    plans: options.plans,
    ...(options.defaults ? { defaults: options.defaults } : {}),
    ...(options.extra ? { extra: options.extra } : {}),
  });
  const worker = startPollWorker({ ...pollDeps(config, redis, queues.notify), connection: redis, concurrency: 1 });
  cleanups.push(() => worker.close());
  let round = 0;
  return {
    sim,
    world: sim.world,
    config,
    redis,
    queues,
    prefix,
    async poll(planId = options.plans[0] as string) {
      round += 1;
      const [result] = await queues.pollAll([planId], `round${round}`);
      expect(result?.error).toBeUndefined();
      return result;
    },
    /** Ids of the notify jobs about one task, sorted. */
    async jobsOf(taskId: string): Promise<string[]> {
      return [...(await queues.notifyJobs()).keys()].filter((id) => id.includes(`.${taskId}.`)).sort();
    },
    async job(id: string): Promise<NotifyJobData | undefined> {
      return (await queues.notifyJobs()).get(id);
    },
  };
}

// ---------------------------------------------------------------------------

describe('1. init is not always a failure', () => {
  it('fails at once after checking, after defaults.initFailedAfter polls otherwise, never when it moves on — one notification each', async () => {
    const P = 'planinit01';
    const h = await pipeline({ plans: [P], defaults: 'initFailedAfter: 3' });
    h.world.addTask(P, { taskId: 'seedtask0001', status: 'running' });
    await h.poll(); // baseline
    // errMessage '' = DBS sent no ErrMessage (the simulator otherwise gives every init one).
    h.world.addTask(P, { taskId: 'afterchk0001', status: 'checking' });
    h.world.addTask(P, { taskId: 'quietinit001', status: 'init', errMessage: '' });
    h.world.addTask(P, { taskId: 'leavesinit01', status: 'init', errMessage: '' });
    h.world.addTask(P, { taskId: 'errinit00001', status: 'init', errMessage: 'precheck failed: backup set expired' });
    await h.poll(); // poll 1 of the new tasks
    expect(await h.jobsOf('quietinit001')).toEqual([]);
    expect(await h.jobsOf('leavesinit01')).toEqual([]);
    expect(await h.jobsOf('errinit00001')).toEqual([`${P}.errinit00001.1-init.mail-b`, `${P}.errinit00001.1-init.slack-a`]);

    h.world.setStatus('afterchk0001', 'init', { errMessage: '' });
    h.world.setStatus('leavesinit01', 'check_pass');
    await h.poll(); // poll 2
    expect(await h.jobsOf('afterchk0001')).toEqual([`${P}.afterchk0001.2-init.mail-b`, `${P}.afterchk0001.2-init.slack-a`]);
    expect(await h.jobsOf('quietinit001')).toEqual([]);

    await h.poll(); // poll 3: the quiet init has lasted 3 polls
    const quiet = [`${P}.quietinit001.1-init.mail-b`, `${P}.quietinit001.1-init.slack-a`];
    expect(await h.jobsOf('quietinit001')).toEqual(quiet);
    const job = await h.job(quiet[1] as string);
    expect(job?.notifications[0]).toMatchObject({ event: 'failed', seq: 1, task: { status: 'init' } });

    await h.poll();
    await h.poll();
    expect(await h.jobsOf('quietinit001')).toEqual(quiet);
    expect(await h.jobsOf('leavesinit01')).toEqual([]);
    expect(await h.jobsOf('afterchk0001')).toHaveLength(2);
  });
});

// ---------------------------------------------------------------------------

describe('2. error envelopes', () => {
  it('classifies a Success:false answer on HTTP 200 by the status in its body', async () => {
    const sim = await simulator();
    sim.world.addPlan({ planId: 'planenv01' });
    const api = createDbsClient({ endpoint: sim.endpoint, protocol: 'http', timeoutMs: 5_000, credential: simCredential });
    const read = () =>
      api.describeDownloadTaskPage({ planId: 'planenv01', pageNum: 0, pageSize: 30 }).then(
        () => undefined,
        (error: unknown) => error as DbsApiError,
      );
    const cases: [string, number, string][] = [
      ['Odd.Code', 503, 'retryable'],
      ['Odd.Code', 400, 'permanent'],
      ['Request.Forbidden', 403, 'permanent'],
      ['InvalidParameterValid', 400, 'permanent'],
      ['Param.NotFound', 400, 'permanent'],
      ['DBS.InternalError', 500, 'retryable'],
    ];
    for (const [errCode, bodyStatus, kind] of cases) {
      sim.injectFault({ kind: 'business-error', count: 1, errCode, bodyStatus });
      const error = await read();
      expect(error, errCode).toBeInstanceOf(DbsApiError);
      expect({ code: error?.apiCode, status: error?.httpStatus, kind: error?.retry.kind }).toEqual({ code: errCode, status: bodyStatus, kind });
    }
  });

  it('Request.Forbidden: no hot retry, says which RAM action is missing in status and in a metric; the next tick polls again', async () => {
    const P = 'planperm01';
    const h = await pipeline({ plans: [P] });
    h.world.addTask(P, { status: 'running' });
    await h.poll();
    h.sim.injectFault({ kind: 'business-error', count: 5, planId: P, errCode: 'Request.Forbidden' });
    const permanentBefore = (await dbsRequestsTotal.get()).values.find((v) => v.labels.outcome === 'permanent')?.value ?? 0;

    const job = await h.queues.poll.add('poll', { v: 1, planId: P }, { jobId: 'forbidden-1', attempts: 5, backoff: { type: 'fixed', delay: 10 } });
    await h.queues.pollEvents.waitUntilReady();
    await expect(job.waitUntilFinished(h.queues.pollEvents, 30_000)).rejects.toThrow(/dbs:DescribeBackupSetDownloadTaskList/);
    const failed = (await h.queues.poll.getJob('forbidden-1')) as Job<PollJobData>;
    expect(failed.attemptsMade).toBe(1);
    expect(h.sim.faults()[0]?.remaining).toBe(4); // one request, not a page-level retry loop either

    const permanentAfter = (await dbsRequestsTotal.get()).values.find((v) => v.labels.outcome === 'permanent')?.value ?? 0;
    expect(permanentAfter).toBe(permanentBefore + 1);
    const report = await collectStatus({ config: h.config, redis: h.redis, queues: { poll: h.queues.poll, notify: h.queues.notify } as never });
    const plan = report.plans.find((p) => p.id === P);
    expect(plan?.health).toBe('failing');
    expect(plan?.lastError).toMatch(/no permission.*dbs:DescribeBackupSetDownloadTaskList.*Request\.Forbidden, HTTP 403/);

    h.sim.clearFaults();
    await h.poll(P);
    const [meta] = await new RedisStateStore(h.redis, h.prefix).meta([P]);
    expect(meta?.lastError).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------

describe('3. regions and accounts', () => {
  it('polls each plan through its own account: another endpoint and another key', async () => {
    const simA = await simulator();
    const keyB = { accessKeyId: 'acct-b-key-id', accessKeySecret: 'acct-b-key-secret-0001' };
    const simB = await simulator({ credentials: [keyB] });
    simA.world.addPlan({ planId: 'planacct0a' });
    simB.world.addPlan({ planId: 'planacct0b' });
    for (const [sim, planId] of [
      [simA, 'planacct0a'],
      [simB, 'planacct0b'],
    ] as const) {
      sim.world.addTask(planId, { taskId: `${planId}-t1`, status: 'running' });
    }
    const prefix = uniquePrefix('accounts');
    cleanups.push(() => deletePrefix(prefix));
    const yaml = pipelineYaml({ prefix, sim: simA, plans: [] }).replace(
      'plans:\n',
      `accounts:
  - { id: acct-b, endpoint: "${simB.endpoint}", protocol: http, accessKeyId: "\${B_ID}", accessKeySecret: "\${B_SECRET}" }
plans:
  - { id: planacct0a }
  - { id: planacct0b, account: acct-b }
`,
    );
    const config: Config = parseConfig(yaml, { B_ID: keyB.accessKeyId, B_SECRET: keyB.accessKeySecret }, 'test');
    expect(config.accounts.map((a) => [a.id, a.endpoint])).toEqual([
      ['default', simA.endpoint],
      ['acct-b', simB.endpoint],
    ]);
    const redis = connect('accounts', { worker: true });
    cleanups.push(() => close(redis));
    const queues = testQueues(redis, prefix);
    cleanups.push(() => queues.close());
    const clients = new DbsClients({ config: () => config, defaultCredential: simCredential });
    expect(clients.forAccount('acct-b')).toBe(clients.forAccount('acct-b')); // one client per account
    const deps = pollDeps(config, redis, queues.notify);
    const worker = startPollWorker({
      ...deps,
      resolvePlan: planResolver(() => config, redis),
      source: { listAll: async (planId, plan) => (await listAllDownloadTasks(clients.forPlan(plan), planId, { pageSize: 30 })).tasks },
      connection: redis,
      concurrency: 1,
    });
    cleanups.push(() => worker.close());

    expect((await queues.pollAll(['planacct0a', 'planacct0b'], 'baseline')).every((r) => r.ok)).toBe(true);
    simA.world.setStatus('planacct0a-t1', 'finish');
    simB.world.setStatus('planacct0b-t1', 'finish');
    expect((await queues.pollAll(['planacct0a', 'planacct0b'], 'second')).every((r) => r.ok)).toBe(true);

    expect(simA.stats().byPlan).toEqual({ planacct0a: 2 });
    expect(simB.stats().byPlan).toEqual({ planacct0b: 2 });
    const jobs = await queues.notifyJobs();
    const b = jobs.get('planacct0b.planacct0b-t1.2-finish.slack-a');
    expect(b?.notifications[0]?.plan).toEqual({ id: 'planacct0b', name: 'planacct0b', account: 'acct-b' });
    expect(b?.notifications[0]?.task.internetUrl).toContain('planacct0b');
    expect(jobs.has('planacct0a.planacct0a-t1.2-finish.slack-a')).toBe(true);
  });
});

// ---------------------------------------------------------------------------

describe('4. plans that do not exist', () => {
  it('finds them with comma-separated batches, logs each once, and shows them in status, on the page and in check-config --online', async () => {
    const sim = await simulator({ rules: { unknownPlan: 'empty' } });
    const real = Array.from({ length: 55 }, (_, i) => `planreal${String(i).padStart(3, '0')}`);
    const ghosts = ['planghost01', 'planghost02'];
    const h = await pipeline({ plans: [...real.slice(0, 30), ghosts[0] as string, ...real.slice(30), ghosts[1] as string], sim });
    for (const ghost of ghosts) sim.world.removePlan(ghost); // configured, but DBS does not know them

    // An unknown plan answers an empty list: by itself it would look like a healthy, quiet plan.
    await h.poll('planghost01');
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
          done();
        },
      }),
    });
    sim.resetStats();
    const clients = new DbsClients({ config: () => h.config, defaultCredential: simCredential });
    const check = createPlanChecker({ redis: h.redis, clientFor: (a) => clients.forAccount(a), log });
    const report = await check(h.config);
    expect(report.unknown).toEqual([
      { planId: 'planghost01', account: 'default' },
      { planId: 'planghost02', account: 'default' },
    ]);
    expect(sim.stats().byAction).toEqual({ DescribeBackupPlanList: 2 }); // 57 ids in batches of 50
    await check(h.config); // a reload: checked again, logged once
    const logged = lines.filter((l) => String(l.msg).includes('is not known to DBS'));
    expect(logged.map((l) => l.planId)).toEqual(['planghost01', 'planghost02']);
    expect([...(await readUnknownPlans(h.redis, h.prefix))]).toEqual([
      ['planghost01', 'default'],
      ['planghost02', 'default'],
    ]);

    const status = await collectStatus({ config: h.config, redis: h.redis, queues: { poll: h.queues.poll, notify: h.queues.notify } as never });
    expect(status.plans.find((p) => p.id === 'planghost01')).toMatchObject({ health: 'ok', unknownInAccount: 'default' });
    expect(status.plans.find((p) => p.id === 'planreal000')?.unknownInAccount).toBeUndefined();
    const text = renderStatusText(status, Date.now());
    expect(text).toMatch(/planghost01[\s\S]*↳ unknown plan: DBS does not know this id in account "default"/);
    const page = renderStatusPage(
      { report: status, transitions: [], filter: {}, channels: [], channelsCapped: false, chart: [], actionsEnabled: false },
      { now: Date.now(), nonce: 'n' },
    );
    expect(page).toMatch(/data-plan="planghost01"[\s\S]*?unknown plan: DBS does not know this id/);

    // The plan is configured again with the real id: the next check clears it.
    sim.world.addPlan({ planId: 'planghost01' });
    await check(h.config);
    expect([...(await readUnknownPlans(h.redis, h.prefix)).keys()]).toEqual(['planghost02']);

    const online = await checkConfigOnline(h.config, { log: silentLogger, defaultCredential: simCredential });
    expect(online.ok).toBe(false);
    expect(online.lines).toContain('plans: "planghost02" is not known to DBS in account "default" (check plans[].id and plans[].account)');
  });

  it('check-config --online from the command line: exit 1 naming the unknown plan', async () => {
    const sim = await simulator({ rules: { unknownPlan: 'empty' } });
    sim.world.addPlan({ planId: 'planclireal1' });
    const path = writeConfig(pipelineYaml({ prefix: uniquePrefix('cli-online'), sim, plans: ['planclireal1', 'planclighost'] }));
    // Asynchronous on purpose: the simulator answering the child lives in this process's event loop.
    const run = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--config', path, ...args], {
          env: childEnv({ LOG_LEVEL: 'warn' }),
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString('utf8');
        });
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stdout }));
      });
    const result = await run(['check-config', '--online']);
    expect(result.status).toBe(1);
    expect(String(result.stdout)).toContain('# online check: PROBLEMS');
    expect(String(result.stdout)).toContain('"planclighost" is not known to DBS in account "default"');
    expect(String(result.stdout)).toContain('account "default": 1 of 2 configured plan(s) found in DBS');
    const json = await run(['check-config', '--online', '--json']);
    expect(JSON.parse(String(json.stdout)).online).toMatchObject({ ok: false, unknown: [{ planId: 'planclighost', account: 'default' }] });
  }, 60_000);
});

// ---------------------------------------------------------------------------

describe('5. discovery that selects', () => {
  it('keeps plans by include/exclude globs on id or name and by status (not wait, by default), and passes Region/ResourceGroupId to DBS', async () => {
    const sim = await simulator();
    const w = sim.world;
    w.addPlan({ planId: 'dprod0001', name: 'prod-orders' });
    w.addPlan({ planId: 'dprod0002', name: 'prod-billing', status: 'wait' });
    w.addPlan({ planId: 'dprod0003', name: 'prod-orders-tmp' });
    w.addPlan({ planId: 'ddev00001', name: 'dev-orders' });
    w.addPlan({ planId: 'dprod0004', name: 'prod-sg', region: 'ap-southeast-1' });
    w.addPlan({ planId: 'dprod0005', name: 'prod-rg', resourceGroupId: 'rg-acfm2' });
    w.addPlan({ planId: 'dprodx006' });
    const clients = (config: Config) => {
      const c = new DbsClients({ config: () => config, defaultCredential: simCredential });
      return (account: string) => c.forAccount(account);
    };
    const discover = async (block: string) => {
      const config = pipelineConfig({ prefix: 'unused', sim, plans: ['dconfigured'], extra: `discover: { enabled: true, ${block} }` });
      return (await discoverAcrossAccounts(config, clients(config))).map((p) => p.planId).sort();
    };
    expect(await discover('include: ["prod-*", "dprodx*"], exclude: ["*-tmp"]')).toEqual(['dprod0001', 'dprod0004', 'dprod0005', 'dprodx006']);
    expect(await discover('include: ["prod-*"], statuses: [wait]')).toEqual(['dprod0002']);
    expect(await discover('region: ap-southeast-1')).toEqual(['dprod0004']);
    expect(await discover('resourceGroupId: rg-acfm2')).toEqual(['dprod0005']);
    expect(await discover('exclude: ["d???00001"]')).toEqual(['dprod0001', 'dprod0003', 'dprod0004', 'dprod0005', 'dprodx006']);

    // Stored with their account: the resolver and tracked plans keep it.
    const prefix = uniquePrefix('discover-select');
    cleanups.push(() => deletePrefix(prefix));
    const redis = connect('discover-select', { worker: true });
    cleanups.push(() => close(redis));
    const queues = testQueues(redis, prefix);
    cleanups.push(() => queues.close());
    const config = pipelineConfig({ prefix, sim, plans: ['dconfigured'], extra: 'discover: { enabled: true, include: ["prod-orders"] }' });
    await discoverPlans({ config, redis, queue: queues.poll, listPlans: () => discoverAcrossAccounts(config, clients(config)), log: silentLogger });
    expect((await trackedPlans(config, redis)).map((p) => [p.id, p.discovered])).toEqual([
      ['dconfigured', false],
      ['dprod0001', true],
    ]);
  });
});

// ---------------------------------------------------------------------------

describe('6. finished before the links exist', () => {
  it('holds finished up to defaults.waitForLinks polls for the URLs; sends once either way, saying plainly when DBS gave no link', async () => {
    const P = 'planlinks01';
    const h = await pipeline({ plans: [P], defaults: 'waitForLinks: 3' });
    h.world.addTask(P, { taskId: 'lateurl00001', status: 'running', downloadWay: 'manual' });
    h.world.addTask(P, { taskId: 'nourl0000001', status: 'running', downloadWay: 'manual' });
    await h.poll(); // baseline
    for (const id of ['lateurl00001', 'nourl0000001']) {
      h.world.setStatus(id, 'finish');
      h.world.withholdLinks(id);
    }
    await h.poll(); // 1st poll in finish, no links
    await h.poll(); // 2nd
    expect(await h.jobsOf('lateurl00001')).toEqual([]);
    expect(await h.jobsOf('nourl0000001')).toEqual([]);

    h.world.withholdLinks('lateurl00001', false);
    await h.poll(); // 3rd: links arrived for one
    const late = `${P}.lateurl00001.2-finish.slack-a`;
    expect(await h.jobsOf('lateurl00001')).toEqual([late]);
    expect((await h.job(late))?.notifications[0]?.task.internetUrl).toMatch(/^https:\/\/.*lateurl00001.*\?Expires=/);
    expect(await h.jobsOf('nourl0000001')).toEqual([]);

    await h.poll(); // 4th: held for 3 polls, now it goes out without links
    const none = `${P}.nourl0000001.2-finish.slack-a`;
    expect(await h.jobsOf('nourl0000001')).toEqual([none]);
    const notification = (await h.job(none))?.notifications[0] as Notification;
    expect(notification.task.internetUrl).toBeUndefined();
    expect(JSON.stringify(renderSlack([notification]))).toContain('DBS gave no link yet');

    await h.poll();
    h.world.withholdLinks('nourl0000001', false);
    await h.poll();
    expect(await h.jobsOf('lateurl00001')).toEqual([late]);
    expect(await h.jobsOf('nourl0000001')).toEqual([none]);
  });
});

// ---------------------------------------------------------------------------

describe('7. links expire: say when', () => {
  it('reads the expiry of V4 URLs from the poll and shows "valid until" next to the link', async () => {
    const P = 'planv4url01';
    const h = await pipeline({ plans: [P], urlSignature: 'v4' });
    h.world.addTask(P, { taskId: 'v4task000001', status: 'running' });
    await h.poll();
    h.world.setStatus('v4task000001', 'finish');
    await h.poll();
    const n = (await h.job(`${P}.v4task000001.2-finish.slack-a`))?.notifications[0] as Notification;
    expect(n.task.internetUrl).toContain('x-oss-date=');
    const finishedS = Math.floor((h.world.task('v4task000001')?.BackupSetDownloadFinishTime as number) / 1000);
    expect(linkExpiresAt(n.task.internetUrl)).toBe((finishedS + 3 * 86_400) * 1000);
    expect(JSON.stringify(renderSlack([n]))).toContain(`valid until ${formatTimestamp((finishedS + 3 * 86_400) * 1000)}`);
  });

  it('a notification sent late re-reads the task for fresh links, and never sends a dead link without saying so', async () => {
    const sim = await simulator();
    sim.world.addPlan({ planId: 'planlate001' });
    sim.world.addTask('planlate001', { taskId: 'freshlink001', status: 'finish', downloadWay: 'manual' });
    const slack = await startSlackSink();
    cleanups.push(() => slack.close());
    const prefix = uniquePrefix('late-links');
    cleanups.push(() => deletePrefix(prefix));
    const config = parseConfig(
      `redis: { prefix: ${prefix} }\nchannels:\n  ops: { type: slack, webhookUrl: "${slack.url()}", timeout: 5s }\nnotify: { backoff: 50, maxBackoff: 200, attempts: 3 }\n`,
      {},
    );
    const redis: Redis = connect('late-links', { worker: true });
    cleanups.push(() => close(redis));
    const connection: Redis = connect('late-links-worker', { worker: true });
    cleanups.push(() => close(connection));
    const channels = new ChannelPool(() => config);
    cleanups.push(() => channels.close());
    const queues = testQueues(redis, prefix);
    cleanups.push(() => queues.close());
    const api = createDbsClient({ endpoint: sim.endpoint, protocol: 'http', timeoutMs: 5_000, credential: simCredential });
    const worker: Worker = startNotifyWorker({ config: () => config, redis, prefix, channels, log: silentLogger, connection, dbs: api });
    cleanups.push(() => worker.close());

    const dead = (taskId: string) =>
      `https://dbs-old.oss-cn-hangzhou.example/download/bs/${taskId}.zip?Expires=1700000000&OSSAccessKeyId=LTAIold&Signature=DEADSIG`;
    const lateNotification = (taskId: string): Notification => ({
      id: `planlate001.${taskId}.2-finish.ops`,
      event: 'finished',
      plan: { id: 'planlate001', name: 'late plan' },
      task: { taskId, planId: 'planlate001', status: 'finish', downloadWay: 'manual', internetUrl: dead(taskId) },
      seq: 2,
      detectedAt: Date.now() - 5 * 86_400_000,
    });
    for (const taskId of ['freshlink001', 'gonetask0001']) {
      const n = lateNotification(taskId);
      await queues.notify.add('notify', { v: 1, channel: 'ops', notifications: [n] }, notifyJobOptions(config, n.id));
    }
    await vi.waitFor(() => expect(slack.messages).toHaveLength(2), { timeout: 15_000, interval: 50 });
    const text = (taskId: string) => JSON.stringify(slack.messages.find((m) => JSON.stringify(m.body).includes(taskId))?.body);

    const fresh = text('freshlink001');
    expect(fresh).not.toContain('DEADSIG');
    const freshUrl = `https:${sim.world.task('freshlink001')?.BackupSetDownloadInternetUrl}`;
    expect(fresh).toContain(`valid until ${formatTimestamp(linkExpiresAt(freshUrl))}`);

    const gone = text('gonetask0001'); // DBS no longer lists it: no fresh link to be had
    expect(gone).not.toContain('DEADSIG');
    expect(gone).toContain(`the download link expired at ${formatTimestamp(1_700_000_000_000)}`);
  });
});

// ---------------------------------------------------------------------------

describe('8. small truths', () => {
  it('pages to an empty or short page when DBS leaves out TotalPages/TotalElements', async () => {
    const sim = await simulator({ rules: { omitTotals: true } });
    sim.world.addPlan({ planId: 'plannototal' });
    sim.world.addTasks('plannototal', 65, { status: 'running' });
    const api = createDbsClient({ endpoint: sim.endpoint, protocol: 'http', timeoutMs: 5_000, credential: simCredential });
    const snapshot = await listAllDownloadTasks(api, 'plannototal', { pageSize: 30 });
    expect(new Set(snapshot.tasks.map((t) => t.taskId)).size).toBe(65);
    expect(sim.stats().byAction).toEqual({ DescribeBackupSetDownloadTaskList: 3 });
  });

  it('cuts the query string of a URL quoted in ErrMessage before it is stored in a job', async () => {
    const P = 'planerrurl01';
    const h = await pipeline({ plans: [P] });
    h.world.addTask(P, { taskId: 'errurl000001', status: 'running' });
    await h.poll();
    h.world.setStatus('errurl000001', 'stop', { errMessage: 'upload failed: https://b.oss.example/x.tar.gz?Expires=1&Signature=ERRSIGSECRET 403' });
    await h.poll();
    const job = await h.job(`${P}.errurl000001.2-stop.slack-a`);
    expect(JSON.stringify(job)).not.toContain('ERRSIGSECRET');
    expect(job?.notifications[0]?.task.errorMessage).toBe('upload failed: https://b.oss.example/x.tar.gz?… 403');
  });
});
