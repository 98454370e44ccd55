/**
 * The instance task source for the poll worker: resolves an instance key to
 * its config, reads the complete task list through the right endpoint, and
 * hands the pipeline mapped tasks. Also the send-time link minting hook.
 */
import type { Redis } from 'ioredis';
import type { Config, InstanceConfig } from '../config.js';
import { DbsApiError } from '../dbs/errors.js';
import type { DownloadTask } from '../dbs/task.js';
import type { Logger } from '../logger.js';
import type { Notification } from '../notify/event.js';
import { parseSourceKey, sourceKindOf } from '../tracking/source.js';
import type { Dbs2021Api } from './client.js';
import { listAllAdvancedTasks } from './pager.js';
import { toPipelineTask } from './pipeline.js';

/** A 2021 client for an instance (its region picks the endpoint; its account the credential). */
export type Dbs2021ClientFor = (instance: InstanceConfig) => Dbs2021Api;

/** The configured instance behind a pipeline key, or undefined (a plan key, or an instance no longer configured). */
export function instanceOfKey(config: Config, key: string): InstanceConfig | undefined {
  const parsed = parseSourceKey(key);
  return parsed.kind === 'instance' ? config.instances.find((i) => i.id === parsed.id) : undefined;
}

/** Redis hash of when dbswatch first saw each finished URL-target task finished (DBS reports no finish time). */
export function finishedSeenKey(prefix: string, key: string): string {
  return `${prefix}:plan:${key}:finished-seen`;
}

/** Entries outlive the 3-day result life with room to spare; refreshed on every poll that writes. */
const FINISHED_SEEN_TTL_SECONDS = 7 * 86_400;

/**
 * `listAll` for instance keys: every task of the instance, mapped for the
 * diff, or a thrown error. Keeps the finished-seen times (one Redis round trip,
 * two when something changed): set once when a task is first seen finished,
 * dropped when it is no longer finished (a retry restarts the clock).
 */
export function createInstanceTaskSource(deps: {
  readonly config: () => Config;
  readonly clientFor: Dbs2021ClientFor;
  readonly redis: Redis;
  readonly prefix: string;
  readonly log?: Logger;
  readonly now?: () => number;
  /** Write newly seen finished times. Default: true; false for dry runs (they change nothing). */
  readonly record?: boolean;
}): { listAll(key: string): Promise<readonly DownloadTask[]> } {
  return {
    async listAll(key) {
      const instance = instanceOfKey(deps.config(), key);
      if (!instance) throw new DbsApiError(`instance ${parseSourceKey(key).id} is not configured`, 'NotConfigured', { kind: 'permanent' });
      const { tasks } = await listAllAdvancedTasks(deps.clientFor(instance), instance, deps.log ? { log: deps.log } : {});
      const now = (deps.now ?? Date.now)();
      const seenKey = finishedSeenKey(deps.prefix, key);
      const seen = await deps.redis.hgetall(seenKey);
      const finished = new Set(tasks.filter((t) => t.status === 'finished' && t.targetType !== 'OSS').map((t) => t.taskId));
      const added = [...finished].filter((id) => seen[id] === undefined);
      const dropped = Object.keys(seen).filter((id) => !finished.has(id));
      if ((added.length || dropped.length) && deps.record !== false) {
        const multi = deps.redis.multi();
        for (const id of added) multi.hsetnx(seenKey, id, String(now));
        if (dropped.length) multi.hdel(seenKey, ...dropped);
        multi.expire(seenKey, FINISHED_SEEN_TTL_SECONDS);
        await multi.exec();
      }
      for (const id of added) seen[id] ??= String(now);
      return tasks.map((task) => {
        const at = seen[task.taskId] === undefined ? undefined : Number(seen[task.taskId]);
        return toPipelineTask(task, instance, now, at !== undefined && Number.isFinite(at) ? at : undefined);
      });
    },
  };
}

/**
 * The notify hook: for finished notifications of instance tasks with a URL
 * target, mint links with DescribeDownloadBackupSetStorageInfo right before
 * rendering, valid for the instance's `linkValidity`. The links live only in
 * the returned copies (rendered and sent, never written to the job). A
 * permanent refusal (task gone, no permission) sends the message without
 * links and says why; anything retryable fails the attempt so the job retries.
 */
export function createLinkMinter(deps: { readonly config: () => Config; readonly clientFor: Dbs2021ClientFor }) {
  return async (notifications: readonly Notification[], log: Logger): Promise<Notification[]> => {
    const out: Notification[] = [];
    for (const n of notifications) {
      if (n.event !== 'finished' || sourceKindOf(n.plan.id) !== 'instance' || n.task.targetType === 'OSS') {
        out.push(n);
        continue;
      }
      const instance = instanceOfKey(deps.config(), n.plan.id);
      if (!instance) {
        out.push({ ...n, task: { ...n.task, linksNote: 'instance no longer configured: no links minted' } });
        continue;
      }
      try {
        const links = await deps.clientFor(instance).describeDownloadLinks({
          region: n.task.region ?? instance.region,
          taskId: n.task.taskId,
          validitySeconds: instance.linkValidityMs / 1000,
        });
        const task: DownloadTask = {
          ...n.task,
          ...(links.publicUrl ? { internetUrl: links.publicUrl } : {}),
          ...(links.privateUrl ? { intranetUrl: links.privateUrl } : {}),
          linksExpireAt: links.expiresAt,
        };
        out.push({ ...n, task });
      } catch (error) {
        if (!(error instanceof DbsApiError) || error.retry.kind !== 'permanent') throw error;
        log.warn({ taskId: n.task.taskId, code: error.code }, 'could not mint download links; sending without them');
        out.push({ ...n, task: { ...n.task, linksNote: `no links: ${error.message}` } });
      }
    }
    return out;
  };
}
