/**
 * DingTalk custom robot messages (pure): `markdown`, or `actionCard` with
 * one button per download link. Formats: "Message types and data formats"
 * of the custom robot, https://open.dingtalk.com/document/orgapp/custom-bot-send-message-type
 * (markdown: `title` + `text`; actionCard: `title`, `text`, `btnOrientation`,
 * `btns[{title, actionURL}]`). Markdown and escaping: chat-markdown.ts.
 */

import type { Presentation } from '../text/format.js';
import type { RenderedMessage } from './channel.js';
import { markdownDigest, markdownSingle } from './chat-markdown.js';
import type { Notification } from './event.js';

/**
 * Our budget for the markdown text. DingTalk documents no exact size for
 * custom robot markdown; 15,000 UTF-8 bytes keeps well inside the request
 * body limits reported for the robot API (about 20 KB).
 */
export const DINGTALK_LIMITS = { textBytes: 15_000, buttons: 5 } as const;

/** The JSON body of a DingTalk robot message (markdown or actionCard). */
export type DingtalkBody =
  | { readonly msgtype: 'markdown'; readonly markdown: { readonly title: string; readonly text: string } }
  | {
      readonly msgtype: 'actionCard';
      readonly actionCard: {
        readonly title: string;
        readonly text: string;
        /** "0": buttons stacked vertically. */
        readonly btnOrientation: '0' | '1';
        readonly btns: readonly { readonly title: string; readonly actionURL: string }[];
      };
    };

/** A DingTalk body plus the notification ids it delivers. */
export interface DingtalkMessage extends RenderedMessage {
  readonly body: DingtalkBody;
}

/** Rendering options from the channel config. */
export interface DingtalkRenderOptions {
  /** Default: actionCard (used when the message has links; otherwise markdown). */
  readonly messageType?: 'actionCard' | 'markdown';
  /** The channel's language and time zone. Default: English, UTC. */
  readonly presentation?: Presentation;
}

export function renderDingtalk(ns: readonly Notification[], options: DingtalkRenderOptions = {}): DingtalkMessage[] {
  if (ns.length === 0) return [];
  if (ns.length > 1) {
    return markdownDigest(ns, DINGTALK_LIMITS.textBytes, options.presentation).map((d) => ({
      ids: d.ids,
      body: { msgtype: 'markdown', markdown: { title: d.title, text: d.text } },
    }));
  }
  const n = ns[0] as Notification;
  const cards = (options.messageType ?? 'actionCard') === 'actionCard';
  const single = markdownSingle(n, {
    inlineLinks: !cards,
    maxBytes: DINGTALK_LIMITS.textBytes,
    ...(options.presentation ? { presentation: options.presentation } : {}),
  });
  if (cards && single.links.length > 0) {
    const btns = single.links.slice(0, DINGTALK_LIMITS.buttons).map((l) => ({ title: l.label, actionURL: l.url }));
    return [{ ids: [n.id], body: { msgtype: 'actionCard', actionCard: { title: single.title, text: single.text, btnOrientation: '0', btns } } }];
  }
  return [{ ids: [n.id], body: { msgtype: 'markdown', markdown: { title: single.title, text: single.text } } }];
}
