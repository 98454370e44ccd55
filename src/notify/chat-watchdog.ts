/**
 * Watchdog events (dbswatch about itself: a plan failing or stale, a channel
 * failing, recovery) for the chat and webhook channels, pure. Every platform
 * gets the same words from `watchdogText` (src/notify/i18n.ts), in the
 * channel's locale and time zone, escaped for its markup like task messages.
 */

import { adaptiveText, chatMarkdownText, oneLine, truncate } from '../text/escape.js';
import type { Presentation } from '../text/format.js';
import type { DingtalkMessage } from './dingtalk-render.js';
import type { WatchdogNotice } from './event.js';
import type { FeishuMessage } from './feishu-render.js';
import { watchdogText } from './i18n.js';
import type { TeamsMessage } from './teams-render.js';
import type { WebhookMessage } from './webhook-render.js';
import type { WecomMessage } from './wecom-render.js';

/** Cap per line: watchdog errors are our own short messages, but they quote API text. */
const LINE_CAP = 600;

function markdownText(notice: WatchdogNotice, presentation: Presentation): { title: string; text: string } {
  const { title, lines } = watchdogText(notice, presentation);
  const text = [`**${chatMarkdownText(title, 200)}**`, ...lines.map((line) => chatMarkdownText(line, LINE_CAP))].join('\n\n');
  return { title: truncate(oneLine(title), 100), text };
}

export function renderDingtalkWatchdog(notice: WatchdogNotice, presentation: Presentation): DingtalkMessage[] {
  const { title, text } = markdownText(notice, presentation);
  return [{ ids: [notice.id], body: { msgtype: 'markdown', markdown: { title, text } } }];
}

export function renderWecomWatchdog(notice: WatchdogNotice, presentation: Presentation): WecomMessage[] {
  return [{ ids: [notice.id], body: { msgtype: 'markdown', markdown: { content: markdownText(notice, presentation).text } } }];
}

export function renderFeishuWatchdog(notice: WatchdogNotice, presentation: Presentation): FeishuMessage[] {
  const { title, lines, severity } = watchdogText(notice, presentation);
  const card = {
    config: { wide_screen_mode: true as const },
    header: {
      title: { tag: 'plain_text' as const, content: truncate(oneLine(title), 100) },
      template: severity === 'resolved' ? ('green' as const) : ('red' as const),
    },
    elements: lines.map((line) => ({ tag: 'div' as const, text: { tag: 'lark_md' as const, content: chatMarkdownText(line, LINE_CAP) } })),
  };
  return [{ ids: [notice.id], body: { msg_type: 'interactive', card } }];
}

export function renderTeamsWatchdog(notice: WatchdogNotice, presentation: Presentation): TeamsMessage[] {
  const { title, lines, severity } = watchdogText(notice, presentation);
  const content = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json' as const,
    type: 'AdaptiveCard' as const,
    version: '1.4' as const,
    body: [
      {
        type: 'TextBlock' as const,
        text: adaptiveText(title, 200),
        wrap: true as const,
        size: 'Medium' as const,
        weight: 'Bolder' as const,
        color: severity === 'resolved' ? ('Good' as const) : ('Attention' as const),
      },
      ...lines.map((line) => ({ type: 'TextBlock' as const, text: adaptiveText(line, LINE_CAP), wrap: true as const })),
    ],
  };
  return [
    { ids: [notice.id], body: { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }] } },
  ];
}

/** A versioned `dbswatch.watchdog` event (docs/webhook.md); `webhook-id` is the notice id, so receivers dedupe on it. */
export function renderWebhookWatchdog(notice: WatchdogNotice, presentation: Presentation): WebhookMessage[] {
  const { title, severity } = watchdogText(notice, presentation);
  const event = {
    version: 1,
    id: notice.id,
    type: 'dbswatch.watchdog',
    timestamp: new Date(notice.at).toISOString(),
    data: {
      event: notice.event,
      severity,
      title,
      subject: notice.subject,
      ...(notice.error !== undefined ? { error: notice.error } : {}),
      ...(notice.failures !== undefined ? { failures: notice.failures } : {}),
      ...(notice.lastSuccessAt !== undefined ? { lastSuccessAt: new Date(notice.lastSuccessAt).toISOString() } : {}),
    },
  };
  return [{ ids: [notice.id], webhookId: notice.id, body: JSON.stringify(event) }];
}
