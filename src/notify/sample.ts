/**
 * Realistic sample notifications: what `dbswatch test-notify` sends, and the
 * fixtures of the notification tests and the demo. URLs look like DBS's
 * pre-signed OSS links (they point nowhere real).
 */
import type { DownloadTask } from '../dbs/task.js';
import type { Notification } from './event.js';
import { notificationId } from './event.js';

const BASE_TIME = Date.UTC(2024, 4, 1, 2, 0, 0);

/** Overrides for a sample task; `undefined` removes a field (e.g. the links of an `auto` download). */
export type TaskOverrides = { readonly [K in keyof DownloadTask]?: DownloadTask[K] | undefined };

function withOverrides(base: DownloadTask, overrides: TaskOverrides): DownloadTask {
  const merged = Object.entries({ ...base, ...overrides }).filter(([, value]) => value !== undefined);
  return Object.fromEntries(merged) as unknown as DownloadTask;
}

/** A task as DBS would report it for the given event. */
export function sampleTask(event: 'finished' | 'failed' | 'progress', index = 0, overrides: TaskOverrides = {}): DownloadTask {
  const taskId = `dt-sample${String(index).padStart(4, '0')}`;
  const createdAt = BASE_TIME + index * 60_000;
  const common: DownloadTask = {
    taskId,
    planId: 'dbsplan-sample',
    status: event === 'finished' ? 'finish' : event === 'failed' ? 'stop' : 'running',
    name: `orders-db nightly ${index === 0 ? 'full' : `incremental #${index}`}`,
    backupSetId: `bs-${100_000 + index}`,
    dbType: 'MySQL',
    jobType: index === 0 ? 'cbs_backup_sub_full' : 'cbs_backup_sub_cont',
    dataFormat: 'CSV',
    dataSize: 1_288_490_188 + index * 1_048_576,
    downloadWay: 'manual',
    createdAt,
  };
  if (event === 'finished') {
    const object = `dbs-sample/${taskId}/backup.tar.gz`;
    // Far in the future: a sample (test-notify, fixtures) must read as a live link, not an expired one.
    const query = `Expires=4102444800&OSSAccessKeyId=LTAI-sample&Signature=c2FtcGxlLXNpZ25hdHVyZQ%3D%3D`;
    return withOverrides(
      {
        ...common,
        finishedAt: createdAt + 754_000,
        internetUrl: `https://dbs-sample.oss-cn-hangzhou.aliyuncs.com/${object}?${query}`,
        intranetUrl: `https://dbs-sample.oss-cn-hangzhou-internal.aliyuncs.com/${object}?${query}`,
      },
      overrides,
    );
  }
  if (event === 'failed') {
    return withOverrides(
      {
        ...common,
        finishedAt: createdAt + 42_000,
        errorMessage: 'java.lang.IndexOutOfBoundsException: backup set conversion failed (sample error)',
      },
      overrides,
    );
  }
  return withOverrides(common, overrides);
}

/** One notification for a channel, with a stable id. */
export function sampleNotification(
  event: 'finished' | 'failed' | 'progress',
  channel = 'sample',
  options: { index?: number; task?: TaskOverrides; planName?: string; seq?: number } = {},
): Notification {
  const index = options.index ?? 0;
  const task = sampleTask(event, index, options.task);
  const seq = options.seq ?? 2;
  return {
    id: notificationId(task.planId, task.taskId, seq, task.status, channel),
    event,
    plan: { id: task.planId, name: options.planName ?? 'orders-db (production)' },
    task,
    previousStatus: event === 'progress' ? 'schedule' : 'running',
    seq,
    detectedAt: (task.finishedAt ?? task.createdAt ?? BASE_TIME) + 15_000,
  };
}

/** `count` notifications (every `failEvery`-th one failed) — a nightly burst. */
export function sampleBurst(count: number, channel = 'sample', failEvery = 20): Notification[] {
  return Array.from({ length: count }, (_, i) => sampleNotification((i + 1) % failEvery === 0 ? 'failed' : 'finished', channel, { index: i + 1 }));
}
