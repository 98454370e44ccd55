/**
 * The notification model: what the poll worker hands the notify queue and
 * what renderers turn into messages. One `Notification` is one transition
 * for one channel; a notify job carries one (a single message) or several
 * (a digest).
 */
import type { EventKind, WatchdogEventKind } from '../config.js';
import type { DownloadTask, TaskStatus } from '../dbs/task.js';

export interface Notification {
  /** Stable identity of (plan, task, status-change sequence, new status, channel); BullMQ-safe (no `:`). */
  readonly id: string;
  readonly event: EventKind;
  readonly plan: { readonly id: string; readonly name: string };
  /** The task as the poll saw it (fresh snapshot, URLs already normalised). */
  readonly task: DownloadTask;
  /** Status before the change; absent when the task was first seen in this state. */
  readonly previousStatus?: TaskStatus;
  /** Status-change sequence number of the task (1 = first sight). */
  readonly seq: number;
  /** When dbswatch noticed the change, epoch ms. */
  readonly detectedAt: number;
  /** Set on a re-announcement of an unresolved failure (see src/alerting/reminders.ts). Default: absent. */
  readonly reminder?: ReminderMark;
}

/** Which reminder this is: `n` of `times`, for the failure first announced at `firstAt`. */
export interface ReminderMark {
  readonly n: number;
  readonly times: number;
  /** Id of the original notification (what `ack` and the resolution check refer to). */
  readonly originalId: string;
  readonly firstAt: number;
}

/**
 * An event dbswatch raises about itself (src/alerting/watchdog.ts), routed to `watchdog.notify`.
 * Renderers turn it into a title and lines with `watchdogText` (src/notify/i18n.ts), so any channel
 * renders it generically in its own locale and time zone.
 */
export interface WatchdogNotice {
  /** Stable identity (subject, state-change sequence, channel); BullMQ-safe. */
  readonly id: string;
  readonly event: WatchdogEventKind;
  /** A plan (plan-*) or a channel name (notifications-*). */
  readonly subject: { readonly kind: 'plan' | 'channel'; readonly id: string; readonly name: string };
  /** The last error, in words (never a secret: already redacted by the error's producer). */
  readonly error?: string;
  /** Consecutive failures that led here. */
  readonly failures?: number;
  /** Last successful poll / delivery, epoch ms. */
  readonly lastSuccessAt?: number;
  /** When the state changed, epoch ms. */
  readonly at: number;
}

/** Payload of a notify job. Names the channel; its secrets are resolved at send time. */
export interface NotifyJobData {
  /** Payload version, for rolling upgrades. */
  readonly v: 1;
  /** Channel name from config. */
  readonly channel: string;
  /** One notification = a single message; more = a digest. */
  readonly notifications: readonly Notification[];
  /** Set once delivered: the payload (with its signed URLs) is dropped, the ids stay for dedupe. */
  readonly delivered?: { readonly at: number; readonly ids: readonly string[] };
  /**
   * Set when the job failed for good: its download URLs were dropped (a failed job stays in Redis until an
   * operator acts). A retry re-reads the tasks from DBS for fresh links.
   */
  readonly urlsRemoved?: true;
  /** A watchdog event instead of task notifications (then `notifications` is empty). */
  readonly watchdog?: WatchdogNotice;
}

/** Makes one id component BullMQ-safe: no `:` (BullMQ's separator), readable where possible. */
export function idPart(value: string | number): string {
  return encodeURIComponent(String(value)).replace(/[%:]/g, (c) => (c === '%' ? '~' : '~3A'));
}

/** The notification id of a transition for a channel. */
export function notificationId(planId: string, taskId: string, seq: number, status: string, channel: string): string {
  return [idPart(planId), idPart(taskId), `${seq}-${idPart(status)}`, idPart(channel)].join('.');
}
