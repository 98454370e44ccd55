/**
 * The Slack channel: posts rendered Block Kit messages to an incoming
 * webhook with `@slack/webhook`. The library has no timeout by default,
 * never retries 4xx (429 included) and does not expose response headers on
 * its HTTP error, so we set the timeout, disable its retries (the queue
 * retries), and read `Retry-After` through a wrapping `fetch`.
 */
import { type FetchFunction, IncomingWebhook, IncomingWebhookHTTPError, IncomingWebhookRequestError } from '@slack/webhook';
import type { SlackChannelConfig } from '../config.js';
import { PERMANENT, RETRYABLE, rateLimited } from '../errors.js';
import { stripUrlQueries } from '../secrets.js';
import { oneLine, truncate } from '../text/escape.js';
import { type Channel, DeliveryError } from './channel.js';
import type { Notification, WatchdogNotice } from './event.js';
import { renderSlack, renderSlackWatchdog, type SlackMessage } from './slack-render.js';

/** Wait used when Slack answers 429 without a `Retry-After`. */
export const DEFAULT_SLACK_RETRY_AFTER_MS = 5_000;

/** What Slack's error bodies mean, for the operator. */
const REASONS: Record<string, string> = {
  invalid_payload: 'Slack rejected the message as malformed (a dbswatch bug: please report it)',
  invalid_blocks: 'Slack rejected the message blocks (a dbswatch bug: please report it)',
  invalid_blocks_format: 'Slack rejected the message blocks (a dbswatch bug: please report it)',
  no_text: 'Slack rejected a message without text (a dbswatch bug: please report it)',
  user_not_found: 'the webhook belongs to a user or app that no longer exists',
  action_prohibited: 'a workspace admin has restricted posting with this webhook',
  invalid_token: 'the webhook token is invalid',
  no_service: 'the webhook was revoked or deleted',
  no_service_id: 'the webhook URL is incomplete',
  no_team: 'the webhook URL names no workspace',
  team_not_found: 'the workspace of the webhook no longer exists',
  team_disabled: 'the workspace of the webhook is disabled',
  channel_not_found: 'the channel of the webhook no longer exists',
  channel_is_archived: 'the channel of the webhook is archived',
  posting_to_general_channel_denied: 'only admins may post to that channel',
  too_many_attachments: 'the message had too many attachments (a dbswatch bug: please report it)',
};

const STATUS_REASONS: Record<number, string> = {
  400: 'Slack rejected the request',
  401: 'Slack refused the credentials of the webhook',
  403: 'the webhook is not allowed to post',
  404: 'the webhook was revoked or deleted',
  410: 'the channel of the webhook is archived or gone',
};

/** A short, log-safe rendering of Slack's answer body (normally one word like `no_service`). */
function bodyWord(body: string | undefined): string {
  const clean = oneLine(body ?? '');
  if (/^[\w.-]{1,80}$/.test(clean)) return clean;
  return clean ? truncate(stripUrlQueries(clean), 80) : '';
}

/** Seconds (or an HTTP date) → milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Maps a Slack HTTP answer to a typed error (exported for unit tests). */
export function classifySlackHttp(channel: string, status: number, body: string | undefined, retryAfter: string | null | undefined): DeliveryError {
  const word = bodyWord(body);
  const answered = `Slack answered ${status}${word ? ` ${word}` : ''}`;
  const where = `(channel "${channel}")`;
  if (status === 429) {
    const delay = parseRetryAfter(retryAfter) ?? DEFAULT_SLACK_RETRY_AFTER_MS;
    return new DeliveryError(`${answered}: rate limited, retrying in ${Math.ceil(delay / 1000)}s ${where}`, 'slack_rate_limited', rateLimited(delay), channel);
  }
  if (status >= 500) {
    return new DeliveryError(`${answered}: Slack is having trouble, will retry ${where}`, 'slack_server_error', RETRYABLE, channel);
  }
  // 408 (timeout at Slack's edge) is worth another try; every other 4xx means the webhook or payload is wrong.
  if (status === 408) {
    return new DeliveryError(`${answered}: request timed out, will retry ${where}`, 'slack_timeout', RETRYABLE, channel);
  }
  const reason = REASONS[word] ?? STATUS_REASONS[status] ?? 'the webhook refused the message';
  return new DeliveryError(`${answered}: ${reason} ${where}`, `slack_http_${status}`, PERMANENT, channel);
}

/** Failures that happen before the request reaches Slack: a retry cannot duplicate. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/** What went wrong on the network, and whether Slack may have posted the message anyway. */
function networkFailure(error: Error): { reason: string; outcomeUnknown: boolean } {
  const cause = (error as { cause?: unknown }).cause;
  const original = error instanceof IncomingWebhookRequestError ? error.original : error;
  // The request went out and no answer came in time: Slack may well have posted it.
  if (original.name === 'TimeoutError' || original.name === 'AbortError') return { reason: 'no answer in time', outcomeUnknown: true };
  const deep = (original as { cause?: { code?: unknown } }).cause ?? (cause as { cause?: { code?: unknown } })?.cause;
  const code = (deep as { code?: unknown } | undefined)?.code ?? (original as { code?: unknown }).code;
  // Only a code (ECONNREFUSED, ENOTFOUND…): library messages may quote the URL.
  const known = typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? code : undefined;
  return { reason: known ? `network error ${known}` : 'network error', outcomeUnknown: !(known && NOT_SENT_CODES.has(known)) };
}

export function createSlackChannel(config: SlackChannelConfig): Channel<SlackMessage> {
  const presentation = { timezone: config.timezone, locale: config.locale };
  const options = { presentation, ...(config.mentionOnFailure ? { mentionOnFailure: config.mentionOnFailure } : {}) };
  return {
    kind: 'slack',
    name: config.name,
    render(notifications: readonly Notification[]): SlackMessage[] {
      return renderSlack(notifications, options);
    },
    renderWatchdog(notice: WatchdogNotice): SlackMessage[] {
      return [renderSlackWatchdog(notice, options)];
    },
    async send(message: SlackMessage): Promise<void> {
      // A webhook per send: the wrapping fetch records this request's Retry-After
      // without sharing state between concurrent sends.
      let retryAfter: string | null = null;
      const fetchFn: FetchFunction = async (url, init) => {
        const response = await fetch(url, init as RequestInit);
        retryAfter = response.headers.get('retry-after');
        return response;
      };
      const webhook = new IncomingWebhook(config.webhookUrl, {
        timeout: config.timeout,
        fetch: fetchFn,
        retryConfig: { retries: 0 },
      });
      try {
        await webhook.send({ text: message.text, blocks: message.blocks as never });
      } catch (error) {
        if (error instanceof IncomingWebhookHTTPError) {
          throw classifySlackHttp(config.name, error.statusCode, error.body, retryAfter);
        }
        const failure = error instanceof Error ? networkFailure(error) : { reason: 'unknown error', outcomeUnknown: true };
        if (failure.outcomeUnknown) {
          throw new DeliveryError(
            `Slack did not confirm the message (${failure.reason}, timeout ${config.timeout < 1_000 ? `${config.timeout} ms` : `${Math.round(config.timeout / 1_000)} s`}): it may have been posted; will retry, which may post it twice (channel "${config.name}")`,
            'slack_outcome_unknown',
            RETRYABLE,
            config.name,
            { outcomeUnknown: true },
          );
        }
        throw new DeliveryError(`Slack webhook unreachable: ${failure.reason}, will retry (channel "${config.name}")`, 'slack_network', RETRYABLE, config.name);
      }
    },
    async close() {
      // Nothing pooled: fetch keeps its own keep-alive sockets.
    },
  };
}
