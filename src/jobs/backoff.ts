/**
 * The one retry backoff both workers register (BullMQ `settings.backoffStrategy`)
 * under the name JITTERED_BACKOFF: exponential from the job's own
 * `backoff.delay`, capped, with jitter so that many jobs failing together
 * (a DBS or Slack outage) do not retry in lockstep — and never sooner than a
 * throttled API asked us to wait.
 */
import { backoffDelay, retryPolicyOf } from '../errors.js';
import { JITTERED_BACKOFF } from '../queues.js';

/** Base delay when a job carries none. */
const DEFAULT_BASE_MS = 5_000;

/** Builds the strategy; `maxMs` is read per retry so a config reload applies. */
export function jitteredBackoff(maxMs: () => number) {
  return (attemptsMade: number, type?: string, error?: Error, job?: { opts?: { backoff?: unknown } }): number => {
    const backoff = job?.opts?.backoff as { delay?: number } | undefined;
    const base = backoff?.delay ?? DEFAULT_BASE_MS;
    // A job added with another strategy name (by hand, or an older version): a plain fixed delay.
    if (type !== undefined && type !== JITTERED_BACKOFF) return base;
    const delay = backoffDelay(attemptsMade, base, maxMs());
    const policy = retryPolicyOf(error);
    return policy.kind === 'rate-limited' ? Math.max(delay, policy.delayMs) : delay;
  };
}
