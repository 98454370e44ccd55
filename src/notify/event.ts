/**
 * The notification model: what the poll worker hands the notify queue and
 * what renderers turn into messages. One `Notification` is one transition
 * for one channel; a notify job carries one (a single message) or several
 * (a digest).
 */
import { z } from 'zod';
import { downloadTaskSchema, type TaskStatus } from '../dbs/task.js';
import { EVENT_KINDS, WATCHDOG_EVENTS } from '../domain.js';
import { idPart, joinId } from '../ids.js';

/** Which reminder this is: `n` of `times`, for the failure first announced at `firstAt`. */
export const reminderMarkSchema = z.object({
  n: z.number().int().min(1),
  times: z.number().int().min(1),
  /** Id of the original notification (what `ack` and the resolution check refer to). */
  originalId: z.string().min(1),
  firstAt: z.number(),
});
/** See reminderMarkSchema. */
export type ReminderMark = z.infer<typeof reminderMarkSchema>;

export const notificationSchema = z.object({
  /** Stable identity of (plan, task, status-change sequence, new status, channel); BullMQ-safe (no `:`). */
  id: z.string().min(1),
  event: z.enum(EVENT_KINDS),
  /** `account`: the plan's `accounts[].id` when not the default (re-reads go to the right account). */
  plan: z.object({ id: z.string(), name: z.string(), account: z.string().optional() }),
  /** The task as the poll saw it (fresh snapshot, URLs already normalised). */
  task: downloadTaskSchema,
  /** Status before the change; absent when the task was first seen in this state. */
  previousStatus: z.custom<TaskStatus>((value) => typeof value === 'string').optional(),
  /** Status-change sequence number of the task (1 = first sight). */
  seq: z.number(),
  /** When dbswatch noticed the change, epoch ms. */
  detectedAt: z.number(),
  /** Set on a re-announcement of an unresolved failure (see src/alerting/reminders.ts). Default: absent. */
  reminder: reminderMarkSchema.optional(),
  /**
   * Set by the notify worker at send time (never stored) when the task's links had expired by then and
   * DBS gave no fresh ones: the links are dropped and the message says so. Epoch ms of the expiry.
   */
  linksExpiredAt: z.number().optional(),
});
/** One transition for one channel. See notificationSchema. */
export type Notification = Readonly<z.infer<typeof notificationSchema>>;

/**
 * An event dbswatch raises about itself (src/alerting/watchdog.ts), routed to `watchdog.notify`.
 * Renderers turn it into a title and lines with `watchdogText` (src/notify/i18n.ts), so any channel
 * renders it generically in its own locale and time zone.
 */
export const watchdogNoticeSchema = z.object({
  /** Stable identity (subject, state-change sequence, channel); BullMQ-safe. */
  id: z.string().min(1),
  event: z.enum(WATCHDOG_EVENTS),
  /** A plan (plan-*) or a channel name (notifications-*). */
  subject: z.object({ kind: z.enum(['plan', 'channel']), id: z.string(), name: z.string() }),
  /** The last error, in words (never a secret: already redacted by the error's producer). */
  error: z.string().optional(),
  /** Consecutive failures that led here. */
  failures: z.number().optional(),
  /** Last successful poll / delivery, epoch ms. */
  lastSuccessAt: z.number().optional(),
  /** When the state changed, epoch ms. */
  at: z.number(),
});
/** See watchdogNoticeSchema. */
export type WatchdogNotice = Readonly<z.infer<typeof watchdogNoticeSchema>>;

/** Re-exported: the one injective id-part encoding lives in src/ids.ts. */
export { idPart } from '../ids.js';

/** The notification id of a transition for a channel: injective in every part (src/ids.ts). */
export function notificationId(planId: string, taskId: string, seq: number, status: string, channel: string): string {
  return joinId(idPart(planId), idPart(taskId), `${seq}-${idPart(status)}`, idPart(channel));
}
