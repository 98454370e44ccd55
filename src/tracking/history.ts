/**
 * A capped history of transitions for the status page and `dbswatch status`:
 * one Redis stream per deployment, bounded by length and age. It holds names,
 * events, sizes and times — never URLs or secrets.
 */
import type { Redis } from 'ioredis';
import type { PlanConfig } from '../config.js';
import type { DownloadTask } from '../dbs/task.js';
import { redisKeys } from '../keys.js';
import type { Transition } from './diff.js';

/** Default cap: 10,000 entries and 7 days. */
export const HISTORY_MAX_LENGTH = 10_000;
export const HISTORY_MAX_AGE_MS = 7 * 86_400_000;

export interface HistoryEntry {
  readonly id: string;
  readonly planId: string;
  readonly planName: string;
  readonly taskId: string;
  readonly taskName?: string | undefined;
  readonly event: string;
  readonly from?: string;
  readonly to: string;
  readonly seq: number;
  readonly at: number;
  readonly dataSize?: number;
  /** True when the task had download links at the time (the links themselves are never stored here). */
  readonly hadLinks: boolean;
}

export interface HistoryRecorder {
  record(plan: PlanConfig, transitions: readonly Transition[], tasks: ReadonlyMap<string, DownloadTask>, at: number): Promise<void>;
}

export function historyKey(prefix: string): string {
  return redisKeys(prefix).history;
}

export class RedisHistory implements HistoryRecorder {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async record(plan: PlanConfig, transitions: readonly Transition[], tasks: ReadonlyMap<string, DownloadTask>, at: number): Promise<void> {
    const key = historyKey(this.prefix);
    const pipeline = this.redis.pipeline();
    for (const t of transitions) {
      const task = tasks.get(t.taskId);
      const fields: (string | number)[] = ['planId', plan.id, 'planName', plan.name, 'taskId', t.taskId, 'event', t.event, 'to', t.to, 'seq', t.seq, 'at', at];
      if (task?.name) fields.push('taskName', task.name.slice(0, 300));
      if (t.from) fields.push('from', t.from);
      if (task?.dataSize !== undefined) fields.push('dataSize', task.dataSize);
      fields.push('hadLinks', task?.internetUrl || task?.intranetUrl ? '1' : '0');
      pipeline.xadd(key, 'MAXLEN', '~', HISTORY_MAX_LENGTH, '*', ...fields);
    }
    pipeline.xtrim(key, 'MINID', '~', String(at - HISTORY_MAX_AGE_MS));
    await pipeline.exec();
  }
}

/** Newest first. */
export async function readHistory(redis: Redis, prefix: string, count = 200): Promise<HistoryEntry[]> {
  const rows = await redis.xrevrange(historyKey(prefix), '+', '-', 'COUNT', count);
  return rows.map(([id, flat]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
    return {
      id,
      planId: f.planId ?? '',
      planName: f.planName ?? f.planId ?? '',
      taskId: f.taskId ?? '',
      ...(f.taskName ? { taskName: f.taskName } : {}),
      event: f.event ?? '',
      ...(f.from ? { from: f.from } : {}),
      to: f.to ?? '',
      seq: Number(f.seq ?? 0),
      at: Number(f.at ?? 0),
      ...(f.dataSize ? { dataSize: Number(f.dataSize) } : {}),
      hadLinks: f.hadLinks === '1',
    };
  });
}
