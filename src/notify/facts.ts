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
import { formatBytes, formatTimestamp, statusWord, taskDuration } from '../text/format.js';
import type { Notification } from './event.js';

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

export function titleOf(n: Notification): string {
  switch (n.event) {
    case 'finished':
      return 'Download ready';
    case 'failed':
      return 'Download failed';
    case 'progress':
      return `Download ${statusWord(n.task.status)}`;
    case 'expired':
      return 'Download expired';
    case 'expiring':
      return 'Download expiring soon';
    default:
      return assertNever(n.event, 'event');
  }
}

export function taskNameOf(n: Notification): string {
  return n.task.name ?? n.task.taskId;
}

/** The links of a manual download, public first; none for automatic downloads or non-http(s) values. */
export function linksOf(n: Notification): Link[] {
  if (n.task.downloadWay === 'auto') return [];
  const links: Link[] = [];
  const internet = safeHttpUrl(n.task.internetUrl);
  if (internet) links.push({ label: 'Download (public URL)', url: internet });
  const intranet = safeHttpUrl(n.task.intranetUrl);
  if (intranet) links.push({ label: 'Download (intranet / VPC URL)', url: intranet });
  return links;
}

export function messageFacts(n: Notification): MessageFacts {
  const task = n.task;
  const facts: Fact[] = [
    { label: 'Plan', value: `${n.plan.name} (${n.plan.id})` },
    { label: 'Task', value: `${taskNameOf(n)} (${task.taskId})` },
  ];
  const add = (label: string, value: string | undefined) => {
    if (value) facts.push({ label, value });
  };
  add('Database', task.dbType);
  add('Backup', jobTypeLabel(task.jobType));
  add('Format', task.dataFormat);
  add('Size', formatBytes(task.dataSize));
  add('Created', formatTimestamp(task.createdAt));
  add('Finished', formatTimestamp(task.finishedAt));
  add('Duration', taskDuration(task.createdAt, task.finishedAt));
  if (n.event === 'progress' && n.previousStatus) add('Status', `${statusWord(n.previousStatus)} → ${statusWord(task.status)}`);

  let destination: string | undefined;
  if (task.downloadWay === 'auto') {
    const parts: string[] = [];
    if (task.gatewayId !== undefined) parts.push(`backup gateway ${task.gatewayId}`);
    if (task.downloadDir) parts.push(`directory ${task.downloadDir}`);
    if (parts.length) destination = `${n.event === 'finished' ? 'Pushed to' : 'Destination:'} ${parts.join(', ')}`;
  }
  const detected = formatTimestamp(n.detectedAt);
  return {
    emoji: emojiOf(n),
    title: titleOf(n),
    task: taskNameOf(n),
    plan: n.plan.name,
    facts,
    links: linksOf(n),
    ...(destination ? { destination } : {}),
    ...(n.event === 'failed' ? { error: task.errorMessage ?? 'DBS gave no error message' } : {}),
    footer: `dbswatch${detected ? ` · detected ${detected}` : ''} · notification ${n.id}`,
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

export function digestEntry(n: Notification): DigestEntry {
  const size = formatBytes(n.task.dataSize);
  const detail = n.event === 'progress' ? statusWord(n.task.status) : n.event === 'finished' ? size : undefined;
  const url = n.event === 'finished' ? linksOf(n)[0]?.url : undefined;
  return {
    n,
    emoji: emojiOf(n),
    task: taskNameOf(n),
    plan: n.plan.name,
    ...(detail ? { detail } : {}),
    ...(n.event === 'failed' ? { error: n.task.errorMessage ?? 'no error message' } : {}),
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
export function partLabel(index: number, count: number): string {
  return count > 1 ? ` (part ${index + 1} of ${count})` : '';
}
