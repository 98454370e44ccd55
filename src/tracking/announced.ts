/**
 * Once per task and terminal state: the rule applied after the diff (pure, no
 * Redis, no clock — `at` is passed in).
 *
 * The diff announces every change into a terminal status. Two kinds of change
 * are not news, though: a task that comes back after being forgotten (missing
 * from `forgetAfterMissedPolls` polls, then listed again — the diff sees a new
 * task), and a task that flaps `finish → running → finish`. Both produced a
 * second "Download ready" for the same download.
 *
 * So each plan remembers, per task, the last terminal state it was seen in:
 * (status, finish time). A transition into a terminal status is dropped when
 * the task was last seen in that same status with the same, known finish time.
 * A different finish time is a real new run and is announced. When the finish
 * time is unknown (DBS sent none — usual for `stop`/`init`), the transition is
 * announced: a duplicate is better than a lost failure.
 *
 * The memory outlives the task's tracking record: when a task is forgotten its
 * record is marked gone and dropped `keepAfterGoneMs` later (default
 * `notify.keepDelivered`, 7 days — the same horizon as delivery dedupe). It is
 * written only when something changes, so a steady plan writes nothing.
 */
import type { TaskStatus } from '../dbs/task.js';
import { isTerminal, type Transition } from './diff.js';

/** The last terminal state a task was seen in. */
export interface AnnouncedRecord {
  readonly status: TaskStatus;
  /** Finish time DBS reported, epoch ms; absent when it sent none. */
  readonly finishedAt?: number | undefined;
  /** When the task was forgotten (missing too long), epoch ms; absent while it is tracked. */
  readonly goneAt?: number;
}

/** A snapshot task as this rule sees it. */
export interface AnnouncedInput {
  readonly taskId: string;
  readonly status: TaskStatus;
  readonly finishedAt?: number | undefined;
}

export interface AnnouncedOptions {
  /** The poll's time, epoch ms. */
  readonly at: number;
  /** Drop the record of a forgotten task after this long. Default in config: notify.keepDelivered (7 d). */
  readonly keepAfterGoneMs: number;
  /**
   * Tasks whose event the diff is holding back (an `init` not yet confirmed, a `finish` waiting for its
   * links): their state is not announced yet, so it is not remembered yet either — otherwise the release
   * would look like a repeat. Default: none.
   */
  readonly held?: ReadonlySet<string>;
}

export interface AnnouncedResult {
  /** The diff's transitions minus repeats of an already-seen terminal state. */
  readonly transitions: readonly Transition[];
  /** Transitions dropped as repeats (for logs and tests). */
  readonly suppressed: readonly Transition[];
  readonly upserts: ReadonlyMap<string, AnnouncedRecord>;
  readonly removals: readonly string[];
}

/** True when `to` with finish time `finishedAt` repeats what `before` already recorded. */
export function isRepeat(before: AnnouncedRecord | undefined, to: TaskStatus, finishedAt: number | undefined): boolean {
  return before !== undefined && finishedAt !== undefined && before.status === to && before.finishedAt === finishedAt;
}

export function applyAnnouncedRule(
  previous: ReadonlyMap<string, AnnouncedRecord>,
  snapshot: readonly AnnouncedInput[],
  transitions: readonly Transition[],
  forgotten: readonly string[],
  options: AnnouncedOptions,
): AnnouncedResult {
  const byId = new Map<string, AnnouncedInput>();
  for (const task of snapshot) if (!byId.has(task.taskId)) byId.set(task.taskId, task);

  const kept: Transition[] = [];
  const suppressed: Transition[] = [];
  for (const t of transitions) {
    const repeat = isTerminal(t.to) && isRepeat(previous.get(t.taskId), t.to, byId.get(t.taskId)?.finishedAt);
    (repeat ? suppressed : kept).push(t);
  }

  const upserts = new Map<string, AnnouncedRecord>();
  for (const task of byId.values()) {
    const before = previous.get(task.taskId);
    if (options.held?.has(task.taskId)) continue;
    if (isTerminal(task.status)) {
      const same = before && before.status === task.status && before.finishedAt === task.finishedAt && before.goneAt === undefined;
      if (!same) upserts.set(task.taskId, task.finishedAt === undefined ? { status: task.status } : { status: task.status, finishedAt: task.finishedAt });
    } else if (before?.goneAt !== undefined) {
      // Back, and running again: keep the memory (a flap back to the same finish is still a repeat), un-gone.
      const { goneAt: _gone, ...rest } = before;
      upserts.set(task.taskId, rest);
    }
  }
  for (const taskId of forgotten) {
    const before = previous.get(taskId);
    if (before && before.goneAt === undefined && !byId.has(taskId)) upserts.set(taskId, { ...before, goneAt: options.at });
  }
  const removals: string[] = [];
  for (const [taskId, record] of previous) {
    if (record.goneAt !== undefined && options.at - record.goneAt >= options.keepAfterGoneMs && !byId.has(taskId)) removals.push(taskId);
  }
  return { transitions: kept, suppressed, upserts, removals };
}

/** Redis hash value: `finishedAt|goneAt|status` (status last: it is API text). */
export function encodeAnnounced(record: AnnouncedRecord): string {
  return `${record.finishedAt ?? ''}|${record.goneAt ?? ''}|${record.status}`;
}

/** Inverse of `encodeAnnounced`; undefined for a value it cannot read. */
export function decodeAnnounced(value: string): AnnouncedRecord | undefined {
  const first = value.indexOf('|');
  const second = value.indexOf('|', first + 1);
  if (first < 0 || second < 0) return undefined;
  const num = (s: string) => (s === '' ? undefined : Number(s));
  const finishedAt = num(value.slice(0, first));
  const goneAt = num(value.slice(first + 1, second));
  const status = value.slice(second + 1);
  if (!status || (finishedAt !== undefined && !Number.isFinite(finishedAt)) || (goneAt !== undefined && !Number.isFinite(goneAt))) return undefined;
  return { status, ...(finishedAt !== undefined ? { finishedAt } : {}), ...(goneAt !== undefined ? { goneAt } : {}) };
}
