/**
 * The watchdog, pure: a small state machine per plan (are its polls
 * working?) and per channel (are its deliveries working?). It turns
 * observations into at most one event per state change, with hysteresis:
 * entering a problem state takes `failingAfter` failures in a row (or one
 * permanent error), leaving it takes `recoverAfter` successes in a row, so a
 * plan that alternates does not page on every poll.
 */
import type { WatchdogEventKind } from '../domain.js';
import { assertNever } from '../errors.js';

export type Health = 'ok' | 'failing' | 'stale';

/** What the watchdog keeps per subject (a plan or a channel). */
export interface WatchState {
  readonly health: Health;
  /** Failures in a row. */
  readonly failures: number;
  /** Successes in a row. */
  readonly successes: number;
  /** State changes so far: part of event ids (one event per change). */
  readonly seq: number;
  readonly lastSuccessAt?: number;
  readonly lastError?: string;
  /** When the watchdog first saw the subject (staleness of a plan that never succeeded). */
  readonly since: number;
}

export type Observation =
  | { readonly kind: 'success'; readonly at: number }
  | { readonly kind: 'failure'; readonly at: number; readonly error: string; readonly permanent: boolean }
  /** Periodic check: stale when no success for `staleAfterMs`. */
  | { readonly kind: 'tick'; readonly at: number; readonly staleAfterMs: number; readonly lastSuccessAt?: number };

export interface WatchdogOptions {
  /** Default (config): 3. */
  readonly failingAfter: number;
  /** Default (config): 2. */
  readonly recoverAfter: number;
}

export type SubjectKind = 'plan' | 'channel';

export function initialState(at: number): WatchState {
  return { health: 'ok', failures: 0, successes: 0, seq: 0, since: at };
}

const EVENTS: Record<SubjectKind, { failing: WatchdogEventKind; stale: WatchdogEventKind | undefined; recovered: WatchdogEventKind }> = {
  plan: { failing: 'plan-failing', stale: 'plan-stale', recovered: 'plan-recovered' },
  channel: { failing: 'notifications-failing', stale: undefined, recovered: 'notifications-recovered' },
};

/** One observation → the next state and the event to send, if the state changed. */
export function step(kind: SubjectKind, state: WatchState, obs: Observation, options: WatchdogOptions): { state: WatchState; event?: WatchdogEventKind } {
  const events = EVENTS[kind];
  switch (obs.kind) {
    case 'success': {
      const successes = state.successes + 1;
      const base = { ...state, failures: 0, successes, lastSuccessAt: obs.at };
      if (state.health !== 'ok' && successes >= options.recoverAfter) {
        return { state: { ...base, health: 'ok', seq: state.seq + 1 }, event: events.recovered };
      }
      return { state: base };
    }
    case 'failure': {
      const failures = state.failures + 1;
      const base = { ...state, failures, successes: 0, lastError: obs.error };
      // Stale → failing is news too: now there is an error to tell.
      if (state.health !== 'failing' && (obs.permanent || failures >= options.failingAfter)) {
        return { state: { ...base, health: 'failing', seq: state.seq + 1 }, event: events.failing };
      }
      return { state: base };
    }
    case 'tick': {
      if (!events.stale || state.health !== 'ok') return { state };
      const last = Math.max(obs.lastSuccessAt ?? 0, state.lastSuccessAt ?? 0) || state.since;
      if (obs.at - last < obs.staleAfterMs) return { state };
      return { state: { ...state, health: 'stale', successes: 0, seq: state.seq + 1 }, event: events.stale };
    }
    default:
      return assertNever(obs, 'observation');
  }
}
