/** `test-notify` against the local sinks: real HTTP, real SMTP, no queue. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SlackSink, startSlackSink } from '../../dev/sinks/slack-sink.js';
import { type SmtpSink, startSmtpSink } from '../../dev/sinks/smtp-sink.js';
import { testNotify } from '../../src/commands/test-notify.js';
import { type Config, parseConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';

let slack: SlackSink;
let smtp: SmtpSink;
let config: Config;

beforeAll(async () => {
  slack = await startSlackSink();
  smtp = await startSmtpSink();
  config = parseConfig(
    `
channels:
  ops-slack: { type: slack, webhookUrl: "${slack.url()}", mentionOnFailure: "<!here>" }
  ops-mail:
    type: email
    smtpUrl: "smtp://dbswatch:s3cret-pass@127.0.0.1:${smtp.port}"
    from: dbswatch@example.com
    to: [ops@example.com]
`,
    {},
  );
});

afterAll(async () => {
  await slack.close();
  await smtp.close();
});

describe('testNotify', () => {
  it('sends a sample to Slack', async () => {
    await expect(testNotify(config, 'ops-slack', 'failed', silentLogger)).resolves.toEqual({ ok: true });
    const [message] = await slack.waitFor(1, 5_000);
    expect(JSON.stringify(message?.body)).toContain('<!here>');
    expect(JSON.stringify(message?.body)).toContain('Download failed');
  });

  it('returns the exact reason when the webhook is gone', async () => {
    slack.respondWith({ status: 404, body: 'no_service' });
    const result = await testNotify(config, 'ops-slack', 'finished', silentLogger);
    expect(result).toEqual({
      ok: false,
      reason: 'Slack answered 404 no_service: the webhook was revoked or deleted (channel "ops-slack")',
    });
  });

  it('sends a sample email (with auth) and reports an SMTP refusal without the password', async () => {
    await expect(testNotify(config, 'ops-mail', 'finished', silentLogger)).resolves.toEqual({ ok: true });
    const [mail] = await smtp.waitFor(1, 5_000);
    expect(mail?.raw).toContain('Subject: [dbswatch] Download ready');

    smtp.respondWith({ code: 554, message: 'Transaction failed' });
    const result = await testNotify(config, 'ops-mail', 'failed', silentLogger);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toMatch(/^SMTP server answered 554 Transaction failed/);
      expect(result.reason).not.toContain('s3cret-pass');
    }
  });

  it('names the known channels when the channel does not exist', async () => {
    const result = await testNotify(config, 'nope', 'finished', silentLogger);
    expect(result).toEqual({ ok: false, reason: 'no channel "nope" in <config> (channels: ops-slack, ops-mail)' });
  });
});

describe('testNotify on an unreachable webhook', () => {
  it('reports a network error without the URL', async () => {
    const gone = await startSlackSink();
    const url = gone.url('/services/T1/B1/SECRETTOKEN');
    await gone.close();
    const cfg = parseConfig(`channels:\n  dead: { type: slack, webhookUrl: "${url}", timeout: 2s }\n`, {});
    const result = await testNotify(cfg, 'dead', 'finished', silentLogger);
    expect(result).toEqual({
      ok: false,
      reason: 'Slack webhook unreachable: network error ECONNREFUSED, will retry (channel "dead")',
    });
  });

  it('gives up on a webhook that never answers after the configured timeout', async () => {
    // Accepts the request and never responds: without our timeout the library would wait forever.
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const port = (hanging.address() as AddressInfo).port;
    try {
      const cfg = parseConfig(`channels:\n  slow: { type: slack, webhookUrl: "http://127.0.0.1:${port}/services/T/B/X", timeout: 300 }\n`, {});
      const result = await testNotify(cfg, 'slow', 'finished', silentLogger);
      // The request went out and no answer came: Slack may have posted it (issue 15: "outcome unknown").
      expect(result).toEqual({
        ok: false,
        reason:
          'Slack did not confirm the message (no answer in time, timeout 300 ms): it may have been posted; will retry, which may post it twice (channel "slow")',
      });
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});
