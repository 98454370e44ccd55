import type { PhaseResult, PollPhase } from './protocol.js';
import type { RedisDelta } from './redis-server.js';

export interface BenchOptions {
  quick: boolean;
  /** Also run the client+pager reference read (`--attribution`). */
  attribution?: boolean;
  sizes: Array<{ plans: number; tasksPerPlan: number }>;
  reps: number;
  concurrency: number;
  requestsPerSecond: number;
  pageSize: 30 | 50 | 100;
  /** Share of each plan's tasks that finish between the first and the steady sweep (and again before the incremental one). */
  transitionFraction: number;
  /** Poll interval for the amortised-requests model (the config default). */
  intervalMs: number;
  /** `dbs.fullSweepEvery` for the same model (the config default). */
  fullSweepEveryMs: number;
  notify: Array<{ name: string; plans: number; transitionsPerPlan: number }>;
  notifyChannels: number;
  notifyConcurrency: number;
  digestThreshold: number;
  outName: string;
}

/** How the worker process is started: bundled and run by plain node (as production runs dist/), or through tsx. */
export interface WorkerEntry {
  file: string;
  execArgv: string[];
  mode: 'bundled (plain node)' | 'tsx';
  /** Extra node flags given to the worker (experiments only; none by default). */
  flags: string[];
}

export interface PhaseMeasure {
  child: PhaseResult;
  /** API requests the simulator answered during the phase. */
  apiRequests: number;
  apiRequestsMinPerPlan: number;
  apiRequestsMaxPerPlan: number;
  /** Server-side Redis deltas (INFO) during the phase. */
  redis: RedisDelta;
  /** CPU time of this process (the simulator) during the phase. */
  simulatorCpuMs: number;
  /** 1-minute load average at the end of the phase (other processes on the machine show up here). */
  loadAvg1: number;
}

export interface PollRep {
  rep: number;
  prefix: string;
  /** The worker process's RSS / heap once wired up, before the first phase. */
  workerIdleRssBytes: number;
  workerIdleHeapBytes: number;
  phases: Record<PollPhase, PhaseMeasure>;
  injected: number;
  memory: {
    /** MEMORY USAGE (SAMPLES 0) of every plan's tasks hash, summed. */
    taskHashBytes: number;
    /** Same for the meta hashes. */
    metaHashBytes: number;
    trackedTasks: number;
    bytesPerTask: number;
    /** Including the per-plan meta hash. */
    bytesPerTaskWithMeta: number;
    /** INFO used_memory delta over the first sweep (includes BullMQ's poll-job records). */
    usedMemoryDeltaFirst: number;
  };
}

export interface SizeResult {
  plans: number;
  tasksPerPlan: number;
  pageSize: number;
  minRequestsPerPlan: number;
  minRequests: number;
  transitionsPerSweep: number;
  /** Transitions injected before the incremental sweep (the next-newest 1%). */
  transitionsIncremental: number;
  /** Phases run (the client+pager reference only with `--attribution`, never for long-history sizes). */
  phases: PollPhase[];
  simulatorBuildMs: number;
  reps: PollRep[];
}

export interface NotifyScenarioResult {
  name: string;
  plans: number;
  channels: number;
  transitionsPerPlan: number;
  transitions: number;
  digestThreshold: number;
  notifyConcurrency: number;
  pollConcurrency: number;
  notifyJobs: number;
  expected: number;
  received: number;
  duplicates: number;
  messages: number;
  timedOut: boolean;
  pollWallMs: number;
  /** First detectedAt → last sink receipt. */
  spanMs: number;
  notificationsPerSecond: number;
  messagesPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  minGapPerWebhookMs: number;
  maxPerWebhookPerSecond: number;
  /** Lower bound from the Slack limit: the busiest webhook's messages at 1/s. */
  floorMs: number;
  worker: { cpuMs: number; rssPeakBytes: number };
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  memTotal: string;
  freeH: string;
  node: string;
  redis: string;
  platform: string;
}

export interface BenchResult {
  startedAt: string;
  totalWallMs: number;
  command: string;
  options: BenchOptions;
  redis: { private: boolean };
  machine: Machine;
  worker: WorkerEntry['mode'];
  workerFlags: string[];
  /** 1-minute load average at the start and the end of the run. */
  loadAvg: { start: number; end: number };
  sizes: SizeResult[];
  notify: NotifyScenarioResult[];
}
