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

/** Failed downloads of the recent history, each with an Ack button (stops its reminders). */
function failedToAck(report: StatusReport, actionsEnabled: boolean): string {
  const failed = report.recentTransitions.filter((t) => t.event === 'failed').slice(0, 10);
  if (failed.length === 0 || !actionsEnabled) return '';
  const rows = failed.map(
    (t) => `<tr><td>${h(t.planName)}</td><td>${h(t.taskName ?? t.taskId)}<div class="sub">${h(t.taskId)}</div></td><td><button type="button" class="ack" data-task="${h(t.taskId)}">Ack</button></td></tr>`,
  );
  return `<h3>Failed downloads: acknowledge to stop their reminders</h3><table id="acks" class="compact">${rows.join('')}</table>`;
}

export function silencesSection(report: StatusReport, locale: Locale, actionsEnabled = false): string {
  if (!report.silences) return '';
  const m = messagesFor(locale).page;
  const p = { timezone: 'UTC', locale };
  const rows = report.silences.map((s) => {
    const when = s.weekly ? `${s.weekly.days.join(',')} ${s.weekly.start}–${s.weekly.end} ${s.weekly.timezone}` : (formatTimestamp(s.until, p) ?? '');
    const remove = s.source === 'runtime' && actionsEnabled ? `<button type="button" class="unsilence" data-silence="${h(s.id)}">Remove</button>` : '';
    return `<tr><td><code>${h(s.id)}</code></td><td>${h(s.plans?.join(', ') ?? '*')}</td><td>${h(s.events?.join(', ') ?? '*')}</td><td>${h(s.channels?.join(', ') ?? '*')}</td><td>${h(when)}</td><td>${h(s.reason)}</td><td>${remove}</td></tr>`;
  });
  const silenced = (report.silenced ?? []).slice(0, 20).map(
    (r) => `<tr><td>${h(formatTimestamp(r.at, p) ?? '')}</td><td>${h(r.planId)}</td><td>${h(r.taskId ?? '')}</td><td>${h(r.event)}</td><td>${h(r.channel)}</td><td><code>${h(r.silenceId)}</code></td></tr>`,
  );
  const table = rows.length
    ? `<table><tr><th>id</th><th>plans</th><th>events</th><th>channels</th><th>${h(m.until)}</th><th>${h(m.reason)}</th></tr>${rows.join('')}</table>`
    : `<p class="muted">${h(m.noSilences)}</p>`;
  const silencedTable = silenced.length ? `<h3>${h(m.silenced)}</h3><table>${silenced.join('')}</table>` : '';
  return `<section id="silences"><h2>${h(m.silences)} <span class="count">${report.silences.length}</span></h2>${table}${silencedTable}${failedToAck(report, actionsEnabled)}</section>`;
}

/**
 * The "add a silence" form and the script behind Add / Remove / Ack. Rendered outside the page's
 * self-refreshing part (a refresh would wipe a half-filled form); buttons inside it are found by
 * event delegation. Same rules as Retry: JSON POST/DELETE, the token asked for once on 401.
 */
export function silenceControls(nonce: string, actionsEnabled: boolean): string {
  if (!actionsEnabled) return '';
  return `<section id="silence-add"><form id="silence-form">
<input name="plans" placeholder="plan glob, e.g. dbsq*" size="18"> <input name="events" placeholder="events (failed,…)" size="14">
<input name="for" placeholder="for, e.g. 2h" size="8" required> <input name="reason" placeholder="reason" size="24" required>
<button type="submit">Add silence</button></form></section>
<script nonce="${h(nonce)}">
(function () {
  'use strict';
  function send(method, url, body, token) {
    var headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (token) headers.authorization = 'Bearer ' + token;
    return fetch(url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  }
  function act(method, url, body) {
    var result = document.getElementById('action-result');
    return send(method, url, body, sessionStorage.getItem('dbswatch-token'))
      .then(function (res) {
        if (res.status !== 401) return res;
        var entered = window.prompt('Token for actions (http.authToken):');
        if (!entered) return res;
        sessionStorage.setItem('dbswatch-token', entered);
        return send(method, url, body, entered);
      })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (b) {
          if (result) { result.textContent = (b && (b.message || b.status)) || ('HTTP ' + res.status); result.className = res.ok ? 'ok' : 'bad'; }
        });
      });
  }
  var list = function (v) { return v ? v.split(',').map(function (s) { return s.trim(); }).filter(Boolean) : undefined; };
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form || form.id !== 'silence-form') return;
    event.preventDefault();
    var body = { for: form.elements['for'].value, reason: form.elements.reason.value };
    var plans = list(form.elements.plans.value); if (plans) body.plans = plans;
    var events = list(form.elements.events.value); if (events) body.events = events;
    act('POST', 'api/silences', body).then(function () { form.reset(); });
  });
  document.addEventListener('click', function (event) {
    var el = event.target && event.target.closest ? event.target.closest('button.unsilence, button.ack') : null;
    if (!el) return;
    el.disabled = true;
    if (el.classList.contains('ack')) act('POST', 'api/acks/' + encodeURIComponent(el.getAttribute('data-task') || ''), {});
    else act('DELETE', 'api/silences/' + encodeURIComponent(el.getAttribute('data-silence') || ''));
  });
})();
</script>`;
}
