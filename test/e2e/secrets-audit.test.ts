/**
 * Secrets audit: the whole service (`dbswatch run` from source, debug
 * logging) against the simulator, a Slack sink and an SMTP sink, with a
 * config whose every secret is recognisable — AccessKey secret, webhook
 * token, SMTP password, HTTP token — and the simulator's pre-signed URLs.
 * Phases: a wrong AccessKey secret (credential errors logged), then the
 * right one; tasks finish and fail; a Slack 404 burst puts notifications in
 * the failed set; one is retried through the status page's Retry action.
 * Then none of the secrets may appear in the processes' output, in any Redis
 * key or value under the prefix, in BullMQ job data, `/metrics`, the status
 * page's JSON, bull-board's API, or `dbswatch status [--json]`. The sinks
 * MUST have received the signed URLs (that is their purpose): the positive
 * control that the URLs really flowed through everything audited.
 */
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { simpleParser } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../dev/local-redis.js';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { type SlackSink, startSlackSink } from '../../dev/sinks/slack-sink.js';
import { type SmtpSink, startSmtpSink } from '../../dev/sinks/smtp-sink.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { childEnv, killAll, type ManagedProcess, startDbswatch, writeConfig } from '../helpers/processes.js';
import { close, connect, deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const KEY_ID = 'AUDITKEYID';
const AK_SECRET = 'AUDIT-SECRET-ak-7f3e9c';
const WRONG_AK_SECRET = 'AUDIT-WRONG-SECRET-c4d2e1';
const SLACK_TOKEN = 'AUDIT-SLACK-TOKEN-91ab';
const SMTP_PASS = 'AUDIT-SMTP-PASS-55cd';
const HTTP_TOKEN = 'AUDIT-HTTP-TOKEN-3b2a1c0d9e8f';
const CONFIG_SECRETS = [AK_SECRET, WRONG_AK_SECRET, SLACK_TOKEN, SMTP_PASS, HTTP_TOKEN];

const PLAN_A = 'planaudit001';
const PLAN_B = 'planaudit002';

/** Every key under the prefix with its full content, whatever its type. */
async function dumpPrefix(redis: Redis, prefix: string): Promise<Array<{ key: string; type: string; content: string }>> {
  const out: Array<{ key: string; type: string; content: string }> = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      let content: unknown;
      switch (type) {
        case 'string':
          content = await redis.get(key);
          break;
        case 'hash':
          content = await redis.hgetall(key);
          break;
        case 'list':
          content = await redis.lrange(key, 0, -1);
          break;
        case 'set':
          content = await redis.smembers(key);
          break;
        case 'zset':
          content = await redis.zrange(key, '0', '-1', 'WITHSCORES');
          break;
        case 'stream':
          content = await redis.xrange(key, '-', '+');
          break;
        case 'none':
          continue; // expired between SCAN and TYPE
        default:
          throw new Error(`unexpected Redis type ${type} at ${key}: the audit would not see inside it`);
      }
      out.push({ key, type, content: JSON.stringify(content) });
    }
  } while (cursor !== '0');
  return out;
}

describe('secrets audit of a full run', () => {
  const prefix = uniquePrefix('secrets-audit');
  const redis = connect('secrets-audit');
  let sim: RunningSimulator;
  let slack: SlackSink;
  let smtp: SmtpSink;
  let notifyQueue: Queue<NotifyJobData>;
  let httpPort: number;
  let configPath: string;
  const processes: ManagedProcess[] = [];

  const envWith = (akSecret: string) =>
    childEnv({
      ALIBABA_CLOUD_ACCESS_KEY_ID: KEY_ID,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: akSecret,
      AUDIT_SLACK_WEBHOOK: slack.url(`/services/T0/B0/${SLACK_TOKEN}`),
      AUDIT_SMTP_URL: `smtp://dbswatch:${SMTP_PASS}@127.0.0.1:${smtp.port}`,
      AUDIT_HTTP_TOKEN: HTTP_TOKEN,
      // As chatty as it gets: a leak at debug level is still a leak.
      LOG_LEVEL: 'debug',
    });

  beforeAll(async () => {
    sim = await startSimulator({
      scenario: 'empty',
      clock: 'manual',
      credentials: [{ accessKeyId: KEY_ID, accessKeySecret: AK_SECRET }],
    });
    sim.world.addPlan({ planId: PLAN_A, name: 'orders-prod' });
    sim.world.addPlan({ planId: PLAN_B, name: 'billing-prod' });
    sim.world.addTasks(PLAN_A, 4, { status: 'running', downloadWay: 'manual' });
    sim.world.addTasks(PLAN_B, 3, { status: 'running', downloadWay: 'manual' });
    slack = await startSlackSink();
    smtp = await startSmtpSink();
    notifyQueue = new Queue<NotifyJobData>('notify', { connection: redis, prefix });
    httpPort = await freePort();
    configPath = writeConfig(`
redis: { url: "${redisUrl()}", prefix: "${prefix}" }
dbs: { endpoint: "${sim.endpoint}", protocol: http, pageSize: 30, requestsPerSecond: 50, timeout: 5s }
defaults: { interval: 5s, notify: [audit-slack, audit-mail] }
plans:
  - { id: ${PLAN_A}, name: orders-prod }
  - { id: ${PLAN_B}, name: billing-prod }
channels:
  audit-slack: { type: slack, webhookUrl: "\${AUDIT_SLACK_WEBHOOK}", timeout: 5s }
  audit-mail: { type: email, smtpUrl: "\${AUDIT_SMTP_URL}", from: "dbswatch <dbswatch@example.com>", to: [dba@example.com], timeout: 5s }
poll: { backoff: 200, attempts: 2 }
notify: { backoff: 200, maxBackoff: 2s, attempts: 3 }
http: { port: ${httpPort}, authToken: "\${AUDIT_HTTP_TOKEN}" }
`);
  });

  afterEach(async () => {
    await killAll();
  });

  afterAll(async () => {
    await killAll();
    await notifyQueue?.close();
    await slack?.close();
    await smtp?.close();
    await sim?.close();
    await close(redis);
    await deletePrefix(prefix);
  });

  /** The pre-signed URLs DBS handed out (scheme-less on the wire), and their secret parts. */
  function signedUrlSecrets(): { urls: string[]; parts: string[] } {
    const urls: string[] = [];
    const parts = new Set<string>();
    for (const planId of [PLAN_A, PLAN_B]) {
      for (const task of sim.world.tasksOf(planId)) {
        for (const raw of [task.BackupSetDownloadInternetUrl, task.BackupSetDownloadIntranetUrl]) {
          if (!raw) continue;
          const url = new URL(`https:${raw}`);
          urls.push(url.href);
          const signature = url.searchParams.get('Signature') as string;
          parts.add(signature);
          parts.add(encodeURIComponent(signature));
          parts.add(url.search.slice(1));
        }
      }
    }
    return { urls, parts: [...parts] };
  }

  function findLeaks(where: string, text: string, secrets: readonly string[]): string[] {
    const leaks: string[] = [];
    for (const secret of secrets) if (text.includes(secret)) leaks.push(`${where}: contains ${secret}`);
    // Whatever the value: a pre-signed query string or a request signature has no business here.
    for (const marker of ['Signature=', 'OSSAccessKeyId=', 'Expires=']) if (text.includes(marker)) leaks.push(`${where}: contains ${marker}`);
    return leaks;
  }

  async function get(path: string, auth = true): Promise<{ status: number; body: string }> {
    const response = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
      headers: auth ? { authorization: `Bearer ${HTTP_TOKEN}` } : {},
    });
    return { status: response.status, body: await response.text() };
  }

  async function runCli(args: string[]): Promise<{ code: number | string; output: string }> {
    const child = startDbswatch([...args, '--config', configPath], envWith(AK_SECRET));
    const code = await child.exited;
    return { code, output: child.lines.join('\n') };
  }

  async function notifySettled(expect: { completed: number; failed: number }): Promise<void> {
    await vi.waitFor(
      async () => {
        const counts = await notifyQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
        if (counts.waiting || counts.active || counts.delayed || counts.prioritized) throw new Error(`busy: ${JSON.stringify(counts)}`);
        if (counts.completed !== expect.completed || counts.failed !== expect.failed) throw new Error(`counts: ${JSON.stringify(counts)}`);
      },
      { timeout: 60_000, interval: 200 },
    );
  }

  /** Everything the audit reads, besides the processes' output. */
  async function auditSurfaces(secrets: readonly string[]): Promise<{ leaks: string[]; looked: Record<string, number> }> {
    const leaks: string[] = [];
    const looked: Record<string, number> = {};

    const dump = await dumpPrefix(redis, prefix);
    looked.redisKeys = dump.length;
    for (const { key, type, content } of dump) leaks.push(...findLeaks(`redis ${type} ${key}`, `${key}\n${content}`, secrets));

    const jobs = await notifyQueue.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed']);
    looked.notifyJobs = jobs.length;
    for (const job of jobs) {
      const text = JSON.stringify({ data: job.data, failedReason: job.failedReason, stacktrace: job.stacktrace, returnvalue: job.returnvalue });
      leaks.push(...findLeaks(`notify job ${job.id}`, text, secrets));
    }

    const metrics = await get('/metrics', false);
    expect(metrics.status).toBe(200);
    looked.metricsBytes = metrics.body.length;
    leaks.push(...findLeaks('/metrics', metrics.body, secrets));

    const failedBoard = '/queues/api/queues?activeQueue=notify&status=failed&page=1';
    for (const path of ['/', '/api/status', failedBoard, '/queues/api/queues?activeQueue=notify&status=completed&page=1']) {
      const page = await get(path);
      expect(page.status, path).toBe(200);
      leaks.push(...findLeaks(`GET ${path}`, page.body, secrets));
      // Not vacuous: these views do show the failed jobs (bull-board with their data).
      if (path === failedBoard) expect(page.body).toContain('urlsRemoved');
      if (path === '/api/status') expect(page.body).toContain('no_service');
    }

    for (const args of [['status'], ['status', '--json']]) {
      const { code, output } = await runCli(args);
      expect(code).toBe(0);
      expect(output).toContain('no_service');
      looked[`dbswatch ${args.join(' ')}`] = output.length;
      leaks.push(...findLeaks(`dbswatch ${args.join(' ')}`, output, secrets));
    }
    return { leaks, looked };
  }

  it('keeps every secret out of logs, Redis, job data, metrics, the status page and the CLI', async () => {
    // ---- Phase 1: a wrong AccessKey secret. Credential errors are logged, without the secret.
    const wrong = startDbswatch(['run', '--config', configPath], envWith(WRONG_AK_SECRET));
    processes.push(wrong);
    const permanent = await wrong.waitForLine(/retrying cannot help/, 60_000);
    expect(permanent).toContain('check ALIBABA_CLOUD_ACCESS_KEY_SECRET');
    expect(permanent).toContain('SignatureDoesNotMatch');
    expect(await wrong.stop()).toBe(0);

    // ---- Phase 2: the right secret. Baselines first (silent), then transitions.
    const run = startDbswatch(['run', '--config', configPath], envWith(AK_SECRET));
    processes.push(run);
    await run.waitForLine(new RegExp(`"planId":"${PLAN_A}".*baseline recorded silently`), 60_000);
    await run.waitForLine(new RegExp(`"planId":"${PLAN_B}".*baseline recorded silently`), 60_000);

    // Round 1 on plan A: two downloads ready, one failed; Slack answers 404 no_service three times.
    const [a1, a2, a3] = sim.world.tasksOf(PLAN_A);
    slack.respondWith({ status: 404 }, { status: 404 }, { status: 404 });
    sim.world.setStatus(a1!.BackupSetDownloadTaskId, 'finish');
    sim.world.setStatus(a2!.BackupSetDownloadTaskId, 'finish');
    sim.world.setStatus(a3!.BackupSetDownloadTaskId, 'stop', {
      errMessage: `backup storage refused the download token (see https://oss.example/x?OSSAccessKeyId=LTAIleak&Signature=errsig)`,
    });
    await smtp.waitFor(3, 60_000);
    await notifySettled({ completed: 3, failed: 3 });
    expect(slack.requests.map((r) => r.status)).toEqual([404, 404, 404]);

    // Round 2 on plan B: two more ready; Slack is back.
    const [b1, b2] = sim.world.tasksOf(PLAN_B);
    sim.world.setStatus(b1!.BackupSetDownloadTaskId, 'finish');
    sim.world.setStatus(b2!.BackupSetDownloadTaskId, 'finish');
    await slack.waitFor(2, 60_000);
    await smtp.waitFor(5, 60_000);
    await notifySettled({ completed: 7, failed: 3 });

    const { urls, parts } = signedUrlSecrets();
    expect(urls.length).toBe(8); // 4 finished manual tasks × (internet + intranet)
    const secrets = [...CONFIG_SECRETS, ...parts, 'LTAIleak', 'errsig'];

    // Positive control: the signed URLs reached the people who asked for them.
    const slackText = JSON.stringify(slack.messages.map((m) => m.body));
    const mails = await Promise.all(smtp.messages.map((m) => simpleParser(m.raw)));
    const mailText = mails.map((m) => `${m.text ?? ''}\n${typeof m.html === 'string' ? m.html : ''}`).join('\n');
    for (const task of [b1!, b2!]) {
      const signature = new URL(`https:${task.BackupSetDownloadInternetUrl}`).searchParams.get('Signature') as string;
      expect(slackText).toContain(encodeURIComponent(signature));
      expect(mailText).toContain(encodeURIComponent(signature));
    }
    for (const task of [a1!, a2!]) {
      const signature = new URL(`https:${task.BackupSetDownloadInternetUrl}`).searchParams.get('Signature') as string;
      expect(mailText).toContain(encodeURIComponent(signature));
    }

    // The failed jobs gave up their links when they failed, and say so.
    const failed = await notifyQueue.getFailed();
    expect(failed).toHaveLength(3);
    for (const job of failed) {
      expect(job.data.urlsRemoved).toBe(true);
      expect(job.data.notifications).toHaveLength(1);
      expect(job.failedReason).toContain('no_service');
    }

    // ---- The audit, after every delivery has completed or failed for good.
    const first = await auditSurfaces(secrets);
    expect(first.leaks).toEqual([]);
    expect(first.looked.redisKeys).toBeGreaterThan(10);
    expect(first.looked.notifyJobs).toBe(10);

    // ---- Retry one failed "ready" notification from the status page: the links come back from DBS.
    const retried = failed.find((job) => job.data.notifications[0]?.event === 'finished') as Job<NotifyJobData>;
    const retriedTask = sim.world.task(retried.data.notifications[0]!.task.taskId)!;
    const response = await fetch(`http://127.0.0.1:${httpPort}/api/notifications/${encodeURIComponent(String(retried.id))}/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HTTP_TOKEN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(200);
    const [, , redelivered] = await slack.waitFor(3, 60_000);
    await notifySettled({ completed: 8, failed: 2 });
    const signature = new URL(`https:${retriedTask.BackupSetDownloadInternetUrl}`).searchParams.get('Signature') as string;
    expect(JSON.stringify(redelivered?.body)).toContain(encodeURIComponent(signature));
    // Delivered: the payload is gone again, the id stays for dedupe.
    const done = await Job.fromId<NotifyJobData>(notifyQueue, String(retried.id));
    expect(done?.data.notifications).toEqual([]);
    expect(done?.data.delivered?.ids).toHaveLength(1);

    const second = await auditSurfaces(secrets);
    expect(second.leaks).toEqual([]);

    // ---- The processes' own output: every line, of every phase.
    expect(await run.stop()).toBe(0);
    const output = processes.map((p) => p.lines.join('\n')).join('\n');
    expect(output.split('\n').length).toBeGreaterThan(30);
    expect(findLeaks('dbswatch output', output, secrets)).toEqual([]);
    // And it did talk about what happened, in words an operator can act on.
    expect(output).toContain('notification failed permanently');
    expect(output).toContain('the webhook was revoked or deleted');
    expect(output).toMatch(/"level":"debug"/);
  });
});
