/**
 * The generic signed webhook: the export path into an operator's own
 * systems. Signed per Standard Webhooks 1.0
 * (https://www.standardwebhooks.com/, spec:
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
 * - `webhook-id`: the notification id (a digest: `digest.` + hash of its ids)
 *   — the same on every retry, so a receiver that dedupes on it sees each
 *   event exactly once;
 * - `webhook-timestamp`: epoch seconds of this attempt;
 * - `webhook-signature`: `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)),
 *   the key being the base64-decoded part of the `whsec_…` secret.
 * Answers: 2xx = delivered; 429 (Retry-After) = rate limited; 408/425/5xx
 * and network errors = retry; 410 and other 4xx = permanent (the receiver
 * said no). Body format: webhook-render.ts, docs/webhook.md.
 */
import { createHmac } from 'node:crypto';
import type { WebhookChannelConfig } from '../config.js';
import type { Channel } from './channel.js';
import { createHttpChannel, type HttpPlatform } from './chat-http.js';
import { renderWebhookWatchdog } from './chat-watchdog.js';
import { renderWebhook, type WebhookMessage } from './webhook-render.js';

/** The `webhook-signature` value for one request. */
export function standardWebhookSignature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`, 'utf8').digest('base64')}`;
}

export const WEBHOOK_STATUSES: Readonly<Record<number, string>> = {
  400: 'the receiver rejected the event',
  401: 'the receiver refused the signature or credentials',
  403: 'the receiver refused the event',
  404: 'no receiver at this URL',
  410: 'the receiver has gone and asks not to be called again',
  413: 'the event was too large for the receiver',
};

export const WEBHOOK_RATE_LIMIT_WAIT_MS = 5_000;

export function webhookPlatform(config: WebhookChannelConfig): HttpPlatform<WebhookMessage> {
  return {
    kind: 'webhook',
    label: 'Webhook receiver',
    codes: {},
    statuses: WEBHOOK_STATUSES,
    rateLimitWaitMs: WEBHOOK_RATE_LIMIT_WAIT_MS,
    request: (message, now) => {
      const timestamp = Math.floor(now / 1000);
      return {
        url: config.url,
        headers: {
          ...config.headers,
          'webhook-id': message.webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': standardWebhookSignature(config.secret, message.webhookId, timestamp, message.body),
          'user-agent': 'dbswatch',
        },
        body: message.body,
      };
    },
  };
}

export function createWebhookChannel(config: WebhookChannelConfig): Channel<WebhookMessage> {
  return createHttpChannel(config, webhookPlatform(config), renderWebhook, renderWebhookWatchdog);
}
