/**
 * The status page as one server-rendered HTML document: pure (model and
 * clock in, string out), so tests can feed it hostile names and known
 * series. It is written with the auto-escaping `html` template
 * (`./html.ts`): every value from Redis or the DBS API is escaped unless
 * the code says `raw()`, which this file never does; nothing here ever sees
 * a download URL (the model has none to give).
 *
 * The stylesheet and script are static files (`assets/`); the script tag
 * carries a per-response nonce and the page is served with a CSP that
 * allows only that script, so even a mistake in escaping could not run an
 * injected one.
 */

import type { Locale } from '../config.js';
import { EVENT_KINDS } from '../domain.js';
import { messagesFor } from '../notify/i18n.js';
import type { QueueName } from '../queues.js';
import { type FailedNotification, type PlanHealth, type PlanStatus, QUEUE_STATES, type StatusReport, unknownPlanText } from '../status/report.js';
import { formatInterval } from '../text/duration.js';
import { oneLine } from '../text/escape.js';
import { formatBytes } from '../text/format.js';
import { relativeTime } from '../text/terminal.js';
import type { HistoryEntry } from '../tracking/history.js';
import { type HourBucket, renderChart } from './chart.js';
import { type Html, html, join } from './html.js';
import { silenceControls, silencesSection } from './silences-view.js';

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

/** The page's static files, relative to the page (so a path prefix added by a reverse proxy still works). */
export const PAGE_ASSETS = { css: 'assets/page.css', js: 'assets/page.js' } as const;

export interface RenderOptions {
  readonly now: number;
  /** CSP nonce for the page's script tag. */
  readonly nonce: string;
  /** Seconds between automatic refreshes. Default 5. */
  readonly refreshSeconds?: number;
  /** Page language (Accept-Language, `?lang=`). Default: en. */
  readonly locale?: Locale;
}

/** Cuts untrusted text to `max` characters before escaping (long API errors stay readable). */
function cut(text: string, max: number): string {
  const line = oneLine(text);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A `<time>` element: relative text, absolute UTC time on hover. */
export function timeAgo(at: number | undefined, now: number): Html {
  if (at === undefined || !Number.isFinite(at)) return html`<span class="muted">never</span>`;
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}" title="${iso}">${relativeTime(at, now)}</time>`;
}

const HEALTH_TEXT: Record<PlanHealth, string> = {
  ok: 'ok',
  failing: 'failing',
  pending: 'pending',
  stale: 'stale',
};

function badge(health: PlanHealth): Html {
  return html`<span class="badge ${health}">${HEALTH_TEXT[health]}</span>`;
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
export function statusBar(byStatus: Readonly<Record<string, number>>): Html {
  const entries = Object.entries(byStatus)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b));
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return html`<span class="muted">no tasks</span>`;
  const width = 120;
  let x = 0;
  const rects = entries.map(([status, n]) => {
    const w = Math.max(1, Math.round((n / total) * width));
    const rect = html`<rect class="${statusClass(status)}" x="${x}" y="0" width="${w}" height="10"><title>${status}: ${n}</title></rect>`;
    x += w;
    return rect;
  });
  const legend = entries.map(([status, n]) => `${cut(status, 20)} ${n}`).join(' · ');
  return html`<svg class="bar" viewBox="0 0 ${width} 10" width="${width}" height="10" role="img" aria-label="${legend}">${rects}</svg> <span class="legend">${legend}</span>`;
}

function planRow(plan: PlanStatus, now: number): Html {
  const error =
    plan.unknownInAccount !== undefined
      ? html`<div class="error unknown-plan">${unknownPlanText(plan.unknownInAccount)}</div>`
      : plan.health === 'failing' && plan.lastError !== undefined
        ? html`<div class="error">last error ${timeAgo(plan.lastErrorAt, now)}: ${cut(plan.lastError, 300)}</div>`
        : plan.health === 'stale'
          ? html`<div class="error">no successful poll for more than 3 intervals</div>`
          : plan.health === 'pending'
            ? html`<div class="sub">not polled yet</div>`
            : plan.listOrder === 'unordered'
              ? html`<div class="error">tasks listed out of creation order: full sweeps only</div>`
              : '';
  return html`<tr data-plan="${plan.id}">
<td><strong>${plan.name}</strong>${plan.discovered && html` <span class="muted">(discovered)</span>`}${plan.source === 'instance' && html` <span class="muted">(instance)</span>`}${plan.name !== plan.id && html`<div class="sub">${plan.id}</div>`}</td>
<td>${formatInterval(plan.intervalMs)}</td>
<td>${timeAgo(plan.lastPollAt, now)}</td>
<td>${timeAgo(plan.lastSuccessAt, now)}</td>
<td>${badge(plan.health)}${error}</td>
<td>${statusBar(plan.byStatus)}</td>
</tr>`;
}

function plansSection(report: StatusReport, now: number): Html {
  if (report.plans.length === 0) {
    return html`<section><h2>Plans</h2><p class="muted">No plans configured: add <code>plans:</code> to the config, or enable <code>discover:</code>.</p></section>`;
  }
  return html`<section><h2>Plans <span class="count">${report.plans.length}</span></h2>
<table id="plans"><thead><tr><th>Plan</th><th>Every</th><th>Last poll</th><th>Last success</th><th>Health</th><th>Tasks by status</th></tr></thead>
<tbody>${join(
    report.plans.map((p) => planRow(p, now)),
    html`\n`,
  )}</tbody></table></section>`;
}

function linksCell(row: TransitionRow): Html | string {
  if (row.event !== 'finished') return '';
  if (!row.hadLinks) return html`<span class="muted">no links (not a manual download)</span>`;
  const deliveries = row.deliveries ?? [];
  if (deliveries.length === 0) return html`<span class="muted">no channel routes this event</span>`;
  return join(
    deliveries.map((d) =>
      d.delivered
        ? html`<span class="ok delivered" title="links delivered to ${d.channel}">✓ delivered · ${d.channel}</span>`
        : html`<span class="warn undelivered" title="no delivery recorded for ${d.channel}">✗ not delivered · ${d.channel}</span>`,
    ),
    html`<br>`,
  );
}

const EVENT_CLASS: Readonly<Record<string, string>> = { finished: 'ok', failed: 'bad', progress: 'muted' };

function transitionRow(row: TransitionRow, now: number): Html {
  const task = row.taskName ?? row.taskId;
  return html`<tr class="transition" data-event="${row.event}" data-plan="${row.planId}">
<td>${timeAgo(row.at, now)}</td>
<td>${row.planName}</td>
<td class="task"><span class="task-name">${cut(task, 120)}</span>${row.taskName && html`<div class="sub">${row.taskId}</div>`}</td>
<td><span class="event ${EVENT_CLASS[row.event] ?? 'muted'}">${row.event}</span></td>
<td>${row.from && `${row.from} → `}${row.to}</td>
<td>${formatBytes(row.dataSize)}</td>
<td>${linksCell(row)}</td>
</tr>`;
}

function option(value: string, label: string, selected: string | undefined): Html {
  return html`<option value="${value}"${selected === value && html` selected`}>${label}</option>`;
}

function transitionsSection(model: PageModel, now: number): Html {
  const { filter, report } = model;
  const plans = report.plans.map((p) => option(p.id, p.name === p.id ? p.id : `${p.name} (${p.id})`, filter.plan));
  const events = EVENT_KINDS.map((e) => option(e, e, filter.event));
  // A plain GET form: filtering works without script; the script only submits it on change.
  const form = html`<form id="filter" method="get" action="">
<label>Plan <select name="plan"><option value="">all plans</option>${plans}</select></label>
<label>Event <select name="event"><option value="">all events</option>${events}</select></label>
<noscript><button type="submit">Filter</button></noscript>
</form>`;
  const filtered = filter.plan || filter.event;
  const body =
    model.transitions.length === 0
      ? html`<p class="muted" id="no-transitions">${filtered ? 'No transitions match this filter.' : 'No transitions recorded yet.'}</p>`
      : html`<table id="transitions"><thead><tr><th>When</th><th>Plan</th><th>Task</th><th>Event</th><th>Change</th><th>Backup set size</th><th>Links</th></tr></thead>
<tbody>${join(
          model.transitions.map((t) => transitionRow(t, now)),
          html`\n`,
        )}</tbody></table>`;
  return html`<section><h2>Recent transitions <span class="count">${model.transitions.length}</span></h2>${form}${body}</section>`;
}

function failedRow(failed: FailedNotification, now: number, actionsEnabled: boolean): Html {
  const tasks = failed.tasks.slice(0, 3).map((t) => cut(t, 80));
  const more = failed.tasks.length > 3 && html` <span class="muted">+${failed.tasks.length - 3} more</span>`;
  const action = actionsEnabled
    ? html`<button type="button" class="retry" data-job="${failed.id}">Retry</button>`
    : html`<span class="muted" title="set http.authToken to enable actions">retry needs http.authToken</span>`;
  return html`<tr class="failed-notification" data-job="${failed.id}">
<td>${timeAgo(failed.failedAt, now)}</td>
<td>${failed.channel}</td>
<td>${failed.events.join(', ')}</td>
<td>${failed.plans.map((p) => cut(p, 60)).join(', ')}: <span class="task-name">${tasks.join(', ')}</span>${more}</td>
<td class="reason">${cut(failed.failedReason || 'no reason recorded', 300)}<div class="sub">after ${failed.attemptsMade} attempt${failed.attemptsMade === 1 ? '' : 's'}</div></td>
<td>${action}</td>
</tr>`;
}

function notificationsSection(model: PageModel, now: number): Html {
  const counts =
    model.channels.length === 0
      ? html`<p class="muted">No notifications sent yet.</p>`
      : html`<table id="channels" class="compact"><thead><tr><th>Channel</th><th class="num">Delivered</th><th class="num">Retrying</th><th class="num">Failed</th></tr></thead><tbody>${model.channels.map(
          (c) =>
            html`<tr data-channel="${c.channel}"><td>${c.channel}</td><td class="num">${c.delivered}</td><td class="num">${c.retrying}</td><td class="num${c.failed > 0 && ' bad'}">${c.failed}</td></tr>`,
        )}</tbody></table>${model.channelsCapped && html`<p class="sub">Counts are sampled from the newest jobs of each state and may be lower bounds.</p>`}`;
  const failed = model.report.failedNotifications;
  const total = model.report.queues.notify.failed;
  const failedList =
    failed.length === 0
      ? html`<p class="ok" id="no-failed">No failed notifications.</p>`
      : html`<h3>Failed — they will not be retried on their own${total > failed.length && ` (newest ${failed.length} of ${total})`}</h3>
<table id="failed"><thead><tr><th>Failed</th><th>Channel</th><th>Event</th><th>Tasks</th><th>Reason</th><th></th></tr></thead>
<tbody>${join(
          failed.map((f) => failedRow(f, now, model.actionsEnabled)),
          html`\n`,
        )}</tbody></table>`;
  return html`<section><h2>Notifications</h2>${counts}${failedList}</section>`;
}

function chartSection(model: PageModel): Html {
  return html`<section><h2>Finished vs failed per hour <span class="sub">last 24 h, UTC</span></h2>
<p class="key"><span class="swatch finished"></span> finished <span class="swatch failed"></span> failed</p>
${renderChart(model.chart)}</section>`;
}

function queuesSection(report: StatusReport): Html {
  const head = QUEUE_STATES.map((s) => html`<th class="num">${s}</th>`);
  const row = (name: QueueName) =>
    html`<tr><td>${name}</td>${QUEUE_STATES.map((s) => html`<td class="num${s === 'failed' && report.queues[name][s] > 0 && ' bad'}">${report.queues[name][s]}</td>`)}</tr>`;
  return html`<section><h2>Queues <a class="sub" href="queues/">bull-board →</a></h2>
<table id="queues" class="compact"><thead><tr><th>Queue</th>${head}</tr></thead><tbody>${row('poll')}${row('notify')}</tbody></table></section>`;
}

/** The whole page. Its stylesheet and script are the static files under `assets/` (see `routes.ts`). */
export function renderStatusPage(model: PageModel, options: RenderOptions): string {
  const { now, nonce } = options;
  const refreshSeconds = options.refreshSeconds ?? 5;
  const { report } = model;
  const locale = options.locale ?? 'en';
  const problems = report.plans.filter((p) => p.health === 'failing' || p.health === 'stale' || p.unknownInAccount !== undefined).length;
  const failedNotifications = report.queues.notify.failed;
  const summary =
    problems === 0 && failedNotifications === 0
      ? html`<span class="badge ok">all good</span>`
      : html`<span class="badge failing">${[
          problems > 0 && `${problems} plan${problems === 1 ? ' needs' : 's need'} attention`,
          problems > 0 && failedNotifications > 0 && ' · ',
          failedNotifications > 0 && `${failedNotifications} failed notification${failedNotifications === 1 ? '' : 's'}`,
        ]}</span>`;
  return html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${messagesFor(locale).page.title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${PAGE_ASSETS.css}">
<script src="${PAGE_ASSETS.js}" nonce="${nonce}" defer></script>
</head>
<body data-refresh-seconds="${refreshSeconds}">
<header><h1>dbswatch</h1><span id="refresh-state" class="muted">refreshes every ${refreshSeconds} s</span><span id="action-result" role="status" aria-live="polite"></span></header>
<div id="live">
<p>${summary} <span class="muted">as of ${timeAgo(report.generatedAt, now)} · prefix <code>${report.redis.prefix}</code></span></p>
${plansSection(report, now)}
${transitionsSection(model, now)}
${notificationsSection(model, now)}
${chartSection(model)}
${queuesSection(report)}
${silencesSection(report, locale, model.actionsEnabled)}
</div>
${silenceControls(nonce, model.actionsEnabled)}
</body>
</html>
`.toString();
}
