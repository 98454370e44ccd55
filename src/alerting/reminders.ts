/**
 * Reminders, pure: which reminder jobs a failed notification gets, and
 * whether a reminder is still due when its slot comes.
 *
 * Mechanism (why delayed jobs): when the poll enqueues a `failed`
 * notification it also enqueues its reminders as *delayed* notify jobs, one
 * per slot, with ids derived from (notification id, slot n). BullMQ ignores
 * an add whose id exists and keeps delayed jobs in Redis across restarts, so
 * every slot exists once however many polls, workers or crashes there are;
 * the delivery guard then dedupes the send like any other notification. No
 * extra tick, sorted set or leader is needed. What can change in between
 * (ack, the task recovering, config turning reminders off) is checked when
 * the slot fires — by `reminderDecision`.
 */
import type { ChannelConfig, Config, PlanConfig, RemindConfig } from '../config.js';
import type { NotifyJobData } from '../jobs/payloads.js';
import type { Notification } from '../notify/event.js';

/** The remind settings for a (plan, channel): channel, else plan, else defaults (already folded into the plan). */
export function effectiveRemind(plan: Pick<PlanConfig, 'remind'>, channel: Pick<ChannelConfig, 'remind'> | undefined): RemindConfig | undefined {
  const remind = channel?.remind ?? plan.remind;
  return remind && remind.times > 0 ? remind : undefined;
}

/** Id of reminder `n` of a notification (also its job id): BullMQ-safe like the original. */
export function reminderId(originalId: string, n: number): string {
  return `${originalId}.r${n}`;
}

/** Reminder `n` of a failed notification: same task, marked, without download links (a failure has none worth keeping). */
export function reminderNotification(original: Notification, n: number, times: number): Notification {
  const { internetUrl: _i, intranetUrl: _j, ...task } = original.task;
  return {
    ...original,
    id: reminderId(original.id, n),
    task,
    reminder: { n, times, originalId: original.id, firstAt: original.detectedAt },
  };
}

export interface ReminderJob {
  readonly jobId: string;
  readonly data: NotifyJobData;
  /** Delay from now until the slot. */
  readonly delayMs: number;
}

/** The reminder jobs for the failed notifications among freshly built notify jobs. */
export function reminderJobs(config: Config, plan: PlanConfig, jobs: readonly { readonly data: NotifyJobData }[], now: number): ReminderJob[] {
  const out: ReminderJob[] = [];
  for (const job of jobs) {
    const remind = effectiveRemind(plan, config.channels[job.data.channel]);
    if (!remind) continue;
    for (const original of job.data.notifications) {
      if (original.event !== 'failed' || original.reminder) continue;
      for (let n = 1; n <= remind.times; n++) {
        const reminder = reminderNotification(original, n, remind.times);
        out.push({
          jobId: reminder.id,
          data: { v: 1, channel: job.data.channel, notifications: [reminder] },
          delayMs: Math.max(0, original.detectedAt + n * remind.every - now),
        });
      }
    }
  }
  return out;
}

/** What is known about a failure when its reminder slot fires. */
export interface ReminderFacts {
  /** Someone ran `dbswatch ack` (or pressed the page button) for the task. */
  readonly acknowledged: boolean;
  /** The task's tracked status-change sequence now; undefined when it is no longer tracked. */
  readonly trackedSeq: number | undefined;
  /** When a download of the same backup set last finished, if ever. */
  readonly backupSetDoneAt: number | undefined;
  /** Remind settings for (plan, channel) under the current config. */
  readonly remind: RemindConfig | undefined;
}

export type ReminderDecision =
  | { readonly due: true }
  | { readonly due: false; readonly reason: 'acknowledged' | 'task-changed' | 'task-gone' | 'backup-set-downloaded' | 'reminders-off' };

/** Whether reminder `n` of a failure still goes out. */
export function reminderDecision(n: Notification, facts: ReminderFacts): ReminderDecision {
  const mark = n.reminder;
  if (!mark) return { due: true };
  if (facts.acknowledged) return { due: false, reason: 'acknowledged' };
  if (facts.backupSetDoneAt !== undefined && facts.backupSetDoneAt >= mark.firstAt) return { due: false, reason: 'backup-set-downloaded' };
  if (facts.trackedSeq === undefined) return { due: false, reason: 'task-gone' };
  // Any status change bumps the sequence: the task left the failed state it was announced in.
  if (facts.trackedSeq !== n.seq) return { due: false, reason: 'task-changed' };
  if (!facts.remind || facts.remind.times < mark.n) return { due: false, reason: 'reminders-off' };
  return { due: true };
}
