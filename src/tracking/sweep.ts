/**
 * Incremental sweeps: which kind of read a poll makes, when an incremental
 * read may stop paging, and whether a plan's list is in the order the
 * shortcut relies on. Pure: no Redis, no clock, no logger.
 *
 * The assumption (not documented by DBS, verified on every full sweep): a
 * plan's download-task list is newest first by creation time. Then the only
 * tasks that can have changed since the last poll are (a) tasks we know as
 * unsettled, wherever they are, and (b) tasks we have never seen — new ones,
 * which sit at the top. Settled history (`finish`, `stop`) never moves again.
 * So a poll may stop once it has seen every unsettled task it knows of and
 * then a whole page of known, settled, unchanged tasks: everything below is
 * older settled history. Whatever that misses (a list that reorders, a task
 * that shows up late in the middle) the next full sweep finds.
 */
import type { ObservedTask, TrackedTask } from './diff.js';

/** How a plan is read: every page, or pages from the top until nothing older can have changed. */
export type SweepKind = 'full' | 'incremental';

/** What the last full sweep found about the list's order. Absent until a full sweep checked it. */
export type ListOrder = 'newest-first' | 'unordered';

/** Why a poll reads the way it does (log field, metric-free). */
export type SweepReason =
  | 'configured-full'
  | 'baseline'
  | 'process-start'
  | 'full-sweep-due'
  | 'order-unverified'
  | 'list-unordered'
  | 'incremental'
  /** Asked for an incremental sweep, but the stop rule never fired: every page was read. */
  | 'reached-last-page';

export interface SweepChoiceInput {
  /** `dbs.sweep`. Default in config: incremental. */
  readonly mode: SweepKind;
  readonly baselineDone: boolean;
  /** True once this process has completed a full sweep of the plan. */
  readonly fullSweptByThisProcess: boolean;
  /** Epoch ms of the plan's last committed full sweep; absent if none recorded. */
  readonly lastFullSweepAt?: number;
  readonly listOrder?: ListOrder;
  readonly now: number;
  /** `dbs.fullSweepEvery` in ms. Default in config: 1h. */
  readonly fullSweepEveryMs: number;
}

/** The read a poll makes. Safety first: any doubt means a full sweep. */
export function chooseSweep(input: SweepChoiceInput): { kind: SweepKind; reason: SweepReason } {
  if (input.mode === 'full') return { kind: 'full', reason: 'configured-full' };
  if (!input.baselineDone) return { kind: 'full', reason: 'baseline' };
  if (!input.fullSweptByThisProcess) return { kind: 'full', reason: 'process-start' };
  if (input.listOrder === 'unordered') return { kind: 'full', reason: 'list-unordered' };
  if (input.listOrder !== 'newest-first') return { kind: 'full', reason: 'order-unverified' };
  if (input.lastFullSweepAt === undefined || input.now - input.lastFullSweepAt >= input.fullSweepEveryMs) {
    return { kind: 'full', reason: 'full-sweep-due' };
  }
  return { kind: 'incremental', reason: 'incremental' };
}

/**
 * Statuses that never change again (the end of the state machine). Narrower
 * than `isTerminal`: `init` can still move on (a precheck retried, a task not
 * started yet), `pause` and unknown statuses can go anywhere — an incremental
 * sweep must see every one of those.
 */
export function isSettled(status: string): boolean {
  return status === 'finish' || status === 'stop';
}

/**
 * A fresh stop rule for one pass over the pages (a re-read from page 0 needs a
 * new one). Called after each page with that page's tasks; true means "stop:
 * nothing below can have changed" — every task `previous` knows as unsettled
 * has been seen, and this whole page was known, settled and unchanged.
 */
export function incrementalStopRule(previous: ReadonlyMap<string, TrackedTask>): () => (page: readonly ObservedTask[]) => boolean {
  const unsettled: string[] = [];
  for (const [taskId, task] of previous) if (!isSettled(task.status)) unsettled.push(taskId);
  return () => {
    const unseen = new Set(unsettled);
    return (page) => {
      let quiet = page.length > 0;
      for (const task of page) {
        unseen.delete(task.taskId);
        if (quiet) {
          const before = previous.get(task.taskId);
          quiet = before !== undefined && before.status === task.status && isSettled(task.status);
        }
      }
      return quiet && unseen.size === 0;
    };
  };
}

/**
 * Verifies the order assumption on a complete list: creation times
 * non-increasing from the first task to the last. A task without a creation
 * time makes the order unverifiable, which counts as unordered.
 */
export function listOrderOf(tasks: readonly { readonly createdAt?: number }[]): ListOrder {
  let last = Number.POSITIVE_INFINITY;
  for (const task of tasks) {
    const at = task.createdAt;
    if (at === undefined || at > last) return 'unordered';
    last = at;
  }
  return 'newest-first';
}
