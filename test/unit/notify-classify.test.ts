import { describe, expect, it } from 'vitest';
import { classifySmtpError } from '../../src/notify/email.js';
import { classifySlackHttp, DEFAULT_SLACK_RETRY_AFTER_MS, parseRetryAfter } from '../../src/notify/slack.js';

describe('Slack answer classification', () => {
  it.each([
    [404, 'no_service', 'permanent', 'Slack answered 404 no_service: the webhook was revoked or deleted (channel "ops")'],
    [410, 'channel_is_archived', 'permanent', 'Slack answered 410 channel_is_archived: the channel of the webhook is archived (channel "ops")'],
    [404, 'channel_not_found', 'permanent', 'Slack answered 404 channel_not_found: the channel of the webhook no longer exists (channel "ops")'],
    [403, 'action_prohibited', 'permanent', 'Slack answered 403 action_prohibited: a workspace admin has restricted posting with this webhook (channel "ops")'],
    [
      400,
      'invalid_payload',
      'permanent',
      'Slack answered 400 invalid_payload: Slack rejected the message as malformed (a dbswatch bug: please report it) (channel "ops")',
    ],
    [500, 'internal_error', 'retryable', 'Slack answered 500 internal_error: Slack is having trouble, will retry (channel "ops")'],
    [503, '', 'retryable', 'Slack answered 503: Slack is having trouble, will retry (channel "ops")'],
  ] as const)('%d %s → %s', (status, body, kind, message) => {
    const error = classifySlackHttp('ops', status, body, null);
    expect(error.retry.kind).toBe(kind);
    expect(error.message).toBe(message);
    expect(error.channel).toBe('ops');
  });

  it('turns 429 Retry-After seconds into a delay', () => {
    expect(classifySlackHttp('ops', 429, 'rate_limited', '2').retry).toEqual({ kind: 'rate-limited', delayMs: 2_000 });
    expect(classifySlackHttp('ops', 429, '', null).retry).toEqual({ kind: 'rate-limited', delayMs: DEFAULT_SLACK_RETRY_AFTER_MS });
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('1.5')).toBe(1_500);
    expect(parseRetryAfter('Wed, 01 May 2024 00:00:10 GMT', Date.UTC(2024, 4, 1))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('keeps a long or URL-bearing body out of the message', () => {
    const error = classifySlackHttp('ops', 404, `<html>see https://hooks.slack.com/services/T/B/SECRET?x=1 ${'x'.repeat(500)}</html>`, null);
    expect(error.message).not.toContain('SECRET?x=1');
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('SMTP error classification', () => {
  it.each([
    [{ responseCode: 451, response: '451 4.7.1 Greylisted', code: 'EMESSAGE' }, 'retryable'],
    [{ responseCode: 421, response: '421 Service not available', code: 'EPROTOCOL' }, 'retryable'],
    [{ responseCode: 550, response: '550 5.1.1 No such user', code: 'EENVELOPE' }, 'permanent'],
    [{ responseCode: 535, response: '535 Authentication failed', code: 'EAUTH' }, 'permanent'],
    [{ code: 'ECONNECTION', message: 'connect ECONNREFUSED' }, 'retryable'],
    [{ code: 'ETIMEDOUT', message: 'Connection timeout' }, 'retryable'],
    [{ code: 'ESOCKET', message: 'socket hang up' }, 'retryable'],
  ] as const)('%o → %s', (error, kind) => {
    expect(classifySmtpError('mail', error).retry.kind).toBe(kind);
  });

  // Issue 15: a timeout after the message went out is "outcome unknown" (a retry may duplicate); failures
  // before it (refused, connect/greeting timeouts, an SMTP error answer) are not.
  it.each([
    [{ code: 'ETIMEDOUT', timeoutType: 'SOCKET_TIMEOUT', message: 'Timeout' }, 'smtp_outcome_unknown', true],
    [{ code: 'ECONNRESET', message: 'read ECONNRESET' }, 'smtp_outcome_unknown', true],
    [{ code: 'ETIMEDOUT', timeoutType: 'CONNECT_TIMEOUT', message: 'Connection timeout' }, 'smtp_network', false],
    [{ code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT', message: 'Greeting never received' }, 'smtp_network', false],
    [{ code: 'ECONNECTION', message: 'connect ECONNREFUSED' }, 'smtp_network', false],
    [{ responseCode: 451, response: '451 4.7.1 Greylisted', code: 'EMESSAGE' }, 'smtp_temporary', false],
  ] as const)('%o → %s, outcome unknown: %s', (error, code, unknown) => {
    const classified = classifySmtpError('mail', error);
    expect(classified).toMatchObject({ code, outcomeUnknown: unknown, retry: { kind: 'retryable' } });
    if (unknown) expect(classified.message).toContain('may have been accepted');
  });

  it('summarises the server reply without the password', () => {
    const error = classifySmtpError('mail', { responseCode: 554, response: '554 rejected AUTH hunter22secret\r\nmore', code: 'EMESSAGE' }, ['hunter22secret']);
    expect(error.message).toBe('SMTP server answered 554 rejected AUTH *** more: message refused (channel "mail")');
  });
});
