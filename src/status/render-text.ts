/**
 * `dbswatch status` as one screen of plain text (pure): what an operator needs
 * at 3 a.m. Untrusted text from the API goes through `plain` so that no
 * control character reaches the terminal.
 */
import { formatDuration } from '../duration.js';
import { type PlanHealth, QUEUE_STATES, type StatusReport } from './report.js';

/**
 * Makes untrusted text (task names, API error messages) safe for a terminal:
 * control characters — ESC and friends, which could rewrite the screen — and
 * bidi overrides become spaces, runs of whitespace collapse, long text is cut.
 */
export function plain(text: string, max = 200): string {
  const cleaned = text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ').replace(/\s+/g, ' ').trim();
  return cleaned.length > max ? `${cleaned.slice(0, max - 1)}…` : cleaned;
}

/** "12s ago", "3m ago", "2h ago", "4d ago"; "never" when absent; "in 5s" for a clock ahead of ours. */
export function relativeTime(at: number | undefined, now: number): string {
  if (at === undefined || !Number.isFinite(at)) return 'never';
  const delta = now - at;
  if (Math.abs(delta) < 1_000) return 'just now';
  const abs = Math.abs(delta);
  const text =
    abs < 60_000
      ? `${Math.floor(abs / 1_000)}s`
      : abs < 3_600_000
        ? `${Math.floor(abs / 60_000)}m`
        : abs < 86_400_000
          ? `${Math.floor(abs / 3_600_000)}h`
          : `${Math.floor(abs / 86_400_000)}d`;
  return delta > 0 ? `${text} ago` : `in ${text}`;
}

/** Lays out rows as left-aligned columns two spaces apart. */
function table(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

function byStatusText(byStatus: Readonly<Record<string, number>>): string {
  const entries = Object.entries(byStatus).filter(([, n]) => n > 0);
  if (entries.length === 0) return '-';
  return entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${plain(status, 20)} ${n}`)
    .join(', ');
}

const HEALTH_LABEL: Record<PlanHealth, string> = {
  ok: 'ok',
  failing: 'FAILING',
  pending: 'pending',
  stale: 'STALE',
};

/** How many recent transitions the text view shows (the JSON has them all). */
const TEXT_HISTORY_LINES = 10;

/** The report as one screen of plain text. */
export function renderStatusText(report: StatusReport, now: number): string {
  const out: string[] = [];
  const problems = report.plans.filter((p) => p.health === 'failing' || p.health === 'stale').length;
  out.push(`dbswatch status — ${new Date(report.generatedAt).toISOString()} — redis ${plain(report.redis.url)} (prefix ${plain(report.redis.prefix)})`);
  out.push('');

  if (report.plans.length === 0) {
    out.push('PLANS: no plans configured (add plans: to the config, or enable discover:)');
  } else {
    const summary = problems > 0 ? `${problems} need attention` : 'all healthy or pending';
    out.push(`PLANS (${report.plans.length}; ${summary})`);
    const rows: string[][] = [['HEALTH', 'PLAN', 'EVERY', 'LAST POLL', 'LAST SUCCESS', 'TASKS', 'BY STATUS']];
    const notes = new Map<number, string>();
    report.plans.forEach((plan, i) => {
      const name = plan.name === plan.id ? plain(plan.id, 40) : `${plain(plan.name, 32)} (${plain(plan.id, 40)})`;
      rows.push([
        HEALTH_LABEL[plan.health],
        `${name}${plan.discovered ? ' [discovered]' : ''}${plan.source === 'instance' ? ' [instance]' : ''}`,
        formatDuration(plan.intervalMs),
        relativeTime(plan.lastPollAt, now),
        relativeTime(plan.lastSuccessAt, now),
        plan.taskCount === undefined ? '-' : String(plan.taskCount),
        byStatusText(plan.byStatus),
      ]);
      if (plan.lastError !== undefined) {
        notes.set(i + 1, `last error ${relativeTime(plan.lastErrorAt, now)}: ${plain(plan.lastError, 300)}`);
      } else if (plan.health === 'stale') {
        notes.set(i + 1, `no successful poll for ${relativeTime(plan.lastSuccessAt, now).replace(' ago', '')} (interval ${formatDuration(plan.intervalMs)})`);
      }
    });
    table(rows).forEach((line, i) => {
      out.push(line);
      const note = notes.get(i);
      if (note) out.push(`      ↳ ${note}`);
    });
  }
  out.push('');

  out.push('QUEUES');
  const queueRows: string[][] = [['QUEUE', ...QUEUE_STATES.map((s) => s.toUpperCase())]];
  for (const name of ['poll', 'notify'] as const) {
    queueRows.push([name, ...QUEUE_STATES.map((s) => String(report.queues[name][s]))]);
  }
  out.push(...table(queueRows));
  out.push('');

  const totalFailed = report.queues.notify.failed;
  if (report.failedNotifications.length === 0) {
    out.push('FAILED NOTIFICATIONS: none');
  } else {
    const shown = report.failedNotifications.length;
    out.push(`FAILED NOTIFICATIONS (${totalFailed > shown ? `newest ${shown} of ${totalFailed}` : shown}; they will not be retried on their own)`);
    for (const failed of report.failedNotifications) {
      const tasks = failed.tasks.slice(0, 3).map((t) => plain(t, 60));
      const more = failed.tasks.length > 3 ? ` +${failed.tasks.length - 3} more` : '';
      out.push(
        `  ${relativeTime(failed.failedAt, now)}  → ${plain(failed.channel, 64)}  ${failed.events.map((e) => plain(e, 20)).join('/')}  ${failed.plans.map((p) => plain(p, 40)).join(', ')}: ${tasks.join(', ')}${more}`,
      );
      out.push(`      ↳ after ${failed.attemptsMade} attempt${failed.attemptsMade === 1 ? '' : 's'}: ${plain(failed.failedReason || 'no reason recorded', 300)}`);
      out.push(`        job ${plain(failed.id, 200)}`);
    }
  }
  out.push('');

  if (report.recentTransitions.length === 0) {
    out.push('RECENT TRANSITIONS: none recorded yet');
  } else {
    out.push(`RECENT TRANSITIONS (newest ${Math.min(TEXT_HISTORY_LINES, report.recentTransitions.length)} of ${report.recentTransitions.length}; --json for all)`);
    const rows = report.recentTransitions.slice(0, TEXT_HISTORY_LINES).map((t) => [
      relativeTime(t.at, now),
      plain(t.event, 20),
      plain(t.planName, 32),
      plain(t.taskName ?? t.taskId, 60),
      `${t.from ? `${plain(t.from, 20)} → ` : ''}${plain(t.to, 20)}`,
    ]);
    out.push(...table(rows));
  }
  return `${out.join('\n')}\n`;
}
