/**
 * The Retry action for a failed notification (the status page's Retry button
 * and `dbswatch retry`): the failed notify job goes
 * back to waiting, with its attempts reset, and the notify worker delivers
 * it as if new. The delivery guard still holds: ids already delivered (part
 * of a digest that failed half-way) are skipped, not sent twice.
 */
import { Job } from 'bullmq';
import type { NotifyJobData } from '../jobs/payloads.js';
import type { Queues } from '../queues.js';

/** What the endpoint answers; `message` is shown on the page as text. */
export interface RetryOutcome {
  readonly status: 200 | 404 | 409;
  readonly body: { readonly status: string; readonly message: string; readonly id: string; readonly state?: string };
}

export async function retryFailedNotification(queues: Pick<Queues, 'notify'>, id: string): Promise<RetryOutcome> {
  const job = (await Job.fromId(queues.notify, id)) as Job<NotifyJobData> | undefined;
  if (!job) return { status: 404, body: { status: 'not found', id, message: `no notification job with id ${id}` } };
  const state = await job.getState();
  if (state !== 'failed') {
    return { status: 409, body: { status: 'conflict', id, state, message: `notification ${id} is ${state}, not failed: nothing to retry` } };
  }
  try {
    // Reset the counters: a job that used up its attempts would otherwise fail again at once.
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  } catch (error) {
    // Someone else (another tab, bull-board) retried it between our check and our move.
    const now = await job.getState().catch(() => 'unknown');
    return {
      status: 409,
      body: {
        status: 'conflict',
        id,
        state: now,
        message: `notification ${id} could not be retried (${now}): ${error instanceof Error ? error.message : String(error)}`,
      },
    };
  }
  return { status: 200, body: { status: 'retrying', id, state: 'waiting', message: `notification ${id} is queued for delivery again` } };
}

/** Retries every failed notification, oldest first; one outcome per job. */
export async function retryAllFailedNotifications(queues: Pick<Queues, 'notify'>): Promise<RetryOutcome[]> {
  const failed = await queues.notify.getFailed();
  const ids = failed.map((job) => job.id).filter((id): id is string => typeof id === 'string');
  const outcomes: RetryOutcome[] = [];
  for (const id of ids.reverse()) outcomes.push(await retryFailedNotification(queues, id));
  return outcomes;
}
