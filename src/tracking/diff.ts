/**
 * The diff: previous tracking state + a complete snapshot → transitions and
 * the state changes to commit. Pure: no Redis, no clock, no logger.
 *
 * Every status change bumps the task's sequence number, so a transition has a
 * stable identity (plan, task, seq, new status) however often it is
 * recomputed — that is what makes notification ids idempotent.
 */

import type { TaskStatus } from '../dbs/task.js';
import type { EventKind } from '../domain.js';

/** What tracking keeps per task: only what the next diff needs. */
export interface TrackedTask {
  readonly status: TaskStatus;
  /** Status-change sequence number; 1 when first seen. */
  readonly seq: number;
  /** Complete polls in a row the task was missing from. */
  readonly missed: number;
  /**
   * Polls this status has been seen while its event is held back (an `init` not yet confirmed as a
   * failure, a `finish` still without its links). Absent when nothing is held: records written before
   * holds existed read as "already announced", so an upgrade never raises a stale alarm.
   */
  readonly held?: number;
}

/** The part of a task the diff looks at. */
export interface ObservedTask {
  readonly taskId: string;
  readonly status: TaskStatus;
  /** The task's ErrMessage: an `init` that carries one is a failure at once. */
  readonly errorMessage?: string | undefined;
  /** A finished `manual` task whose download URLs DBS has not filled in yet. Default: false. */
  readonly linksPending?: boolean;
}

export interface Transition {
  readonly taskId: string;
  /** Absent when the task was first seen in `to`. */
  readonly from?: TaskStatus;
  readonly to: TaskStatus;
  /** The task's sequence number after this change. */
  readonly seq: number;
  readonly event: EventKind;
}

export interface DiffOptions {
  /** False until the plan's first complete poll has been committed: that poll is a silent baseline. */
  readonly baselineDone: boolean;
  /** Notify terminal tasks seen on the baseline poll too. Default in config: false. */
  readonly notifyOnFirstSight: boolean;
  /** Forget a task missing from this many complete polls in a row. Default in config: 3. */
  readonly forgetAfterMissedPolls: number;
  /** A task that stays `init` (without ErrMessage, not after `checking`) this many polls has failed. Default: 3. */
  readonly initFailedAfter?: number;
  /** Polls a finished manual task without links is held before it is announced anyway. Default: 3. */
  readonly waitForLinks?: number;
  /**
   * What the snapshot is: `full` — every task of the plan; `incremental` — the
   * top of the list only (see sweep.ts), so a task missing from it is not
   * missing from the plan: missed counters and forgetting are left alone.
   * Default: full.
   */
  readonly sweep?: 'full' | 'incremental';
}

/** Default of `DiffOptions.initFailedAfter` (config `defaults.initFailedAfter`). */
export const DEFAULT_INIT_FAILED_AFTER = 3;
/** Default of `DiffOptions.waitForLinks` (config `defaults.waitForLinks`). */
export const DEFAULT_WAIT_FOR_LINKS = 3;

export interface DiffResult {
  /** Changes worth an event, in snapshot order (including `progress`; routing filters later). */
  readonly transitions: readonly Transition[];
  /** Records to write (new or changed). */
  readonly upserts: ReadonlyMap<string, TrackedTask>;
  /** Task ids to forget. */
  readonly removals: readonly string[];
  /** Tasks tracked after the change. */
  readonly trackedCount: number;
}

/**
 * The event a *settled* status change raises, or none. A settled `init` is a
 * failure; whether an `init` is settled yet is `holdFor`'s call (DBS uses the
 * same word for "not started yet").
 */
export function classify(from: TaskStatus | undefined, to: TaskStatus): EventKind | undefined {
  if (from === to) return undefined;
  if (to === 'finish') return 'finished';
  if (to === 'stop') return 'failed';
  if (to === 'init') return 'failed';
  // Advanced downloads (instances) only: see src/dbs2021/pipeline.ts for how their states map onto these.
  if (to === 'expired') return 'expired';
  if (to === 'expiring') return 'expiring';
  return 'progress';
}

/**
 * Whether the event of a task's status is held back on this poll (pure). `polls` counts the polls this
 * status has been seen while held, this one included (1 on the poll it appears).
 * - `init` after `checking`, or with an ErrMessage, is a failure at once; any other `init` is one only
 *   once seen `initFailedAfter` polls (a task that moves on before then raises nothing for it).
 * - `finish` of a manual task without links waits up to `waitForLinks` polls for them, then goes out
 *   anyway (the message says DBS gave no link yet).
 * The held event keeps the status's sequence number, so however late it goes out its notification id
 * is the one it would have had at once: no duplicate.
 */
export function holdFor(from: TaskStatus | undefined, task: ObservedTask, polls: number, options: DiffOptions): boolean {
  if (task.status === 'init') {
    if (from === 'checking' || task.errorMessage) return false;
    return polls < (options.initFailedAfter ?? DEFAULT_INIT_FAILED_AFTER);
  }
  if (task.status === 'finish' && task.linksPending) return polls <= (options.waitForLinks ?? DEFAULT_WAIT_FOR_LINKS);
  return false;
}

/** True for statuses that end a download (success or failure). */
export function isTerminal(status: TaskStatus): boolean {
  return status === 'finish' || status === 'stop' || status === 'init';
}

export function diff(previous: ReadonlyMap<string, TrackedTask>, snapshot: readonly ObservedTask[], options: DiffOptions): DiffResult {
  const transitions: Transition[] = [];
  const upserts = new Map<string, TrackedTask>();
  const seen = new Set<string>();

  for (const task of snapshot) {
    // The pager dedupes, but a diff must not double-count whatever it is given.
    if (seen.has(task.taskId)) continue;
    seen.add(task.taskId);
    const before = previous.get(task.taskId);

    if (!before) {
      const event = classify(undefined, task.status);
      // Baseline: history must not page anyone. After it, a new task already in a
      // terminal state started and ended between two polls: that is news.
      const notify = options.baselineDone ? true : options.notifyOnFirstSight && isTerminal(task.status);
      if (event && notify && holdFor(undefined, task, 1, options)) {
        upserts.set(task.taskId, { status: task.status, seq: 1, missed: 0, held: 1 });
        continue;
      }
      upserts.set(task.taskId, { status: task.status, seq: 1, missed: 0 });
      if (event && notify) transitions.push({ taskId: task.taskId, to: task.status, seq: 1, event });
      continue;
    }

    if (before.status === task.status) {
      if (before.held !== undefined) {
        // A held event: release it (same seq, so the same notification id) or hold one poll more.
        const polls = before.held + 1;
        if (holdFor(undefined, task, polls, options)) {
          upserts.set(task.taskId, { status: task.status, seq: before.seq, missed: 0, held: polls });
          continue;
        }
        upserts.set(task.taskId, { status: task.status, seq: before.seq, missed: 0 });
        const event = classify(undefined, task.status);
        if (event) transitions.push({ taskId: task.taskId, to: task.status, seq: before.seq, event });
        continue;
      }
      if (before.missed !== 0) upserts.set(task.taskId, { ...before, missed: 0 });
      continue;
    }

    const seq = before.seq + 1;
    const event = classify(before.status, task.status);
    if (event && holdFor(before.status, task, 1, options)) {
      upserts.set(task.taskId, { status: task.status, seq, missed: 0, held: 1 });
      continue;
    }
    upserts.set(task.taskId, { status: task.status, seq, missed: 0 });
    if (event) transitions.push({ taskId: task.taskId, from: before.status, to: task.status, seq, event });
  }

  const removals: string[] = [];
  for (const [taskId, before] of options.sweep === 'incremental' ? [] : previous) {
    if (seen.has(taskId)) continue;
    const missed = before.missed + 1;
    if (missed >= options.forgetAfterMissedPolls) removals.push(taskId);
    else upserts.set(taskId, { ...before, missed });
  }

  return {
    transitions,
    upserts,
    removals,
    trackedCount: previous.size + [...upserts.keys()].filter((id) => !previous.has(id)).length - removals.length,
  };
}

/** Compact encoding of a tracked task for a Redis hash value: `seq|missed|status`, `seq|missed,held|status` while held. */
export function encodeTracked(task: TrackedTask): string {
  return `${task.seq}|${task.missed}${task.held !== undefined ? `,${task.held}` : ''}|${task.status}`;
}

/** Inverse of `encodeTracked`; returns undefined for a value it cannot read. Runs for every tracked task of every poll: no split. */
export function decodeTracked(value: string): TrackedTask | undefined {
  const first = value.indexOf('|');
  const second = value.indexOf('|', first + 1);
  if (first < 0 || second < 0) return undefined;
  const seq = Number(value.slice(0, first));
  const comma = value.indexOf(',', first + 1);
  const held = comma >= 0 && comma < second;
  const missed = Number(value.slice(first + 1, held ? comma : second));
  const status = value.slice(second + 1);
  if (!Number.isInteger(seq) || seq < 1 || !Number.isInteger(missed) || missed < 0 || !status) return undefined;
  if (!held) return { seq, missed, status };
  const heldText = value.slice(comma + 1, second);
  const heldPolls = Number(heldText);
  if (heldText === '' || !Number.isInteger(heldPolls) || heldPolls < 1) return undefined;
  return { seq, missed, status, held: heldPolls };
}
