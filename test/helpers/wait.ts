/**
 * The one poll-until helper of the test suite: checks a condition every
 * `intervalMs` until it yields a value (anything but `undefined`/`false`),
 * on vitest's `vi.waitFor`. Use it instead of sleeps and hand-written
 * deadline loops; the timeout message names what was awaited.
 */
import { vi } from 'vitest';

export interface WaitOptions {
  /** Default 60 s. */
  readonly timeoutMs?: number;
  /** Default 100 ms. */
  readonly intervalMs?: number;
}

/** Resolves with the first value `check` yields; rejects with `timed out waiting for <what>`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, options: WaitOptions = {}): Promise<T> {
  let lastError: unknown;
  try {
    return await vi.waitFor(
      async () => {
        let value: T | undefined | false;
        try {
          value = await check();
        } catch (error) {
          lastError = error;
          throw error;
        }
        if (value === undefined || value === false) throw new Error(`still waiting for ${what}`);
        return value;
      },
      { timeout: options.timeoutMs ?? 60_000, interval: options.intervalMs ?? 100 },
    );
  } catch {
    const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
    throw new Error(`timed out waiting for ${what}${cause}`);
  }
}

/** Like waitFor, but resolves `false` on timeout instead of rejecting (for checks that report rather than fail). */
export async function holdsWithin(check: () => Promise<boolean> | boolean, options: WaitOptions = {}): Promise<boolean> {
  try {
    return await waitFor('condition', check, options);
  } catch {
    return false;
  }
}
