/**
 * Reads what the status page shows from Redis: the `dbswatch status`
 * report, more history (for the filter and the 24 h chart), the delivery
 * guard's markers for finished transitions, and notify jobs by channel.
 * Only names, ids, counts and reasons leave this file — the notify jobs'
 * payloads (with their signed URLs) are read for `data.channel` alone.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { NotifyJobData } from '../jobs/payloads.js';
import { deliveryKeys } from '../notify/delivery-guard.js';
import { notificationId } from '../notify/event.js';
import { routeEvent } from '../notify/routing.js';
import type { Queues } from '../queues.js';
import { trackedPlans } from '../scheduler.js';
import { collectStatus } from '../status/report.js';
import { historyKey, readHistory } from '../tracking/history.js';
import { CHART_HOURS, hourlyBuckets } from './chart.js';
import type { ChannelCounts, PageModel, TransitionRow } from './page.js';

/** How many history entries the transitions table filters from (newest first). */
export const TABLE_HISTORY_SCAN = 1_000;
/** Rows the transitions table shows. */
export const TABLE_ROWS = 100;
/** Most history entries the chart reads (the stream keeps at most 10,000 anyway). */
export const CHART_SCAN = 10_000;
/** Jobs sampled per state for the per-channel counts; counts beyond it are shown as lower bounds. */
export const CHANNEL_SAMPLE = 1_000;

export interface PageFilter {
  readonly plan?: string;
  readonly event?: string;
}

/** `?plan=&event=` → a filter; empty values mean "all", anything else is matched exactly. */
export function parseFilter(query: URLSearchParams): PageFilter {
  const plan = query.get('plan')?.slice(0, 200) || undefined;
  const event = query.get('event')?.slice(0, 40) || undefined;
  return { ...(plan ? { plan } : {}), ...(event ? { event } : {}) };
}

/** Only `at` and `event` of the entries since `since`: all the chart needs, without parsing the rest. */
async function chartEntries(redis: Redis, prefix: string, since: number): Promise<{ at: number; event: string }[]> {
  // Stream ids start with the add time in ms, so the id range is the time range.
  const rows = await redis.xrevrange(historyKey(prefix), '+', String(since), 'COUNT', CHART_SCAN);
  return rows.map(([, flat]) => {
    let at = 0;
    let event = '';
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (flat[i] === 'at') at = Number(flat[i + 1]);
      else if (flat[i] === 'event') event = flat[i + 1] ?? '';
    }
    return { at, event };
  });
}

/**
 * For each finished transition, whether each channel the event routes to
 * holds a `done` marker for its notification id — set by the notify worker
 * only after the message (with the links) was accepted.
 */
async function withDeliveries(config: Config, redis: Redis, rows: readonly TransitionRow[]): Promise<TransitionRow[]> {
  const plans = new Map((await trackedPlans(config, redis)).map((p) => [p.id, p]));
  const wanted: { row: number; channel: string; key: string }[] = [];
  rows.forEach((row, i) => {
    const plan = plans.get(row.planId);
    if (row.event !== 'finished' || !row.hadLinks || !plan) return;
    for (const channel of routeEvent(config, plan, 'finished')) {
      const id = notificationId(row.planId, row.taskId, row.seq, row.to, channel.name);
      wanted.push({ row: i, channel: channel.name, key: deliveryKeys(config.redis.prefix, id).done });
    }
  });
  // One EXISTS per key in one round trip: a multi-key EXISTS would only give the total.
  const pipeline = redis.pipeline();
  for (const w of wanted) pipeline.exists(w.key);
  const found = wanted.length ? ((await pipeline.exec()) ?? []).map(([error, n]) => (error ? 0 : Number(n))) : [];
  const byRow = new Map<number, { channel: string; delivered: boolean }[]>();
  wanted.forEach((w, i) => {
    const list = byRow.get(w.row) ?? [];
    list.push({ channel: w.channel, delivered: (found[i] ?? 0) > 0 });
    byRow.set(w.row, list);
  });
  return rows.map((row, i) => (row.event === 'finished' ? { ...row, deliveries: byRow.get(i) ?? [] } : row));
}

type CountedState = 'completed' | 'failed' | 'waiting' | 'delayed' | 'active' | 'prioritized';
const OUTCOME: Record<CountedState, keyof Omit<ChannelCounts, 'channel'>> = {
  completed: 'delivered',
  failed: 'failed',
  waiting: 'retrying',
  delayed: 'retrying',
  active: 'retrying',
  prioritized: 'retrying',
};

/** Notify jobs per channel and outcome, from the newest CHANNEL_SAMPLE jobs of each state. */
async function channelCounts(queues: Queues): Promise<{ channels: ChannelCounts[]; capped: boolean }> {
  const states = Object.keys(OUTCOME) as CountedState[];
  const samples = await Promise.all(states.map((state) => queues.notify.getJobs([state], 0, CHANNEL_SAMPLE - 1)));
  const counts = new Map<string, { delivered: number; retrying: number; failed: number }>();
  let capped = false;
  samples.forEach((jobs, i) => {
    const outcome = OUTCOME[states[i] as CountedState];
    if (jobs.length >= CHANNEL_SAMPLE) capped = true;
    for (const job of jobs as (Job<NotifyJobData> | undefined)[]) {
      if (!job) continue;
      const channel = typeof job.data?.channel === 'string' ? job.data.channel : '?';
      const entry = counts.get(channel) ?? { delivered: 0, retrying: 0, failed: 0 };
      entry[outcome] += 1;
      counts.set(channel, entry);
    }
  });
  const channels = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([channel, c]) => ({ channel, ...c }));
  return { channels, capped };
}

/** Everything the page needs, read in parallel. */
export async function collectPageModel(deps: {
  readonly config: Config;
  readonly redis: Redis;
  readonly queues: Queues;
  readonly filter: PageFilter;
  readonly now?: () => number;
}): Promise<PageModel> {
  const { config, redis, queues, filter } = deps;
  const now = (deps.now ?? Date.now)();
  const prefix = config.redis.prefix;
  const chartSince = Math.floor(now / 3_600_000) * 3_600_000 - (CHART_HOURS - 1) * 3_600_000;
  const [report, history, chartRows, channels] = await Promise.all([
    collectStatus({ config, redis, queues, now: () => now }),
    readHistory(redis, prefix, TABLE_HISTORY_SCAN),
    chartEntries(redis, prefix, chartSince),
    channelCounts(queues),
  ]);
  const matching = history.filter((e) => (!filter.plan || e.planId === filter.plan) && (!filter.event || e.event === filter.event)).slice(0, TABLE_ROWS);
  return {
    report,
    transitions: await withDeliveries(config, redis, matching),
    filter,
    channels: channels.channels,
    channelsCapped: channels.capped,
    chart: hourlyBuckets(chartRows, now),
    actionsEnabled: !!config.http.authToken,
  };
}
