/**
 * Advanced downloads in the plan pipeline (pure). The poll, diff, routing,
 * state store and notify machinery were built for 2019-03-06 plans; an
 * instance's tasks enter them as `DownloadTask`s whose `status` is mapped
 * onto the vocabulary the diff already understands:
 *
 *   finished → `finish` (event finished)      failed  → `stop` (event failed)
 *   expired  → `expired` (event expired)      initializing / queueing / running → as is (progress)
 *   finished, within `expiringNotice` of its estimated 3-day expiry, URL target,
 *   (estimated from when dbswatch first saw it finished — see `estimatedExpiry`),
 *   instance opted into `expiring` → `expiring` (event expiring)
 *
 * Unknown states pass through unchanged (a progress event at most). The
 * native state stays on the task as `downloadStatus` for messages and pages.
 */
import type { InstanceConfig, PlanConfig } from '../config.js';
import type { DownloadTask } from '../dbs/task.js';
import { sourceKey } from '../tracking/source.js';
import { ADVANCED_RESULT_LIFETIME_MS, type AdvancedDownloadTask } from './task.js';

/** The settings of an instance, in the shape the pipeline keys by (`id` = its source key). */
export function instanceAsPlan(instance: InstanceConfig): PlanConfig {
  return {
    id: sourceKey('instance', instance.id),
    name: instance.name,
    intervalMs: instance.intervalMs,
    notify: instance.notify,
    events: instance.events,
    discovered: false,
  };
}

/**
 * When a finished URL-target task's files go away, as far as dbswatch can
 * tell: DBS reports no finish time, so this is 3 days after dbswatch first saw
 * the task finished (`finishedSeenAt`). That is never earlier than the real
 * expiry; with a task seen finishing, it is late by at most one poll interval.
 */
export function estimatedExpiry(task: AdvancedDownloadTask, finishedSeenAt: number | undefined): number | undefined {
  if (task.status !== 'finished' || task.targetType === 'OSS' || finishedSeenAt === undefined) return undefined;
  return finishedSeenAt + ADVANCED_RESULT_LIFETIME_MS;
}

/** The pipeline status of an advanced download task at `now`. */
export function pipelineStatus(
  task: AdvancedDownloadTask,
  now: number,
  expiring: { readonly enabled: boolean; readonly noticeMs: number },
  finishedSeenAt?: number,
): string {
  switch (task.status) {
    case 'finished': {
      const expiry = estimatedExpiry(task, finishedSeenAt);
      return expiring.enabled && expiry !== undefined && now >= expiry - expiring.noticeMs ? 'expiring' : 'finish';
    }
    case 'failed':
      return 'stop';
    default:
      return task.status;
  }
}

/** One advanced download task as a pipeline `DownloadTask` (no URLs: those are minted at send time). */
export function toPipelineTask(task: AdvancedDownloadTask, instance: InstanceConfig, now: number, finishedSeenAt?: number): DownloadTask {
  const status = pipelineStatus(task, now, { enabled: instance.events.includes('expiring'), noticeMs: instance.expiringNoticeMs }, finishedSeenAt);
  const expiry = estimatedExpiry(task, finishedSeenAt);
  const out: Record<string, unknown> = {
    taskId: task.taskId,
    planId: sourceKey('instance', instance.id),
    status,
    downloadStatus: task.status,
    region: task.region ?? instance.region,
    backupSetId: task.bakSetId,
    dataFormat: task.format,
    dataSize: task.exportDataSize,
    targetType: task.targetType,
    targetPath: task.targetPath,
    progress: task.progress,
    createdAt: task.createdAt,
    resultExpiresAt: expiry,
    ...(task.status === 'failed'
      ? {
          // DBS has no failure-reason field for advanced downloads: say so, and say how to retry.
          errorMessage: `DBS does not report why an advanced download failed. Check the instance's Backup Download tab, or retry with: dbswatch retry-download ${task.taskId} --instance ${instance.id} --yes`,
        }
      : {}),
  };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out as unknown as DownloadTask;
}
