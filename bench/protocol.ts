/**
 * Messages between the benchmark runner (parent: simulator, private Redis,
 * measurements from outside) and the worker process (child: dbswatch's
 * poller / notifier, measuring its own CPU and memory).
 */

/** Redis traffic the child sent, by who sent it (client side; Lua-internal calls are not here). */
export type RedisTraffic = Record<string, { commands: number; roundTrips: number }>;

export interface ProcessUsage {
  /** Wall time of the phase, measured in the child. */
  wallMs: number;
  /** CPU time of the child during the phase. */
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Highest RSS sampled (every 20 ms) during the phase. */
  rssPeakSampledBytes: number;
  /** `process.resourceUsage().maxRSS` at the end of the phase: the process's lifetime peak. */
  maxRssBytes: number;
  /** Highest V8 heapUsed sampled during the phase. */
  heapUsedPeakBytes: number;
}

export interface PollInit {
  kind: 'poll';
  redisUrl: string;
  endpoint: string;
  prefix: string;
  planIds: string[];
  pageSize: 30 | 50 | 100;
  concurrency: number;
  requestsPerSecond: number;
}

export interface NotifyInit {
  kind: 'notify';
  redisUrl: string;
  endpoint: string;
  prefix: string;
  planIds: string[];
  channels: number;
  pageSize: 30 | 50 | 100;
  concurrency: number;
  notifyConcurrency: number;
  requestsPerSecond: number;
  digestThreshold: number;
}

/**
 * raw / client: reference reads. first: baseline (full). steady: full sweep (`dbs.sweep: full`) after 1% changed.
 * incremental: incremental sweep after another 1% changed. quiet: incremental sweep, nothing changed.
 */
export type PollPhase = 'raw' | 'client' | 'first' | 'steady' | 'incremental' | 'quiet';

export type ParentMessage =
  | { type: 'init'; init: PollInit | NotifyInit }
  | { type: 'phase'; phase: PollPhase }
  | { type: 'notify-baseline' }
  | { type: 'notify-run'; expected: number; timeoutMs: number }
  | { type: 'exit' };

export interface PhaseResult {
  phase: PollPhase;
  usage: ProcessUsage;
  redis: RedisTraffic;
  /** Requests the child made (raw: direct calls; others: the pager's count is not visible, so 0). */
  clientRequests: number;
  /** Plans whose poll failed (should be 0). */
  failures: number;
  failureMessages: string[];
  /** Transitions the polls reported. */
  transitions: number;
  /** Polls by the sweep they made (`full` / `incremental`), from the poll jobs' return values. */
  sweeps: Record<string, number>;
  /** Notify jobs / notifications enqueued. */
  notifyJobs: number;
  notifications: number;
  /** Tasks seen (sum over plans). */
  tasksSeen: number;
}

export interface NotifyRunResult {
  pollWallMs: number;
  expected: number;
  received: number;
  duplicates: number;
  messages: number;
  firstDetectedAt: number;
  lastReceivedAt: number;
  /** Latencies (ms) from detectedAt to sink receipt, one per notification. */
  latenciesMs: number[];
  /** Per webhook: smallest gap (ms) between two accepted messages. */
  minGapMs: number;
  /** Highest number of messages one webhook received within any 1,000 ms. */
  maxPerWebhookPerSecond: number;
  notifyJobs: number;
  usage: ProcessUsage;
  timedOut: boolean;
}

export type ChildMessage =
  | { type: 'ready'; rssBytes: number; heapUsedBytes: number }
  | { type: 'phase-done'; result: PhaseResult }
  | { type: 'notify-baseline-done'; wallMs: number; failures: number }
  | { type: 'notify-run-done'; result: NotifyRunResult }
  | { type: 'error'; message: string };
