/**
 * Typed errors with retry policy as data. Every failure that crosses a
 * boundary (DBS API, Slack, SMTP, Redis) becomes one of these, so the queue
 * layer decides what to do from `retry` alone.
 */

/** What to do about a failure. */
export type RetryPolicy =
  /** Try again with exponential backoff and jitter. */
  | { readonly kind: 'retryable' }
  /** Try again after at least `delayMs`, without counting it as a failed attempt where possible. */
  | { readonly kind: 'rate-limited'; readonly delayMs: number }
  /** Retrying cannot help (bad credentials, revoked webhook, unknown plan). */
  | { readonly kind: 'permanent' };

export const RETRYABLE: RetryPolicy = Object.freeze({ kind: 'retryable' });
export const PERMANENT: RetryPolicy = Object.freeze({ kind: 'permanent' });
export const rateLimited = (delayMs: number): RetryPolicy => ({ kind: 'rate-limited', delayMs });

/**
 * Base class of dbswatch's own errors. `message` is written for an operator
 * and never contains a secret; `code` is a stable machine-readable reason.
 */
export class DbswatchError extends Error {
  /**
   * True when the request may have taken effect although it failed: it was sent and no answer came
   * (a timeout, a connection dropped mid-answer). A retry is then at-least-once: it may duplicate.
   * Default: false (the request certainly did nothing: refused connection, an error answer).
   */
  readonly outcomeUnknown: boolean;

  constructor(
    message: string,
    readonly code: string,
    readonly retry: RetryPolicy,
    options?: { cause?: unknown; outcomeUnknown?: boolean },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.outcomeUnknown = options?.outcomeUnknown ?? false;
  }
}

/** Whether a failure may have been a success (see `DbswatchError.outcomeUnknown`). */
export function isOutcomeUnknown(error: unknown): boolean {
  return error instanceof DbswatchError && error.outcomeUnknown;
}

export function retryPolicyOf(error: unknown): RetryPolicy {
  return error instanceof DbswatchError ? error.retry : RETRYABLE;
}

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** Exponential backoff with full jitter in [base/2, base·2^(attempt-1)], capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
