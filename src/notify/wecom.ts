/**
 * The WeCom (企业微信) group robot channel. Checked against "群机器人配置说明"
 * (https://developer.work.weixin.qq.com/document/path/91770) and the global
 * error codes (https://developer.work.weixin.qq.com/document/path/90313):
 * the key in the URL is the only credential (no signing); answer
 * `{errcode, errmsg}`, 0 = sent; at most 20 messages a minute per robot;
 * 45009 = API frequency limit exceeded, 93000 = invalid webhook URL / key
 * (robot removed), -1 = system busy.
 * Rate limit: 20/min per robot (rate-limits.ts). Rendering: wecom-render.ts.
 */
import type { WecomChannelConfig } from '../config.js';
import type { Channel } from './channel.js';
import { type CodeRule, createHttpChannel, errcodeOf, type HttpPlatform } from './chat-http.js';
import { renderWecomWatchdog } from './chat-watchdog.js';
import { renderWecom, type WecomMessage } from './wecom-render.js';

export const WECOM_CODES: Readonly<Record<number, CodeRule>> = {
  45009: { kind: 'rate-limited', reason: 'API frequency limit exceeded (20 messages a minute per robot)' },
  93000: { kind: 'permanent', reason: 'the webhook key is invalid: the robot was removed or the URL is wrong' },
  [-1]: { kind: 'retryable', reason: 'WeCom is busy, will retry' },
};

/** WeCom counts per minute: look again after one. */
export const WECOM_RATE_LIMIT_WAIT_MS = 60_000;

export function wecomPlatform(config: WecomChannelConfig): HttpPlatform<WecomMessage> {
  return {
    kind: 'wecom',
    label: 'WeCom',
    codeOf: errcodeOf,
    codes: WECOM_CODES,
    rateLimitWaitMs: WECOM_RATE_LIMIT_WAIT_MS,
    request: (message) => ({ url: config.webhookUrl, body: JSON.stringify(message.body) }),
  };
}

export function createWecomChannel(config: WecomChannelConfig): Channel<WecomMessage> {
  return createHttpChannel(config, wecomPlatform(config), renderWecom, renderWecomWatchdog);
}
