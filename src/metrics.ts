/**
 * Prometheus metrics. Labels are small closed sets (result, outcome, event,
 * channel type, queue state) or names bounded by the config (`channel`, and
 * `plan` on the two per-plan gauges: configured plans plus discovered ones,
 * so series = plans × 2): never task ids or URLs.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from './config.js';
import { EVENT_KINDS } from './domain.js';
import { VERSION } from './version.js';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const pollsTotal = new Counter({
  name: 'dbswatch_polls_total',
  help: 'Polls by result (ok, failed, conflict, skipped) and source kind (plan, instance).',
  labelNames: ['result', 'source'] as const,
  registers: [registry],
});

export const pollDuration = new Histogram({
  name: 'dbswatch_poll_duration_seconds',
  help: 'Wall time of one complete plan poll (all pages, diff, enqueue, commit).',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [registry],
});

export const dbsRequestsTotal = new Counter({
  name: 'dbswatch_dbs_requests_total',
  help: 'DBS API requests by outcome (ok, throttled, retryable, permanent, invalid).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const transitionsTotal = new Counter({
  name: 'dbswatch_transitions_total',
  help: 'Status transitions found by polls, by event (finished, failed, progress, expired, expiring) and source kind (plan, instance).',
  labelNames: ['event', 'source'] as const,
  registers: [registry],
});

export const notificationsTotal = new Counter({
  name: 'dbswatch_notifications_total',
  help: 'Notification deliveries by channel type, channel name and result (sent, retry, rate_limited, failed, duplicate, silenced, reminder_skipped).',
  labelNames: ['channel_type', 'channel', 'result'] as const,
  registers: [registry],
});

export const trackedTasks = new Gauge({
  name: 'dbswatch_tracked_tasks',
  help: 'Tasks held in tracking state by the plans this process polled.',
  registers: [registry],
});

export const queueJobs = new Gauge({
  name: 'dbswatch_queue_jobs',
  help: 'Jobs per queue and state, sampled at scrape time.',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
});

/** Always 1; the labels say which build runs (the Prometheus `*_build_info` convention). */
export const buildInfo = new Gauge({
  name: 'dbswatch_build_info',
  help: 'Always 1; labelled with the running dbswatch version and Node.js version.',
  labelNames: ['version', 'node'] as const,
  registers: [registry],
});
buildInfo.set({ version: VERSION, node: process.version }, 1);
// ---------------------------------------------------------------------------
// Alerting on dbswatch itself (issue 18)

/** Known label values, so every counter has its series (at 0) from the first scrape: `increase()` then sees the first event. */
export const POLL_RESULTS = ['ok', 'failed', 'conflict', 'skipped'] as const;
export const DBS_OUTCOMES = ['ok', 'throttled', 'retryable', 'permanent', 'invalid'] as const;
/** What a poll reads: a backup plan or an instance's advanced downloads (the `source` label). */
export const SOURCE_KINDS = ['plan', 'instance'] as const;
export const NOTIFY_RESULTS = ['sent', 'retry', 'rate_limited', 'failed', 'duplicate', 'outcome_unknown', 'silenced', 'reminder_skipped'] as const;

export const planUp = new Gauge({
  name: 'dbswatch_plan_up',
  help: "1 when the plan's last poll succeeded, 0 when it failed. One series per plan (bounded by the config and discovery).",
  labelNames: ['plan'] as const,
  registers: [registry],
});

export const planLastSuccess = new Gauge({
  name: 'dbswatch_plan_last_success_timestamp_seconds',
  help: 'When the plan was last polled successfully (Unix seconds; 0 = never). One series per plan.',
  labelNames: ['plan'] as const,
  registers: [registry],
});

export const configReloadSuccessful = new Gauge({
  name: 'dbswatch_config_last_reload_successful',
  help: '1 when the last configuration load (start, SIGHUP or POST /-/reload) succeeded, else 0.',
  registers: [registry],
});

export const configReloadTimestamp = new Gauge({
  name: 'dbswatch_config_last_reload_success_timestamp_seconds',
  help: 'When the configuration was last loaded successfully (Unix seconds).',
  registers: [registry],
});

/** Creates every known series at zero (counters) and marks the config as loaded. Call at start and after a reload. */
export function initMetrics(config: Config, now = Date.now()): void {
  for (const source of SOURCE_KINDS) for (const result of POLL_RESULTS) pollsTotal.inc({ result, source }, 0);
  for (const outcome of DBS_OUTCOMES) dbsRequestsTotal.inc({ outcome }, 0);
  for (const source of SOURCE_KINDS) for (const event of EVENT_KINDS) transitionsTotal.inc({ event, source }, 0);
  for (const channel of Object.values(config.channels)) {
    for (const result of NOTIFY_RESULTS) notificationsTotal.inc({ channel_type: channel.type, channel: channel.name, result }, 0);
  }
  for (const plan of config.plans) {
    // Only create the series: a value already set by a poll in this process stays.
    planUp.inc({ plan: plan.id }, 0);
    planLastSuccess.inc({ plan: plan.id }, 0);
  }
  recordConfigLoad(true, now);
}

export function recordConfigLoad(ok: boolean, now = Date.now()): void {
  configReloadSuccessful.set(ok ? 1 : 0);
  if (ok) configReloadTimestamp.set(Math.floor(now / 1000));
}

/** Records a plan's poll outcome on the per-plan gauges. */
export function recordPlanPoll(planId: string, ok: boolean, at: number): void {
  planUp.set({ plan: planId }, ok ? 1 : 0);
  if (ok) planLastSuccess.set({ plan: planId }, Math.floor(at / 1000));
}
