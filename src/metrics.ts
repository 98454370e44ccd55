/**
 * Prometheus metrics. Labels are small closed sets (result, outcome, event,
 * channel type, queue state): never plan ids, task ids or URLs.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  help: 'Notification deliveries by channel type and result (sent, retry, rate_limited, failed, duplicate).',
  labelNames: ['channel_type', 'result'] as const,
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
