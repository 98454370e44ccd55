/**
 * Markdown shared by the DingTalk and WeCom renderers (pure): both render a
 * similar markdown subset (headings, bold, quotes, `[label](url)` links) and
 * entity-escaped HTML. Every piece of API text goes through
 * `chatMarkdownText`; only http(s) download URLs become links.
 */
import { chatMarkdownText, markdownLinkUrl, truncateBytes, utf8Bytes } from '../text/escape.js';
import { DEFAULT_PRESENTATION, type Presentation } from '../text/format.js';
import type { Notification } from './event.js';
import { type DigestEntry, digestEntry, messageFacts, packDigest, partLabel } from './facts.js';
import { messagesFor } from './i18n.js';
import { DIGEST_LINES_PER_MESSAGE, digestSummary } from './slack-render.js';

/** How much of each piece of API text a message shows (characters of raw text). */
export const TEXT_CAPS = { name: 300, fact: 300, error: 1200, digestName: 120, digestPlan: 80, digestError: 150, id: 300 } as const;

/** How a single message is laid out; no defaults (each platform passes both). */
export interface MarkdownOptions {
  /** Whether links go inline (`[label](url)`); false when the platform shows them as buttons. */
  readonly inlineLinks: boolean;
  /** Budget of the whole text in UTF-8 bytes. */
  readonly maxBytes: number;
  /** The channel's language and time zone. Default: English, UTC. */
  readonly presentation?: Presentation;
}

/** A single message's markdown, its title and its links (for button platforms). */
export interface MarkdownSingle {
  /** Our words only (shown unrendered as the chat preview). */
  readonly title: string;
  readonly text: string;
  readonly links: readonly { readonly label: string; readonly url: string }[];
}

/** A link, or nothing when the URL alone would blow the budget (a cut URL is a broken URL). */
function mdLink(label: string, url: string, maxUrl: number): string | undefined {
  return url.length <= maxUrl ? `[${label}](${markdownLinkUrl(url)})` : undefined;
}

/** One notification → a markdown text that fits `maxBytes`, plus its links (for button platforms). */
export function markdownSingle(n: Notification, options: MarkdownOptions): MarkdownSingle {
  const f = messageFacts(n, options.presentation);
  const maxUrl = Math.floor(options.maxBytes / 4);
  const links = f.links.filter((l) => l.url.length <= maxUrl);
  // Built at shrinking scales until it fits: CJK text is 3 bytes a character and escaping can grow
  // ASCII up to 5×, so a character cap alone cannot guarantee a byte limit.
  const build = (scale: number): string => {
    const cap = (max: number) => Math.max(8, Math.floor(max * scale));
    const lines: string[] = [
      `### ${f.emoji} ${f.title}`,
      f.inSource(`**${chatMarkdownText(f.task, cap(TEXT_CAPS.name))}**`, `**${chatMarkdownText(f.plan, cap(TEXT_CAPS.name))}**`),
      '',
    ];
    for (const fact of f.facts) lines.push(`- **${fact.label}:** ${chatMarkdownText(fact.value, cap(TEXT_CAPS.fact))}`);
    if (f.destination) lines.push('', chatMarkdownText(f.destination, cap(TEXT_CAPS.fact)));
    if (options.inlineLinks && links.length) {
      lines.push('');
      for (const l of links) lines.push(`- ${mdLink(l.label, l.url, maxUrl)}`);
    }
    if (f.error !== undefined) {
      // Quote every line; each starts with our `> `, so API text never starts a line (no heading, no list).
      const quoted = chatMarkdownText(f.error, cap(TEXT_CAPS.error), { multiline: true })
        .split('\n')
        .map((line) => `> ${line}`)
        .join('\n');
      lines.push('', `**${f.errorLabel}**`, '', quoted);
    }
    lines.push('', `###### ${chatMarkdownText(f.footer, cap(TEXT_CAPS.id))}`);
    return lines.join('\n');
  };
  let text = build(1);
  for (let scale = 0.5; utf8Bytes(text) > options.maxBytes && scale > 0.01; scale /= 2) text = build(scale);
  // The title is shown unrendered in chat lists and notifications: our words only, no API text.
  const title = `${f.emoji} ${f.title}`;
  return { title, text: utf8Bytes(text) > options.maxBytes ? truncateBytes(text, options.maxBytes) : text, links };
}

/** One digest line in chat markdown. */
export function markdownDigestLine(e: DigestEntry, maxUrl: number): string {
  const parts = [`${e.emoji} **${chatMarkdownText(e.task, TEXT_CAPS.digestName)}**`, chatMarkdownText(e.plan, TEXT_CAPS.digestPlan)];
  if (e.detail) parts.push(chatMarkdownText(e.detail, 40));
  if (e.error !== undefined) parts.push(`*${chatMarkdownText(e.error, TEXT_CAPS.digestError)}*`);
  const link = e.url ? mdLink('download', e.url, maxUrl) : undefined;
  if (link) parts.push(link);
  return `- ${parts.join(' · ')}`;
}

/** One part of a digest: its markdown and the notification ids it carries. */
export interface MarkdownDigest {
  readonly ids: readonly string[];
  readonly title: string;
  readonly text: string;
}

/** Many notifications → as few markdown texts as fit `maxBytes` each (≤ DIGEST_LINES_PER_MESSAGE lines). */
export function markdownDigest(ns: readonly Notification[], maxBytes: number, presentation: Presentation = DEFAULT_PRESENTATION): MarkdownDigest[] {
  const m = messagesFor(presentation.locale);
  const summary = digestSummary(ns, m);
  const maxUrl = Math.floor(maxBytes / 4);
  const lines = ns.map((n) => ({ n, line: markdownDigestLine(digestEntry(n, m), maxUrl) }));
  // Header + counts + footer: well under 400 bytes.
  const overhead = 400 + utf8Bytes(summary);
  const chunks = packDigest(lines, (chunk) => overhead + chunk.reduce((sum, l) => sum + utf8Bytes(l.line) + 1, 0) <= maxBytes, DIGEST_LINES_PER_MESSAGE);
  return chunks.map((chunk, index) => {
    const part = partLabel(index, chunks.length, m);
    const text = [
      `### 📦 ${summary}${part}`,
      chunks.length > 1
        ? m.thisPart(
            digestSummary(
              chunk.map((c) => c.n),
              m,
            ),
          )
        : m.onePerLine,
      '',
      ...chunk.map((c) => c.line),
      '',
      `###### ${m.digestContext}`,
    ].join('\n');
    return { ids: chunk.map((c) => c.n.id), title: `📦 ${summary}${part}`, text };
  });
}
