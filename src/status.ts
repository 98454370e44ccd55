/**
 * `dbswatch status`: what an operator needs at 3 a.m. — is every plan being
 * polled, what failed and why, what is queued, which notifications gave up.
 * `collectStatus` is the thin Redis edge; `renderStatusText` is pure.
 *
 * Notify jobs carry pre-signed download URLs: the report takes only ids,
 * events, names, channel names and failure reasons from them.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { type Config, maskUrl } from './config.js';
import { formatDuration } from './duration.js';
import { stripUrlQueries } from './logger.js';
import type { NotifyJobData } from './notify/event.js';
import { createRedis, openQueues, type Queues } from './queues.js';
import { trackedPlans } from './scheduler.js';
import { type HistoryEntry, readHistory } from './tracking/history.js';
import { RedisStateStore } from './tracking/state.js';

/** `pending`: never polled; `failing`: last poll failed; `stale`: no success for more than 3 intervals. */
export type PlanHealth = 'ok' | 'failing' | 'pending' | 'stale';

/** A plan counts as stale after this many intervals without a successful poll. */
export const STALE_AFTER_INTERVALS = 3;

/** One plan's line in the report. */
export interface PlanStatus {
  readonly id: string;
  readonly name: string;
  readonly intervalMs: number;
  readonly discovered: boolean;
  readonly health: PlanHealth;
  readonly lastPollAt?: number;
  readonly lastSuccessAt?: number;
  readonly taskCount?: number;
  /** Task count by status after the last successful poll. */
  readonly byStatus: Readonly<Record<string, number>>;
  readonly lastError?: string;
  readonly lastErrorAt?: number;
  /** `unordered`: the plan's list is not newest first, so it is polled with full sweeps only (see README, sweeps). */
  readonly listOrder?: 'newest-first' | 'unordered';
}

/** Job counts of one queue by state. */
export type QueueDepths = Readonly<Record<(typeof QUEUE_STATES)[number], number>>;

/** A notification that gave up: no payload, no URLs. */
export interface FailedNotification {
  readonly id: string;
  readonly channel: string;
  readonly failedReason: string;
  readonly attemptsMade: number;
  readonly failedAt?: number;
  /** Events of the notifications the job carried (one, or several for a digest). */
  readonly events: readonly string[];
  readonly plans: readonly string[];
  readonly tasks: readonly string[];
}

/** Everything `dbswatch status` shows; `JSON.stringify` of it is the `--json` output. */
export interface StatusReport {
  readonly generatedAt: number;
  readonly redis: { readonly url: string; readonly prefix: string };
  readonly plans: readonly PlanStatus[];
  readonly queues: { readonly poll: QueueDepths; readonly notify: QueueDepths };
  /** Newest first; at most FAILED_LIMIT. `queues.notify.failed` has the total. */
  readonly failedNotifications: readonly FailedNotification[];
  /** Newest first. */
  readonly recentTransitions: readonly HistoryEntry[];
}

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;
export const FAILED_LIMIT = 100;
export const HISTORY_LIMIT = 50;

/** A plan's health from its last poll, last success and last error. */
export function planHealth(
  meta: { lastPollAt?: number; lastSuccessAt?: number; lastError?: string; lastErrorAt?: number },
  intervalMs: number,
  now: number,
): PlanHealth {
  // A successful commit clears lastError, so its presence means "failing since the last success".
  if (meta.lastError !== undefined || (meta.lastErrorAt !== undefined && (meta.lastSuccessAt ?? 0) < meta.lastErrorAt)) {
    return 'failing';
  }
  if (meta.lastSuccessAt === undefined) return 'pending';
  if (now - meta.lastSuccessAt > STALE_AFTER_INTERVALS * intervalMs) return 'stale';
  return 'ok';
}

function depths(counts: Record<string, number>): QueueDepths {
  return Object.fromEntries(QUEUE_STATES.map((s) => [s, counts[s] ?? 0])) as QueueDepths;
}

const unique = (values: readonly string[]) => [...new Set(values)];

/** Takes from a failed notify job only what is safe to show. */
export function describeFailedJob(job: Pick<Job<NotifyJobData>, 'id' | 'data' | 'failedReason' | 'attemptsMade' | 'finishedOn'>): FailedNotification {
  const data = (job.data ?? {}) as Partial<NotifyJobData>;
  const notifications = Array.isArray(data.notifications) ? data.notifications : [];
  return {
    id: String(job.id ?? ''),
    channel: typeof data.channel === 'string' ? data.channel : '?',
    // Reasons come from errors we wrote, but a library's message could still quote a signed URL.
    failedReason: stripUrlQueries(String(job.failedReason ?? '')),
    attemptsMade: job.attemptsMade ?? 0,
    ...(job.finishedOn ? { failedAt: job.finishedOn } : {}),
    events: unique(notifications.map((n) => String(n?.event ?? '?'))),
    plans: unique(notifications.map((n) => String(n?.plan?.name ?? n?.plan?.id ?? '?'))),
    tasks: notifications.map((n) => String(n?.task?.name ?? n?.task?.taskId ?? '?')),
  };
}

/** Reads the report from Redis. */
export async function collectStatus(deps: {
  readonly config: Config;
  readonly redis: Redis;
  readonly queues: Queues;
  readonly now?: () => number;
}): Promise<StatusReport> {
  const { config, redis, queues } = deps;
  const now = deps.now ?? Date.now;
  const prefix = config.redis.prefix;
  const plans = await trackedPlans(config, redis);
  const [metas, pollCounts, notifyCounts, failedJobs, history] = await Promise.all([
    new RedisStateStore(redis, prefix).meta(plans.map((p) => p.id)),
    queues.poll.getJobCounts(...QUEUE_STATES),
    queues.notify.getJobCounts(...QUEUE_STATES),
    queues.notify.getFailed(0, FAILED_LIMIT - 1),
    readHistory(redis, prefix, HISTORY_LIMIT),
  ]);
  const at = now();
  return {
    generatedAt: at,
    redis: { url: maskUrl(config.redis.url), prefix },
    plans: plans.map((plan, i): PlanStatus => {
      const meta = metas[i];
      return {
        id: plan.id,
        name: plan.name,
        intervalMs: plan.intervalMs,
        discovered: plan.discovered,
        health: planHealth(meta ?? {}, plan.intervalMs, at),
        lastPollAt: meta?.lastPollAt,
        lastSuccessAt: meta?.lastSuccessAt,
        taskCount: meta?.taskCount,
        byStatus: meta?.byStatus ?? {},
        lastError: meta?.lastError === undefined ? undefined : stripUrlQueries(meta.lastError),
        lastErrorAt: meta?.lastErrorAt,
        listOrder: meta?.listOrder,
      };
    }),
    queues: { poll: depths(pollCounts), notify: depths(notifyCounts) },
    failedNotifications: failedJobs.filter((job): job is Job<NotifyJobData> => !!job).map(describeFailedJob),
    recentTransitions: history,
  };
}

// ---------------------------------------------------------------------------
// Text rendering (pure)

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
        `${name}${plan.discovered ? ' [discovered]' : ''}`,
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
      } else if (plan.listOrder === 'unordered') {
        notes.set(i + 1, 'warning: DBS lists this plan\'s tasks out of creation order; polled with full sweeps only');
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

// ---------------------------------------------------------------------------
// The command (I/O edge)

/** How long the command waits for Redis before giving up. */
const CONNECT_TIMEOUT_MS = 5_000;

function waitForReady(redis: Redis, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs);
    const onReady = () => finish();
    const onError = (error: Error) => finish(error);
    function finish(error?: Error) {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (error) reject(error);
      else resolve();
    }
    if (redis.status === 'ready') finish();
    else {
      redis.once('ready', onReady);
      redis.once('error', onError);
    }
  });
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
  return stripUrlQueries(text);
}

/** Prints the status (text, or JSON with `json`); 0 on success, 1 when Redis cannot be read. */
export async function statusCommand(
  config: Config,
  options: { readonly json: boolean; readonly out?: NodeJS.WritableStream; readonly err?: NodeJS.WritableStream },
): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  // A producer connection fails fast: an operator should get an answer, not a hang.
  const redis = createRedis(config.redis.url, 'producer');
  let queues: Queues | undefined;
  try {
    try {
      await waitForReady(redis, CONNECT_TIMEOUT_MS);
    } catch (error) {
      err.write(`cannot reach Redis at ${maskUrl(config.redis.url)}: ${describeError(error)}\n`);
      return 1;
    }
    queues = openQueues(redis, config.redis.prefix);
    const report = await collectStatus({ config, redis, queues });
    out.write(options.json ? `${JSON.stringify(report)}\n` : renderStatusText(report, Date.now()));
    return 0;
  } catch (error) {
    err.write(`cannot read the status from Redis at ${maskUrl(config.redis.url)}: ${describeError(error)}\n`);
    return 1;
  } finally {
    await queues?.close();
    if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  }
}
