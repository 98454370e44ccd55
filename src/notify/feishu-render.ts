/**
 * Feishu / Lark custom bot messages (pure): an interactive card (`msg_type:
 * interactive`) with a header, `lark_md` text and fields, one link button
 * per download link, and a note. Formats: "Custom bot usage guide",
 * https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot (and the
 * same page on open.larksuite.com), card JSON 1.0 elements `div` (`text`,
 * `fields[{is_short, text}]`), `action` with `button{text, url, type}`,
 * `note`; request body at most 20 KB. API text goes through `chatMarkdownText`:
 * entities for `& < >` (which disarms `<at id=all></at>`) and numeric
 * entities for markdown punctuation (`&#42;` for `*`, the escape the card
 * markdown docs give); header and button texts are `plain_text`.
 * Signing fields (`timestamp`, `sign`) are added by the sender.
 */

import { chatMarkdownText, markdownLinkUrl, oneLine, truncate, utf8Bytes } from '../text/escape.js';
import { DEFAULT_PRESENTATION, type Presentation } from '../text/format.js';
import type { RenderedMessage } from './channel.js';
import { TEXT_CAPS } from './chat-markdown.js';
import type { Notification } from './event.js';
import { type DigestEntry, digestEntry, messageFacts, packDigest, partLabel } from './facts.js';
import { messagesFor } from './i18n.js';
import { DIGEST_LINES_PER_MESSAGE, digestSummary } from './slack-render.js';

/** Request body limit (20 KB) minus room for the signature fields. */
export const FEISHU_LIMITS = { bodyBytes: 19_000, headerText: 100 } as const;

type PlainText = { readonly tag: 'plain_text'; readonly content: string };
type LarkMd = { readonly tag: 'lark_md'; readonly content: string };
/** The card JSON 1.0 elements dbswatch uses. */
export type FeishuElement =
  | { readonly tag: 'div'; readonly text?: LarkMd; readonly fields?: readonly { readonly is_short: boolean; readonly text: LarkMd }[] }
  | {
      readonly tag: 'action';
      readonly actions: readonly { readonly tag: 'button'; readonly text: PlainText; readonly url: string; readonly type: 'primary' | 'default' }[];
    }
  | { readonly tag: 'note'; readonly elements: readonly PlainText[] }
  | { readonly tag: 'hr' };

/** An interactive card: header (title, colour) and elements. */
export interface FeishuCard {
  readonly config: { readonly wide_screen_mode: true };
  readonly header: { readonly title: PlainText; readonly template: 'green' | 'red' | 'blue' };
  readonly elements: readonly FeishuElement[];
}

/** A Feishu body (without the signing fields, added at send time) plus its notification ids. */
export interface FeishuMessage extends RenderedMessage {
  readonly body: { readonly msg_type: 'interactive'; readonly card: FeishuCard };
}

const md = (content: string): LarkMd => ({ tag: 'lark_md', content });
const plain = (content: string): PlainText => ({ tag: 'plain_text', content: oneLine(content) });

function template(n: Pick<Notification, 'event'>): 'green' | 'red' | 'blue' {
  return n.event === 'finished' ? 'green' : n.event === 'failed' ? 'red' : 'blue';
}

function message(ids: readonly string[], card: FeishuCard): FeishuMessage {
  return { ids, body: { msg_type: 'interactive', card } };
}

export function renderFeishuSingle(n: Notification, presentation: Presentation = DEFAULT_PRESENTATION): FeishuMessage {
  const f = messageFacts(n, presentation);
  const build = (scale: number): FeishuMessage => {
    const cap = (max: number) => Math.max(8, Math.floor(max * scale));
    const elements: FeishuElement[] = [
      { tag: 'div', text: md(f.inSource(`**${chatMarkdownText(f.task, cap(TEXT_CAPS.name))}**`, `**${chatMarkdownText(f.plan, cap(TEXT_CAPS.name))}**`)) },
      { tag: 'div', fields: f.facts.map((fact) => ({ is_short: true, text: md(`**${fact.label}**\n${chatMarkdownText(fact.value, cap(TEXT_CAPS.fact))}`) })) },
    ];
    if (f.destination) elements.push({ tag: 'div', text: md(chatMarkdownText(f.destination, cap(TEXT_CAPS.fact))) });
    const links = f.links.filter((l) => l.url.length <= FEISHU_LIMITS.bodyBytes / 4);
    if (links.length) {
      elements.push({
        tag: 'action',
        actions: links.map((l, i) => ({ tag: 'button', text: plain(l.label), url: l.url, type: i === 0 ? 'primary' : 'default' })),
      });
    }
    if (f.error !== undefined)
      elements.push({ tag: 'div', text: md(`**${f.errorLabel}**\n${chatMarkdownText(f.error, cap(TEXT_CAPS.error), { multiline: true })}`) });
    elements.push({ tag: 'note', elements: [plain(truncate(f.footer, cap(400)))] });
    const header = { title: plain(truncate(`${f.emoji} ${f.title}`, FEISHU_LIMITS.headerText)), template: template(n) };
    return message([n.id], { config: { wide_screen_mode: true }, header, elements });
  };
  let built = build(1);
  for (let scale = 0.5; utf8Bytes(JSON.stringify(built.body)) > FEISHU_LIMITS.bodyBytes && scale > 0.01; scale /= 2) built = build(scale);
  return built;
}

function digestLine(e: DigestEntry): string {
  const parts = [`${e.emoji} **${chatMarkdownText(e.task, TEXT_CAPS.digestName)}**`, chatMarkdownText(e.plan, TEXT_CAPS.digestPlan)];
  if (e.detail) parts.push(chatMarkdownText(e.detail, 40));
  if (e.error !== undefined) parts.push(`*${chatMarkdownText(e.error, TEXT_CAPS.digestError)}*`);
  // lark_md links: `[label](url)`; a URL that would take a quarter of the body is left out.
  if (e.url && e.url.length <= FEISHU_LIMITS.bodyBytes / 4) parts.push(`[download](${markdownLinkUrl(e.url)})`);
  return parts.join(' · ');
}

export function renderFeishuDigest(ns: readonly Notification[], presentation: Presentation = DEFAULT_PRESENTATION): FeishuMessage[] {
  const m = messagesFor(presentation.locale);
  const summary = digestSummary(ns, m);
  const lines = ns.map((n) => ({ n, line: digestLine(digestEntry(n, m)) }));
  // Each line costs its JSON-escaped size (+1 for the joining newline); the card around them is under 600 bytes.
  const cost = new Map(lines.map((l) => [l, utf8Bytes(JSON.stringify(l.line)) - 1]));
  const fits = (chunk: readonly (typeof lines)[number][]) => 600 + chunk.reduce((sum, l) => sum + (cost.get(l) ?? 0), 0) <= FEISHU_LIMITS.bodyBytes;
  const chunks = packDigest(lines, fits, DIGEST_LINES_PER_MESSAGE);
  return chunks.map((chunk, index) => {
    const anyFailed = chunk.some((c) => c.n.event === 'failed');
    const header = {
      title: plain(truncate(`📦 ${summary}${partLabel(index, chunks.length, m)}`, FEISHU_LIMITS.headerText)),
      template: anyFailed ? ('red' as const) : ('green' as const),
    };
    const elements: FeishuElement[] = [
      {
        tag: 'div',
        text: md(
          chunks.length > 1
            ? m.thisPart(
                digestSummary(
                  chunk.map((c) => c.n),
                  m,
                ),
              )
            : m.onePerLine,
        ),
      },
      { tag: 'div', text: md(chunk.map((c) => c.line).join('\n')) },
      { tag: 'note', elements: [plain(m.digestContext)] },
    ];
    return message(
      chunk.map((c) => c.n.id),
      { config: { wide_screen_mode: true }, header, elements },
    );
  });
}

export function renderFeishu(ns: readonly Notification[], presentation: Presentation = DEFAULT_PRESENTATION): FeishuMessage[] {
  if (ns.length === 0) return [];
  if (ns.length === 1) return [renderFeishuSingle(ns[0] as Notification, presentation)];
  return renderFeishuDigest(ns, presentation);
}
