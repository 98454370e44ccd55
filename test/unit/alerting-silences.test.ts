import { describe, expect, it } from 'vitest';
import { globMatch, inWeeklyWindow, matchSilence, type Silence, silenceActive, silenceEnd } from '../../src/alerting/silences.js';

const at = (iso: string) => Date.parse(iso);

const base: Silence = { id: 's1', source: 'runtime', reason: 'migration', replay: false };

describe('globMatch', () => {
  it.each([
    ['*', 'dbs1abc', true],
    ['dbs1*', 'dbs1abc', true],
    ['dbs1*', 'xdbs1abc', false],
    ['*prod*', 'orders-prod-eu', true],
    ['orders.db', 'ordersXdb', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
  ])('%s ~ %s → %s', (glob, value, expected) => expect(globMatch(glob, value)).toBe(expected));
});

describe('weekly windows', () => {
  const nightly = { days: ['sat' as const], start: '22:00', end: '06:00', timezone: 'Asia/Shanghai' };
  const daytime = { days: ['mon' as const, 'tue' as const], start: '09:00', end: '17:30', timezone: 'UTC' };
  it.each([
    ['Mon 10:00 UTC inside a day window', daytime, '2026-06-01T10:00:00Z', true],
    ['Mon 17:30 UTC is the end (exclusive)', daytime, '2026-06-01T17:30:00Z', false],
    ['Wed 10:00 UTC: wrong day', daytime, '2026-06-03T10:00:00Z', false],
    ['Sat 23:00 Shanghai (15:00Z) inside an overnight window', nightly, '2026-06-06T15:00:00Z', true],
    ['Sun 05:59 Shanghai (Sat 21:59Z) still inside: the window started Saturday', nightly, '2026-06-06T21:59:00Z', true],
    ['Sun 06:00 Shanghai ends it', nightly, '2026-06-06T22:00:00Z', false],
    ['Sat 23:00 UTC is Sun 07:00 in Shanghai: outside', nightly, '2026-06-06T23:00:00Z', false],
    ['Fri 23:00 Shanghai: the day before the window', nightly, '2026-06-05T15:00:00Z', false],
  ])('%s', (_name, weekly, iso, expected) => expect(inWeeklyWindow(weekly, at(iso))).toBe(expected));
});

describe('matchSilence', () => {
  const silences: Silence[] = [
    { ...base, id: 'window', plans: ['dbs1*'], events: ['failed'], from: at('2026-06-01T00:00:00Z'), until: at('2026-06-01T02:00:00Z') },
    { ...base, id: 'mail-only', channels: ['mail'], until: at('2026-07-01T00:00:00Z') },
  ];
  const c = (over: Partial<{ planId: string; event: string; channel: string; at: number }>) => ({
    planId: 'dbs1abc',
    event: 'failed',
    channel: 'slack',
    at: at('2026-06-01T01:00:00Z'),
    ...over,
  });
  it.each([
    ['plan glob + event + time match', c({}), 'window'],
    ['another event is not covered', c({ event: 'finished' }), undefined],
    ['another plan is not covered', c({ planId: 'dbs2' }), undefined],
    ['before from', c({ at: at('2026-05-31T23:59:59Z') }), undefined],
    ['at until (exclusive)', c({ at: at('2026-06-01T02:00:00Z') }), undefined],
    ['channel silence covers every plan and event on that channel', c({ planId: 'zzz', event: 'plan-failing', channel: 'mail' }), 'mail-only'],
  ])('%s', (_name, candidate, expected) => expect(matchSilence(silences, candidate)?.id).toBe(expected));

  it('reports when a silence ends, for replay', () => {
    const s: Silence = { ...base, until: at('2026-06-01T02:00:00Z') };
    expect(silenceEnd(s, at('2026-06-01T01:00:00Z'))).toBe(at('2026-06-01T02:00:00Z'));
    const weekly: Silence = { ...base, weekly: { days: ['mon'], start: '09:00', end: '10:00', timezone: 'UTC' } };
    expect(silenceActive(weekly, at('2026-06-01T09:30:00Z'))).toBe(true);
    expect(silenceEnd(weekly, at('2026-06-01T09:30:00Z'))).toBe(at('2026-06-01T10:00:00Z'));
  });
});
