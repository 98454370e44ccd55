/**
 * Routing: turns a poll's transitions into notify jobs — one per
 * (transition, channel), or one digest per channel when a poll yields more
 * than the channel's threshold. Pure: ids are derived from the transitions,
 * so recomputing the same transitions yields the same job ids.
 */
import { createHash } from 'node:crypto';
import type { ChannelConfig, Config, PlanConfig } from '../config.js';
import type { DownloadTask } from '../dbs/task.js';
import { EVENT_KINDS, type EventKind } from '../domain.js';
import { idPart, joinId } from '../ids.js';
import type { NotifyJobData } from '../jobs/payloads.js';
import type { Transition } from '../tracking/diff.js';
import { type Notification, notificationId } from './event.js';

export interface NotifyJob {
  readonly jobId: string;
  readonly data: NotifyJobData;
}

/** Job id of a digest: the channel plus a hash of the notification ids it carries. */
export function digestJobId(channel: string, notificationIds: readonly string[]): string {
  const hash = createHash('sha256')
    .update([...notificationIds].sort().join('\n'))
    .digest('hex')
    .slice(0, 20);
  return joinId('digest', idPart(channel), hash);
}

export function buildNotifyJobs(
  config: Config,
  plan: PlanConfig,
  transitions: readonly Transition[],
  tasks: ReadonlyMap<string, DownloadTask>,
  detectedAt: number,
): NotifyJob[] {
  const byChannel = new Map<string, Notification[]>();
  for (const transition of transitions) {
    const task = tasks.get(transition.taskId);
    if (!task) continue;
    for (const channel of routeEvent(config, plan, transition.event)) {
      const notification: Notification = {
        id: notificationId(plan.id, transition.taskId, transition.seq, transition.to, channel.name),
        event: transition.event,
        plan: { id: plan.id, name: plan.name, ...(plan.account ? { account: plan.account } : {}) },
        task,
        ...(transition.from !== undefined ? { previousStatus: transition.from } : {}),
        seq: transition.seq,
        detectedAt,
      };
      const list = byChannel.get(channel.name) ?? [];
      list.push(notification);
      byChannel.set(channel.name, list);
    }
  }
  const jobs: NotifyJob[] = [];
  for (const [channel, notifications] of byChannel) {
    const threshold = config.channels[channel]?.digestThreshold ?? config.notify.digestThreshold;
    if (notifications.length > threshold) {
      const ids = notifications.map((n) => n.id);
      jobs.push({ jobId: digestJobId(channel, ids), data: { v: 1, channel, notifications } });
    } else {
      for (const notification of notifications) {
        jobs.push({ jobId: notification.id, data: { v: 1, channel, notifications: [notification] } });
      }
    }
  }
  return jobs;
}

/** Channels a transition of `event` on `plan` goes to, in config order. */
export function routeEvent(config: Config, plan: PlanConfig, event: EventKind): ChannelConfig[] {
  if (!plan.events.includes(event)) return [];
  const out: ChannelConfig[] = [];
  for (const name of plan.notify) {
    const channel = config.channels[name];
    const wanted: readonly EventKind[] = channel?.events ?? EVENT_KINDS;
    // `expired` goes wherever `finished` goes: whoever got the link should hear it is gone.
    if (channel && (wanted.includes(event) || (event === 'expired' && wanted.includes('finished')))) out.push(channel);
  }
  return out;
}
