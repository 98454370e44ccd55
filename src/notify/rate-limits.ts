/**
 * Each platform's documented send rate, as data: the notify worker paces
 * every message to a webhook through one Redis limiter per window
 * (src/rate-limit.ts), shared by all workers. Windows carry a 10% margin:
 * a grant is followed by a claim round trip of varying length before the
 * request leaves, so the platform must never count more than its limit.
 * Sources are cited in each channel's file.
 */
import { createHash } from 'node:crypto';
import type { ChannelConfig } from '../config.js';
import { assertNever } from '../errors.js';

/** At most `limit` messages per `windowMs` to one webhook. */
export interface RateLimit {
  readonly limit: number;
  readonly windowMs: number;
}

const perSecond = (limit: number): RateLimit => ({ limit, windowMs: 1_100 });
const perMinute = (limit: number): RateLimit => ({ limit, windowMs: 66_000 });

export function channelRateLimits(channel: ChannelConfig): readonly RateLimit[] {
  switch (channel.type) {
    case 'slack':
      return [perSecond(1)];
    case 'email':
      return [];
    case 'webhook':
      return [perSecond(channel.ratePerSecond)];
    case 'dingtalk':
      return [perMinute(20)];
    case 'feishu':
      return [perSecond(5), perMinute(100)];
    case 'wecom':
      return [perMinute(20)];
    case 'teams':
      return [perSecond(4)];
    default:
      return assertNever(channel, 'channel type');
  }
}

/**
 * The limiter key of a channel's window. Slack keeps its historical key (by channel name); the others
 * are keyed by a hash of the webhook URL, so two channels posting to one robot share its budget.
 */
export function rateLimitKey(prefix: string, channel: ChannelConfig, window: RateLimit): string {
  if (channel.type === 'slack') return `${prefix}:ratelimit:slack:${channel.name}`;
  const url = channel.type === 'webhook' ? channel.url : channel.type === 'email' ? channel.name : channel.webhookUrl;
  const hash = createHash('sha256').update(url).digest('hex').slice(0, 16);
  return `${prefix}:ratelimit:${channel.type}:${hash}:${window.limit}per${window.windowMs}`;
}
