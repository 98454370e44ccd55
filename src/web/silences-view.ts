/**
 * The status page's Silences section (pure): silences in force and the
 * notifications they stopped, in the page's locale. Text from Redis goes
 * through `h()` like the rest of the page.
 */
import type { Locale } from '../config.js';
import { messagesFor } from '../notify/i18n.js';
import { formatTimestamp } from '../notify/format.js';
import type { StatusReport } from '../status/report.js';
import { escapeHtml, oneLine } from '../notify/escape.js';

/** Same escaping as the page's `h()` (not imported: page.ts imports this file). */
const h = (text: string | undefined): string => escapeHtml(oneLine(text ?? ''));

export function silencesSection(report: StatusReport, locale: Locale): string {
  if (!report.silences) return '';
  const m = messagesFor(locale).page;
  const p = { timezone: 'UTC', locale };
  const rows = report.silences.map((s) => {
    const when = s.weekly ? `${s.weekly.days.join(',')} ${s.weekly.start}–${s.weekly.end} ${s.weekly.timezone}` : (formatTimestamp(s.until, p) ?? '');
    return `<tr><td><code>${h(s.id)}</code></td><td>${h(s.plans?.join(', ') ?? '*')}</td><td>${h(s.events?.join(', ') ?? '*')}</td><td>${h(s.channels?.join(', ') ?? '*')}</td><td>${h(when)}</td><td>${h(s.reason)}</td></tr>`;
  });
  const silenced = (report.silenced ?? []).slice(0, 20).map(
    (r) => `<tr><td>${h(formatTimestamp(r.at, p) ?? '')}</td><td>${h(r.planId)}</td><td>${h(r.taskId ?? '')}</td><td>${h(r.event)}</td><td>${h(r.channel)}</td><td><code>${h(r.silenceId)}</code></td></tr>`,
  );
  const table = rows.length
    ? `<table><tr><th>id</th><th>plans</th><th>events</th><th>channels</th><th>${h(m.until)}</th><th>${h(m.reason)}</th></tr>${rows.join('')}</table>`
    : `<p class="muted">${h(m.noSilences)}</p>`;
  const silencedTable = silenced.length ? `<h3>${h(m.silenced)}</h3><table>${silenced.join('')}</table>` : '';
  return `<section id="silences"><h2>${h(m.silences)} <span class="count">${report.silences.length}</span></h2>${table}${silencedTable}</section>`;
}
