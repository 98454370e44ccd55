/**
 * The DingTalk custom robot channel. Checked against DingTalk's docs:
 * - "Custom robot access / security settings" (https://open.dingtalk.com/document/orgapp/customize-robot-security-settings):
 *   with 加签 the request carries `timestamp` (epoch ms, within 1 hour) and
 *   `sign` = urlencode(base64(HMAC-SHA256(key = secret, message = `${timestamp}\n${secret}`)))
 *   as query parameters next to `access_token`.
 * - "Send messages with a custom robot" (https://open.dingtalk.com/document/orgapp/custom-bot-send-message-type):
 *   JSON answer `{errcode, errmsg}`, 0 = sent; each robot may send 20
 *   messages a minute, beyond that it is throttled for 10 minutes.
 * - Error codes (same pages' FAQ): 130101 = sending too fast (throttled),
 *   310000 = security check failed (signature, keyword or IP allow-list),
 *   300001 = the access_token does not exist (robot removed), -1 = system busy.
 * Rate limit: 20/min per robot (rate-limits.ts). Rendering: dingtalk-render.ts.
 */
import { createHmac } from 'node:crypto';
import type { DingtalkChannelConfig } from '../config.js';
import type { Channel } from './channel.js';
import { type CodeRule, createHttpChannel, errcodeOf, type HttpPlatform } from './chat-http.js';
import { renderDingtalkWatchdog } from './chat-watchdog.js';
import { type DingtalkMessage, renderDingtalk } from './dingtalk-render.js';

/** `sign` for a timestamp (ms): base64 HMAC-SHA256 keyed by the secret over `timestamp\nsecret` (not yet urlencoded). */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** The webhook URL with `timestamp` and `sign` added (URLSearchParams urlencodes the signature). */
export function dingtalkSignedUrl(webhookUrl: string, secret: string | undefined, nowMs: number): string {
  if (!secret) return webhookUrl;
  const url = new URL(webhookUrl);
  url.searchParams.set('timestamp', String(nowMs));
  url.searchParams.set('sign', dingtalkSign(secret, nowMs));
  return url.href;
}

export const DINGTALK_CODES: Readonly<Record<number, CodeRule>> = {
  130101: { kind: 'rate-limited', reason: 'sending too fast, the robot is throttled' },
  310000: { kind: 'permanent', reason: "the robot's security check failed: signature, keyword or IP allow-list (check secret, keywords and allowed IPs)" },
  300001: { kind: 'permanent', reason: 'the access_token does not exist: the robot was removed or the URL is wrong' },
  [-1]: { kind: 'retryable', reason: 'DingTalk is busy, will retry' },
};

/** DingTalk throttles an over-eager robot for 10 minutes; look again after one. */
export const DINGTALK_RATE_LIMIT_WAIT_MS = 60_000;

export function dingtalkPlatform(config: DingtalkChannelConfig): HttpPlatform<DingtalkMessage> {
  return {
    kind: 'dingtalk',
    label: 'DingTalk',
    codeOf: errcodeOf,
    codes: DINGTALK_CODES,
    rateLimitWaitMs: DINGTALK_RATE_LIMIT_WAIT_MS,
    request: (message, now) => ({ url: dingtalkSignedUrl(config.webhookUrl, config.secret, now), body: JSON.stringify(message.body) }),
  };
}

export function createDingtalkChannel(config: DingtalkChannelConfig): Channel<DingtalkMessage> {
  return createHttpChannel(
    config,
    dingtalkPlatform(config),
    (ns, presentation) => renderDingtalk(ns, { messageType: config.messageType, presentation }),
    renderDingtalkWatchdog,
  );
}
