/**
 * The status page's Silences section (pure): silences in force and the
 * notifications they stopped, in the page's locale, built with the
 * auto-escaping `html` template like the rest of the page. Its actions
 * (add/remove a silence, Ack) are in `assets/silences.js`.
 */
import type { Locale } from '../config.js';
import { messagesFor } from '../notify/i18n.js';
import type { StatusReport } from '../status/report.js';
import { formatTimestamp } from '../text/format.js';
import { type Html, html } from './html.js';

/** Failed downloads of the recent history, each with an Ack button (stops its reminders). */
function failedToAck(report: StatusReport, actionsEnabled: boolean): Html | '' {
  const failed = report.recentTransitions.filter((t) => t.event === 'failed').slice(0, 10);
  if (failed.length === 0 || !actionsEnabled) return '';
  const rows = failed.map(
    (t) =>
      html`<tr><td>${t.planName}</td><td>${t.taskName ?? t.taskId}<div class="sub">${t.taskId}</div></td><td><button type="button" class="ack" data-task="${t.taskId}">Ack</button></td></tr>`,
  );
  return html`<h3>Failed downloads: acknowledge to stop their reminders</h3><table id="acks" class="compact">${rows}</table>`;
}

export function silencesSection(report: StatusReport, locale: Locale, actionsEnabled = false): Html | '' {
  if (!report.silences) return '';
  const m = messagesFor(locale).page;
  const p = { timezone: 'UTC', locale };
  const rows = report.silences.map((s) => {
    const when = s.weekly ? `${s.weekly.days.join(',')} ${s.weekly.start}–${s.weekly.end} ${s.weekly.timezone}` : (formatTimestamp(s.until, p) ?? '');
    const remove = s.source === 'runtime' && actionsEnabled && html`<button type="button" class="unsilence" data-silence="${s.id}">Remove</button>`;
    return html`<tr><td><code>${s.id}</code></td><td>${s.plans?.join(', ') ?? '*'}</td><td>${s.events?.join(', ') ?? '*'}</td><td>${s.channels?.join(', ') ?? '*'}</td><td>${when}</td><td>${s.reason}</td><td>${remove}</td></tr>`;
  });
  const silenced = (report.silenced ?? [])
    .slice(0, 20)
    .map(
      (r) =>
        html`<tr><td>${formatTimestamp(r.at, p) ?? ''}</td><td>${r.planId}</td><td>${r.taskId ?? ''}</td><td>${r.event}</td><td>${r.channel}</td><td><code>${r.silenceId}</code></td></tr>`,
    );
  const table = rows.length
    ? html`<table><tr><th>id</th><th>plans</th><th>events</th><th>channels</th><th>${m.until}</th><th>${m.reason}</th></tr>${rows}</table>`
    : html`<p class="muted">${m.noSilences}</p>`;
  const silencedTable = silenced.length > 0 && html`<h3>${m.silenced}</h3><table>${silenced}</table>`;
  return html`<section id="silences"><h2>${m.silences} <span class="count">${report.silences.length}</span></h2>${table}${silencedTable}${failedToAck(report, actionsEnabled)}</section>`;
}

/** The form to add a silence, and the script behind the page's silence and Ack buttons; nothing without actions. */
export function silenceControls(nonce: string, actionsEnabled: boolean): Html | '' {
  if (!actionsEnabled) return '';
  return html`<section id="silence-add"><form id="silence-form">
<input name="plans" placeholder="plan glob, e.g. dbsq*" size="18"> <input name="events" placeholder="events (failed,…)" size="14">
<input name="for" placeholder="for, e.g. 2h" size="8" required> <input name="reason" placeholder="reason" size="24" required>
<button type="submit">Add silence</button></form></section>
<script src="assets/silences.js" nonce="${nonce}" defer></script>`;
}
