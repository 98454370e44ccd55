/**
 * The status page as one server-rendered HTML document: pure (model and
 * clock in, string out), so tests can feed it hostile names and known
 * series. Every piece of text from Redis or the DBS API goes through `h()`;
 * nothing here ever sees a download URL (the model has none to give).
 *
 * The inline script and style carry a per-response nonce and the page is
 * served with a CSP that allows only those, so even a mistake in escaping
 * could not run an injected script.
 */
import { EVENT_KINDS } from '../config.js';
import { formatDuration } from '../duration.js';
import { escapeHtml, oneLine } from '../notify/escape.js';
import { formatBytes } from '../notify/format.js';
import { type FailedNotification, type PlanHealth, type PlanStatus, QUEUE_STATES, relativeTime, type StatusReport } from '../status.js';
import type { HistoryEntry } from '../tracking/history.js';
import { type HourBucket, renderChart } from './chart.js';

/** Whether one channel got a finished transition's links (from the delivery guard's markers). */
export interface LinkDelivery {
  readonly channel: string;
  readonly delivered: boolean;
}

/** A history entry as the page shows it. */
export interface TransitionRow extends HistoryEntry {
  /** For `finished` transitions: one entry per channel the event routes to. */
  readonly deliveries?: readonly LinkDelivery[];
}

/** Notify jobs of one channel by outcome. */
export interface ChannelCounts {
  readonly channel: string;
  readonly delivered: number;
  /** Waiting, delayed (backing off) or being sent right now. */
  readonly retrying: number;
  readonly failed: number;
}

/** Everything the page shows. */
export interface PageModel {
  readonly report: StatusReport;
  /** Already filtered; newest first. */
  readonly transitions: readonly TransitionRow[];
  readonly filter: { readonly plan?: string; readonly event?: string };
  readonly channels: readonly ChannelCounts[];
  /** True when a count hit the sampling cap (the counts are then lower bounds). */
  readonly channelsCapped: boolean;
  readonly chart: readonly HourBucket[];
  /** False when no `http.authToken` is configured: the Retry button would be refused, so say why instead. */
  readonly actionsEnabled: boolean;
}

export interface RenderOptions {
  readonly now: number;
  /** CSP nonce for the inline style and script. */
  readonly nonce: string;
  /** Seconds between automatic refreshes. Default 5. */
  readonly refreshSeconds?: number;
}

/** Escapes untrusted text for element content and quoted attributes; control characters become spaces. */
export function h(text: string | number | undefined): string {
  return escapeHtml(oneLine(String(text ?? '')));
}

/** Cuts untrusted text to `max` characters before escaping (long API errors stay readable). */
function cut(text: string, max: number): string {
  const line = oneLine(text);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A `<time>` element: relative text, absolute UTC time on hover. */
export function timeAgo(at: number | undefined, now: number): string {
  if (at === undefined || !Number.isFinite(at)) return '<span class="muted">never</span>';
  const iso = new Date(at).toISOString();
  return `<time datetime="${iso}" title="${iso}">${h(relativeTime(at, now))}</time>`;
}

const HEALTH_TEXT: Record<PlanHealth, string> = {
  ok: 'ok',
  failing: 'failing',
  pending: 'pending',
  stale: 'stale',
};

function badge(health: PlanHealth): string {
  return `<span class="badge ${health}">${HEALTH_TEXT[health]}</span>`;
}

/**
 * Colour class of a task status. Statuses come from the API: only known
 * ones map to a class, anything else is "other" — the raw value never lands
 * in an attribute.
 */
const STATUS_CLASS: Readonly<Record<string, string>> = {
  finish: 's-finish',
  stop: 's-failed',
  init: 's-failed',
  running: 's-running',
  schedule: 's-running',
  checking: 's-waiting',
  check_pass: 's-waiting',
  pause: 's-pause',
};
const statusClass = (status: string) => STATUS_CLASS[status] ?? 's-other';

/** Tasks by status as a small stacked bar (inline SVG) with a text legend. */
export function statusBar(byStatus: Readonly<Record<string, number>>): string {
  const entries = Object.entries(byStatus)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b));
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return '<span class="muted">no tasks</span>';
  const width = 120;
  let x = 0;
  const rects = entries.map(([status, n]) => {
    const w = Math.max(1, Math.round((n / total) * width));
    const rect = `<rect class="${statusClass(status)}" x="${x}" y="0" width="${w}" height="10"><title>${h(status)}: ${n}</title></rect>`;
    x += w;
    return rect;
  });
  const legend = entries.map(([status, n]) => `${h(cut(status, 20))} ${n}`).join(' · ');
  return `<svg class="bar" viewBox="0 0 ${width} 10" width="${width}" height="10" role="img" aria-label="${legend}">${rects.join('')}</svg> <span class="legend">${legend}</span>`;
}

function planRow(plan: PlanStatus, now: number): string {
  const name = plan.name === plan.id ? '' : `<div class="sub">${h(plan.id)}</div>`;
  const error =
    plan.health === 'failing' && plan.lastError !== undefined
      ? `<div class="error">last error ${timeAgo(plan.lastErrorAt, now)}: ${h(cut(plan.lastError, 300))}</div>`
      : plan.health === 'stale'
        ? `<div class="error">no successful poll for more than 3 intervals</div>`
        : plan.health === 'pending'
          ? `<div class="sub">not polled yet</div>`
          : plan.listOrder === 'unordered'
            ? `<div class="error">tasks listed out of creation order: full sweeps only</div>`
            : '';
  return `<tr data-plan="${h(plan.id)}">
<td><strong>${h(plan.name)}</strong>${plan.discovered ? ' <span class="muted">(discovered)</span>' : ''}${name}</td>
<td>${h(formatDuration(plan.intervalMs))}</td>
<td>${timeAgo(plan.lastPollAt, now)}</td>
<td>${timeAgo(plan.lastSuccessAt, now)}</td>
<td>${badge(plan.health)}${error}</td>
<td>${statusBar(plan.byStatus)}</td>
</tr>`;
}

function plansSection(report: StatusReport, now: number): string {
  if (report.plans.length === 0) {
    return '<section><h2>Plans</h2><p class="muted">No plans configured: add <code>plans:</code> to the config, or enable <code>discover:</code>.</p></section>';
  }
  const rows = report.plans.map((p) => planRow(p, now)).join('\n');
  return `<section><h2>Plans <span class="count">${report.plans.length}</span></h2>
<table id="plans"><thead><tr><th>Plan</th><th>Every</th><th>Last poll</th><th>Last success</th><th>Health</th><th>Tasks by status</th></tr></thead>
<tbody>${rows}</tbody></table></section>`;
}

function linksCell(row: TransitionRow): string {
  if (row.event !== 'finished') return '';
  if (!row.hadLinks) return '<span class="muted">no links (not a manual download)</span>';
  const deliveries = row.deliveries ?? [];
  if (deliveries.length === 0) return '<span class="muted">no channel routes this event</span>';
  return deliveries
    .map((d) =>
      d.delivered
        ? `<span class="ok delivered" title="links delivered to ${h(d.channel)}">✓ delivered · ${h(d.channel)}</span>`
        : `<span class="warn undelivered" title="no delivery recorded for ${h(d.channel)}">✗ not delivered · ${h(d.channel)}</span>`,
    )
    .join('<br>');
}

const EVENT_CLASS: Readonly<Record<string, string>> = { finished: 'ok', failed: 'bad', progress: 'muted' };

function transitionRow(row: TransitionRow, now: number): string {
  const task = row.taskName ?? row.taskId;
  const change = `${row.from ? `${h(row.from)} → ` : ''}${h(row.to)}`;
  return `<tr class="transition" data-event="${h(row.event)}" data-plan="${h(row.planId)}">
<td>${timeAgo(row.at, now)}</td>
<td>${h(row.planName)}</td>
<td class="task"><span class="task-name">${h(cut(task, 120))}</span>${row.taskName ? `<div class="sub">${h(row.taskId)}</div>` : ''}</td>
<td><span class="event ${EVENT_CLASS[row.event] ?? 'muted'}">${h(row.event)}</span></td>
<td>${change}</td>
<td>${h(formatBytes(row.dataSize) ?? '')}</td>
<td>${linksCell(row)}</td>
</tr>`;
}

function option(value: string, label: string, selected: string | undefined): string {
  return `<option value="${h(value)}"${selected === value ? ' selected' : ''}>${h(label)}</option>`;
}

function transitionsSection(model: PageModel, now: number): string {
  const { filter, report } = model;
  const plans = report.plans.map((p) => option(p.id, p.name === p.id ? p.id : `${p.name} (${p.id})`, filter.plan)).join('');
  const events = EVENT_KINDS.map((e) => option(e, e, filter.event)).join('');
  // A plain GET form: filtering works without script; the script only submits it on change.
  const form = `<form id="filter" method="get" action="">
<label>Plan <select name="plan"><option value="">all plans</option>${plans}</select></label>
<label>Event <select name="event"><option value="">all events</option>${events}</select></label>
<noscript><button type="submit">Filter</button></noscript>
</form>`;
  const filtered = filter.plan || filter.event;
  const body =
    model.transitions.length === 0
      ? `<p class="muted" id="no-transitions">${filtered ? 'No transitions match this filter.' : 'No transitions recorded yet.'}</p>`
      : `<table id="transitions"><thead><tr><th>When</th><th>Plan</th><th>Task</th><th>Event</th><th>Change</th><th>Size</th><th>Links</th></tr></thead>
<tbody>${model.transitions.map((t) => transitionRow(t, now)).join('\n')}</tbody></table>`;
  return `<section><h2>Recent transitions <span class="count">${model.transitions.length}</span></h2>${form}${body}</section>`;
}

function failedRow(failed: FailedNotification, now: number, actionsEnabled: boolean): string {
  const tasks = failed.tasks.slice(0, 3).map((t) => h(cut(t, 80)));
  const more = failed.tasks.length > 3 ? ` <span class="muted">+${failed.tasks.length - 3} more</span>` : '';
  const action = actionsEnabled
    ? `<button type="button" class="retry" data-job="${h(failed.id)}">Retry</button>`
    : '<span class="muted" title="set http.authToken to enable actions">retry needs http.authToken</span>';
  return `<tr class="failed-notification" data-job="${h(failed.id)}">
<td>${timeAgo(failed.failedAt, now)}</td>
<td>${h(failed.channel)}</td>
<td>${failed.events.map(h).join(', ')}</td>
<td>${failed.plans.map((p) => h(cut(p, 60))).join(', ')}: <span class="task-name">${tasks.join(', ')}</span>${more}</td>
<td class="reason">${h(cut(failed.failedReason || 'no reason recorded', 300))}<div class="sub">after ${failed.attemptsMade} attempt${failed.attemptsMade === 1 ? '' : 's'}</div></td>
<td>${action}</td>
</tr>`;
}

function notificationsSection(model: PageModel, now: number): string {
  const counts =
    model.channels.length === 0
      ? '<p class="muted">No notifications sent yet.</p>'
      : `<table id="channels" class="compact"><thead><tr><th>Channel</th><th class="num">Delivered</th><th class="num">Retrying</th><th class="num">Failed</th></tr></thead><tbody>${model.channels
          .map(
            (c) =>
              `<tr data-channel="${h(c.channel)}"><td>${h(c.channel)}</td><td class="num">${c.delivered}</td><td class="num">${c.retrying}</td><td class="num${c.failed > 0 ? ' bad' : ''}">${c.failed}</td></tr>`,
          )
          .join('')}</tbody></table>${model.channelsCapped ? '<p class="sub">Counts are sampled from the newest jobs of each state and may be lower bounds.</p>' : ''}`;
  const failed = model.report.failedNotifications;
  const total = model.report.queues.notify.failed;
  const failedList =
    failed.length === 0
      ? '<p class="ok" id="no-failed">No failed notifications.</p>'
      : `<h3>Failed — they will not be retried on their own${total > failed.length ? ` (newest ${failed.length} of ${total})` : ''}</h3>
<table id="failed"><thead><tr><th>Failed</th><th>Channel</th><th>Event</th><th>Tasks</th><th>Reason</th><th></th></tr></thead>
<tbody>${failed.map((f) => failedRow(f, now, model.actionsEnabled)).join('\n')}</tbody></table>`;
  return `<section><h2>Notifications</h2>${counts}${failedList}</section>`;
}

function chartSection(model: PageModel): string {
  return `<section><h2>Finished vs failed per hour <span class="sub">last 24 h, UTC</span></h2>
<p class="key"><span class="swatch finished"></span> finished <span class="swatch failed"></span> failed</p>
${renderChart(model.chart)}</section>`;
}

function queuesSection(report: StatusReport): string {
  const head = QUEUE_STATES.map((s) => `<th class="num">${h(s)}</th>`).join('');
  const row = (name: 'poll' | 'notify') =>
    `<tr><td>${name}</td>${QUEUE_STATES.map((s) => `<td class="num${s === 'failed' && report.queues[name][s] > 0 ? ' bad' : ''}">${report.queues[name][s]}</td>`).join('')}</tr>`;
  return `<section><h2>Queues <a class="sub" href="queues/">bull-board →</a></h2>
<table id="queues" class="compact"><thead><tr><th>Queue</th>${head}</tr></thead><tbody>${row('poll')}${row('notify')}</tbody></table></section>`;
}

const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1d2433;--muted:#6b7280;--line:#e5e7eb;--head:#f8fafc;--ok:#15803d;--okbg:#dcfce7;--bad:#b91c1c;--badbg:#fee2e2;--warn:#a16207;--warnbg:#fef3c7;--run:#2563eb;--wait:#94a3b8}
@media (prefers-color-scheme:dark){:root{--bg:#0f141b;--fg:#e5e7eb;--muted:#9ca3af;--line:#263040;--head:#161d27;--ok:#4ade80;--okbg:#14361f;--bad:#f87171;--badbg:#3b1616;--warn:#fbbf24;--warnbg:#3a2c0a;--run:#60a5fa;--wait:#64748b}}
*{box-sizing:border-box}
body{margin:0;padding:1.25rem 1.5rem 3rem;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;align-items:baseline;gap:1rem;flex-wrap:wrap}
h1{font-size:1.3rem;margin:0}h2{font-size:1.05rem;margin:1.6rem 0 .5rem}h3{font-size:.95rem;margin:1rem 0 .4rem}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--head);font-weight:600;font-size:.85rem}
td.num,th.num{text-align:right}
table.compact{width:auto;min-width:24rem}
.muted,.sub{color:var(--muted)}.sub{font-size:.82rem}
.count{font-weight:400;color:var(--muted);font-size:.9rem}
.badge{display:inline-block;padding:0 .5rem;border-radius:999px;font-size:.8rem;font-weight:600}
.badge.ok{background:var(--okbg);color:var(--ok)}.badge.failing,.badge.stale{background:var(--badbg);color:var(--bad)}.badge.pending{background:var(--warnbg);color:var(--warn)}
.error{color:var(--bad);font-size:.85rem;max-width:40rem;overflow-wrap:anywhere}
.ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}
.event{font-weight:600}
.task-name,.reason{overflow-wrap:anywhere}
.bar{vertical-align:middle;border-radius:2px}.legend{font-size:.8rem;color:var(--muted)}
.s-finish,.finished{fill:var(--ok);background:var(--ok)}.s-failed,.failed{fill:var(--bad);background:var(--bad)}
.s-running{fill:var(--run)}.s-waiting{fill:var(--wait)}.s-pause{fill:var(--warn)}.s-other{fill:var(--muted)}
.chart{width:100%;max-width:760px;height:auto;display:block}
.chart .axis{stroke:var(--line)}.chart .tick{fill:var(--muted);font-size:10px}
.key{margin:.2rem 0;font-size:.85rem}.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;vertical-align:-1px;margin-left:.6rem}
form#filter{display:flex;gap:1rem;margin:.3rem 0 .6rem}
select,button{font:inherit;color:inherit;background:var(--head);border:1px solid var(--line);border-radius:6px;padding:.15rem .5rem}
button.retry{cursor:pointer;border-color:var(--run);color:var(--run)}button:disabled{opacity:.5;cursor:default}
#refresh-state{font-size:.82rem}
code{font-size:.9em}a{color:var(--run)}
`;

/**
 * Refreshes the live part by fetching this same URL and swapping `#live`
 * (one renderer — the server's — for first paint and updates, so escaping
 * lives in one place); submits the filter form on change; sends Retry.
 *
 * Retry is a POST with a JSON content type: a cross-site form cannot send
 * that without a CORS preflight, which this server never grants, so a
 * browser's remembered Basic credentials cannot be abused from another
 * site. When the server answers 401 (no credentials remembered), the token
 * is asked for once and kept in sessionStorage for this tab only.
 */
function script(refreshSeconds: number): string {
  return `
(function () {
  'use strict';
  var state = document.getElementById('refresh-state');
  var busy = false;
  function say(el, text, cls) { if (!el) return; el.textContent = text; el.className = cls || ''; }
  function refresh() {
    if (busy) return Promise.resolve();
    busy = true;
    return fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.text();
      })
      .then(function (text) {
        var next = new DOMParser().parseFromString(text, 'text/html').getElementById('live');
        var live = document.getElementById('live');
        if (next && live) live.replaceWith(document.adoptNode(next));
        say(state, 'updated ' + new Date().toLocaleTimeString(), 'muted');
      })
      .catch(function (error) { say(state, 'refresh failed (' + error.message + '); retrying', 'warn'); })
      .finally(function () { busy = false; });
  }
  setInterval(refresh, ${refreshSeconds * 1000});
  document.addEventListener('change', function (event) {
    var form = event.target && event.target.form;
    if (form && form.id === 'filter') form.submit();
  });
  function postRetry(id, token) {
    var headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (token) headers.authorization = 'Bearer ' + token;
    return fetch('api/notifications/' + encodeURIComponent(id) + '/retry', {
      method: 'POST', headers: headers, body: '{}', credentials: 'same-origin'
    });
  }
  document.addEventListener('click', function (event) {
    var button = event.target && event.target.closest ? event.target.closest('button.retry') : null;
    if (!button) return;
    var id = button.getAttribute('data-job') || '';
    var result = document.getElementById('action-result');
    button.disabled = true;
    var token = sessionStorage.getItem('dbswatch-token');
    postRetry(id, token)
      .then(function (res) {
        if (res.status !== 401) return res;
        var entered = window.prompt('Token for actions (http.authToken):');
        if (!entered) return res;
        sessionStorage.setItem('dbswatch-token', entered);
        return postRetry(id, entered);
      })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          var message = (body && body.message) || ('HTTP ' + res.status);
          say(document.getElementById('action-result'), message, res.ok ? 'ok' : 'bad');
          return refresh();
        });
      })
      .catch(function (error) { say(result, 'retry failed: ' + error.message, 'bad'); button.disabled = false; });
  });
})();
`;
}

/** The whole page. */
export function renderStatusPage(model: PageModel, options: RenderOptions): string {
  const { now, nonce } = options;
  const refreshSeconds = options.refreshSeconds ?? 5;
  const { report } = model;
  const problems = report.plans.filter((p) => p.health === 'failing' || p.health === 'stale').length;
  const failedNotifications = report.queues.notify.failed;
  const summary =
    problems === 0 && failedNotifications === 0
      ? '<span class="badge ok">all good</span>'
      : `<span class="badge failing">${problems > 0 ? `${problems} plan${problems === 1 ? ' needs' : 's need'} attention` : ''}${problems > 0 && failedNotifications > 0 ? ' · ' : ''}${failedNotifications > 0 ? `${failedNotifications} failed notification${failedNotifications === 1 ? '' : 's'}` : ''}</span>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>dbswatch status</title>
<link rel="icon" href="data:,">
<style nonce="${h(nonce)}">${STYLE}</style>
</head>
<body>
<header><h1>dbswatch</h1><span id="refresh-state" class="muted">refreshes every ${refreshSeconds} s</span><span id="action-result" role="status" aria-live="polite"></span></header>
<div id="live">
<p>${summary} <span class="muted">as of ${timeAgo(report.generatedAt, now)} · prefix <code>${h(report.redis.prefix)}</code></span></p>
${plansSection(report, now)}
${transitionsSection(model, now)}
${notificationsSection(model, now)}
${chartSection(model)}
${queuesSection(report)}
</div>
<script nonce="${h(nonce)}">${script(refreshSeconds)}</script>
</body>
</html>
`;
}
