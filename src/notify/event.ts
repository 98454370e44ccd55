/**
 * The notification model: what the poll worker hands the notify queue and
 * what renderers turn into messages. One `Notification` is one transition
 * for one channel; a notify job carries one (a single message) or several
 * (a digest).
 */
import { EVENT_KINDS } from '../domain.js';
import { z } from 'zod';
import { downloadTaskSchema, type TaskStatus } from '../dbs/task.js';

export const notificationSchema = z.object({
  /** Stable identity of (plan, task, status-change sequence, new status, channel); BullMQ-safe (no `:`). */
  id: z.string().min(1),
  event: z.enum(EVENT_KINDS),
  plan: z.object({ id: z.string(), name: z.string() }),
  /** The task as the poll saw it (fresh snapshot, URLs already normalised). */
  task: downloadTaskSchema,
  /** Status before the change; absent when the task was first seen in this state. */
  previousStatus: z.custom<TaskStatus>((value) => typeof value === 'string').optional(),
  /** Status-change sequence number of the task (1 = first sight). */
  seq: z.number(),
  /** When dbswatch noticed the change, epoch ms. */
  detectedAt: z.number(),
});
/** One transition for one channel. See notificationSchema. */
export type Notification = Readonly<z.infer<typeof notificationSchema>>;

/** Makes one id component BullMQ-safe: no `:` (BullMQ's separator), readable where possible. */
export function idPart(value: string | number): string {
  return encodeURIComponent(String(value)).replace(/[%:]/g, (c) => (c === '%' ? '~' : '~3A'));
}

/** The notification id of a transition for a channel. */
export function notificationId(planId: string, taskId: string, seq: number, status: string, channel: string): string {
  return [idPart(planId), idPart(taskId), `${seq}-${idPart(status)}`, idPart(channel)].join('.');
}
