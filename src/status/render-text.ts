/**
 * `dbswatch status` as one screen of plain text (pure): what an operator needs
 * at 3 a.m. Untrusted text from the API goes through `plain` so that no
 * control character reaches the terminal.
 */
import { formatInterval } from '../text/duration.js';
import { relativeTime, terminalText } from '../text/terminal.js';
import { type PlanHealth, QUEUE_STATES, type StatusReport, unknownPlanText } from './report.js';

/** Lays out rows as left-aligned columns two spaces apart. */
function table(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
  );
}

function byStatusText(byStatus: Readonly<Record<string, number>>): string {
  const entries = Object.entries(byStatus).filter(([, n]) => n > 0);
  if (entries.length === 0) return '-';
  return entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${terminalText(status, 20)} ${n}`)
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
  const problems = report.plans.filter((p) => p.health === 'failing' || p.health === 'stale' || p.unknownInAccount !== undefined).length;
  out.push(
    `dbswatch status — ${new Date(report.generatedAt).toISOString()} — redis ${terminalText(report.redis.url)} (prefix ${terminalText(report.redis.prefix)})`,
  );
  out.push('');

  if (report.plans.length === 0) {
    out.push('PLANS: no plans configured (add plans: to the config, or enable discover:)');
  } else {
    const summary = problems > 0 ? `${problems} need attention` : 'all healthy or pending';
    out.push(`PLANS (${report.plans.length}; ${summary})`);
    const rows: string[][] = [['HEALTH', 'PLAN', 'EVERY', 'LAST POLL', 'LAST SUCCESS', 'TASKS', 'BY STATUS']];
    const notes = new Map<number, string>();
    report.plans.forEach((plan, i) => {
      const name = plan.name === plan.id ? terminalText(plan.id, 40) : `${terminalText(plan.name, 32)} (${terminalText(plan.id, 40)})`;
      rows.push([
        HEALTH_LABEL[plan.health],
        `${name}${plan.discovered ? ' [discovered]' : ''}${plan.source === 'instance' ? ' [instance]' : ''}`,
        formatInterval(plan.intervalMs),
        relativeTime(plan.lastPollAt, now),
        relativeTime(plan.lastSuccessAt, now),
        plan.taskCount === undefined ? '-' : String(plan.taskCount),
        byStatusText(plan.byStatus),
      ]);
      if (plan.unknownInAccount !== undefined) {
        notes.set(i + 1, unknownPlanText(terminalText(plan.unknownInAccount, 64)));
      } else if (plan.lastError !== undefined) {
        notes.set(i + 1, `last error ${relativeTime(plan.lastErrorAt, now)}: ${terminalText(plan.lastError, 300)}`);
      } else if (plan.health === 'stale') {
        notes.set(i + 1, `no successful poll for ${relativeTime(plan.lastSuccessAt, now).replace(' ago', '')} (interval ${formatInterval(plan.intervalMs)})`);
      } else if (plan.listOrder === 'unordered') {
        notes.set(i + 1, "warning: DBS lists this plan's tasks out of creation order; polled with full sweeps only");
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
      const tasks = failed.tasks.slice(0, 3).map((t) => terminalText(t, 60));
      const more = failed.tasks.length > 3 ? ` +${failed.tasks.length - 3} more` : '';
      out.push(
        `  ${relativeTime(failed.failedAt, now)}  → ${terminalText(failed.channel, 64)}  ${failed.events.map((e) => terminalText(e, 20)).join('/')}  ${failed.plans.map((p) => terminalText(p, 40)).join(', ')}: ${tasks.join(', ')}${more}`,
      );
      out.push(
        `      ↳ after ${failed.attemptsMade} attempt${failed.attemptsMade === 1 ? '' : 's'}: ${terminalText(failed.failedReason || 'no reason recorded', 300)}`,
      );
      out.push(`        job ${terminalText(failed.id, 200)}`);
    }
  }
  out.push('');

  if (report.recentTransitions.length === 0) {
    out.push('RECENT TRANSITIONS: none recorded yet');
  } else {
    out.push(
      `RECENT TRANSITIONS (newest ${Math.min(TEXT_HISTORY_LINES, report.recentTransitions.length)} of ${report.recentTransitions.length}; --json for all)`,
    );
    const rows = report.recentTransitions
      .slice(0, TEXT_HISTORY_LINES)
      .map((t) => [
        relativeTime(t.at, now),
        terminalText(t.event, 20),
        terminalText(t.planName, 32),
        terminalText(t.taskName ?? t.taskId, 60),
        `${t.from ? `${terminalText(t.from, 20)} → ` : ''}${terminalText(t.to, 20)}`,
      ]);
    out.push(...table(rows));
  }
  out.push(...silenceLines(report, now));
  return `${out.join('\n')}\n`;
}

/** SILENCES and SILENCED sections (when the report has them). */
function silenceLines(report: StatusReport, now: number): string[] {
  if (!report.silences) return [];
  const out = [''];
  if (report.silences.length === 0) out.push('SILENCES: none');
  else {
    out.push(`SILENCES (${report.silences.length})`);
    for (const s of report.silences) {
      const when = s.weekly
        ? `weekly ${s.weekly.days.join(',')} ${s.weekly.start}-${s.weekly.end} ${s.weekly.timezone}`
        : s.until !== undefined
          ? `until ${new Date(s.until).toISOString()}`
          : '';
      const scope = `plans ${terminalText(s.plans?.join(',') ?? '*', 80)} events ${terminalText(s.events?.join(',') ?? '*', 80)} channels ${terminalText(s.channels?.join(',') ?? '*', 80)}`;
      out.push(`  ${terminalText(s.id, 40)} [${s.source}] ${scope} ${when}${s.replay ? ' replay' : ''} — ${terminalText(s.reason, 200)}`);
    }
  }
  const silenced = report.silenced ?? [];
  if (silenced.length > 0) {
    out.push('', `SILENCED NOTIFICATIONS (newest ${silenced.length}; not sent)`);
    for (const r of silenced.slice(0, TEXT_HISTORY_LINES)) {
      out.push(
        `  ${relativeTime(r.at, now)}  → ${terminalText(r.channel, 64)}  ${terminalText(r.event, 30)}  ${terminalText(r.planId, 60)} ${terminalText(r.taskId ?? '', 60)}  by ${terminalText(r.silenceId, 40)}${r.replay ? ' (replayed when it ends)' : ''}`,
      );
    }
  }
  return out;
}
