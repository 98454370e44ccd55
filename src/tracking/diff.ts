/**
 * The diff: previous tracking state + a complete snapshot → transitions and
 * the state changes to commit. Pure: no Redis, no clock, no logger.
 *
 * Every status change bumps the task's sequence number, so a transition has a
 * stable identity (plan, task, seq, new status) however often it is
 * recomputed — that is what makes notification ids idempotent.
 */
import type { EventKind } from '../config.js';
import type { TaskStatus } from '../dbs/task.js';

/** What tracking keeps per task: only what the next diff needs. */
export interface TrackedTask {
  readonly status: TaskStatus;
  /** Status-change sequence number; 1 when first seen. */
  readonly seq: number;
  /** Complete polls in a row the task was missing from. */
  readonly missed: number;
}

/** The part of a task the diff looks at. */
export interface ObservedTask {
  readonly taskId: string;
  readonly status: TaskStatus;
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
  /**
   * What the snapshot is: `full` — every task of the plan; `incremental` — the
   * top of the list only (see sweep.ts), so a task missing from it is not
   * missing from the plan: missed counters and forgetting are left alone.
   * Default: full.
   */
  readonly sweep?: 'full' | 'incremental';
}

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
 * The event a status change raises, or none. `init` is a failure only when
 * it follows the precheck (`checking`) or is the first thing we see.
 */
export function classify(from: TaskStatus | undefined, to: TaskStatus): EventKind | undefined {
  if (from === to) return undefined;
  if (to === 'finish') return 'finished';
  if (to === 'stop') return 'failed';
  if (to === 'init' && (from === 'checking' || from === undefined)) return 'failed';
  return 'progress';
}

/** True for statuses that end a download (success or failure). */
export function isTerminal(status: TaskStatus): boolean {
  return status === 'finish' || status === 'stop' || status === 'init';
}

export function diff(
  previous: ReadonlyMap<string, TrackedTask>,
  snapshot: readonly ObservedTask[],
  options: DiffOptions,
): DiffResult {
  const transitions: Transition[] = [];
  const upserts = new Map<string, TrackedTask>();
  const seen = new Set<string>();

  for (const task of snapshot) {
    // The pager dedupes, but a diff must not double-count whatever it is given.
    if (seen.has(task.taskId)) continue;
    seen.add(task.taskId);
    const before = previous.get(task.taskId);

    if (!before) {
      upserts.set(task.taskId, { status: task.status, seq: 1, missed: 0 });
      const event = classify(undefined, task.status);
      if (!event) continue;
      // Baseline: history must not page anyone. After it, a new task already in a
      // terminal state started and ended between two polls: that is news.
      const notify = options.baselineDone ? true : options.notifyOnFirstSight && isTerminal(task.status);
      if (notify) transitions.push({ taskId: task.taskId, to: task.status, seq: 1, event });
      continue;
    }

    if (before.status === task.status) {
      if (before.missed !== 0) upserts.set(task.taskId, { ...before, missed: 0 });
      continue;
    }

    const seq = before.seq + 1;
    upserts.set(task.taskId, { status: task.status, seq, missed: 0 });
    const event = classify(before.status, task.status);
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

/** Compact encoding of a tracked task for a Redis hash value: `seq|missed|status`. */
export function encodeTracked(task: TrackedTask): string {
  return `${task.seq}|${task.missed}|${task.status}`;
}

/** Inverse of `encodeTracked`; returns undefined for a value it cannot read. */
export function decodeTracked(value: string): TrackedTask | undefined {
  const first = value.indexOf('|');
  const second = value.indexOf('|', first + 1);
  if (first < 0 || second < 0) return undefined;
  const seq = Number(value.slice(0, first));
  const missed = Number(value.slice(first + 1, second));
  const status = value.slice(second + 1);
  if (!Number.isInteger(seq) || seq < 1 || !Number.isInteger(missed) || missed < 0 || !status) return undefined;
  return { seq, missed, status };
}
