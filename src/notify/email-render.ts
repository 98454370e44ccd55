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
import type { RenderedMessage } from './channel.js';
import { escapeHtml, htmlText, oneLine, safeHttpUrl, stripControl, truncate } from './escape.js';
import type { Notification } from './event.js';
import { formatBytes, formatTimestamp, taskDuration } from './format.js';
import { advancedRows, advancedSentence, sourceId, sourceWord } from './advanced.js';

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

function statusWord(status: string): string {
  return truncate(oneLine(status).replace(/[^A-Za-z0-9_ -]/g, ''), 40) || 'unknown';
}

function verb(n: Notification): string {
  switch (n.event) {
    case 'finished':
      return 'Download ready';
    case 'failed':
      return 'Download FAILED';
    case 'progress':
      return `Download ${statusWord(n.task.status)}`;
    case 'expired':
      return 'Download EXPIRED';
    case 'expiring':
      return 'Download expiring soon';
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
function detailRows(n: Notification): { label: string; text: string; html?: string }[] {
  const t = n.task;
  const rows: { label: string; text: string; html?: string }[] = [
    { label: sourceWord(n) === 'instance' ? 'Instance' : 'Plan', text: `${oneLine(n.plan.name)} (${oneLine(sourceId(n))})` },
    { label: 'Task', text: `${oneLine(taskName(n))} (${oneLine(t.taskId)})` },
    { label: 'Status', text: statusWord(t.status) },
  ];
  const add = (label: string, value: string | undefined) => {
    if (value) rows.push({ label, text: oneLine(value) });
  };
  add('Database', t.dbType);
  add('Backup', jobTypeLabel(t.jobType));
  add('Format', t.dataFormat);
  add('Size', formatBytes(t.dataSize));
  add('Created', formatTimestamp(t.createdAt));
  add('Finished', formatTimestamp(t.finishedAt));
  add('Duration', taskDuration(t.createdAt, t.finishedAt));
  for (const row of advancedRows(n)) add(row.label, row.text);
  if (t.downloadWay === 'auto') {
    add('Backup gateway', t.gatewayId === undefined ? undefined : String(t.gatewayId));
    add('Directory', t.downloadDir);
  } else {
    const internet = safeHttpUrl(t.internetUrl);
    const intranet = safeHttpUrl(t.intranetUrl);
    if (internet) rows.push({ label: 'Public URL', text: internet, html: anchor(internet, 'Download (public URL)') });
    if (intranet) rows.push({ label: 'Intranet URL', text: intranet, html: anchor(intranet, 'Download (intranet / VPC)') });
  }
  return rows;
}

function page(title: string, inner: string): string {
  return [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '</head>',
    `<body style="${STYLE.body}">`,
    inner,
    `<p style="${STYLE.footer}">Sent by dbswatch. Download links are pre-signed and expire; do not forward this message.</p>`,
    '</body></html>',
  ].join('\n');
}

export function renderEmailSingle(n: Notification): EmailMessage {
  const subject = cleanSubject(`[dbswatch] ${verb(n)}: ${taskName(n)} (${n.plan.name})`);
  const rows = detailRows(n);
  const error = n.event === 'failed' ? stripControl(n.task.errorMessage ?? 'DBS gave no error message') : undefined;

  const sentence = advancedSentence(n);
  const text = [
    `${verb(n)}: ${oneLine(taskName(n))} (${sourceWord(n)} ${oneLine(n.plan.name)})`,
    ...(sentence ? ['', sentence] : []),
    '',
    ...rows.map((r) => `${r.label}: ${r.text}`),
    ...(error !== undefined ? ['', 'Error:', truncate(error, ERROR_MAX)] : []),
    '',
    `Detected: ${formatTimestamp(n.detectedAt) ?? 'unknown'}`,
    `Notification: ${n.id}`,
  ].join('\n');

  const table = rows
    .map(
      (r) =>
        `<tr><th style="${STYLE.th}">${escapeHtml(r.label)}</th><td style="${STYLE.td}">${r.html ?? escapeHtml(r.text)}</td></tr>`,
    )
    .join('\n');
  const html = page(
    subject,
    [
      `<h2>${escapeHtml(verb(n))}: ${htmlText(taskName(n), 500)}</h2>`,
      sentence ? `<p>${htmlText(sentence, 2000)}</p>` : '',
      `<table style="${STYLE.table}">\n${table}\n</table>`,
      error !== undefined
        ? `<p><strong>Error</strong></p>\n<div style="${STYLE.quote}">${htmlText(error, ERROR_MAX, { multiline: true })}</div>`
        : '',
      `<p style="${STYLE.footer}">Detected ${escapeHtml(formatTimestamp(n.detectedAt) ?? 'unknown')} · notification ${htmlText(n.id, 300)}</p>`,
    ].join('\n'),
  );
  return { ids: [n.id], subject, text, html };
}

function countsLine(ns: readonly Notification[]): string {
  let ready = 0;
  let failed = 0;
  for (const n of ns) {
    if (n.event === 'finished') ready += 1;
    else if (n.event === 'failed') failed += 1;
  }
  const other = ns.length - ready - failed;
  const parts = [`${ready} ready`];
  if (failed || !other) parts.push(`${failed} failed`);
  if (other) parts.push(`${other} updated`);
  return `${ns.length} downloads: ${parts.join(', ')}`;
}

export function renderEmailDigest(ns: readonly Notification[]): EmailMessage {
  const summary = countsLine(ns);
  const subject = cleanSubject(`[dbswatch] ${summary}`);
  const textLines: string[] = [summary, ''];
  const htmlRows: string[] = [];
  for (const n of ns) {
    const t = n.task;
    const internet = t.downloadWay === 'auto' ? undefined : safeHttpUrl(t.internetUrl);
    const intranet = t.downloadWay === 'auto' ? undefined : safeHttpUrl(t.intranetUrl);
    const detail =
      n.event === 'failed'
        ? `Error: ${oneLine(truncate(t.errorMessage ?? 'no error message', 500))}`
        : t.downloadWay === 'auto'
          ? `Pushed to gateway ${t.gatewayId ?? '?'} ${oneLine(t.downloadDir ?? '')}`.trim()
          : '';
    textLines.push(
      `- ${verb(n)}: ${oneLine(taskName(n))} (${sourceWord(n)} ${oneLine(n.plan.name)}) ${formatBytes(t.dataSize) ?? ''}`.trimEnd(),
    );
    if (detail) textLines.push(`  ${detail}`);
    if (internet) textLines.push(`  Public: ${internet}`);
    if (intranet) textLines.push(`  Intranet: ${intranet}`);

    const links = [
      internet ? anchor(internet, 'public') : '',
      intranet ? anchor(intranet, 'intranet') : '',
    ].filter(Boolean);
    const cells = [
      escapeHtml(verb(n)),
      htmlText(taskName(n), 300),
      htmlText(n.plan.name, 200),
      escapeHtml(formatBytes(t.dataSize) ?? ''),
      escapeHtml(formatTimestamp(t.finishedAt) ?? ''),
      links.length ? links.join(' · ') : htmlText(detail, 600),
    ];
    htmlRows.push(`<tr>${cells.map((c) => `<td style="${STYLE.cell}">${c}</td>`).join('')}</tr>`);
  }
  const header = ['Result', 'Task', 'Plan', 'Size', 'Finished', 'Links / error']
    .map((h) => `<th style="${STYLE.cell}text-align:left;background:#f4f4f4;">${h}</th>`)
    .join('');
  const html = page(
    subject,
    [
      `<h2>${escapeHtml(summary)}</h2>`,
      `<table style="${STYLE.table}">\n<tr>${header}</tr>\n${htmlRows.join('\n')}\n</table>`,
    ].join('\n'),
  );
  return { ids: ns.map((n) => n.id), subject, text: textLines.join('\n'), html };
}

/** Notifications of one job → one email (a single, or a digest table). */
export function renderEmail(ns: readonly Notification[]): EmailMessage[] {
  if (ns.length === 0) return [];
  if (ns.length === 1) return [renderEmailSingle(ns[0] as Notification)];
  return [renderEmailDigest(ns)];
}
