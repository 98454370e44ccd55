/**
 * Each platform's documented send rate, as data: the notify worker paces
 * every message to a webhook through one Redis limiter per window
 * (src/rate-limit.ts), shared by all workers. Windows carry a margin: a
 * grant is followed by a claim round trip and, for the first request of a
 * channel, a connection (TLS) setup before the request arrives, so arrivals
 * can bunch up — measured at ~230 ms on loopback for a first send. Per-second
 * windows of the chat platforms get 25% (1.25 s), per-minute ones 10%; Slack
 * keeps its measured 10% (bench/BENCHMARKS.md).
 * Sources are cited in each channel's file.
 */
import { createHash } from 'node:crypto';
import type { ChannelConfig } from '../config.js';
import { assertNever } from '../errors.js';
import { redisKeys } from '../keys.js';

/** At most `limit` messages per `windowMs` to one webhook. */
export interface RateLimit {
  readonly limit: number;
  readonly windowMs: number;
}

const perSecond = (limit: number): RateLimit => ({ limit, windowMs: 1_250 });
const perMinute = (limit: number): RateLimit => ({ limit, windowMs: 66_000 });

export function channelRateLimits(channel: ChannelConfig): readonly RateLimit[] {
  switch (channel.type) {
    case 'slack':
      return [{ limit: 1, windowMs: 1_100 }];
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
  const keys = redisKeys(prefix);
  if (channel.type === 'slack') return keys.webhookWindow(channel.name);
  const url = channel.type === 'webhook' ? channel.url : channel.type === 'email' ? channel.name : channel.webhookUrl;
  const hash = createHash('sha256').update(url).digest('hex').slice(0, 16);
  return keys.endpointWindow(channel.type, hash, `${window.limit}per${window.windowMs}`);
}
