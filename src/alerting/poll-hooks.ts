/**
 * What the poll processor does for alerting, kept out of src/jobs/poll.ts:
 * enqueue the reminder slots of new failures, and remember finished
 * downloads per backup set (a later finished download resolves a failure).
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config, PlanConfig } from '../config.js';
import type { DownloadTask } from '../dbs/task.js';
import type { NotifyJobData } from '../jobs/payloads.js';
import { redisKeys } from '../keys.js';
import { notifyJobOptions } from '../queues.js';
import type { Transition } from '../tracking/diff.js';
import { reminderJobs } from './reminders.js';

/** Enqueues the delayed reminder jobs (ids per slot: re-enqueueing is a no-op). Returns how many were built. */
export async function enqueueReminders(
  queue: Queue<NotifyJobData>,
  config: Config,
  plan: PlanConfig,
  jobs: readonly { readonly data: NotifyJobData }[],
  now: number,
): Promise<number> {
  const reminders = reminderJobs(config, plan, jobs, now);
  if (reminders.length === 0) return 0;
  await queue.addBulk(reminders.map((r) => ({ name: 'notify', data: r.data, opts: { ...notifyJobOptions(config, r.jobId), delay: r.delayMs } })));
  return reminders.length;
}

/** How long a finished download of a backup set is remembered for resolving reminders: longer than any reminder series. */
const BACKUP_SET_DONE_TTL_MS = 60 * 86_400_000;

export async function recordBackupSetsDone(
  redis: Redis,
  prefix: string,
  planId: string,
  transitions: readonly Transition[],
  tasks: ReadonlyMap<string, DownloadTask>,
  at: number,
): Promise<void> {
  const done = transitions
    .filter((t) => t.event === 'finished')
    .map((t) => tasks.get(t.taskId)?.backupSetId)
    .filter((id): id is string => !!id);
  if (done.length === 0) return;
  const multi = redis.multi();
  for (const backupSetId of new Set(done)) multi.set(redisKeys(prefix).backupSetDone(planId, backupSetId), String(at), 'PX', BACKUP_SET_DONE_TTL_MS);
  await multi.exec();
}
