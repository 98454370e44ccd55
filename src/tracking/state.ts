/**
 * Tracking state in Redis, per plan:
 *   `<prefix>:plan:<id>:tasks` — hash taskId → `seq|missed|status` (see diff.ts)
 *   `<prefix>:plan:<id>:meta`  — hash: version, baseline, lastPollAt, lastSuccessAt,
 *                               taskCount, lastError, lastErrorAt, byStatus (JSON),
 *                               lastFullSweepAt, listOrder (see sweep.ts), announcedGcAt
 *   `<prefix>:plan:<id>:announced` — hash taskId → `finishedAt|goneAt|status`: the last terminal
 *                               state each task was seen in (see announced.ts), kept after the task is forgotten
 * Reads are one Lua call; the commit is one Lua compare-and-set on `version`, so
 * a poll that read a state another poll has since replaced commits nothing.
 * The announced hash is as big as the tasks hash but rarely needed: a poll
 * reads only the records of the tasks that changed (`announced(planId, ids)`,
 * none on a quiet poll) and the whole hash only to drop expired records, at
 * most once per `ANNOUNCED_GC_EVERY_MS` and on a full sweep.
 * Round trips per poll do not depend on the number of tasks — up to
 * `INLINE_LIMIT` records. Bigger plans (automatic download makes one task per
 * incremental file) are read with HSCAN and committed through staging hashes
 * written in chunks, then applied by the same compare-and-set: no call ever
 * carries the whole plan as arguments (60,000 tasks overflowed the stack).
 */

import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from '../keys.js';
import { type AnnouncedRecord, decodeAnnounced, encodeAnnounced } from './announced.js';
import { decodeTracked, encodeTracked, type TrackedTask } from './diff.js';
import type { ListOrder } from './sweep.js';

/** The state a poll starts from. */
export interface PlanState {
  /** Compare-and-set token: the commit succeeds only if it is unchanged. 0 = never committed. */
  readonly version: number;
  readonly baselineDone: boolean;
  readonly tasks: ReadonlyMap<string, TrackedTask>;
  /** When expired records were last dropped from the announced hash (epoch ms); absent before the first time. */
  readonly announcedGcAt?: number;
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
  readonly lastPollAt?: number | undefined;
  readonly lastSuccessAt?: number | undefined;
  readonly taskCount?: number | undefined;
  readonly lastError?: string | undefined;
  readonly lastErrorAt?: number | undefined;
  /** Task count by status after the last successful poll. */
  readonly byStatus?: Readonly<Record<string, number>> | undefined;
  /** Epoch ms of the last full sweep (every page read). */
  readonly lastFullSweepAt?: number | undefined;
  /** `unordered`: the list is not newest first by creation time, so the plan is polled with full sweeps only. */
  readonly listOrder?: ListOrder | undefined;
}

export interface CommitInput {
  readonly expectedVersion: number;
  readonly upserts: ReadonlyMap<string, TrackedTask>;
  readonly removals: readonly string[];
  /** Changes to the announced hash. Default: none. */
  readonly announcedUpserts?: ReadonlyMap<string, AnnouncedRecord>;
  readonly announcedRemovals?: readonly string[];
  readonly at: number;
  readonly byStatus: Readonly<Record<string, number>>;
  /** Set when this poll read the whole list: its time and the order it found. Default: an incremental sweep (neither written). */
  readonly fullSweep?: { readonly at: number; readonly listOrder: ListOrder };
  /** Set when this poll read the whole announced hash and dropped its expired records. */
  readonly announcedGcAt?: number;
}

export type CommitResult = { readonly ok: true; readonly version: number } | { readonly ok: false; readonly reason: 'conflict' };

/** The port the poll processor uses; `RedisStateStore` is the implementation. */
export interface StateStore {
  load(planId: string): Promise<PlanState>;
  /** The announced records of `taskIds` (those that exist), or of every task (`'all'`: for dropping expired ones). */
  announced(planId: string, taskIds: readonly string[] | 'all'): Promise<Map<string, AnnouncedRecord>>;
  commit(planId: string, input: CommitInput): Promise<CommitResult>;
  recordFailure(planId: string, message: string, at: number): Promise<void>;
  meta(planIds: readonly string[]): Promise<PlanMeta[]>;
  /** Deletes everything kept for a plan (when it leaves the config for good). */
  forget(planId: string): Promise<void>;
}

/** Records up to which a plan is read and committed in one call; bigger ones go in chunks. */
export const INLINE_LIMIT = 10_000;
/** Records per chunk when reading or staging a big plan. */
export const CHUNK = 5_000;
/**
 * How often a plan's whole announced hash is read to drop the records of tasks forgotten longer than
 * `notify.keepDelivered` ago: once a day (on a full sweep) keeps that hash bounded at the price of one
 * extra read per plan per day — instead of on every poll, where it doubled what a full sweep reads.
 */
export const ANNOUNCED_GC_EVERY_MS = 86_400_000;

// Shared Lua: apply HSET pairs / HDEL fields from a flat list in slices (unpack() is bounded by Lua's C stack;
// a slice of 1,000 is an even count, so HSET pairs are never split).
const LUA_HELPERS = `
local function inSlices(command, key, list, from, to)
  local i = from
  while i <= to do
    local stop = math.min(i + 999, to)
    redis.call(command, key, unpack(list, i, stop))
    i = stop + 1
  end
end
local function hsetList(key, list, from, to) inSlices('HSET', key, list, from, to) end
local function hdelList(key, list, from, to) inSlices('HDEL', key, list, from, to) end
local function finish(metaKey, tasksKey, at, byStatus, current, fullSweepAt, listOrder, announcedGcAt)
  if fullSweepAt ~= nil and fullSweepAt ~= '' then
    redis.call('HSET', metaKey, 'lastFullSweepAt', fullSweepAt, 'listOrder', listOrder)
  end
  if announcedGcAt ~= nil and announcedGcAt ~= '' then
    redis.call('HSET', metaKey, 'announcedGcAt', announcedGcAt)
  end
  local version = current + 1
  redis.call('HSET', metaKey, 'version', version, 'baseline', '1', 'lastPollAt', at, 'lastSuccessAt', at,
    'taskCount', redis.call('HLEN', tasksKey), 'byStatus', byStatus)
  redis.call('HDEL', metaKey, 'lastError', 'lastErrorAt')
  return version
end
`;

// KEYS: meta, tasks, announced. ARGV: expectedVersion, at, byStatusJson, fullSweepAt ('' = an incremental
// sweep), listOrder, announcedGcAt ('' = not this poll), then four lists, each a count followed by its
// items: task (field, value)*, task removals, announced (field, value)*, announced removals.
const COMMIT_SCRIPT = `${LUA_HELPERS}
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
local i = 7
local n = tonumber(ARGV[i]) * 2
hsetList(KEYS[2], ARGV, i + 1, i + n)
i = i + n + 1
n = tonumber(ARGV[i])
hdelList(KEYS[2], ARGV, i + 1, i + n)
i = i + n + 1
n = tonumber(ARGV[i]) * 2
hsetList(KEYS[3], ARGV, i + 1, i + n)
i = i + n + 1
n = tonumber(ARGV[i])
hdelList(KEYS[3], ARGV, i + 1, i + n)
return finish(KEYS[1], KEYS[2], ARGV[2], ARGV[3], current, ARGV[4], ARGV[5], ARGV[6])
`;

// KEYS: meta, tasks, announced, staged task upserts (hash), staged task removals (set), staged announced
// upserts (hash), staged announced removals (set). ARGV: expectedVersion, at, byStatusJson, fullSweepAt, listOrder,
// announcedGcAt.
// Applies the staged changes atomically with the same compare-and-set, then drops the staging keys.
const COMMIT_STAGED_SCRIPT = `${LUA_HELPERS}
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[4], KEYS[5], KEYS[6], KEYS[7])
  return -1
end
local list = redis.call('HGETALL', KEYS[4])
hsetList(KEYS[2], list, 1, #list)
list = redis.call('SMEMBERS', KEYS[5])
hdelList(KEYS[2], list, 1, #list)
list = redis.call('HGETALL', KEYS[6])
hsetList(KEYS[3], list, 1, #list)
list = redis.call('SMEMBERS', KEYS[7])
hdelList(KEYS[3], list, 1, #list)
redis.call('DEL', KEYS[4], KEYS[5], KEYS[6], KEYS[7])
return finish(KEYS[1], KEYS[2], ARGV[2], ARGV[3], current, ARGV[4], ARGV[5], ARGV[6])
`;

// KEYS: meta, tasks. ARGV: inline limit. One round trip for a plan up to the limit; beyond it only the
// size (the caller then reads with HSCAN). The hash comes as ONE string, fields and values joined by
// newlines: a client parses one bulk string much faster than 2 × n of them (a whole load of 1,000 tasks:
// 0.6–0.8 ms of client CPU, against 1.2–1.5 ms for the plain HGETALL reply alone). The caller checks the piece count (2 × n) — a
// newline inside a task id or status makes it differ — and then reads the plain way.
const LOAD_SCRIPT = `
local meta = redis.call('HMGET', KEYS[1], 'version', 'baseline', 'lastFullSweepAt', 'listOrder', 'announcedGcAt')
local n = redis.call('HLEN', KEYS[2])
local head = {meta[1] or '', meta[2] or '', meta[3] or '', meta[4] or '', meta[5] or '', n}
if n > tonumber(ARGV[1]) then return head end
head[7] = table.concat(redis.call('HGETALL', KEYS[2]), '\\n')
return head
`;

type Command = (...args: (string | number)[]) => Promise<unknown>;
interface StateCommands {
  dbswatchCommitState: Command;
  dbswatchCommitStaged: Command;
  dbswatchLoadPlanState: Command;
}

/** Flat [field, value, field, value…] → entries. */
function* pairsOf(flat: readonly string[]): Generator<[string, string]> {
  for (let i = 0; i + 1 < flat.length; i += 2) yield [flat[i] as string, flat[i + 1] as string];
}

export class RedisStateStore implements StateStore {
  private readonly cmd: StateCommands;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    const holder = redis as unknown as Partial<StateCommands>;
    if (!holder.dbswatchCommitStaged) {
      redis.defineCommand('dbswatchCommitState', { numberOfKeys: 3, lua: COMMIT_SCRIPT });
      redis.defineCommand('dbswatchCommitStaged', { numberOfKeys: 7, lua: COMMIT_STAGED_SCRIPT });
      redis.defineCommand('dbswatchLoadPlanState', { numberOfKeys: 2, lua: LOAD_SCRIPT });
    }
    this.cmd = redis as unknown as StateCommands;
  }

  metaKey(planId: string): string {
    return redisKeys(this.prefix).planMeta(planId);
  }

  tasksKey(planId: string): string {
    return redisKeys(this.prefix).planTasks(planId);
  }

  announcedKey(planId: string): string {
    return redisKeys(this.prefix).planAnnounced(planId);
  }

  async load(planId: string): Promise<PlanState> {
    const keys = [this.metaKey(planId), this.tasksKey(planId)];
    for (let attempt = 1; ; attempt++) {
      const reply = (await this.cmd.dbswatchLoadPlanState(...keys, INLINE_LIMIT)) as [string, string, string, string, string, number, string?];
      const [version, baseline, lastFullSweepAt, listOrder, announcedGcAt] = reply;
      const state = (tasks: Iterable<[string, string]>): PlanState => ({
        version: Number(version || 0),
        baselineDone: baseline === '1',
        tasks: decodeAll(tasks, decodeTracked),
        ...(lastFullSweepAt ? { lastFullSweepAt: Number(lastFullSweepAt) } : {}),
        ...(listOrder === 'newest-first' || listOrder === 'unordered' ? { listOrder } : {}),
        ...(announcedGcAt ? { announcedGcAt: Number(announcedGcAt) } : {}),
      });
      const joined = reply[6];
      if (joined !== undefined) {
        const flat = joined === '' ? [] : joined.split('\n');
        if (flat.length === 2 * reply[5]) return state(pairsOf(flat));
      }
      // A big plan (or an id with a newline in it): read in chunks, then make sure no commit happened meanwhile
      // (a mixed read would still be refused by the commit's compare-and-set, but its diff could enqueue odd transitions).
      const tasks = await this.scanAll(keys[1] as string);
      const after = await this.redis.hget(keys[0] as string, 'version');
      if ((after ?? '') === version || attempt >= 3) return state(tasks);
    }
  }

  async announced(planId: string, taskIds: readonly string[] | 'all'): Promise<Map<string, AnnouncedRecord>> {
    const key = this.announcedKey(planId);
    if (taskIds === 'all') return decodeAll(await this.scanAll(key), decodeAnnounced);
    const out = new Map<string, AnnouncedRecord>();
    // HMGET in slices: a baseline of a big plan asks for every task.
    for (let i = 0; i < taskIds.length; i += CHUNK) {
      const ids = taskIds.slice(i, i + CHUNK);
      const values = await this.redis.hmget(key, ...ids);
      for (let j = 0; j < ids.length; j++) {
        const value = values[j];
        const record = value ? decodeAnnounced(value) : undefined;
        if (record) out.set(ids[j] as string, record);
      }
    }
    return out;
  }

  private async scanAll(key: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', CHUNK);
      cursor = next;
      for (const [field, value] of pairsOf(flat)) out.set(field, value);
    } while (cursor !== '0');
    return out;
  }

  async commit(planId: string, input: CommitInput): Promise<CommitResult> {
    const announcedUpserts = input.announcedUpserts ?? new Map<string, AnnouncedRecord>();
    const announcedRemovals = input.announcedRemovals ?? [];
    const size = input.upserts.size + input.removals.length + announcedUpserts.size + announcedRemovals.length;
    const keys = [this.metaKey(planId), this.tasksKey(planId), this.announcedKey(planId)];
    const head = [
      input.expectedVersion,
      input.at,
      JSON.stringify(input.byStatus),
      input.fullSweep?.at ?? '',
      input.fullSweep?.listOrder ?? '',
      input.announcedGcAt ?? '',
    ];
    let version: number;
    if (size <= INLINE_LIMIT) {
      const args: (string | number)[] = [...keys, ...head, input.upserts.size];
      for (const [taskId, task] of input.upserts) args.push(taskId, encodeTracked(task));
      args.push(input.removals.length);
      for (const taskId of input.removals) args.push(taskId);
      args.push(announcedUpserts.size);
      for (const [taskId, record] of announcedUpserts) args.push(taskId, encodeAnnounced(record));
      args.push(announcedRemovals.length);
      for (const taskId of announcedRemovals) args.push(taskId);
      version = Number(await this.cmd.dbswatchCommitState(...args));
    } else {
      const stage = redisKeys(this.prefix).planStaging(planId, randomBytes(6).toString('hex'));
      const staged = [`${stage}:tasks`, `${stage}:tasks-removed`, `${stage}:announced`, `${stage}:announced-removed`] as const;
      try {
        await this.stageHash(staged[0], input.upserts, encodeTracked);
        await this.stageSet(staged[1], input.removals);
        await this.stageHash(staged[2], announcedUpserts, encodeAnnounced);
        await this.stageSet(staged[3], announcedRemovals);
        version = Number(await this.cmd.dbswatchCommitStaged(...keys, ...staged, ...head));
      } finally {
        // The script drops them; this covers a failure before it ran (they also expire).
        await this.redis.unlink(...staged).catch(() => {});
      }
    }
    return version < 0 ? { ok: false, reason: 'conflict' } : { ok: true, version };
  }

  private async stageHash<T>(key: string, entries: ReadonlyMap<string, T>, encode: (value: T) => string): Promise<void> {
    let chunk: string[] = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      await this.redis
        .multi()
        .hset(key, ...chunk)
        .pexpire(key, STAGING_TTL_MS)
        .exec();
      chunk = [];
    };
    for (const [field, value] of entries) {
      chunk.push(field, encode(value));
      if (chunk.length >= CHUNK * 2) await flush();
    }
    await flush();
  }

  private async stageSet(key: string, members: readonly string[]): Promise<void> {
    for (let i = 0; i < members.length; i += CHUNK) {
      await this.redis
        .multi()
        .sadd(key, ...members.slice(i, i + CHUNK))
        .pexpire(key, STAGING_TTL_MS)
        .exec();
    }
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
    await this.redis.unlink(this.metaKey(planId), this.tasksKey(planId), this.announcedKey(planId));
  }
}

/** Staging keys of a commit that died half-way expire on their own. */
const STAGING_TTL_MS = 10 * 60_000;

function decodeAll<T>(entries: Iterable<[string, string]>, decode: (value: string) => T | undefined): Map<string, T> {
  const out = new Map<string, T>();
  for (const [field, value] of entries) {
    const decoded = decode(value);
    // An unreadable record is treated as unseen; the task is re-baselined rather than crashing the poll.
    if (decoded) out.set(field, decoded);
  }
  return out;
}
