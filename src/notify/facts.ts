/**
 * The facts of a notification as plain (unescaped) data: what every chat
 * renderer (DingTalk, Feishu, WeCom, Teams) shows, the same facts as the
 * Slack message — plan, task, database, backup type, format, size, times,
 * links (http(s) only), destination of automatic downloads, the error of a
 * failure. Pure. Each platform renderer escapes these strings for its own
 * markup and cuts them to its own limits; dates go through format.ts so a
 * per-channel time zone is one change there.
 */
import { jobTypeLabel } from '../dbs/task.js';
import { assertNever } from '../errors.js';
import { safeHttpUrl } from '../text/escape.js';
import { DEFAULT_PRESENTATION, formatBytes, formatTimestamp, type Presentation, statusWord, taskDuration } from '../text/format.js';
import { advancedRows, sourceWord } from './advanced.js';
import type { Notification } from './event.js';
import { type Messages, messagesFor } from './i18n.js';
import { linkValidity, missingLinkNote } from './link-text.js';

/** A labelled value. `value` is API text (escape it). */
export interface Fact {
  readonly label: string;
  readonly value: string;
}

/** A download link; `url` is a canonical http(s) URL (safeHttpUrl). */
export interface Link {
  readonly label: string;
  readonly url: string;
}

/** Everything one single message says, unescaped. */
export interface MessageFacts {
  readonly emoji: string;
  /** `Download ready` / `Download failed` / `Download running` (our text). */
  readonly title: string;
  /** Task name (or id), API text. */
  readonly task: string;
  /** Plan name, API text. */
  readonly plan: string;
  readonly facts: readonly Fact[];
  readonly links: readonly Link[];
  /** Automatic downloads: where DBS pushed the files (API text). */
  readonly destination?: string;
  /** Failures: the error text (API text, possibly multi-line). */
  readonly error?: string;
  /** `dbswatch · detected … · notification …` (contains the id: API-derived, escape it). */
  readonly footer: string;
  /** "<task> in plan <plan>" in the channel's language; give it the escaped, marked-up task and plan. */
  inSource(task: string, plan: string): string;
  /** The label of the error block. */
  readonly errorLabel: string;
}

export function emojiOf(n: Notification): string {
  switch (n.event) {
    case 'finished':
      return '✅';
    case 'failed':
      return '❌';
    case 'progress':
      return 'ℹ️';
    case 'expired':
      return '⌛';
    case 'expiring':
      return '⏳';
    default:
      return assertNever(n.event, 'event');
  }
}

export function titleOf(n: Notification, m: Messages = messagesFor('en')): string {
  switch (n.event) {
    case 'finished':
      return m.title.finished;
    case 'failed':
      return m.title.failed;
    case 'progress':
      return m.title.progress(statusWord(n.task.status));
    case 'expired':
      return m.title.expired;
    case 'expiring':
      return m.title.expiring;
    default:
      return assertNever(n.event, 'event');
  }
}

export function taskNameOf(n: Notification): string {
  return n.task.name ?? n.task.taskId;
}

/** The links of a manual download, public first; none for automatic downloads or non-http(s) values. */
export function linksOf(n: Notification, m: Messages = messagesFor('en')): Link[] {
  if (n.task.downloadWay === 'auto') return [];
  const links: Link[] = [];
  const internet = safeHttpUrl(n.task.internetUrl);
  if (internet) links.push({ label: m.downloadPublic, url: internet });
  const intranet = safeHttpUrl(n.task.intranetUrl);
  if (intranet) links.push({ label: m.downloadIntranet, url: intranet });
  return links;
}

/** The facts in the channel's language and time zone (`presentation`, default English/UTC). */
export function messageFacts(n: Notification, presentation: Presentation = DEFAULT_PRESENTATION): MessageFacts {
  const m = messagesFor(presentation.locale);
  const p = presentation;
  const task = n.task;
  const facts: Fact[] = [
    { label: sourceWord(n) === 'instance' ? m.instance : m.field.plan, value: `${n.plan.name} (${n.plan.id})` },
    { label: m.field.task, value: `${taskNameOf(n)} (${task.taskId})` },
  ];
  const add = (label: string, value: string | undefined) => {
    if (value) facts.push({ label, value });
  };
  add(m.field.database, task.dbType);
  const jobType = jobTypeLabel(task.jobType);
  add(m.field.backup, jobType === undefined ? undefined : m.jobType(jobType));
  add(m.field.format, task.dataFormat);
  // BackupSetDataSize is the backup set's size, not the download's.
  add(m.field.size, formatBytes(task.dataSize));
  add(m.field.created, formatTimestamp(task.createdAt, p));
  add(m.field.finished, formatTimestamp(task.finishedAt, p));
  add(m.field.duration, taskDuration(task.createdAt, task.finishedAt, p));
  if (n.event === 'progress' && n.previousStatus) add(m.field.status, `${statusWord(n.previousStatus)} → ${statusWord(task.status)}`);
  for (const row of advancedRows(n)) add(row.label, row.text);
  const links = linksOf(n, m);
  // Pre-signed links expire: say when (issue 13), or why there is none.
  add(m.download, links[0] ? linkValidity(links[0].url, m, p) : missingLinkNote(n, m, p));

  let destination: string | undefined;
  if (task.downloadWay === 'auto') {
    const parts: string[] = [];
    if (task.gatewayId !== undefined) parts.push(m.gatewayPart(String(task.gatewayId)));
    if (task.downloadDir) parts.push(m.directoryPart(task.downloadDir));
    if (parts.length) destination = `${n.event === 'finished' ? m.pushedTo : m.destination} ${parts.join(', ')}`;
  }
  const detected = formatTimestamp(n.detectedAt, p);
  return {
    emoji: emojiOf(n),
    title: titleOf(n, m),
    task: taskNameOf(n),
    plan: n.plan.name,
    facts,
    links,
    ...(destination ? { destination } : {}),
    ...(n.event === 'failed' ? { error: task.errorMessage ?? m.dbsNoErrorMessage } : {}),
    // `notification <id>` stays untranslated: tools (and tests) read the id from it.
    footer: `dbswatch${detected ? ` · ${m.detectedAt(detected)}` : ''} · notification ${n.id}`,
    inSource: sourceWord(n) === 'instance' ? m.inInstance : m.inPlan,
    errorLabel: m.field.error,
  };
}

/** One digest line as data: what the line says, unescaped. */
export interface DigestEntry {
  readonly n: Notification;
  readonly emoji: string;
  readonly task: string;
  readonly plan: string;
  /** Size (finished), status word (progress). */
  readonly detail?: string;
  readonly error?: string;
  /** The first http(s) link of a finished manual download. */
  readonly url?: string;
}

export function digestEntry(n: Notification, m: Messages = messagesFor('en')): DigestEntry {
  const size = formatBytes(n.task.dataSize);
  const detail = n.event === 'progress' ? statusWord(n.task.status) : n.event === 'finished' ? size : undefined;
  const url = n.event === 'finished' ? linksOf(n)[0]?.url : undefined;
  return {
    n,
    emoji: emojiOf(n),
    task: taskNameOf(n),
    plan: n.plan.name,
    ...(detail ? { detail } : {}),
    ...(n.event === 'failed' ? { error: n.task.errorMessage ?? m.noErrorMessage } : {}),
    ...(url ? { url } : {}),
  };
}

/**
 * Greedy packing of digest lines into messages: a line joins the current
 * chunk while `fits(chunk + line)` holds and the chunk has fewer than
 * `maxLines`; otherwise it starts a new chunk. A line that does not fit even
 * alone still gets a chunk of its own (renderers cut every line to a size
 * that always fits an empty message).
 */
export function packDigest<T>(items: readonly T[], fits: (chunk: readonly T[]) => boolean, maxLines: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  for (const item of items) {
    if (current.length > 0 && (current.length >= maxLines || !fits([...current, item]))) {
      chunks.push(current);
      current = [];
    }
    current.push(item);
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/** `(part 2 of 3)` when a digest had to be split. */
export function partLabel(index: number, count: number, m: Messages = messagesFor('en')): string {
  return count > 1 ? m.part(index + 1, count) : '';
}
