import { describe, expect, it } from 'vitest';
import { initialState, type Observation, type SubjectKind, step } from '../../src/alerting/watchdog.js';

const OPTIONS = { failingAfter: 3, recoverAfter: 2 };
type Obs = 'ok' | 'fail' | 'perm' | 'tick';

/** Runs a sequence of observations; returns the events raised, in order. */
function run(kind: SubjectKind, sequence: readonly Obs[], stale = 10_000): string[] {
  let state = initialState(0);
  const events: string[] = [];
  sequence.forEach((o, i) => {
    const at = (i + 1) * 1000;
    const obs: Observation =
      o === 'ok'
        ? { kind: 'success', at }
        : o === 'tick'
          ? { kind: 'tick', at: at + stale, staleAfterMs: stale }
          : { kind: 'failure', at, error: 'InvalidAccessKeyId.NotFound', permanent: o === 'perm' };
    const next = step(kind, state, obs, OPTIONS);
    state = next.state;
    if (next.event) events.push(next.event);
  });
  return events;
}

describe('watchdog state machine', () => {
  it.each<[string, Obs[], string[]]>([
    ['healthy polls raise nothing', ['ok', 'ok', 'ok'], []],
    ['two failures stay below failingAfter', ['fail', 'fail', 'ok'], []],
    ['three failures in a row → one plan-failing', ['fail', 'fail', 'fail', 'fail', 'fail'], ['plan-failing']],
    ['a permanent error fails at once, once', ['perm', 'perm', 'perm'], ['plan-failing']],
    ['recovery takes recoverAfter successes', ['perm', 'ok', 'ok', 'ok'], ['plan-failing', 'plan-recovered']],
    ['alternating fail/ok after failing does not flap', ['perm', 'ok', 'perm', 'ok', 'perm', 'ok', 'ok'], ['plan-failing', 'plan-recovered']],
    ['alternating fail/ok from healthy never pages', ['fail', 'ok', 'fail', 'ok', 'fail', 'ok'], []],
    ['no success for too long → stale, once', ['ok', 'tick', 'tick'], ['plan-stale']],
    ['stale then polls work again → recovered', ['ok', 'tick', 'ok', 'ok'], ['plan-stale', 'plan-recovered']],
    ['stale then an error → failing (there is now an error to tell)', ['ok', 'tick', 'perm'], ['plan-stale', 'plan-failing']],
  ])('%s', (_name, sequence, expected) => expect(run('plan', sequence)).toEqual(expected));

  it('channels raise notifications-failing / -recovered and are never stale', () => {
    expect(run('channel', ['perm', 'tick', 'ok', 'ok'])).toEqual(['notifications-failing', 'notifications-recovered']);
    expect(run('channel', ['ok', 'tick', 'tick'])).toEqual([]);
  });

  it('keeps the error in words and counts failures', () => {
    let state = initialState(0);
    for (const at of [1, 2, 3]) state = step('plan', state, { kind: 'failure', at, error: 'DBS says: bad key', permanent: false }, OPTIONS).state;
    expect(state).toMatchObject({ health: 'failing', failures: 3, lastError: 'DBS says: bad key', seq: 1 });
  });
});
