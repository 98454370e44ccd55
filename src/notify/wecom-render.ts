/**
 * WeCom (企业微信) group robot messages (pure): `markdown` with inline
 * links. Format and limits: "群机器人配置说明",
 * https://developer.work.weixin.qq.com/document/path/91770 (`msgtype:
 * markdown`, `markdown.content` at most 4096 UTF-8 bytes; 20 messages per
 * minute per robot). Markdown and escaping: chat-markdown.ts.
 */

import { DEFAULT_PRESENTATION, type Presentation } from '../text/format.js';
import type { RenderedMessage } from './channel.js';
import { markdownDigest, markdownSingle } from './chat-markdown.js';
import type { Notification } from './event.js';

export const WECOM_LIMITS = { contentBytes: 4096 } as const;

/** A WeCom markdown body plus the notification ids it delivers. */
export interface WecomMessage extends RenderedMessage {
  readonly body: { readonly msgtype: 'markdown'; readonly markdown: { readonly content: string } };
}

export function renderWecom(ns: readonly Notification[], presentation: Presentation = DEFAULT_PRESENTATION): WecomMessage[] {
  if (ns.length === 0) return [];
  if (ns.length > 1) {
    return markdownDigest(ns, WECOM_LIMITS.contentBytes, presentation).map((d) => ({
      ids: d.ids,
      body: { msgtype: 'markdown', markdown: { content: d.text } },
    }));
  }
  const n = ns[0] as Notification;
  const single = markdownSingle(n, { inlineLinks: true, maxBytes: WECOM_LIMITS.contentBytes, presentation });
  return [{ ids: [n.id], body: { msgtype: 'markdown', markdown: { content: single.text } } }];
}
