/**
 * Microsoft Teams messages for a Workflows webhook (pure): a `message` with
 * one `application/vnd.microsoft.card.adaptive` attachment — an Adaptive
 * Card 1.4 with TextBlocks, a FactSet and one `Action.OpenUrl` per download
 * link. Formats and limits: "Create and send messages"
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using:
 * Workflows accept Adaptive Cards only), "Create Incoming Webhooks"
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook:
 * 28 KB per message, more than 4 requests per second are throttled), and the
 * Adaptive Card schema (https://adaptivecards.io/explorer/: TextBlock, FactSet,
 * Action.OpenUrl). Teams renders a markdown subset and ignores HTML: API
 * text goes through `adaptiveText`.
 */

import { adaptiveText, markdownLinkUrl, oneLine, truncate, utf8Bytes } from '../text/escape.js';
import { DEFAULT_PRESENTATION, type Presentation } from '../text/format.js';
import type { RenderedMessage } from './channel.js';
import { TEXT_CAPS } from './chat-markdown.js';
import type { Notification } from './event.js';
import { type DigestEntry, digestEntry, messageFacts, packDigest, partLabel } from './facts.js';
import { messagesFor } from './i18n.js';
import { DIGEST_LINES_PER_MESSAGE, digestSummary } from './slack-render.js';

/** 28 KB per message, with room for the envelope. */
export const TEAMS_LIMITS = { messageBytes: 27_000, actions: 5 } as const;

/** The Adaptive Card elements dbswatch uses. */
export type AdaptiveElement =
  | {
      readonly type: 'TextBlock';
      readonly text: string;
      readonly wrap: true;
      readonly size?: 'Small' | 'Medium' | 'Large';
      readonly weight?: 'Bolder';
      readonly color?: 'Good' | 'Attention' | 'Accent';
      readonly isSubtle?: true;
    }
  | { readonly type: 'FactSet'; readonly facts: readonly { readonly title: string; readonly value: string }[] };

/** An Adaptive Card 1.4. */
export interface AdaptiveCard {
  readonly $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  readonly type: 'AdaptiveCard';
  readonly version: '1.4';
  readonly body: readonly AdaptiveElement[];
  readonly actions?: readonly { readonly type: 'Action.OpenUrl'; readonly title: string; readonly url: string }[];
}

/** A Teams `message` with one Adaptive Card attachment, plus its notification ids. */
export interface TeamsMessage extends RenderedMessage {
  readonly body: {
    readonly type: 'message';
    readonly attachments: readonly [
      { readonly contentType: 'application/vnd.microsoft.card.adaptive'; readonly contentUrl: null; readonly content: AdaptiveCard },
    ];
  };
}

const SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json' as const;

function envelope(ids: readonly string[], card: AdaptiveCard): TeamsMessage {
  return { ids, body: { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] } };
}

function color(n: Pick<Notification, 'event'>): 'Good' | 'Attention' | 'Accent' {
  return n.event === 'finished' ? 'Good' : n.event === 'failed' ? 'Attention' : 'Accent';
}

export function renderTeamsSingle(n: Notification, presentation: Presentation = DEFAULT_PRESENTATION): TeamsMessage {
  const f = messageFacts(n, presentation);
  const build = (scale: number): TeamsMessage => {
    const cap = (max: number) => Math.max(8, Math.floor(max * scale));
    const body: AdaptiveElement[] = [
      { type: 'TextBlock', text: `${f.emoji} ${f.title}`, size: 'Large', weight: 'Bolder', color: color(n), wrap: true },
      {
        type: 'TextBlock',
        text: f.inSource(`**${adaptiveText(f.task, cap(TEXT_CAPS.name))}**`, `**${adaptiveText(f.plan, cap(TEXT_CAPS.name))}**`),
        wrap: true,
      },
      { type: 'FactSet', facts: f.facts.map((fact) => ({ title: fact.label, value: adaptiveText(fact.value, cap(TEXT_CAPS.fact)) })) },
    ];
    if (f.destination) body.push({ type: 'TextBlock', text: adaptiveText(f.destination, cap(TEXT_CAPS.fact)), wrap: true });
    if (f.error !== undefined) {
      body.push({ type: 'TextBlock', text: f.errorLabel, weight: 'Bolder', color: 'Attention', wrap: true });
      body.push({ type: 'TextBlock', text: adaptiveText(f.error, cap(TEXT_CAPS.error), { multiline: true }), wrap: true });
    }
    body.push({ type: 'TextBlock', text: adaptiveText(f.footer, cap(400)), size: 'Small', isSubtle: true, wrap: true });
    const links = f.links.filter((l) => l.url.length <= TEAMS_LIMITS.messageBytes / 4).slice(0, TEAMS_LIMITS.actions);
    const card: AdaptiveCard = {
      $schema: SCHEMA,
      type: 'AdaptiveCard',
      version: '1.4',
      body,
      ...(links.length ? { actions: links.map((l) => ({ type: 'Action.OpenUrl' as const, title: l.label, url: l.url })) } : {}),
    };
    return envelope([n.id], card);
  };
  let built = build(1);
  for (let scale = 0.5; utf8Bytes(JSON.stringify(built.body)) > TEAMS_LIMITS.messageBytes && scale > 0.01; scale /= 2) built = build(scale);
  return built;
}

function digestLine(e: DigestEntry): string {
  const parts = [`${e.emoji} **${adaptiveText(e.task, TEXT_CAPS.digestName)}**`, adaptiveText(e.plan, TEXT_CAPS.digestPlan)];
  if (e.detail) parts.push(adaptiveText(e.detail, 40));
  if (e.error !== undefined) parts.push(`_${adaptiveText(e.error, TEXT_CAPS.digestError)}_`);
  if (e.url && e.url.length <= TEAMS_LIMITS.messageBytes / 4) parts.push(`[download](${markdownLinkUrl(e.url)})`);
  return parts.join(' · ');
}

export function renderTeamsDigest(ns: readonly Notification[], presentation: Presentation = DEFAULT_PRESENTATION): TeamsMessage[] {
  const m = messagesFor(presentation.locale);
  const summary = digestSummary(ns, m);
  const lines = ns.map((n) => ({ n, line: digestLine(digestEntry(n, m)) }));
  // Each line is one TextBlock: its JSON-escaped text plus ~60 bytes around it; the card around them is under 800.
  const cost = new Map(lines.map((l) => [l, utf8Bytes(JSON.stringify(l.line)) + 60]));
  const fits = (chunk: readonly (typeof lines)[number][]) => 800 + chunk.reduce((sum, l) => sum + (cost.get(l) ?? 0), 0) <= TEAMS_LIMITS.messageBytes;
  const chunks = packDigest(lines, fits, DIGEST_LINES_PER_MESSAGE);
  return chunks.map((chunk, index) => {
    const anyFailed = chunk.some((c) => c.n.event === 'failed');
    const body: AdaptiveElement[] = [
      {
        type: 'TextBlock',
        text: oneLine(truncate(`📦 ${summary}${partLabel(index, chunks.length, m)}`, 150)),
        size: 'Large',
        weight: 'Bolder',
        color: anyFailed ? 'Attention' : 'Good',
        wrap: true,
      },
      {
        type: 'TextBlock',
        text:
          chunks.length > 1
            ? m.thisPart(
                digestSummary(
                  chunk.map((c) => c.n),
                  m,
                ),
              )
            : m.onePerLine,
        wrap: true,
      },
      ...chunk.map((c) => ({ type: 'TextBlock' as const, text: c.line, wrap: true as const })),
      { type: 'TextBlock', text: m.digestContext, size: 'Small', isSubtle: true, wrap: true },
    ];
    return envelope(
      chunk.map((c) => c.n.id),
      { $schema: SCHEMA, type: 'AdaptiveCard', version: '1.4', body },
    );
  });
}

export function renderTeams(ns: readonly Notification[], presentation: Presentation = DEFAULT_PRESENTATION): TeamsMessage[] {
  if (ns.length === 0) return [];
  if (ns.length === 1) return [renderTeamsSingle(ns[0] as Notification, presentation)];
  return renderTeamsDigest(ns, presentation);
}
