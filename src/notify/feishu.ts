/**
 * The Feishu / Lark custom bot channel (open.feishu.cn and
 * open.larksuite.com: same API, either host in `webhookUrl`). Checked
 * against "Custom bot usage guide"
 * (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot,
 * https://open.larksuite.com/document/client-docs/bot-v3/add-custom-bot):
 * - Signature verification: `timestamp` (epoch **seconds**, within 1 hour)
 *   and `sign` = base64(HMAC-SHA256(key = `${timestamp}\n${secret}`, message = empty))
 *   go in the JSON body next to `msg_type` and `card` (note: the string is
 *   the *key*, unlike DingTalk).
 * - Answer `{code, msg}`, 0 = sent (older answers: `StatusCode`); limits 100
 *   requests a minute and 5 a second per bot, body at most 20 KB.
 * - Codes: 9499 and 11232 = frequency limited; 19021 = signature mismatch or
 *   timestamp out of range; 19022 = IP not allowed; 19024 = keyword check
 *   failed; 19001 = invalid webhook token (bot removed / wrong URL).
 * Rate limit: 5/s and 100/min per bot (rate-limits.ts). Rendering: feishu-render.ts.
 */
import { createHmac } from 'node:crypto';
import type { FeishuChannelConfig } from '../config.js';
import type { Channel } from './channel.js';
import { type CodeRule, createHttpChannel, type HttpPlatform } from './chat-http.js';
import { renderFeishuWatchdog } from './chat-watchdog.js';
import { type FeishuMessage, renderFeishu } from './feishu-render.js';

/** `sign` for a timestamp (seconds): base64 HMAC-SHA256 keyed by `timestamp\nsecret`, over an empty message. */
export function feishuSign(secret: string, timestampSeconds: number): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update(Buffer.alloc(0)).digest('base64');
}

export const FEISHU_CODES: Readonly<Record<number, CodeRule>> = {
  9499: { kind: 'rate-limited', reason: 'too many requests' },
  11232: { kind: 'rate-limited', reason: 'frequency limited' },
  19021: { kind: 'permanent', reason: 'signature check failed: wrong secret, or this host clock is off by more than an hour' },
  19022: { kind: 'permanent', reason: "this host's IP is not on the bot's allow-list" },
  19024: { kind: 'permanent', reason: 'the message lacks the bot\'s keyword (add "dbswatch" as the keyword)' },
  19001: { kind: 'permanent', reason: 'the webhook token is invalid: the bot was removed or the URL is wrong' },
};

/** Feishu's limits reset within a minute; 10 s is a polite first look. */
export const FEISHU_RATE_LIMIT_WAIT_MS = 10_000;

const feishuCodeOf = (body: unknown): number | undefined => {
  const b = body as { code?: unknown; StatusCode?: unknown } | null;
  const code = b?.code ?? b?.StatusCode;
  return typeof code === 'number' ? code : undefined;
};

export function feishuPlatform(config: FeishuChannelConfig): HttpPlatform<FeishuMessage> {
  return {
    kind: 'feishu',
    label: 'Feishu',
    codeOf: feishuCodeOf,
    codes: FEISHU_CODES,
    statuses: { 400: 'Feishu rejected the request', 404: 'the webhook does not exist' },
    rateLimitWaitMs: FEISHU_RATE_LIMIT_WAIT_MS,
    request: (message, now) => {
      const timestamp = Math.floor(now / 1000);
      const signing = config.secret ? { timestamp: String(timestamp), sign: feishuSign(config.secret, timestamp) } : {};
      return { url: config.webhookUrl, body: JSON.stringify({ ...signing, ...message.body }) };
    },
  };
}

export function createFeishuChannel(config: FeishuChannelConfig): Channel<FeishuMessage> {
  return createHttpChannel(config, feishuPlatform(config), renderFeishu, renderFeishuWatchdog);
}
