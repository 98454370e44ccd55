/**
 * The status page in a real headless Chromium, against a real `dbswatch
 * run` child process (from source), the DBS simulator, and Slack/SMTP
 * sinks: plans, transitions, a hostile task name rendered as text, a Slack
 * delivery that fails permanently and is retried from the page, the token
 * rules, and the refusal to start on a public host without a token.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/local-redis.js';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { type SlackSink, startSlackSink } from '../../dev/sinks/slack-sink.js';
import { type SmtpSink, startSmtpSink } from '../../dev/sinks/smtp-sink.js';
import type { StatusReport } from '../../src/status/report.js';
import { launchChromium } from '../helpers/browser.js';
import { killAll, type ManagedProcess, startDbswatch, writeConfig } from '../helpers/processes.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'e2e-status-page-token-0123456789';
const HOSTILE = '<img src=x onerror=alert(1)></script><script>window.__pwned=1</script>';

const PLANS = {
  orders: { id: 'dbspageorders', name: 'orders-prod' },
  billing: { id: 'dbspagebilling', name: 'billing-prod' },
  analytics: { id: 'dbspageanalytics', name: 'analytics' },
} as const;

const waitUntil = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  waitFor(what, check, { timeoutMs, intervalMs: 250 });

describe('the status page in a real browser', () => {
  const prefix = uniquePrefix('status-page');
  let sim: RunningSimulator;
  let slack: SlackSink;
  let smtp: SmtpSink;
  let dbswatch: ManagedProcess;
  let browser: Browser;
  let base: string;
  let configPath: string;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const tasks: Record<'finished' | 'failed' | 'hostile', string> = { finished: '', failed: '', hostile: '' };

  const status = async (): Promise<StatusReport> => {
    const res = await fetch(`${base}/api/status`, { headers: auth });
    if (res.status !== 200) throw new Error(`GET /api/status: ${res.status}`);
    return (await res.json()) as StatusReport;
  };

  beforeAll(async () => {
    const launched = await launchChromium();
    browser = launched.browser;
    process.stderr.write(`status-page test browser: ${launched.source}\n`);
    sim = await startSimulator({ scenario: 'empty' });
    for (const plan of Object.values(PLANS)) sim.world.addPlan({ planId: plan.id, name: plan.name, dbType: 'MySQL' });
    tasks.finished = sim.world.addTask(PLANS.orders.id, { name: 'orders-nightly-full', status: 'running', dataSize: 5_368_709_120 }).BackupSetDownloadTaskId;
    tasks.failed = sim.world.addTask(PLANS.billing.id, { name: 'billing-weekly', status: 'running' }).BackupSetDownloadTaskId;
    tasks.hostile = sim.world.addTask(PLANS.analytics.id, { name: HOSTILE, status: 'running' }).BackupSetDownloadTaskId;
    slack = await startSlackSink();
    smtp = await startSmtpSink();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    configPath = writeConfig(`
redis: { url: "${redisUrl()}", prefix: "${prefix}" }
dbs: { endpoint: "${sim.endpoint}", protocol: http, requestsPerSecond: 100, timeout: 5s }
defaults: { interval: 5s, notify: [slack-ops, mail-dba] }
plans:
${Object.values(PLANS)
  .map((p) => `  - { id: ${p.id}, name: "${p.name}" }`)
  .join('\n')}
channels:
  slack-ops: { type: slack, webhookUrl: "${slack.url()}" }
  mail-dba: { type: email, smtpUrl: "${smtp.url}", from: "dbswatch <d@example.com>", to: [dba@example.com], events: [failed] }
notify: { backoff: 200, attempts: 3 }
http: { host: 127.0.0.1, port: ${port}, authToken: "${TOKEN}" }
`);
    dbswatch = startDbswatch(['run', '--config', configPath]);
    await dbswatch.waitForLine(/HTTP server listening/);
    // First complete poll of each plan = the silent baseline; only later changes notify.
    await waitUntil('the baseline poll of every plan', async () => {
      const report = await status();
      return report.plans.every((p) => p.lastSuccessAt !== undefined) ? true : undefined;
    });
  });

  afterAll(async () => {
    await browser?.close();
    await killAll();
    await Promise.all([sim?.close(), slack?.close(), smtp?.close()]);
    await deletePrefix(prefix);
  });

  /** Opens the page; `problems` collects dialogs (an injected alert) and script errors. */
  async function openPage(): Promise<{ page: Page; problems: string[] }> {
    // The token as Basic credentials, as a person would type it into the browser's prompt.
    const context = await browser.newContext({ httpCredentials: { username: 'ops', password: TOKEN } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    const response = await page.goto(`${base}/`);
    expect(response?.status()).toBe(200);
    return { page, problems };
  }

  it('refuses requests without the token, except health and metrics', async () => {
    for (const path of ['/', '/api/status', '/queues/']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(401);
      expect((await fetch(`${base}${path}`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, path).toBe(401);
    }
    const retry = await fetch(`${base}/api/notifications/x/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(retry.status).toBe(401);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });

  it('serves /api/status with the same shape as `dbswatch status --json`', async () => {
    const cli = startDbswatch(['status', '--json', '--config', configPath]);
    expect(await cli.exited).toBe(0);
    const fromCli = JSON.parse(cli.lines.find((l) => l.startsWith('{')) ?? '{}') as StatusReport;
    const fromApi = await status();
    expect(Object.keys(fromApi).sort()).toEqual(Object.keys(fromCli).sort());
    expect(fromApi.plans.map((p) => [p.id, p.name, p.intervalMs])).toEqual(fromCli.plans.map((p) => [p.id, p.name, p.intervalMs]));
    expect(fromApi.redis).toEqual(fromCli.redis);
  });

  it('shows plans, transitions (the hostile name as text), a failed delivery, and retries it', async () => {
    // 1. A finished and a failed task; both are delivered normally.
    sim.world.setStatus(tasks.finished, 'finish');
    sim.world.setStatus(tasks.failed, 'stop', { errMessage: 'DBS.BackupSetDownload.Failed: OSS object not found' });
    await slack.waitFor(2, 60_000);
    await smtp.waitFor(1, 60_000);

    // 2. Slack starts answering 404 (permanent): the hostile task's delivery fails for good.
    slack.respondWith({ status: 404 });
    sim.world.setStatus(tasks.hostile, 'finish');
    const failed = await waitUntil('the failed notification', async () => (await status()).failedNotifications[0]);
    expect(failed.channel).toBe('slack-ops');
    expect(failed.tasks).toEqual([HOSTILE]);
    expect(failed.failedReason).toMatch(/404|no_service/);
    // Permanent means one attempt: the sink saw exactly one 404 and nothing was retried.
    expect(slack.requests.filter((r) => r.status === 404)).toHaveLength(1);

    mkdirSync('test-artifacts', { recursive: true });
    // bull-board shows the failed job, but never its download URLs.
    const board = await fetch(`${base}/queues/api/queues?activeQueue=notify&status=failed&page=1&jobsPerPage=50`, { headers: auth });
    expect(board.status).toBe(200);
    const boardText = await board.text();
    expect(boardText).toContain(failed.id);
    expect(boardText).not.toMatch(/Signature=|OSSAccessKeyId|Expires=/);

    const { page, problems } = await openPage();
    try {
      // Plans, with names, ids and health.
      const planRows = page.locator('#plans tbody tr');
      await expect.poll(() => planRows.count()).toBe(3);
      for (const plan of Object.values(PLANS)) {
        const row = page.locator(`#plans tr[data-plan="${plan.id}"]`);
        expect(await row.locator('td').first().textContent()).toContain(plan.name);
        expect(await row.locator('.badge').textContent()).toBe('ok');
      }
      expect(await page.locator('#plans tr[data-plan="dbspageorders"] td').nth(1).textContent()).toBe('5s');

      // Transitions: the finished one (links delivered to Slack) and the failed one.
      const finishedRow = page.locator('#transitions tr.transition', { hasText: 'orders-nightly-full' });
      expect(await finishedRow.getAttribute('data-event')).toBe('finished');
      expect(await finishedRow.textContent()).toContain('5 GiB');
      expect(await finishedRow.locator('td').last().textContent()).toContain('✓ delivered · slack-ops');
      const failedRow = page.locator('#transitions tr.transition', { hasText: 'billing-weekly' });
      expect(await failedRow.getAttribute('data-event')).toBe('failed');
      expect(await failedRow.textContent()).toContain('running → stop');

      // The hostile name is text: its characters are there, and no element was injected.
      const hostileRow = page.locator('#transitions tr.transition[data-plan="dbspageanalytics"]');
      expect(await hostileRow.locator('.task-name').textContent()).toBe(HOSTILE);
      expect(await page.locator('#live img').count()).toBe(0);
      // Ours only: the page's script and the silence controls' script, none inside the data.
      expect(await page.locator('script').count()).toBe(2);
      expect(await page.locator('#live script').count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await hostileRow.locator('td').last().textContent()).toContain('✗ not delivered · slack-ops');

      // No signed URL anywhere on the page.
      const html = await page.content();
      expect(html).not.toMatch(/Signature=|OSSAccessKeyId|Expires=/);

      // The failed notification, with its reason and a Retry button.
      const failedNotification = page.locator('#failed tr.failed-notification');
      expect(await failedNotification.count()).toBe(1);
      expect(await failedNotification.locator('.task-name').textContent()).toBe(HOSTILE);
      expect(await failedNotification.locator('.reason').textContent()).toMatch(/404|no_service/);
      expect(await page.locator('#channels tr[data-channel="slack-ops"] td').nth(3).textContent()).toBe('1');

      // Filter by event (query parameters, submitted by the page's script on change).
      await page.selectOption('#filter select[name=event]', 'failed');
      await page.waitForURL(/event=failed/);
      expect(await page.locator('#transitions tr.transition').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')))).toEqual(['failed']);
      await page.selectOption('#filter select[name=event]', '');
      await page.waitForURL((url) => !url.search.includes('event=failed'));

      // The screenshot for the docs: a failed delivery with its Retry button shows the most.
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.screenshot({ path: 'test-artifacts/status-page.png', fullPage: true });
      if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync('test-artifacts/status-page.png', 'docs/status-page.png');

      // 3. Slack recovers (the scripted 404 is used up); Retry from the page.
      const before = slack.messages.length;
      await page.locator('#failed button.retry').click();
      await page.locator('#no-failed').waitFor({ timeout: 30_000 });
      const received = await slack.waitFor(before + 1, 30_000);
      // The page updated on its own: no failed notification, the hostile task's links delivered.
      await page.locator('#transitions tr.transition[data-plan="dbspageanalytics"] .delivered').waitFor({ timeout: 15_000 });
      expect(await page.locator('#action-result').textContent()).toContain('queued for delivery again');
      const slackCounts = page.locator('#channels tr[data-channel="slack-ops"] td');
      // Delivered 3, nothing retrying, nothing failed — once the page has refreshed after the job completed.
      await expect.poll(async () => (await slackCounts.allTextContents()).slice(1), { timeout: 15_000 }).toEqual(['3', '0', '0']);
      // Exactly once: the job completed (the guard marked it), and the sink got it one time.
      const report = await status();
      expect(report.failedNotifications).toEqual([]);
      expect(report.queues.notify.waiting + report.queues.notify.delayed + report.queues.notify.active).toBe(0);
      const mentions = received.filter((m) => JSON.stringify(m.body).includes('onerror=alert(1)'));
      expect(mentions).toHaveLength(1);
      expect(slack.messages.length).toBe(before + 1);

      expect(problems).toEqual([]);
      await page.screenshot({ path: 'test-artifacts/status-page-retried.png', fullPage: true });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: 'test-artifacts/status-page-dark.png', fullPage: true });
    } finally {
      await page.context().close();
    }
  });

  it('serves bull-board at /queues', async () => {
    const res = await fetch(`${base}/queues/`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    // A cross-site action is refused even with the token (a browser would attach remembered credentials).
    const crossSite = await fetch(`${base}/queues/api/queues/notify/retry/failed`, {
      method: 'PUT',
      headers: { ...auth, origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
  });

  it('adds and removes a silence and acknowledges a failed download from the page', async () => {
    const { page, problems } = await openPage();
    try {
      await page.fill('#silence-form input[name=plans]', 'dbspage*');
      await page.fill('#silence-form input[name=events]', 'failed');
      await page.fill('#silence-form input[name=for]', '1h');
      await page.fill('#silence-form input[name=reason]', 'silenced from the page');
      await page.locator('#silence-form button[type=submit]').click();
      await expect.poll(async () => page.locator('#action-result').textContent(), { timeout: 15_000 }).toBe('created');
      const row = page.locator('#silences tr', { hasText: 'silenced from the page' });
      await row.waitFor({ timeout: 15_000 });
      const listed = (await (await fetch(`${base}/api/silences`, { headers: auth })).json()) as {
        silences: { id: string; plans?: string[]; events?: string[] }[];
      };
      expect(listed.silences).toMatchObject([{ plans: ['dbspage*'], events: ['failed'] }]);
      await row.locator('button.unsilence').click();
      await row.waitFor({ state: 'detached', timeout: 15_000 });
      expect(((await (await fetch(`${base}/api/silences`, { headers: auth })).json()) as { silences: unknown[] }).silences).toEqual([]);

      const ack = page.locator('#acks button.ack').first();
      const taskId = (await ack.getAttribute('data-task')) as string;
      await ack.click();
      await expect.poll(async () => page.locator('#action-result').textContent(), { timeout: 15_000 }).toBe('acknowledged');
      const again = await fetch(`${base}/api/acks/${encodeURIComponent(taskId)}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(((await again.json()) as { status: string }).status).toBe('already acknowledged');
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});

describe('bull-board in a real browser', () => {
  it('renders its UI under its Content-Security-Policy, with nothing loaded from outside', async () => {
    // Its own run: the describe above owns its process; this needs only a served board.
    const prefix = uniquePrefix('status-page-board');
    const port = await freePort();
    const configPath = writeConfig(`
redis: { url: "${redisUrl()}", prefix: "${prefix}" }
http: { host: 127.0.0.1, port: ${port}, authToken: "${TOKEN}" }
`);
    const child = startDbswatch(['run', '--config', configPath]);
    const { browser } = await launchChromium();
    try {
      await child.waitForLine(/HTTP server listening/);
      const context = await browser.newContext({ httpCredentials: { username: 'ops', password: TOKEN } });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      const response = await page.goto(`http://127.0.0.1:${port}/queues/`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
      expect(response?.headers()['x-powered-by']).toBeUndefined();
      // The app ran (its script is allowed): it lists both queues.
      await page.getByText('notify', { exact: true }).first().waitFor({ timeout: 30_000 });
      await page.getByText('poll', { exact: true }).first().waitFor({ timeout: 30_000 });
      // The only refusal is its web-font stylesheet from another host: the policy keeps the page offline.
      expect(problems.filter((p) => !/fonts\.googleapis\.com/.test(p))).toEqual([]);
      await context.close();
    } finally {
      await browser.close();
      await killAll();
      await deletePrefix(prefix);
    }
  });
});

describe('dbswatch run on a public host without a token', () => {
  it('exits non-zero and says that http.authToken is required', async () => {
    const configPath = writeConfig(`
redis: { url: "${redisUrl()}", prefix: "${uniquePrefix('public-no-token')}" }
http: { host: 0.0.0.0, port: 9 }
`);
    const child = startDbswatch(['run', '--config', configPath]);
    const code = await child.exited;
    expect(code).not.toBe(0);
    const output = child.lines.join('\n');
    expect(output).toContain('http.authToken');
    expect(output).toMatch(/not loopback/);
  });
});
