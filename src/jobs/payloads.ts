/**
 * The job payloads on the two queues, defined once: zod schemas that the
 * workers validate with, and the TypeScript types derived from them. A job
 * written by another version (or by hand) fails validation with a clear
 * reason instead of half-running. Payloads name plans and channels, never a
 * secret: a channel's webhook or password is resolved at send time.
 */
import { z } from 'zod';
import { notificationSchema, watchdogNoticeSchema } from '../notify/event.js';

/** Payload of a poll job: the plan to poll; its settings come from config at run time. */
export const pollJobDataSchema = z.object({ v: z.literal(1), planId: z.string().min(1) }).strict();
/** See pollJobDataSchema. */
export type PollJobData = z.infer<typeof pollJobDataSchema>;

/** Payload of a notify job. Names the channel; its secrets are resolved at send time. */
export const notifyJobDataSchema = z.object({
  /** Payload version, for rolling upgrades. */
  v: z.literal(1),
  /** Channel name from config. */
  channel: z.string().min(1),
  /** One notification = a single message; more = a digest. */
  notifications: z.array(notificationSchema).readonly(),
  /** Set once delivered: the payload (with its signed URLs) is dropped, the ids stay for dedupe. */
  delivered: z.object({ at: z.number(), ids: z.array(z.string()) }).optional(),
  /**
   * Set when the job failed for good: its download URLs were dropped (a failed job stays in Redis until an
   * operator acts). A retry re-reads the tasks from DBS for fresh links.
   */
  urlsRemoved: z.literal(true).optional(),
  /** A watchdog event instead of task notifications (then `notifications` is empty). */
  watchdog: watchdogNoticeSchema.optional(),
});
/** See notifyJobDataSchema. */
export type NotifyJobData = Readonly<z.infer<typeof notifyJobDataSchema>>;
