/**
 * The status page routes on the real HTTP server, real Redis and real
 * BullMQ queues: access rules (token, no token, cross-site), the Retry
 * action on a really failed job, `/api/status`, the page's headers, and
 * bull-board read-only vs writable.
 */
import { Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../src/config.js';
import type { HttpServer } from '../../src/http.js';
import type { NotifyJobData } from '../../src/jobs/payloads.js';
import { openQueues, type Queues } from '../../src/queues.js';
import { collectStatus } from '../../src/status/report.js';
import { close, connect, deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { startStatusServer } from '../helpers/status-server.js';
import { waitFor } from '../helpers/wait.js';

const prefix = uniquePrefix('web-routes');
const TOKEN = 'web-routes-token-0123456789';
let redis: Redis;
let queues: Queues;
const servers: HttpServer[] = [];

function testConfig(token?: string): Config {
  return parseConfig(
    `redis:\n  prefix: ${prefix}\nhttp:\n  port: 0\n  host: 127.0.0.1\n${token ? `  authToken: ${token}\n` : ''}plans:\n  - { id: dbsplanweb1, name: "orders-prod" }\nchannels:\n  slack-ops: { type: slack, webhookUrl: "http://127.0.0.1:9/services/T/B/X" }\ndefaults: { notify: [slack-ops] }\n`,
    { REDIS_URL: redisUrl() },
  );
}

async function start(config: Config): Promise<HttpServer> {
  const server = await startStatusServer({ config, redis, queues });
  servers.push(server);
  return server;
}

const bearer = { authorization: `Bearer ${TOKEN}` };
const jsonPost = (headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: '{}',
});

/** A notify job that really failed permanently, through a real worker. */
async function failedJob(id: string): Promise<Job<NotifyJobData>> {
  const data: NotifyJobData = { v: 1, channel: 'slack-ops', notifications: [] };
  await queues.notify.add('notify', data, { jobId: id, attempts: 3, removeOnFail: false });
  const worker = new Worker<NotifyJobData>(
    'notify',
    async () => {
      throw new UnrecoverableError('Slack answered 404 no_service');
    },
    { connection: redis.duplicate(), prefix },
  );
  worker.on('error', () => {});
  try {
    await waitFor(`job ${id} to fail`, async () => (await queues.notify.getJobState(id)) === 'failed', { timeoutMs: 10_000, intervalMs: 50 });
  } finally {
    await worker.close();
    await worker.disconnect();
  }
  const job = await Job.fromId<NotifyJobData>(queues.notify, id);
  if (!job) throw new Error('job vanished');
  return job;
}

beforeAll(async () => {
  redis = connect('web-routes', { worker: true });
  queues = openQueues(redis, prefix);
  await redis.ping();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await queues.close();
  await close(redis);
  await deletePrefix(prefix);
});

describe('with a token configured', () => {
  it('answers 401 without the token and 200 with it (Bearer or Basic)', async () => {
    const server = await start(testConfig(TOKEN));
    for (const path of ['/', '/api/status', '/queues/']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Basic');
    }
    expect((await fetch(`${server.url}/api/notifications/x/retry`, jsonPost())).status).toBe(401);
    expect((await fetch(`${server.url}/assets/page.js`)).status).toBe(401);
    expect((await fetch(`${server.url}/`, { headers: bearer })).status).toBe(200);
    expect((await fetch(`${server.url}/assets/page.js`, { headers: bearer })).status).toBe(200);
    const basic = `Basic ${Buffer.from(`anyone:${TOKEN}`).toString('base64')}`;
    expect((await fetch(`${server.url}/`, { headers: { authorization: basic } })).status).toBe(200);
  });

  it('retries a failed job: it moves back to waiting with its attempts reset', async () => {
    const server = await start(testConfig(TOKEN));
    const job = await failedJob('p.t.2-finish.slack-ops');
    expect(job.attemptsMade).toBe(1);
    const res = await fetch(`${server.url}/api/notifications/${encodeURIComponent(job.id!)}/retry`, jsonPost(bearer));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'retrying', id: job.id });
    expect(await queues.notify.getJobState(job.id!)).toBe('waiting');
    expect((await Job.fromId(queues.notify, job.id!))?.attemptsMade).toBe(0);

    // Now it is waiting, not failed: a second retry is a conflict.
    const again = await fetch(`${server.url}/api/notifications/${encodeURIComponent(job.id!)}/retry`, jsonPost(bearer));
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ status: 'conflict', state: 'waiting' });
    await queues.notify.remove(job.id!);
  });

  it('answers 404 for an unknown job and for a malformed action path', async () => {
    const server = await start(testConfig(TOKEN));
    expect((await fetch(`${server.url}/api/notifications/no-such-job/retry`, jsonPost(bearer))).status).toBe(404);
    expect((await fetch(`${server.url}/api/notifications/a/b/retry`, jsonPost(bearer))).status).toBe(404);
    expect((await fetch(`${server.url}/api/notifications/%E0%A4%A/retry`, jsonPost(bearer))).status).toBe(404);
  });

  it('refuses a retry that is not JSON or comes from another site, even with the token', async () => {
    const server = await start(testConfig(TOKEN));
    const job = await failedJob('p.t.3-finish.slack-ops');
    const url = `${server.url}/api/notifications/${encodeURIComponent(job.id!)}/retry`;
    // What a cross-site HTML form can send.
    const form = await fetch(url, { method: 'POST', headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    expect(form.status).toBe(415);
    expect((await fetch(url, jsonPost({ ...bearer, origin: 'https://evil.example' }))).status).toBe(403);
    expect((await fetch(url, jsonPost({ ...bearer, 'sec-fetch-site': 'cross-site' }))).status).toBe(403);
    expect(await queues.notify.getJobState(job.id!)).toBe('failed');
    // The same request from the page's own origin goes through.
    const own = await fetch(url, jsonPost({ ...bearer, origin: server.url, 'sec-fetch-site': 'same-origin' }));
    expect(own.status).toBe(200);
    await queues.notify.remove(job.id!);
  });

  it('lets bull-board act for an authenticated request', async () => {
    const server = await start(testConfig(TOKEN));
    const job = await failedJob('p.t.4-finish.slack-ops');
    const res = await fetch(`${server.url}/queues/api/queues/notify/${encodeURIComponent(job.id!)}/retry`, { method: 'PUT', headers: bearer });
    expect(res.status).toBe(204);
    expect(await queues.notify.getJobState(job.id!)).toBe('waiting');
    await queues.notify.remove(job.id!);
  });
});

describe('without a token (loopback)', () => {
  it('serves the page, but refuses actions with 403 and says how to enable them', async () => {
    const server = await start(testConfig());
    const job = await failedJob('p.t.5-finish.slack-ops');
    expect((await fetch(`${server.url}/`)).status).toBe(200);
    const res = await fetch(`${server.url}/api/notifications/${encodeURIComponent(job.id!)}/retry`, jsonPost());
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('set http.authToken');
    expect(await queues.notify.getJobState(job.id!)).toBe('failed');

    // bull-board is read-only: its retry is refused and the job stays failed.
    const board = await fetch(`${server.url}/queues/api/queues/notify/${encodeURIComponent(job.id!)}/retry`, { method: 'PUT' });
    expect(board.status).toBe(405);
    expect(await queues.notify.getJobState(job.id!)).toBe('failed');
    await queues.notify.remove(job.id!);
  });

  it('serves /api/status as the same report `dbswatch status --json` prints', async () => {
    const config = testConfig();
    const server = await start(config);
    const res = await fetch(`${server.url}/api/status`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { generatedAt: number };
    const direct = await collectStatus({ config, redis, queues, now: () => body.generatedAt });
    expect(body).toEqual(JSON.parse(JSON.stringify(direct)));
  });

  it('serves the page as HTML with a nonce-only script policy, and its stylesheet and script as files', async () => {
    const server = await start(testConfig());
    const res = await fetch(`${server.url}/?plan=dbsplanweb1&event=failed`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    const html = await res.text();
    expect(html).toContain(`<script src="assets/page.js" nonce="${nonce}" defer></script>`);
    expect(html).toContain('<link rel="stylesheet" href="assets/page.css">');
    // A fresh nonce per response.
    const again = (await fetch(`${server.url}/`)).headers.get('content-security-policy') ?? '';
    expect(again).not.toContain(nonce);

    const css = await fetch(`${server.url}/assets/page.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(css.headers.get('cache-control')).toBe('no-cache');
    expect(css.headers.get('etag')).toBeTruthy();
    expect(await css.text()).toContain('.badge.ok');
    const js = await fetch(`${server.url}/assets/page.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect(await js.text()).toContain("closest('button.retry')");
    expect((await fetch(`${server.url}/assets/nope.js`)).status).toBe(404);
    const traversal = await fetch(`${server.url}/assets/%2e%2e/routes.ts`);
    expect(traversal.status).toBe(404);
    expect(await traversal.text()).not.toContain('import');
    expect(html).toContain('<strong>orders-prod</strong>');
    expect(html).toContain('<option value="failed" selected>');
    expect(html).toContain('No failed notifications.');
  });

  it('answers 503 with a readable page when Redis is not connected', async () => {
    const down = connect('web-routes-down');
    down.disconnect();
    const config = testConfig();
    const server = await startStatusServer({ config, redis, queues, page: { redis: down } });
    servers.push(server);
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('Redis is not connected');
    expect((await fetch(`${server.url}/api/status`)).status).toBe(503);
    await close(down);
  });
});
