/**
 * Email rendering (pure): a subject, a plain-text part and a self-contained
 * HTML part. API text is HTML-escaped everywhere; only http(s) URLs become
 * `<a href>` (attribute-escaped); no remote images, no external CSS (mail
 * clients block them and they would leak the reader's IP). The subject is
 * one line: CR/LF and other controls are removed so a task name cannot
 * inject headers.
 */
import { jobTypeLabel } from '../dbs/task.js';
import { assertNever } from '../errors.js';
import { escapeHtml, htmlText, oneLine, safeHttpUrl, stripControl, truncate } from '../text/escape.js';
import { DEFAULT_PRESENTATION, formatBytes, formatTimestamp, type Presentation, statusWord, taskDuration } from '../text/format.js';
import { advancedRows, advancedSentence, sourceId, sourceWord } from './advanced.js';
import type { RenderedMessage } from './channel.js';
import type { Notification, WatchdogNotice } from './event.js';
import { type Messages, messagesFor, watchdogText } from './i18n.js';
import { linkValidity, missingLinkNote } from './link-text.js';

/** Subjects longer than this are cut (RFC 5322 recommends 78 per line; folded headers stay readable up to ~200). */
export const SUBJECT_MAX = 180;
/** Longest error message shown in full (the rest is cut). */
const ERROR_MAX = 4000;

export interface EmailMessage extends RenderedMessage {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const STYLE = {
  body: 'font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#1d1d1f;',
  table: 'border-collapse:collapse;margin:8px 0;',
  th: 'text-align:left;padding:4px 12px 4px 0;color:#555;font-weight:600;vertical-align:top;',
  td: 'padding:4px 12px 4px 0;vertical-align:top;',
  cell: 'padding:4px 8px;border:1px solid #ddd;vertical-align:top;',
  quote: 'margin:8px 0;padding:8px 12px;border-left:4px solid #d33;background:#fbeaea;white-space:pre-wrap;font-family:monospace;',
  footer: 'color:#888;font-size:12px;margin-top:16px;',
} as const;

function taskName(n: Notification): string {
  return n.task.name ?? n.task.taskId;
}

function verb(n: Notification, m: Messages): string {
  const reminder = n.reminder ? `${m.reminderTitle}: ` : '';
  switch (n.event) {
    case 'finished':
      return reminder + m.title.finished;
    case 'failed':
      return reminder + m.title.failedLoud;
    case 'progress':
      return reminder + m.title.progress(statusWord(n.task.status));
    case 'expired':
      return reminder + m.title.expiredLoud;
    case 'expiring':
      return reminder + m.title.expiring;
    default:
      return assertNever(n.event, 'event');
  }
}

/** One header line: controls out, cut to SUBJECT_MAX. */
export function cleanSubject(subject: string): string {
  return truncate(oneLine(subject), SUBJECT_MAX);
}

function anchor(url: string, label: string): string {
  return `<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>`;
}

/** [label, text value, optional html value] rows of the detail table. */
function detailRows(n: Notification, m: Messages, p: Presentation): { label: string; text: string; html?: string }[] {
  const t = n.task;
  const f = m.field;
  const rows: { label: string; text: string; html?: string }[] = [
    { label: sourceWord(n) === 'instance' ? m.instance : f.plan, text: `${oneLine(n.plan.name)} (${oneLine(sourceId(n))})` },
    { label: f.task, text: `${oneLine(taskName(n))} (${oneLine(t.taskId)})` },
    { label: f.status, text: statusWord(t.status) },
  ];
  const add = (label: string, value: string | undefined) => {
    if (value) rows.push({ label, text: oneLine(value) });
  };
  add(f.database, t.dbType);
  const jobType = jobTypeLabel(t.jobType);
  add(f.backup, jobType === undefined ? undefined : m.jobType(jobType));
  add(f.format, t.dataFormat);
  add(f.size, formatBytes(t.dataSize));
  add(f.created, formatTimestamp(t.createdAt, p));
  add(f.finished, formatTimestamp(t.finishedAt, p));
  add(f.duration, taskDuration(t.createdAt, t.finishedAt, p));
  for (const row of advancedRows(n)) add(row.label, row.text);
  if (t.downloadWay === 'auto') {
    add(f.gateway, t.gatewayId === undefined ? undefined : String(t.gatewayId));
    add(f.directory, t.downloadDir);
  } else {
    const internet = safeHttpUrl(t.internetUrl);
    const intranet = safeHttpUrl(t.intranetUrl);
    const valid = (url: string) => {
      const validity = linkValidity(url, m, p);
      return validity ? ` (${validity})` : '';
    };
    if (internet) {
      rows.push({ label: f.publicUrl, text: `${internet}${valid(internet)}`, html: `${anchor(internet, m.downloadPublic)}${escapeHtml(valid(internet))}` });
    }
    if (intranet) {
      rows.push({ label: f.intranetUrl, text: `${intranet}${valid(intranet)}`, html: `${anchor(intranet, m.downloadIntranet)}${escapeHtml(valid(intranet))}` });
    }
    const missing = missingLinkNote(n, m, p);
    if (missing) rows.push({ label: m.download, text: missing });
  }
  return rows;
}

function page(title: string, inner: string, m: Messages = messagesFor('en'), lang = 'en'): string {
  return [
    '<!DOCTYPE html>',
    `<html lang="${lang}"><head><meta charset="utf-8">`,
    `<title>${escapeHtml(title)}</title>`,
    '</head>',
    `<body style="${STYLE.body}">`,
    inner,
    `<p style="${STYLE.footer}">${escapeHtml(m.emailFooter)}</p>`,
    '</body></html>',
  ].join('\n');
}

export function renderEmailSingle(n: Notification, presentation: Presentation = DEFAULT_PRESENTATION): EmailMessage {
  const m = messagesFor(presentation.locale);
  const subject = cleanSubject(`[dbswatch] ${verb(n, m)}: ${taskName(n)} (${n.plan.name})`);
  const rows = detailRows(n, m, presentation);
  const error = n.event === 'failed' ? stripControl(n.task.errorMessage ?? m.dbsNoErrorMessage) : undefined;
  const reminder = n.reminder
    ? `${m.reminder(n.reminder.n, n.reminder.times, formatTimestamp(n.reminder.firstAt, presentation) ?? m.unknown)} · ${m.ackHint} ${n.task.taskId}`
    : undefined;
  const detected = formatTimestamp(n.detectedAt, presentation) ?? m.unknown;

  const sentence = advancedSentence(n);
  const text = [
    `${verb(n, m)}: ${oneLine((sourceWord(n) === 'instance' ? m.inInstance : m.inPlan)(taskName(n), n.plan.name))}`,
    ...(reminder ? ['', oneLine(reminder)] : []),
    ...(sentence ? ['', sentence] : []),
    '',
    ...rows.map((r) => `${r.label}: ${r.text}`),
    ...(error !== undefined ? ['', `${m.field.error}:`, truncate(error, ERROR_MAX)] : []),
    '',
    `${m.field.detected}: ${detected}`,
    // `Notification: <id>` stays untranslated: tools (and tests) read the id from it.
    `Notification: ${n.id}`,
  ].join('\n');

  const table = rows
    .map((r) => `<tr><th style="${STYLE.th}">${escapeHtml(r.label)}</th><td style="${STYLE.td}">${r.html ?? escapeHtml(r.text)}</td></tr>`)
    .join('\n');
  const html = page(
    subject,
    [
      `<h2>${escapeHtml(verb(n, m))}: ${htmlText(taskName(n), 500)}</h2>`,
      reminder ? `<p><em>${htmlText(reminder, 1000)}</em></p>` : '',
      sentence ? `<p>${htmlText(sentence, 2000)}</p>` : '',
      `<table style="${STYLE.table}">\n${table}\n</table>`,
      error !== undefined
        ? `<p><strong>${escapeHtml(m.field.error)}</strong></p>\n<div style="${STYLE.quote}">${htmlText(error, ERROR_MAX, { multiline: true })}</div>`
        : '',
      `<p style="${STYLE.footer}">${escapeHtml(m.detectedAt(detected))} · notification ${htmlText(n.id, 300)}</p>`,
    ].join('\n'),
    m,
    presentation.locale,
  );
  return { ids: [n.id], subject, text, html };
}

function countsLine(ns: readonly Notification[], m: Messages): string {
  let ready = 0;
  let failed = 0;
  for (const n of ns) {
    if (n.event === 'finished') ready += 1;
    else if (n.event === 'failed') failed += 1;
  }
  return m.digestSummary(ns.length, ready, failed, ns.length - ready - failed);
}

export function renderEmailDigest(ns: readonly Notification[], presentation: Presentation = DEFAULT_PRESENTATION): EmailMessage {
  const m = messagesFor(presentation.locale);
  const p = presentation;
  const summary = countsLine(ns, m);
  const subject = cleanSubject(`[dbswatch] ${summary}`);
  const textLines: string[] = [summary, ''];
  const htmlRows: string[] = [];
  for (const n of ns) {
    const t = n.task;
    const internet = t.downloadWay === 'auto' ? undefined : safeHttpUrl(t.internetUrl);
    const intranet = t.downloadWay === 'auto' ? undefined : safeHttpUrl(t.intranetUrl);
    const detail =
      n.event === 'failed'
        ? `${m.field.error}: ${oneLine(truncate(t.errorMessage ?? m.noErrorMessage, 500))}`
        : t.downloadWay === 'auto'
          ? `${m.pushedTo} ${m.gatewayPart(String(t.gatewayId ?? '?'))} ${oneLine(t.downloadDir ?? '')}`.trim()
          : '';
    textLines.push(
      `- ${verb(n, m)}: ${oneLine((sourceWord(n) === 'instance' ? m.inInstance : m.inPlan)(taskName(n), n.plan.name))} ${formatBytes(t.dataSize) ?? ''}`.trimEnd(),
    );
    if (detail) textLines.push(`  ${detail}`);
    const valid = (url: string) => {
      const validity = linkValidity(url, m, p);
      return validity ? ` (${validity})` : '';
    };
    const missing = missingLinkNote(n, m, p);
    if (internet) textLines.push(`  ${m.field.publicUrl}: ${internet}${valid(internet)}`);
    if (intranet) textLines.push(`  ${m.field.intranetUrl}: ${intranet}${valid(intranet)}`);
    if (missing) textLines.push(`  ${missing}`);

    const links = [
      internet ? `${anchor(internet, m.field.publicUrl)}${escapeHtml(valid(internet))}` : '',
      intranet ? `${anchor(intranet, m.field.intranetUrl)}${escapeHtml(valid(intranet))}` : '',
      missing ? escapeHtml(missing) : '',
    ].filter(Boolean);
    const cells = [
      escapeHtml(verb(n, m)),
      htmlText(taskName(n), 300),
      htmlText(n.plan.name, 200),
      escapeHtml(formatBytes(t.dataSize) ?? ''),
      escapeHtml(formatTimestamp(t.finishedAt, presentation) ?? ''),
      links.length ? links.join(' · ') : htmlText(detail, 600),
    ];
    htmlRows.push(`<tr>${cells.map((c) => `<td style="${STYLE.cell}">${c}</td>`).join('')}</tr>`);
  }
  const header = [m.field.result, m.field.task, m.field.plan, m.field.size, m.field.finished, m.field.links]
    .map((h) => `<th style="${STYLE.cell}text-align:left;background:#f4f4f4;">${escapeHtml(h)}</th>`)
    .join('');
  const html = page(
    subject,
    [`<h2>${escapeHtml(summary)}</h2>`, `<table style="${STYLE.table}">\n<tr>${header}</tr>\n${htmlRows.join('\n')}\n</table>`].join('\n'),
    m,
    presentation.locale,
  );
  return { ids: ns.map((n) => n.id), subject, text: textLines.join('\n'), html };
}

/** Notifications of one job → one email (a single, or a digest table). */
export function renderEmail(ns: readonly Notification[], presentation: Presentation = DEFAULT_PRESENTATION): EmailMessage[] {
  if (ns.length === 0) return [];
  if (ns.length === 1) return [renderEmailSingle(ns[0] as Notification, presentation)];
  return [renderEmailDigest(ns, presentation)];
}

/** A watchdog event → one email: the catalogue's title as subject and heading, its lines as the body. */
export function renderEmailWatchdog(notice: WatchdogNotice, presentation: Presentation = DEFAULT_PRESENTATION): EmailMessage {
  const m = messagesFor(presentation.locale);
  const { title, lines } = watchdogText(notice, presentation);
  const subject = cleanSubject(`[dbswatch] ${title}`);
  const text = [title, '', ...lines.map(stripControl)].join('\n');
  const html = page(
    subject,
    [`<h2>${htmlText(title, 500)}</h2>`, ...lines.map((line) => `<p>${htmlText(line, ERROR_MAX, { multiline: true })}</p>`)].join('\n'),
    m,
    presentation.locale,
  );
  return { ids: [notice.id], subject, text, html };
}
