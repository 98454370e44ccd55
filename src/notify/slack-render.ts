/**
 * Slack Block Kit rendering (pure). Every piece of API text (task names,
 * plan names, error messages, statuses) goes through `mrkdwnText`: controls
 * removed, `& < >` escaped — which makes `<!channel>` and
 * `<https://evil|click>` inert — and cut to Block Kit's limits. Only http(s)
 * URLs become links. The configured `mentionOnFailure` is operator text and
 * is deliberately left unescaped so `<!here>` still pings.
 */
import { jobTypeLabel } from '../dbs/task.js';
import { assertNever } from '../errors.js';
import { mrkdwnText, oneLine, safeHttpUrl, slackLinkUrl, truncate, truncateEscaped } from '../text/escape.js';
import { DEFAULT_PRESENTATION, formatBytes, formatTimestamp, type Presentation, statusWord, taskDuration } from '../text/format.js';
import { advancedRows, advancedSentence, sourceId, sourceWord } from './advanced.js';
import type { RenderedMessage } from './channel.js';
import type { Notification, WatchdogNotice } from './event.js';
import { emojiOf } from './facts.js';
import { type Messages, messagesFor, watchdogText } from './i18n.js';
import { linkValidity, missingLinkNote } from './link-text.js';

/** Block Kit limits (https://api.slack.com/reference/block-kit/blocks). */
export const SLACK_LIMITS = {
  headerText: 150,
  sectionText: 3000,
  fieldText: 2000,
  fieldsPerSection: 10,
  blocksPerMessage: 50,
  buttonText: 75,
  buttonUrl: 3000,
  contextElements: 10,
  contextText: 2000,
  /** Slack truncates top-level `text` beyond ~40k, but notifications show ~3000 at most. */
  fallbackText: 3000,
} as const;

/** Digest lines per message: beyond this a digest is split (readability, not a Slack limit). */
export const DIGEST_LINES_PER_MESSAGE = 50;

export interface TextObject {
  readonly type: 'plain_text' | 'mrkdwn';
  readonly text: string;
  readonly emoji?: boolean;
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: TextObject }
  | { readonly type: 'section'; readonly text?: TextObject; readonly fields?: readonly TextObject[] }
  | { readonly type: 'context'; readonly elements: readonly TextObject[] }
  | { readonly type: 'divider' }
  | {
      readonly type: 'actions';
      readonly elements: readonly {
        readonly type: 'button';
        readonly text: TextObject;
        readonly url: string;
        readonly style?: 'primary' | 'danger';
      }[];
    };

/** A Slack payload plus the notification ids it delivers. */
export interface SlackMessage extends RenderedMessage {
  /** Fallback text for notifications and screen readers. */
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

export interface SlackRenderOptions {
  /** Operator-configured mention (e.g. `<!here>`) put in front of failures. Not escaped. */
  readonly mentionOnFailure?: string;
  /** Time zone and language of the message. Default: UTC, en. */
  readonly presentation?: Presentation;
}

const presentationOf = (options: SlackRenderOptions): Presentation => options.presentation ?? DEFAULT_PRESENTATION;
const wordsOf = (options: SlackRenderOptions): Messages => messagesFor(presentationOf(options).locale);

const mrkdwn = (text: string): TextObject => ({ type: 'mrkdwn', text });
const plain = (text: string): TextObject => ({ type: 'plain_text', text, emoji: true });

function titleOf(n: Notification, m: Messages): string {
  const reminder = n.reminder ? `${m.reminderTitle}: ` : '';
  switch (n.event) {
    case 'finished':
      return reminder + m.title.finished;
    case 'failed':
      return reminder + m.title.failed;
    case 'progress':
      return reminder + m.title.progress(statusWord(n.task.status));
    case 'expired':
      return reminder + m.title.expired;
    case 'expiring':
      return reminder + m.title.expiring;
    default:
      return assertNever(n.event, 'event');
  }
}

function taskName(n: Notification): string {
  return n.task.name ?? n.task.taskId;
}

/** A field `*Label*\nvalue`, value escaped and cut so the field fits its limit. */
function field(label: string, value: string): TextObject {
  const head = `*${label}*\n`;
  return mrkdwn(head + mrkdwnText(value, SLACK_LIMITS.fieldText - head.length));
}

function link(url: string, label: string): string {
  return `<${slackLinkUrl(url)}|${label}>`;
}

/** Prefix for failures: the configured mention, verbatim (config text, not API text). */
function mentionPrefix(n: { event: Notification['event'] }, options: SlackRenderOptions): string {
  return n.event === 'failed' && options.mentionOnFailure ? `${options.mentionOnFailure} ` : '';
}

function fallbackFor(n: Notification, options: SlackRenderOptions): string {
  const core = `${emojiOf(n)} ${titleOf(n, wordsOf(options))}: ${oneLine(taskName(n))} (${oneLine(n.plan.name)})`;
  return mentionPrefix(n, options) + mrkdwnText(core, SLACK_LIMITS.fallbackText - 110);
}

/** One notification → one message. */
export function renderSlackSingle(n: Notification, options: SlackRenderOptions = {}): SlackMessage {
  const task = n.task;
  const m = wordsOf(options);
  const p = presentationOf(options);
  const blocks: SlackBlock[] = [];
  blocks.push({ type: 'header', text: plain(truncate(`${emojiOf(n)} ${titleOf(n, m)}`, SLACK_LIMITS.headerText)) });

  const sentence = advancedSentence(n);
  const inSource = sourceWord(n) === 'instance' ? m.inInstance : m.inPlan;
  const intro = sentence ? mrkdwnText(sentence, 2000) : inSource(`*${mrkdwnText(taskName(n), 1000)}*`, `*${mrkdwnText(n.plan.name, 1000)}*`);
  blocks.push({ type: 'section', text: mrkdwn(mentionPrefix(n, options) + intro) });
  if (n.reminder) {
    const line = m.reminder(n.reminder.n, n.reminder.times, formatTimestamp(n.reminder.firstAt, p) ?? m.unknown);
    blocks.push({ type: 'section', text: mrkdwn(`_${mrkdwnText(line, 500)}_ · ${m.ackHint} \`${mrkdwnText(task.taskId, 200)}\``) });
  }

  const fields: TextObject[] = [
    field(sourceWord(n) === 'instance' ? m.instance : m.field.plan, `${n.plan.name} (${sourceId(n)})`),
    field(m.field.task, `${taskName(n)} (${task.taskId})`),
  ];
  if (task.dbType) fields.push(field(m.field.database, task.dbType));
  const jobType = jobTypeLabel(task.jobType);
  if (jobType) fields.push(field(m.field.backup, m.jobType(jobType)));
  if (task.dataFormat) fields.push(field(m.field.format, task.dataFormat));
  const size = formatBytes(task.dataSize);
  // BackupSetDataSize is the backup set's size, not the download's.
  if (size) fields.push(field(m.field.size, size));
  const created = formatTimestamp(task.createdAt, p);
  if (created) fields.push(field(m.field.created, created));
  const finished = formatTimestamp(task.finishedAt, p);
  if (finished) fields.push(field(m.field.finished, finished));
  const duration = taskDuration(task.createdAt, task.finishedAt, p);
  if (duration) fields.push(field(m.field.duration, duration));
  if (n.event === 'progress' && n.previousStatus) {
    fields.push(field(m.field.status, `${statusWord(n.previousStatus)} → ${statusWord(task.status)}`));
  }
  for (const row of advancedRows(n)) fields.push(field(row.label, row.text));
  blocks.push({ type: 'section', fields: fields.slice(0, SLACK_LIMITS.fieldsPerSection) });

  if (task.downloadWay === 'auto') {
    const parts: string[] = [];
    if (task.gatewayId !== undefined) parts.push(m.gatewayPart(`\`${mrkdwnText(String(task.gatewayId), 100)}\``));
    if (task.downloadDir) parts.push(m.directoryPart(`\`${mrkdwnText(task.downloadDir, 1000)}\``));
    if (parts.length > 0 && n.event === 'finished') {
      blocks.push({ type: 'section', text: mrkdwn(`*${m.pushedTo}* ${parts.join(', ')}`) });
    } else if (parts.length > 0) {
      blocks.push({ type: 'section', text: mrkdwn(`*${m.destination}* ${parts.join(', ')}`) });
    }
  } else if (n.event === 'finished' || n.event === 'progress' || n.event === 'failed') {
    const internet = safeHttpUrl(task.internetUrl);
    if (internet && internet.length <= SLACK_LIMITS.buttonUrl) {
      blocks.push({
        type: 'actions',
        elements: [{ type: 'button', text: plain(m.downloadPublic), url: internet, style: 'primary' }],
      });
      const validity = linkValidity(internet, m, p);
      if (validity) blocks.push({ type: 'context', elements: [mrkdwn(`Public URL ${validity}`)] });
    }
    const intranet = safeHttpUrl(task.intranetUrl);
    // A link longer than a section can hold is left out rather than cut (a cut URL is a broken URL).
    const intranetValidity = intranet ? linkValidity(intranet, m, p) : undefined;
    const intranetText = intranet
      ? `*${m.field.intranetUrl}:* ${link(intranet, m.intranetLink)}${intranetValidity ? ` (${intranetValidity})` : ''}`
      : undefined;
    if (intranetText && intranetText.length <= SLACK_LIMITS.sectionText) {
      blocks.push({ type: 'section', text: mrkdwn(intranetText) });
    }
    const missing = missingLinkNote(n, m, p);
    if (missing) blocks.push({ type: 'section', text: mrkdwn(`*${m.download}:* ${mrkdwnText(missing, 500)}`) });
  }

  if (n.event === 'failed') {
    const error = task.errorMessage ?? m.dbsNoErrorMessage;
    // Quote every line; `>` at a line start is our markup, escaped `&gt;` inside the text is not.
    const escaped = mrkdwnText(error, SLACK_LIMITS.sectionText - 200, { multiline: true });
    const quoted = escaped
      .split('\n')
      .map((line) => `>${line}`)
      .join('\n');
    blocks.push({ type: 'section', text: mrkdwn(truncateEscaped(`*${m.field.error}*\n${quoted}`, SLACK_LIMITS.sectionText)) });
  }

  const detected = formatTimestamp(n.detectedAt, p);
  // `notification <id>` stays untranslated: tools (and tests) read the id from it.
  blocks.push({
    type: 'context',
    elements: [mrkdwn(`dbswatch${detected ? ` · ${m.detectedAt(detected)}` : ''} · notification ${mrkdwnText(n.id, 300)}`)],
  });
  return { ids: [n.id], text: fallbackFor(n, options), blocks };
}

/** One compact digest line: emoji, task, plan, size, link (or the start of the error). */
export function digestLine(n: Notification, m: Messages = messagesFor('en'), p: Presentation = DEFAULT_PRESENTATION): string {
  const parts = [`${emojiOf(n)} *${mrkdwnText(taskName(n), 200)}*`, mrkdwnText(n.plan.name, 100)];
  const size = formatBytes(n.task.dataSize);
  if (n.event === 'progress') parts.push(statusWord(n.task.status));
  if (size && n.event !== 'failed') parts.push(size);
  if (n.event === 'failed') parts.push(`_${mrkdwnText(n.task.errorMessage ?? m.noErrorMessage, 200)}_`);
  const url = safeHttpUrl(n.task.internetUrl) ?? safeHttpUrl(n.task.intranetUrl);
  if (n.event === 'finished' && n.task.downloadWay !== 'auto' && url) {
    const anchor = link(url, m.download);
    const validity = linkValidity(url, m, p);
    // A pathological URL that would not fit is left out; the line still names the task.
    if (anchor.length <= SLACK_LIMITS.sectionText - 600) parts.push(validity ? `${anchor} (${validity})` : anchor);
  }
  const missing = missingLinkNote(n, m, p);
  if (missing) parts.push(mrkdwnText(missing, 300));
  return parts.join(' · ');
}

interface Counts {
  readonly ready: number;
  readonly failed: number;
  readonly other: number;
}

function countsOf(ns: readonly Notification[]): Counts {
  let ready = 0;
  let failed = 0;
  for (const n of ns) {
    if (n.event === 'finished') ready += 1;
    else if (n.event === 'failed') failed += 1;
  }
  return { ready, failed, other: ns.length - ready - failed };
}

/** `40 downloads: 38 ready, 2 failed` */
export function digestSummary(ns: readonly Notification[], m: Messages = messagesFor('en')): string {
  const c = countsOf(ns);
  return m.digestSummary(ns.length, c.ready, c.failed, c.other);
}

/**
 * Many notifications → as few messages as Block Kit allows (usually one).
 * Lines are packed into sections of ≤ 3000 characters; a message takes at
 * most DIGEST_LINES_PER_MESSAGE lines and 50 blocks. The fallback text lists
 * what fits and ends with `+N more`.
 */
export function renderSlackDigest(ns: readonly Notification[], options: SlackRenderOptions = {}): SlackMessage[] {
  const m = wordsOf(options);
  const lines = ns.map((n) => ({ n, line: digestLine(n, m, presentationOf(options)) }));
  // Pack into chunks (messages), each a list of sections.
  const chunks: { ns: Notification[]; sections: string[] }[] = [];
  // header + summary/mention section + context = 3 fixed blocks.
  const maxSections = SLACK_LIMITS.blocksPerMessage - 3;
  let current: { ns: Notification[]; sections: string[] } | undefined;
  for (const { n, line } of lines) {
    if (!current || current.ns.length >= DIGEST_LINES_PER_MESSAGE) {
      current = { ns: [], sections: [] };
      chunks.push(current);
    }
    const last = current.sections.at(-1);
    if (last !== undefined && last.length + 1 + line.length <= SLACK_LIMITS.sectionText) {
      current.sections[current.sections.length - 1] = `${last}\n${line}`;
    } else if (current.sections.length < maxSections) {
      current.sections.push(truncateEscaped(line, SLACK_LIMITS.sectionText));
    } else {
      current = { ns: [], sections: [truncateEscaped(line, SLACK_LIMITS.sectionText)] };
      chunks.push(current);
    }
    current.ns.push(n);
  }

  const summary = digestSummary(ns, m);
  const anyFailed = ns.some((n) => n.event === 'failed');
  const mention = anyFailed && options.mentionOnFailure ? `${options.mentionOnFailure} ` : '';
  return chunks.map((chunk, index) => {
    const part = chunks.length > 1 ? m.part(index + 1, chunks.length) : '';
    const blocks: SlackBlock[] = [{ type: 'header', text: plain(truncate(`📦 ${summary}${part}`, SLACK_LIMITS.headerText)) }];
    const chunkSummary = chunks.length > 1 ? m.thisPart(digestSummary(chunk.ns, m)) : m.onePerLine;
    blocks.push({ type: 'section', text: mrkdwn(`${index === 0 ? mention : ''}${chunkSummary}`) });
    for (const section of chunk.sections) blocks.push({ type: 'section', text: mrkdwn(section) });
    const ids = chunk.ns.map((n) => n.id);
    blocks.push({ type: 'context', elements: [mrkdwn(m.digestContext), ...idElements(ids)] });
    return { ids, text: digestFallback(chunk.ns, summary + part, mention, m), blocks };
  });
}

/**
 * The notification ids a digest delivers, as small context text (`notifications id1 id2 …`),
 * so a reader or a tool can tell exactly which notifications one message carried
 * (a single message names its id the same way). Packed into at most
 * `contextElements - 1` elements of ≤ `contextText` characters; ids that would
 * not fit (only absurdly long ids could) are counted as `+N more`.
 */
function idElements(ids: readonly string[]): TextObject[] {
  const max = SLACK_LIMITS.contextText;
  const texts: string[] = [];
  let current = 'notifications';
  for (let i = 0; i < ids.length; i++) {
    const id = mrkdwnText(ids[i] as string, 300);
    if (current.length + 1 + id.length <= max - 12) {
      current += ` ${id}`;
      continue;
    }
    if (texts.length + 2 >= SLACK_LIMITS.contextElements) {
      current += ` +${ids.length - i} more`;
      break;
    }
    texts.push(current);
    current = id;
  }
  texts.push(current);
  return texts.map(mrkdwn);
}

function digestFallback(ns: readonly Notification[], summary: string, mention: string, m: Messages): string {
  const max = SLACK_LIMITS.fallbackText;
  let text = `${mention}📦 ${summary}`;
  for (let i = 0; i < ns.length; i++) {
    const n = ns[i] as Notification;
    const line = `\n${emojiOf(n)} ${mrkdwnText(taskName(n), 150)} (${mrkdwnText(n.plan.name, 80)})`;
    const tail = `\n${m.more(ns.length - i)}`;
    if (text.length + line.length + `\n${m.more(ns.length)}`.length > max) {
      text += tail;
      break;
    }
    text += line;
  }
  return text;
}

/** A watchdog event → one message: the catalogue's title and lines, escaped. */
export function renderSlackWatchdog(notice: WatchdogNotice, options: SlackRenderOptions = {}): SlackMessage {
  const { title, lines, severity } = watchdogText(notice, presentationOf(options));
  const emoji = severity === 'resolved' ? '✅' : '🚨';
  const mention = severity === 'problem' && options.mentionOnFailure ? `${options.mentionOnFailure} ` : '';
  const body = lines.slice(0, -1).map((line) => mrkdwnText(line, 1000, { multiline: true }));
  const blocks: SlackBlock[] = [{ type: 'header', text: plain(truncate(`${emoji} ${title}`, SLACK_LIMITS.headerText)) }];
  if (body.length > 0 || mention) blocks.push({ type: 'section', text: mrkdwn(truncateEscaped(mention + body.join('\n'), SLACK_LIMITS.sectionText)) });
  blocks.push({ type: 'context', elements: [mrkdwn(mrkdwnText(lines.at(-1) ?? '', SLACK_LIMITS.contextText))] });
  return { ids: [notice.id], text: mention + mrkdwnText(`${emoji} ${title}`, SLACK_LIMITS.fallbackText - 110), blocks };
}

/** Notifications of one job → messages: a single message, or a digest. */
export function renderSlack(ns: readonly Notification[], options: SlackRenderOptions = {}): SlackMessage[] {
  if (ns.length === 0) return [];
  if (ns.length === 1) return [renderSlackSingle(ns[0] as Notification, options)];
  return renderSlackDigest(ns, options);
}
