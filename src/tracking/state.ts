/**
 * Tracking state in Redis, per plan:
 *   `<prefix>:plan:<id>:tasks` — hash taskId → `seq|missed|status` (see diff.ts)
 *   `<prefix>:plan:<id>:meta`  — hash: version, baseline, lastPollAt, lastSuccessAt,
 *                               taskCount, lastError, lastErrorAt, byStatus (JSON),
 *                               lastFullSweepAt, listOrder (see sweep.ts)
 * Reads are one MULTI; the commit is one Lua compare-and-set on `version`, so
 * a poll that read a state another poll has since replaced commits nothing.
 * Round trips per poll do not depend on the number of tasks.
 */
import type { Redis } from 'ioredis';
import { decodeTracked, encodeTracked, type TrackedTask } from './diff.js';
import type { ListOrder } from './sweep.js';

/** The state a poll starts from. */
export interface PlanState {
  /** Compare-and-set token: the commit succeeds only if it is unchanged. 0 = never committed. */
  readonly version: number;
  readonly baselineDone: boolean;
  readonly tasks: ReadonlyMap<string, TrackedTask>;
  /** Epoch ms of the last committed full sweep; absent before the first one. */
  readonly lastFullSweepAt?: number;
  /** The list order the last full sweep found; absent before the first one. */
  readonly listOrder?: ListOrder;
}

/** What the status command and page show per plan. */
export interface PlanMeta {
  readonly planId: string;
  readonly version: number;
  readonly baselineDone: boolean;
  readonly lastPollAt?: number;
  readonly lastSuccessAt?: number;
  readonly taskCount?: number;
  readonly lastError?: string;
  readonly lastErrorAt?: number;
  /** Task count by status after the last successful poll. */
  readonly byStatus?: Readonly<Record<string, number>>;
  /** Epoch ms of the last full sweep (every page read). */
  readonly lastFullSweepAt?: number;
  /** `unordered`: the list is not newest first by creation time, so the plan is polled with full sweeps only. */
  readonly listOrder?: ListOrder;
}

export interface CommitInput {
  readonly expectedVersion: number;
  readonly upserts: ReadonlyMap<string, TrackedTask>;
  readonly removals: readonly string[];
  readonly at: number;
  readonly byStatus: Readonly<Record<string, number>>;
  /** Set when this poll read the whole list: its time and the order it found. Default: an incremental sweep (neither written). */
  readonly fullSweep?: { readonly at: number; readonly listOrder: ListOrder };
}

export type CommitResult = { readonly ok: true; readonly version: number } | { readonly ok: false; readonly reason: 'conflict' };

/** The port the poll processor uses; `RedisStateStore` is the implementation. */
export interface StateStore {
  load(planId: string): Promise<PlanState>;
  commit(planId: string, input: CommitInput): Promise<CommitResult>;
  recordFailure(planId: string, message: string, at: number): Promise<void>;
  meta(planIds: readonly string[]): Promise<PlanMeta[]>;
  /** Deletes everything kept for a plan (when it leaves the config for good). */
  forget(planId: string): Promise<void>;
}

// KEYS: meta, tasks. ARGV: expectedVersion, at, byStatusJson, nUpserts, (field, value)*, nRemovals, field*,
// fullSweepAt ('' = not a full sweep), listOrder.
const COMMIT_SCRIPT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
-- Variadic HSET/HDEL in chunks: one server command per 500 tasks, not one per task
-- (chunked because unpack() is bounded by Lua's C stack).
local i = 5
local last = i + 2 * tonumber(ARGV[4]) - 1
while i <= last do
  local stop = math.min(i + 999, last)
  redis.call('HSET', KEYS[2], unpack(ARGV, i, stop))
  i = stop + 1
end
local m = tonumber(ARGV[i])
i = i + 1
last = i + m - 1
while i <= last do
  local stop = math.min(i + 499, last)
  redis.call('HDEL', KEYS[2], unpack(ARGV, i, stop))
  i = stop + 1
end
if ARGV[i] ~= nil and ARGV[i] ~= '' then
  redis.call('HSET', KEYS[1], 'lastFullSweepAt', ARGV[i], 'listOrder', ARGV[i + 1])
end
local version = current + 1
redis.call('HSET', KEYS[1], 'version', version, 'baseline', '1', 'lastPollAt', ARGV[2], 'lastSuccessAt', ARGV[2],
  'taskCount', redis.call('HLEN', KEYS[2]), 'byStatus', ARGV[3])
redis.call('HDEL', KEYS[1], 'lastError', 'lastErrorAt')
return version
`;

type CommitCommand = (meta: string, tasks: string, ...args: (string | number)[]) => Promise<number>;

export class RedisStateStore implements StateStore {
  private readonly commitCommand: CommitCommand;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    const holder = redis as unknown as { dbswatchCommitState?: CommitCommand };
    if (!holder.dbswatchCommitState) {
      redis.defineCommand('dbswatchCommitState', { numberOfKeys: 2, lua: COMMIT_SCRIPT });
    }
    this.commitCommand = (holder.dbswatchCommitState as CommitCommand).bind(redis);
  }

  metaKey(planId: string): string {
    return `${this.prefix}:plan:${planId}:meta`;
  }

  tasksKey(planId: string): string {
    return `${this.prefix}:plan:${planId}:tasks`;
  }

  async load(planId: string): Promise<PlanState> {
    const results = await this.redis
      .multi()
      .hmget(this.metaKey(planId), 'version', 'baseline', 'lastFullSweepAt', 'listOrder')
      .hgetall(this.tasksKey(planId))
      .exec();
    if (!results) throw new Error('Redis aborted the state read');
    const [metaResult, tasksResult] = results;
    if (metaResult?.[0]) throw metaResult[0];
    if (tasksResult?.[0]) throw tasksResult[0];
    const [version, baseline, lastFullSweepAt, listOrder] = (metaResult?.[1] ?? []) as (string | null)[];
    const raw = (tasksResult?.[1] ?? {}) as Record<string, string>;
    const tasks = new Map<string, TrackedTask>();
    for (const [taskId, value] of Object.entries(raw)) {
      const decoded = decodeTracked(value);
      // An unreadable record is treated as unseen; the task is re-baselined rather than crashing the poll.
      if (decoded) tasks.set(taskId, decoded);
    }
    const state: { -readonly [K in keyof PlanState]: PlanState[K] } = { version: Number(version ?? 0), baselineDone: baseline === '1', tasks };
    if (lastFullSweepAt) state.lastFullSweepAt = Number(lastFullSweepAt);
    if (listOrder === 'newest-first' || listOrder === 'unordered') state.listOrder = listOrder;
    return state;
  }

  async commit(planId: string, input: CommitInput): Promise<CommitResult> {
    const args: (string | number)[] = [input.expectedVersion, input.at, JSON.stringify(input.byStatus), input.upserts.size];
    for (const [taskId, task] of input.upserts) args.push(taskId, encodeTracked(task));
    args.push(input.removals.length, ...input.removals);
    args.push(input.fullSweep ? input.fullSweep.at : '', input.fullSweep ? input.fullSweep.listOrder : '');
    const version = Number(await this.commitCommand(this.metaKey(planId), this.tasksKey(planId), ...args));
    return version < 0 ? { ok: false, reason: 'conflict' } : { ok: true, version };
  }

  async recordFailure(planId: string, message: string, at: number): Promise<void> {
    await this.redis.hset(this.metaKey(planId), 'lastPollAt', at, 'lastError', message.slice(0, 1000), 'lastErrorAt', at);
  }

  async meta(planIds: readonly string[]): Promise<PlanMeta[]> {
    if (planIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const planId of planIds) pipeline.hgetall(this.metaKey(planId));
    const results = (await pipeline.exec()) ?? [];
    return planIds.map((planId, i) => {
      const raw = (results[i]?.[1] ?? {}) as Record<string, string>;
      const num = (value: string | undefined) => (value === undefined ? undefined : Number(value));
      let byStatus: Record<string, number> | undefined;
      try {
        byStatus = raw.byStatus ? (JSON.parse(raw.byStatus) as Record<string, number>) : undefined;
      } catch {
        byStatus = undefined;
      }
      return {
        planId,
        version: Number(raw.version ?? 0),
        baselineDone: raw.baseline === '1',
        lastPollAt: num(raw.lastPollAt),
        lastSuccessAt: num(raw.lastSuccessAt),
        taskCount: num(raw.taskCount),
        lastError: raw.lastError,
        lastErrorAt: num(raw.lastErrorAt),
        byStatus,
        lastFullSweepAt: num(raw.lastFullSweepAt),
        listOrder: raw.listOrder === 'newest-first' || raw.listOrder === 'unordered' ? raw.listOrder : undefined,
      };
    });
  }

  async forget(planId: string): Promise<void> {
    await this.redis.unlink(this.metaKey(planId), this.tasksKey(planId));
  }
}
