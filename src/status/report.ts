/**
 * The status report model: is every plan being polled, what failed and why,
 * what is queued, which notifications gave up. `collectStatus` is the thin
 * Redis edge; the terminal (`render-text.ts`) and HTML (`web/page.ts`)
 * renderings and the `status` command build on it.
 *
 * Notify jobs carry pre-signed download URLs: the report takes only ids,
 * events, names, channel names and failure reasons from them.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { type SilencedRecord, SilenceStore } from '../alerting/silence-store.js';
import type { Silence } from '../alerting/silences.js';
import type { Config } from '../config.js';
import type { NotifyJobData } from '../jobs/payloads.js';
import type { Queues } from '../queues.js';
import { readUnknownPlans, trackedPlans } from '../scheduler.js';
import { maskUrl, stripUrlQueries } from '../secrets.js';
import { type HistoryEntry, readHistory } from '../tracking/history.js';
import { type SourceKind, sourceKindOf } from '../tracking/source.js';
import { RedisStateStore } from '../tracking/state.js';

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
  /** `plan` (2019-03-06 backup plan, the default when absent) or `instance` (2021-01-01 advanced downloads; `id` is then its source key). */
  readonly source?: SourceKind;
  readonly health: PlanHealth;
  readonly lastPollAt?: number | undefined;
  readonly lastSuccessAt?: number | undefined;
  readonly taskCount?: number | undefined;
  /** Task count by status after the last successful poll. */
  readonly byStatus: Readonly<Record<string, number>>;
  readonly lastError?: string | undefined;
  readonly lastErrorAt?: number | undefined;
  /** Set when the last plan check found that DBS does not know this plan: the account it was looked up in. */
  readonly unknownInAccount?: string;
  /** `unordered`: the plan's list is not newest first, so it is polled with full sweeps only (see README, sweeps). */
  readonly listOrder?: 'newest-first' | 'unordered' | undefined;
}

/** What status and the page say about a configured plan DBS does not know. */
export function unknownPlanText(account: string): string {
  return `unknown plan: DBS does not know this id in account "${account}" (it answers an empty list; check plans[].id and plans[].account)`;
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
  /** Silences in force or scheduled (config first, then runtime). Absent in reports built without them. */
  readonly silences?: readonly Silence[];
  /** Notifications a silence stopped, newest first. */
  readonly silenced?: readonly SilencedRecord[];
}

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;
export const FAILED_LIMIT = 100;
export const HISTORY_LIMIT = 50;

/** A plan's health from its last poll, last success and last error. */
export function planHealth(
  meta: { lastPollAt?: number | undefined; lastSuccessAt?: number | undefined; lastError?: string | undefined; lastErrorAt?: number | undefined },
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
    events: data.watchdog ? [String(data.watchdog.event)] : unique(notifications.map((n) => String(n?.event ?? '?'))),
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
  const [metas, pollCounts, notifyCounts, failedJobs, history, unknown] = await Promise.all([
    new RedisStateStore(redis, prefix).meta(plans.map((p) => p.id)),
    queues.poll.getJobCounts(...QUEUE_STATES),
    queues.notify.getJobCounts(...QUEUE_STATES),
    queues.notify.getFailed(0, FAILED_LIMIT - 1),
    readHistory(redis, prefix, HISTORY_LIMIT),
    readUnknownPlans(redis, prefix),
  ]);
  const silenceStore = new SilenceStore(redis, prefix);
  const [silences, silenced] = await Promise.all([silenceStore.all(config, now()), silenceStore.recentSilenced(HISTORY_LIMIT)]);
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
        ...(sourceKindOf(plan.id) === 'instance' ? { source: 'instance' as const } : {}),
        health: planHealth(meta ?? {}, plan.intervalMs, at),
        lastPollAt: meta?.lastPollAt,
        lastSuccessAt: meta?.lastSuccessAt,
        taskCount: meta?.taskCount,
        byStatus: meta?.byStatus ?? {},
        lastError: meta?.lastError === undefined ? undefined : stripUrlQueries(meta.lastError),
        lastErrorAt: meta?.lastErrorAt,
        listOrder: meta?.listOrder,
        ...(unknown.has(plan.id) ? { unknownInAccount: unknown.get(plan.id) as string } : {}),
      };
    }),
    queues: { poll: depths(pollCounts), notify: depths(notifyCounts) },
    failedNotifications: failedJobs.filter((job): job is Job<NotifyJobData> => !!job).map(describeFailedJob),
    recentTransitions: history,
    silences,
    silenced,
  };
}
