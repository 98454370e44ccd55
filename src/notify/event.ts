/**
 * The notification model: what the poll worker hands the notify queue and
 * what renderers turn into messages. One `Notification` is one transition
 * for one channel; a notify job carries one (a single message) or several
 * (a digest).
 */
import type { EventKind } from '../config.js';
import type { DownloadTask, TaskStatus } from '../dbs/task.js';

export interface Notification {
  /** Stable identity of (plan, task, status-change sequence, new status, channel); BullMQ-safe (no `:`). */
  readonly id: string;
  readonly event: EventKind;
  /** `account`: the plan's `accounts[].id` when not the default (re-reads go to the right account). */
  readonly plan: { readonly id: string; readonly name: string; readonly account?: string };
  /** The task as the poll saw it (fresh snapshot, URLs already normalised). */
  readonly task: DownloadTask;
  /** Status before the change; absent when the task was first seen in this state. */
  readonly previousStatus?: TaskStatus;
  /** Status-change sequence number of the task (1 = first sight). */
  readonly seq: number;
  /** When dbswatch noticed the change, epoch ms. */
  readonly detectedAt: number;
  /**
   * Set by the notify worker at send time (never stored) when the task's links had expired by then and
   * DBS gave no fresh ones: the links are dropped and the message says so. Epoch ms of the expiry.
   */
  readonly linksExpiredAt?: number;
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
}

/** Makes one id component BullMQ-safe: no `:` (BullMQ's separator), readable where possible. */
export function idPart(value: string | number): string {
  return encodeURIComponent(String(value)).replace(/[%:]/g, (c) => (c === '%' ? '~' : '~3A'));
}

/** The notification id of a transition for a channel. */
export function notificationId(planId: string, taskId: string, seq: number, status: string, channel: string): string {
  return [idPart(planId), idPart(taskId), `${seq}-${idPart(status)}`, idPart(channel)].join('.');
}
