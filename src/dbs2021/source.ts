/**
 * The instance task source for the poll worker: resolves an instance key to
 * its config, reads the complete task list through the right endpoint, and
 * hands the pipeline mapped tasks. Also the send-time link minting hook.
 */
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

/** `listAll` for instance keys: every task of the instance, mapped for the diff, or a thrown error. */
export function createInstanceTaskSource(deps: {
  readonly config: () => Config;
  readonly clientFor: Dbs2021ClientFor;
  readonly log?: Logger;
  readonly now?: () => number;
}): { listAll(key: string): Promise<readonly DownloadTask[]> } {
  return {
    async listAll(key) {
      const instance = instanceOfKey(deps.config(), key);
      if (!instance) throw new DbsApiError(`instance ${parseSourceKey(key).id} is not configured`, 'NotConfigured', { kind: 'permanent' });
      const { tasks } = await listAllAdvancedTasks(deps.clientFor(instance), instance, deps.log ? { log: deps.log } : {});
      const now = (deps.now ?? Date.now)();
      return tasks.map((task) => toPipelineTask(task, instance, now));
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
