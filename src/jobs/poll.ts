/**
 * The poll worker: for one plan, read the complete task list, diff it against
 * the stored state, enqueue the notifications, then commit the new state with
 * a compare-and-set. Order matters: jobs are enqueued *before* the commit and
 * their ids are derived from the transitions, so a crash anywhere in between
 * re-enqueues the same ids (ignored by BullMQ) on the next poll — nothing is
 * lost and nothing is sent twice.
 */
import { type Job, type Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { enqueueReminders, recordBackupSetsDone } from '../alerting/poll-hooks.js';
import type { Observation } from '../alerting/watchdog.js';
import type { WatchdogRunner } from '../alerting/watchdog-runner.js';
import type { Config, PlanConfig } from '../config.js';
import { sweepOfTasks, type TaskRecord, type TaskSweep, type TaskSweeper } from '../dbs/pager.js';
import type { DownloadTask, TaskStatus } from '../dbs/task.js';
import { DbswatchError, retryPolicyOf } from '../errors.js';
import { redisKeys } from '../keys.js';
import type { Logger } from '../logger.js';
import { pollDuration, pollsTotal, recordPlanPoll, trackedTasks, transitionsTotal } from '../metrics.js';
import { buildNotifyJobs } from '../notify/routing.js';
import { takePollGuard } from '../poll-guard.js';
import { notifyJobOptions, QUEUE_NAMES } from '../queues.js';
import { DISCOVER_JOB_NAME } from '../scheduler.js';
import { type AnnouncedInput, type AnnouncedRecord, applyAnnouncedRule } from '../tracking/announced.js';
import { diff, isTerminal, type ObservedTask, type TrackedTask, type Transition } from '../tracking/diff.js';
import type { HistoryRecorder } from '../tracking/history.js';
import { sourceKindOf } from '../tracking/source.js';
import { ANNOUNCED_GC_EVERY_MS, type StateStore } from '../tracking/state.js';
import { chooseSweep, incrementalStopRule, listOrderOf, type SweepKind, type SweepReason } from '../tracking/sweep.js';
import { jitteredBackoff } from './backoff.js';
import type { NotifyJobData } from './payloads.js';
import { type PollJobData, pollJobDataSchema } from './payloads.js';

/**
 * Where a poll gets its tasks (the DBS pager in production, `dbsTaskSource`).
 * A source with `sweep` gets lazy normalisation and incremental sweeps; one
 * with only `listAll` is read completely on every poll. `plan` picks the
 * account (issue 13).
 */
export type TaskSource =
  | {
      /** Every task of the plan, or a thrown error: never a partial list. */
      listAll(planId: string, plan?: PlanConfig): Promise<readonly DownloadTask[]>;
    }
  | TaskSweeper;

/** Finds the settings of a plan: configured, or discovered. */
export type PlanResolver = (planId: string) => Promise<PlanConfig | undefined>;

export interface PollDeps {
  readonly config: () => Config;
  readonly resolvePlan: PlanResolver;
  readonly source: TaskSource;
  readonly store: StateStore;
  readonly notifyQueue: Queue<NotifyJobData>;
  readonly log: Logger;
  /** Redis for the once-per-hour permanent-error log guard. */
  readonly redis: Redis;
  readonly prefix: string;
  readonly history?: HistoryRecorder;
  /** Runs plan discovery (jobs named `discover` on the poll queue). */
  readonly discover?: () => Promise<void>;
  readonly now?: () => number;
  /** Test seam: runs after the notification jobs are enqueued and before the commit (crash tests). */
  readonly afterEnqueue?: (planId: string, jobCount: number) => Promise<void> | void;
  /** Told each poll's outcome (`plan-failing`, `plan-recovered`). Default: none. */
  readonly watchdog?: WatchdogRunner;
  /** Plans this process has fully swept (keyed by prefix and plan). Default: one set per process. */
  readonly fullySwept?: Set<string>;
}

export interface PollOptions {
  /** Compute and report, change nothing, enqueue nothing. Default: false. */
  readonly dryRun?: boolean;
}

export interface PollOutcome {
  readonly planId: string;
  readonly result: 'ok' | 'baseline' | 'skipped';
  readonly transitions: readonly Transition[];
  readonly jobsEnqueued: number;
  readonly tracked: number;
  /** Normalised tasks: every listed one from a `listAll` source; from a sweeping source, the transitioned ones. */
  readonly tasks: ReadonlyMap<string, DownloadTask>;
  /** How the list was read (`incremental`: stopped early; `full`: every page). */
  readonly sweep?: { readonly kind: SweepKind; readonly reason: SweepReason; readonly listed: number; readonly requests?: number };
}

/** Polls of one plan that kept losing the compare-and-set to concurrent polls. */
class StateConflictError extends DbswatchError {
  constructor(planId: string) {
    super(`state of plan ${planId} kept changing under this poll; will retry`, 'StateConflict', { kind: 'retryable' });
  }
}

const MAX_CONFLICT_ROUNDS = 3;
const PERMANENT_LOG_EVERY_MS = 3_600_000;
const trackedByPlan = new Map<string, number>();
const fullySweptInThisProcess = new Set<string>();

/** Reads the plan the way `kind` says; a source without `sweep` is always read completely. */
async function readTasks(
  source: TaskSource,
  planId: string,
  plan: PlanConfig,
  kind: SweepKind,
  previous: ReadonlyMap<string, TrackedTask>,
  needsDetail: (taskId: string, status: TaskStatus) => boolean,
): Promise<TaskSweep> {
  const result =
    'sweep' in source
      ? await source.sweep(planId, { ...(kind === 'incremental' ? { stopAfterPage: incrementalStopRule(previous) } : {}), needsDetail }, plan)
      : sweepOfTasks(planId, await source.listAll(planId, plan));
  // A task the diff normalised (a new status) is normalised once, however many steps of this poll need it.
  const normalised = new Map<TaskRecord, DownloadTask>();
  const taskOf = (record: TaskRecord): DownloadTask => {
    let task = normalised.get(record);
    if (!task) normalised.set(record, (task = result.taskOf(record)));
    return task;
  };
  return { ...result, taskOf };
}

/** One poll of one plan. Throws on failure; state is then untouched. */
export async function pollPlan(deps: PollDeps, planId: string, options: PollOptions = {}): Promise<PollOutcome> {
  const now = deps.now ?? Date.now;
  const plan = await deps.resolvePlan(planId);
  if (!plan) {
    return { planId, result: 'skipped', transitions: [], jobsEnqueued: 0, tracked: 0, tasks: new Map() };
  }
  const sweptKey = `${deps.prefix}\u0000${planId}`;
  const fullySwept = deps.fullySwept ?? fullySweptInThisProcess;
  for (let round = 1; ; round++) {
    const config = deps.config();
    const previous = await deps.store.load(planId);
    const at0 = now();
    const choice =
      'sweep' in deps.source
        ? chooseSweep({
            mode: config.dbs.sweep,
            baselineDone: previous.baselineDone,
            fullSweptByThisProcess: fullySwept.has(sweptKey),
            ...(previous.lastFullSweepAt === undefined ? {} : { lastFullSweepAt: previous.lastFullSweepAt }),
            ...(previous.listOrder === undefined ? {} : { listOrder: previous.listOrder }),
            now: at0,
            fullSweepEveryMs: config.dbs.fullSweepEvery,
          })
        : { kind: 'full' as const, reason: 'configured-full' as const };
    // A silent baseline raises no event, so nothing it lists needs more than id and status.
    const announcing = previous.baselineDone || config.defaults.notifyOnFirstSight;
    const read = await readTasks(
      deps.source,
      planId,
      plan,
      choice.kind,
      previous.tasks,
      announcing ? (taskId, status) => isNews(previous.tasks.get(taskId), status, true) : () => false,
    );
    // A read that reached the last page is a full sweep, whatever was asked for.
    const kind: SweepKind = read.complete ? 'full' : 'incremental';
    // Lazy normalisation: the diff sees id and status; only tasks whose status changed (or whose event is
    // held) need the rest — an init's ErrMessage, a finish's links (issue 13's holds).
    const observed = announcing ? read.records.map((record) => observe(record, previous.tasks.get(record.taskId), read)) : read.records;
    const result = diff(previous.tasks, observed, {
      baselineDone: previous.baselineDone,
      notifyOnFirstSight: config.defaults.notifyOnFirstSight,
      forgetAfterMissedPolls: config.defaults.forgetAfterMissedPolls,
      initFailedAfter: config.defaults.initFailedAfter,
      waitForLinks: config.defaults.waitForLinks,
      sweep: kind,
    });
    const listOrder = kind === 'full' ? listOrderOf(read.records) : undefined;
    if (listOrder === 'unordered' && config.dbs.sweep === 'incremental' && (previous.listOrder !== 'unordered' || !fullySwept.has(sweptKey))) {
      deps.log.warn(
        { planId },
        `the download-task list of plan ${planId} is not newest first by creation time; polling it with full sweeps only (incremental sweeps rely on that order)`,
      );
    }
    const at = now();
    // Once per task and terminal state (a forgotten task coming back, finish → running → finish): see announced.ts.
    // Only tasks whose tracking record changed can change what is remembered, so only their records are read —
    // plus, once a day on a full sweep, the whole hash to drop what expired (state.ts, ANNOUNCED_GC_EVERY_MS).
    const held = new Set([...result.upserts].filter(([, record]) => (record.held ?? 0) > 0).map(([taskId]) => taskId));
    const changed = read.records.filter((record) => result.upserts.has(record.taskId));
    const dropExpired = kind === 'full' && (previous.announcedGcAt === undefined || at - previous.announcedGcAt >= ANNOUNCED_GC_EVERY_MS);
    const wanted = dropExpired ? 'all' : [...new Set([...changed.map((r) => r.taskId), ...result.transitions.map((t) => t.taskId), ...result.removals])];
    // Nothing is remembered before the first commit, and a quiet poll needs no record.
    const remembered =
      previous.version === 0 || (wanted !== 'all' && wanted.length === 0) ? new Map<string, AnnouncedRecord>() : await deps.store.announced(planId, wanted);
    const announced = applyAnnouncedRule(remembered, terminalFacts(changed), result.transitions, result.removals, {
      at,
      keepAfterGoneMs: config.notify.keepDelivered,
      held,
    });
    // Only the tasks a notification or history entry needs are normalised.
    const tasks = new Map<string, DownloadTask>();
    if (announced.transitions.length > 0) {
      const wanted = new Set(announced.transitions.map((t) => t.taskId));
      for (const record of read.records) if (wanted.has(record.taskId)) tasks.set(record.taskId, read.taskOf(record));
    }
    const jobs = buildNotifyJobs(config, plan, announced.transitions, tasks, at);
    const outcome: PollOutcome = {
      planId,
      result: previous.baselineDone ? 'ok' : 'baseline',
      transitions: announced.transitions,
      jobsEnqueued: jobs.length,
      tracked: result.trackedCount,
      tasks,
      sweep: {
        kind,
        reason: read.complete && choice.kind === 'incremental' ? 'reached-last-page' : choice.reason,
        listed: read.records.length,
        ...('sweep' in deps.source ? { requests: read.requests } : {}),
      },
    };
    if (options.dryRun) return outcome;

    if (jobs.length > 0) {
      await deps.notifyQueue.addBulk(jobs.map((job) => ({ name: 'notify', data: job.data, opts: notifyJobOptions(config, job.jobId) })));
      await enqueueReminders(deps.notifyQueue, config, plan, jobs, at);
    }
    await deps.afterEnqueue?.(planId, jobs.length);
    const committed = await deps.store.commit(planId, {
      expectedVersion: previous.version,
      upserts: result.upserts,
      removals: result.removals,
      announcedUpserts: announced.upserts,
      announcedRemovals: announced.removals,
      at,
      byStatus: kind === 'full' ? countByStatus(read.records) : countTracked(previous.tasks, result.upserts),
      ...(listOrder ? { fullSweep: { at: at0, listOrder } } : {}),
      ...(dropExpired ? { announcedGcAt: at } : {}),
    });
    if (committed.ok) {
      if (kind === 'full') fullySwept.add(sweptKey);
      await recordBackupSetsDone(deps.redis, deps.prefix, planId, announced.transitions, tasks, at);
      for (const t of announced.transitions) transitionsTotal.inc({ event: t.event, source: sourceKindOf(planId) });
      trackedByPlan.set(planId, result.trackedCount);
      trackedTasks.set([...trackedByPlan.values()].reduce((a, b) => a + b, 0));
      if (deps.history && announced.transitions.length > 0) {
        await deps.history.record(plan, announced.transitions, tasks, at);
      }
      return outcome;
    }
    // Another poll of this plan committed first. Our jobs are harmless (same ids
    // as the transitions the winner saw, or real events it has not seen yet);
    // start again from the winner's state.
    if (round >= MAX_CONFLICT_ROUNDS) throw new StateConflictError(planId);
    pollsTotal.inc({ result: 'conflict', source: sourceKindOf(planId) });
    deps.log.debug({ round }, 'another poll of this plan committed first; starting again from its state');
  }
}

/**
 * Whether a listed task's details can matter to this poll: its status is new to it, or its event is
 * held — on a poll that announces (not a silent baseline). Everything else is settled history the
 * poll only needs id and status of (lazy normalisation).
 */
function isNews(previous: TrackedTask | undefined, status: TaskStatus, announcing: boolean): boolean {
  if (!announcing) return false;
  return previous === undefined || previous.status !== status || (previous.held ?? 0) > 0;
}

/**
 * What the diff needs of one listed task: id and status always; the ErrMessage and the "links not there
 * yet" mark only where they can matter — a task that is news (`isNews`) in `init` or `finish`, on a
 * poll that announces (a silent baseline observes the records as they are) — so a steady poll and a
 * baseline normalise nothing.
 */
function observe(record: TaskRecord, previous: TrackedTask | undefined, read: { taskOf(record: TaskRecord): DownloadTask }): ObservedTask {
  // The record itself is an ObservedTask (id and status): no copy per listed task.
  if (!isNews(previous, record.status, true) || (record.status !== 'init' && record.status !== 'finish')) return record;
  return withLinksPending(read.taskOf(record));
}

/** Status and finish time of the listed tasks in a terminal status (what the announced rule compares). */
function terminalFacts(records: readonly TaskRecord[]): AnnouncedInput[] {
  const out: AnnouncedInput[] = [];
  for (const record of records) {
    if (!isTerminal(record.status)) continue;
    const finishedAt = record.finishedAt;
    out.push(finishedAt === undefined ? { taskId: record.taskId, status: record.status } : { taskId: record.taskId, status: record.status, finishedAt });
  }
  return out;
}

/**
 * DBS fills a manual download's URLs only once its conversion is complete, which can be a poll after
 * `finish`: such a task is marked so the diff holds its `finished` event (defaults.waitForLinks).
 */
function withLinksPending(task: DownloadTask): DownloadTask & { linksPending?: boolean } {
  const pending = task.status === 'finish' && task.downloadWay === 'manual' && !task.internetUrl && !task.intranetUrl;
  return pending ? { ...task, linksPending: true } : task;
}

function countByStatus(records: readonly TaskRecord[]): Record<string, number> {
  const byStatus: Record<string, number> = {};
  for (const record of records) byStatus[record.status] = (byStatus[record.status] ?? 0) + 1;
  return byStatus;
}

/** Task count by status after an incremental sweep: the tracked state with this poll's changes applied. */
function countTracked(
  previous: ReadonlyMap<string, { readonly status: string; readonly missed: number }>,
  upserts: ReadonlyMap<string, { readonly status: string; readonly missed: number }>,
): Record<string, number> {
  const byStatus: Record<string, number> = {};
  const add = (task: { readonly status: string; readonly missed: number }) => {
    // Tasks missing from the last full sweep are not in DBS's list now: a full sweep would not count them.
    if (task.missed === 0) byStatus[task.status] = (byStatus[task.status] ?? 0) + 1;
  };
  for (const [taskId, task] of previous) if (!upserts.has(taskId)) add(task);
  for (const task of upserts.values()) add(task);
  return byStatus;
}

/** Logs a permanent failure at error level at most once per plan per hour. */
async function logPermanentOnce(deps: PollDeps, log: Logger, planId: string, error: unknown): Promise<void> {
  const key = redisKeys(deps.prefix).planPermanentErrorLogged(planId);
  const first = await deps.redis.set(key, '1', 'PX', PERMANENT_LOG_EVERY_MS, 'NX').catch(() => 'OK');
  const message = error instanceof Error ? error.message : String(error);
  if (first === 'OK') {
    log.error({ err: error }, `poll of plan ${planId} failed and retrying cannot help: ${message} (repeats are logged at most hourly)`);
  } else {
    log.debug({ err: error }, `poll of plan ${planId} failed permanently again`);
  }
}

/** Per-plan metrics and the watchdog see every poll outcome (a retried poll's attempts each count). */
async function observePoll(deps: PollDeps, planId: string, obs: Observation): Promise<void> {
  recordPlanPoll(planId, obs.kind === 'success', obs.at);
  if (!deps.watchdog) return;
  const plan = await deps.resolvePlan(planId).catch(() => undefined);
  await deps.watchdog.observePlan({ id: planId, name: plan?.name ?? planId }, obs);
}

/** The BullMQ processor for the poll queue. */
export function createPollProcessor(deps: PollDeps) {
  return async (job: Job<PollJobData>): Promise<{ result: string; transitions: number; sweep?: SweepKind }> => {
    if (job.name === DISCOVER_JOB_NAME) {
      if (!deps.discover) throw new UnrecoverableError('plan discovery is not enabled in this process');
      await deps.discover();
      return { result: 'discovered', transitions: 0 };
    }
    const parsed = pollJobDataSchema.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(`poll job ${job.id} has an invalid payload: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
    }
    const planId = parsed.data.planId;
    const log = deps.log.child({ planId, jobId: job.id });
    // Scheduled polls of one plan never pile up (src/poll-guard.ts).
    const release = job.repeatJobKey ? await takePollGuard(deps.redis, deps.prefix, planId) : async () => {};
    if (!release) {
      pollsTotal.inc({ result: 'skipped', source: sourceKindOf(planId) });
      log.info('the previous scheduled poll of this plan is still running; this tick is skipped');
      return { result: 'busy', transitions: 0 };
    }
    const timer = pollDuration.startTimer();
    try {
      const outcome = await pollPlan({ ...deps, log }, planId);
      pollsTotal.inc({ result: outcome.result === 'skipped' ? 'skipped' : 'ok', source: sourceKindOf(planId) });
      if (outcome.result !== 'skipped') await observePoll(deps, planId, { kind: 'success', at: (deps.now ?? Date.now)() });
      if (outcome.result === 'skipped') log.info('plan is no longer configured; poll skipped');
      else if (outcome.transitions.length > 0 || outcome.result === 'baseline') {
        log.info(
          {
            transitions: outcome.transitions.length,
            jobs: outcome.jobsEnqueued,
            tracked: outcome.tracked,
            baseline: outcome.result === 'baseline',
            sweep: outcome.sweep,
          },
          outcome.result === 'baseline' ? 'baseline recorded silently' : 'poll found transitions',
        );
      } else log.debug({ tracked: outcome.tracked, sweep: outcome.sweep }, 'poll found no change');
      return { result: outcome.result, transitions: outcome.transitions.length, ...(outcome.sweep ? { sweep: outcome.sweep.kind } : {}) };
    } catch (error) {
      pollsTotal.inc({ result: 'failed', source: sourceKindOf(planId) });
      const message = error instanceof Error ? error.message : String(error);
      await deps.store.recordFailure(planId, message, (deps.now ?? Date.now)()).catch(() => {});
      const policy = retryPolicyOf(error);
      await observePoll(deps, planId, { kind: 'failure', at: (deps.now ?? Date.now)(), error: message, permanent: policy.kind === 'permanent' });
      if (policy.kind === 'permanent') {
        await logPermanentOnce(deps, log, planId, error);
        // The next scheduler tick tries again; no hot retry loop on a bad credential.
        throw new UnrecoverableError(message);
      }
      log.warn({ err: error, attempt: job.attemptsMade + 1 }, `poll failed, will retry: ${message}`);
      throw error;
    } finally {
      timer();
      await release();
    }
  };
}

/** Longest wait between two attempts of one poll job. */
const POLL_MAX_BACKOFF_MS = 10 * 60_000;

export function startPollWorker(deps: PollDeps & { readonly connection: Redis; readonly concurrency: number }): Worker<PollJobData> {
  const config = deps.config();
  const worker = new Worker<PollJobData>(QUEUE_NAMES.poll, createPollProcessor(deps), {
    connection: deps.connection,
    prefix: config.redis.prefix,
    concurrency: deps.concurrency,
    settings: { backoffStrategy: jitteredBackoff(() => POLL_MAX_BACKOFF_MS) },
    // A poll of 1,000 tasks at a low request rate can take a while: keep the lock renewed.
    lockDuration: 60_000,
    maxStalledCount: 5,
  });
  worker.on('error', (error) => deps.log.error({ err: error }, 'poll worker error'));
  return worker;
}
