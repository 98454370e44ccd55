import { describe, expect, it } from 'vitest';
import { KNOWN_STATUSES } from '../../src/dbs/task.js';
import { type AnnouncedRecord, applyAnnouncedRule, decodeAnnounced, encodeAnnounced } from '../../src/tracking/announced.js';
import { classify, type DiffOptions, decodeTracked, diff, encodeTracked, type TrackedTask } from '../../src/tracking/diff.js';

const after = { baselineDone: true, notifyOnFirstSight: false, forgetAfterMissedPolls: 3 };
const baseline = { ...after, baselineDone: false };
const state = (entries: Record<string, [string, number, number?]>) =>
  new Map<string, TrackedTask>(Object.entries(entries).map(([id, [status, seq, missed]]) => [id, { status, seq, missed: missed ?? 0 }]));
const snap = (entries: Record<string, string>) => Object.entries(entries).map(([taskId, status]) => ({ taskId, status }));

/** What classify must say for every ordered pair of known statuses (from ≠ to). */
function expectedEvent(from: string, to: string): string | undefined {
  if (from === to) return undefined;
  if (to === 'finish') return 'finished';
  if (to === 'stop') return 'failed';
  if (to === 'init') return 'failed'; // a *settled* init; holdFor decides when it is settled
  return 'progress';
}

describe('classify', () => {
  const pairs = KNOWN_STATUSES.flatMap((from) => KNOWN_STATUSES.map((to) => [from, to] as const));
  it.each(pairs)('%s → %s', (from, to) => {
    expect(classify(from, to)).toBe(expectedEvent(from, to));
  });

  it.each([
    ['finish', 'finished'],
    ['stop', 'failed'],
    ['init', 'failed'],
    ['running', 'progress'],
    ['checking', 'progress'],
  ])('first sight in %s raises %s', (to, event) => {
    expect(classify(undefined, to)).toBe(event);
  });

  it('treats unknown statuses as progress, both ways', () => {
    expect(classify('running', 'exporting')).toBe('progress');
    expect(classify('exporting', 'finish')).toBe('finished');
    expect(classify('exporting', 'exporting')).toBeUndefined();
  });
});

describe('diff', () => {
  it('records the first complete poll as a silent baseline', () => {
    const result = diff(new Map(), snap({ a: 'finish', b: 'stop', c: 'running' }), baseline);
    expect(result.transitions).toEqual([]);
    expect([...result.upserts]).toEqual([
      ['a', { status: 'finish', seq: 1, missed: 0 }],
      ['b', { status: 'stop', seq: 1, missed: 0 }],
      ['c', { status: 'running', seq: 1, missed: 0 }],
    ]);
    expect(result.trackedCount).toBe(3);
  });

  it('notifies terminal tasks on the baseline when notifyOnFirstSight is on, never non-terminal ones', () => {
    const current = [...snap({ a: 'finish', b: 'running' }), { taskId: 'c', status: 'init', errorMessage: 'precheck failed' }, { taskId: 'd', status: 'init' }];
    const result = diff(new Map(), current, { ...baseline, notifyOnFirstSight: true });
    expect(result.transitions).toEqual([
      { taskId: 'a', to: 'finish', seq: 1, event: 'finished' },
      { taskId: 'c', to: 'init', seq: 1, event: 'failed' },
    ]);
    // An init without ErrMessage is not a failure yet: held, confirmed on later polls.
    expect(result.upserts.get('d')).toEqual({ status: 'init', seq: 1, missed: 0, held: 1 });
  });

  it('after the baseline, a task first seen finished or stopped is notified', () => {
    const result = diff(state({ old: ['finish', 1] }), snap({ old: 'finish', fast: 'finish', broke: 'stop', fresh: 'checking' }), after);
    expect(result.transitions).toEqual([
      { taskId: 'fast', to: 'finish', seq: 1, event: 'finished' },
      { taskId: 'broke', to: 'stop', seq: 1, event: 'failed' },
      { taskId: 'fresh', to: 'checking', seq: 1, event: 'progress' },
    ]);
  });

  it('bumps the sequence on every status change and keeps it on no change', () => {
    const result = diff(state({ a: ['running', 4], b: ['running', 2] }), snap({ a: 'finish', b: 'running' }), after);
    expect(result.transitions).toEqual([{ taskId: 'a', from: 'running', to: 'finish', seq: 5, event: 'finished' }]);
    expect([...result.upserts]).toEqual([['a', { status: 'finish', seq: 5, missed: 0 }]]);
  });

  it('a task that fails, is retried by the user and finishes gives two notifications with distinct sequences', () => {
    let tracked = state({ t: ['running', 3] });
    const events: string[] = [];
    const seqs: number[] = [];
    for (const status of ['stop', 'running', 'finish']) {
      const result = diff(tracked, snap({ t: status }), after);
      for (const tr of result.transitions) {
        if (tr.event !== 'progress') {
          events.push(tr.event);
          seqs.push(tr.seq);
        }
      }
      tracked = new Map([...tracked, ...result.upserts]);
    }
    expect(events).toEqual(['failed', 'finished']);
    expect(seqs).toEqual([4, 6]);
  });

  it('counts missed polls, forgets after the configured number, and never notifies a disappearance', () => {
    let tracked = state({ gone: ['finish', 2], here: ['running', 1] });
    const seen: number[] = [];
    for (let poll = 1; poll <= 3; poll++) {
      const result = diff(tracked, snap({ here: 'running' }), after);
      expect(result.transitions).toEqual([]);
      if (poll < 3) {
        expect(result.upserts.get('gone')).toEqual({ status: 'finish', seq: 2, missed: poll });
        expect(result.removals).toEqual([]);
      } else {
        expect(result.removals).toEqual(['gone']);
      }
      seen.push(result.trackedCount);
      tracked = new Map([...tracked, ...result.upserts]);
      for (const id of result.removals) tracked.delete(id);
    }
    expect(seen).toEqual([2, 2, 1]);
  });

  it('a task that comes back before being forgotten resets its missed count without an event', () => {
    const result = diff(state({ t: ['finish', 2, 2] }), snap({ t: 'finish' }), after);
    expect(result.transitions).toEqual([]);
    expect(result.upserts.get('t')).toEqual({ status: 'finish', seq: 2, missed: 0 });
  });

  it('keeps unknown statuses as they are', () => {
    const result = diff(state({ t: ['running', 1] }), snap({ t: 'exporting' }), after);
    expect(result.transitions).toEqual([{ taskId: 't', from: 'running', to: 'exporting', seq: 2, event: 'progress' }]);
  });

  it('ignores a task id listed twice in one snapshot', () => {
    const result = diff(
      new Map(),
      [
        { taskId: 'a', status: 'finish' },
        { taskId: 'a', status: 'finish' },
      ],
      after,
    );
    expect(result.transitions).toHaveLength(1);
    expect(result.trackedCount).toBe(1);
  });

  it('is deterministic: recomputing from the same state gives the same transitions', () => {
    const previous = state({ a: ['running', 7], b: ['checking', 1] });
    const current = snap({ a: 'finish', b: 'init', c: 'stop' });
    expect(diff(previous, current, after)).toEqual(diff(previous, current, after));
  });
});

type Obs = { taskId: string; status: string; errorMessage?: string; linksPending?: boolean };
/** Runs the diff over a sequence of polls of one task `t`, from a tracked start; returns the non-progress events by poll. */
function run(start: [string, number] | undefined, polls: readonly Omit<Obs, 'taskId'>[], options: DiffOptions = after) {
  let tracked = start ? state({ t: start }) : new Map<string, TrackedTask>();
  const out: string[] = [];
  polls.forEach((poll, i) => {
    const result = diff(tracked, [{ taskId: 't', ...poll }], options);
    for (const tr of result.transitions) if (tr.event !== 'progress') out.push(`poll ${i + 1}: ${tr.event} seq ${tr.seq}`);
    tracked = new Map([...tracked, ...result.upserts]);
  });
  return out;
}

describe('init is not always a failure (defaults.initFailedAfter = 3)', () => {
  const init = { status: 'init' };
  const initErr = { status: 'init', errorMessage: 'precheck failed: backup set not downloadable' };
  it.each<[string, [string, number] | undefined, Omit<Obs, 'taskId'>[], string[]]>([
    ['init after checking fails at once', ['checking', 1], [init], ['poll 1: failed seq 2']],
    ['init first seen with an ErrMessage fails at once', undefined, [initErr], ['poll 1: failed seq 1']],
    ['init after check_pass with an ErrMessage fails at once', ['check_pass', 2], [initErr], ['poll 1: failed seq 3']],
    ['init first seen without ErrMessage fails on its 3rd poll', undefined, [init, init, init, init], ['poll 3: failed seq 1']],
    ['init after schedule without ErrMessage fails on its 3rd poll', ['schedule', 4], [init, init, init], ['poll 3: failed seq 5']],
    ['init that gains an ErrMessage on poll 2 fails then, once', undefined, [init, initErr, initErr, initErr], ['poll 2: failed seq 1']],
    ['init that moves on to checking before its 3rd poll raises nothing', undefined, [init, init, { status: 'checking' }], []],
    [
      'init that moves on to check_pass then finishes raises only finished',
      undefined,
      [init, { status: 'check_pass' }, { status: 'finish' }],
      ['poll 3: finished seq 3'],
    ],
    ['a record from before holds existed (init, no held) raises nothing more', ['init', 1], [init, initErr], []],
  ])('%s', (_name, start, polls, expected) => {
    expect(run(start, polls)).toEqual(expected);
  });

  it('initFailedAfter: 1 is the old rule (every init after the baseline is a failure at once)', () => {
    expect(run(['schedule', 1], [{ status: 'init' }], { ...after, initFailedAfter: 1 })).toEqual(['poll 1: failed seq 2']);
  });

  it('the confirmed failure has the identity it would have had at once (same seq and status)', () => {
    const atOnce = diff(state({ t: ['schedule', 4] }), [{ taskId: 't', status: 'init', errorMessage: 'x' }], after).transitions[0];
    let tracked = state({ t: ['schedule', 4] });
    let late: unknown;
    for (let i = 0; i < 3; i++) {
      const result = diff(tracked, [{ taskId: 't', status: 'init' }], after);
      late = result.transitions[0] ?? late;
      tracked = new Map([...tracked, ...result.upserts]);
    }
    expect({ seq: (late as { seq: number }).seq, to: (late as { to: string }).to }).toEqual({ seq: atOnce?.seq, to: atOnce?.to });
  });

  it('a held init missing from a poll keeps its count', () => {
    const result = diff(new Map([['t', { status: 'init', seq: 1, missed: 0, held: 2 }]]), [], after);
    expect(result.upserts.get('t')).toEqual({ status: 'init', seq: 1, missed: 1, held: 2 });
  });
});

describe('finished before the links exist (defaults.waitForLinks = 3)', () => {
  const noLinks = { status: 'finish', linksPending: true };
  const links = { status: 'finish' };
  it.each<[string, Omit<Obs, 'taskId'>[], string[]]>([
    ['links there at once: finished at once', [links], ['poll 1: finished seq 2']],
    ['links appear on poll 2: finished then, once', [noLinks, links, links], ['poll 2: finished seq 2']],
    ['links never appear: finished on poll 4 (held 3 polls), once', [noLinks, noLinks, noLinks, noLinks, noLinks], ['poll 4: finished seq 2']],
  ])('%s', (_name, polls, expected) => {
    expect(run(['running', 1], polls)).toEqual(expected);
  });

  it('waitForLinks: 0 sends at once without links', () => {
    expect(run(['running', 1], [noLinks], { ...after, waitForLinks: 0 })).toEqual(['poll 1: finished seq 2']);
  });

  it('never holds on the silent baseline', () => {
    const result = diff(new Map(), [{ taskId: 't', status: 'finish', linksPending: true }], baseline);
    expect(result.upserts.get('t')).toEqual({ status: 'finish', seq: 1, missed: 0 });
  });
});

describe('tracked record encoding', () => {
  it.each([[{ status: 'finish', seq: 3, missed: 0 }], [{ status: 'odd|status', seq: 12, missed: 2 }], [{ status: 'init', seq: 2, missed: 1, held: 2 }]])(
    'round-trips %o',
    (task) => {
      expect(decodeTracked(encodeTracked(task))).toEqual(task);
    },
  );

  it.each(['', 'garbage', 'x|0|finish', '1|-1|finish', '0|0|finish', '1|0|', '1|0,0|init', '1|0,x|init'])('rejects %j', (value) => {
    expect(decodeTracked(value)).toBeUndefined();
  });
});

// Issue 15: once per task and terminal state (src/tracking/announced.ts, applied after the diff).
describe('once per task and terminal state (announced rule)', () => {
  const T = 1_700_000_000_000;
  const DAY = 86_400_000;
  type Seen = [status: string, finishedAt?: number | undefined, goneAt?: number | undefined];
  const memory = (entries: Record<string, Seen>) =>
    new Map<string, AnnouncedRecord>(
      Object.entries(entries).map(([id, [status, finishedAt, goneAt]]) => [
        id,
        { status, ...(finishedAt !== undefined ? { finishedAt } : {}), ...(goneAt !== undefined ? { goneAt } : {}) },
      ]),
    );
  /** One poll: diff, then the rule. Returns the announced transitions as `task:to`. */
  const poll = (
    tracked: Map<string, TrackedTask>,
    seen: Map<string, AnnouncedRecord>,
    observed: { taskId: string; status: string; finishedAt?: number }[],
    at = T,
  ) => {
    const d = diff(tracked, observed, after);
    const r = applyAnnouncedRule(seen, observed, d.transitions, d.removals, { at, keepAfterGoneMs: 7 * DAY });
    return { announced: r.transitions.map((t) => `${t.taskId}:${t.to}`), result: r, diff: d };
  };

  it.each([
    // [case, tracked before, memory before, observed now, announced]
    [
      'forgotten, back finish with the same finish time',
      {},
      { t: ['finish', T - DAY, T - 1_000] },
      [{ taskId: 't', status: 'finish', finishedAt: T - DAY }],
      [],
    ],
    [
      'forgotten, back finish with a new finish time (a real new run)',
      {},
      { t: ['finish', T - DAY, T - 1_000] },
      [{ taskId: 't', status: 'finish', finishedAt: T }],
      ['t:finish'],
    ],
    [
      'finish → running → finish, same finish time',
      { t: ['running', 3] },
      { t: ['finish', T - DAY] },
      [{ taskId: 't', status: 'finish', finishedAt: T - DAY }],
      [],
    ],
    [
      'finish → running → finish, new finish time',
      { t: ['running', 3] },
      { t: ['finish', T - DAY] },
      [{ taskId: 't', status: 'finish', finishedAt: T }],
      ['t:finish'],
    ],
    [
      'stop → running → stop without a finish time (unknown: announced again)',
      { t: ['running', 3] },
      { t: ['stop'] },
      [{ taskId: 't', status: 'stop' }],
      ['t:stop'],
    ],
    ['finish (time F) → running → stop', { t: ['running', 3] }, { t: ['finish', T - DAY] }, [{ taskId: 't', status: 'stop', finishedAt: T - DAY }], ['t:stop']],
    ['first finish, nothing remembered', { t: ['running', 1] }, {}, [{ taskId: 't', status: 'finish', finishedAt: T }], ['t:finish']],
    ['a new task already finished (between two polls)', {}, {}, [{ taskId: 'n', status: 'finish', finishedAt: T }], ['n:finish']],
  ] as const)('%s', (_name, tracked, seen, observed, expected) => {
    const before = state(tracked as unknown as Record<string, [string, number]>);
    const { announced } = poll(before, memory(seen as unknown as Record<string, Seen>), observed as never);
    expect(announced).toEqual(expected);
  });

  it('announces a finish once across finish → forgotten → back, with the issue’s exact sequence', () => {
    // t finishes (seq 2), vanishes for 3 polls (forgotten), comes back finish: before the rule, `t.1-finish` after `t.2-finish`.
    let tracked = state({ t: ['running', 1] });
    let seen = memory({});
    const step = (observed: { taskId: string; status: string; finishedAt?: number }[], at: number) => {
      const { announced, result, diff: d } = poll(tracked, seen, observed, at);
      tracked = new Map([...tracked, ...d.upserts]);
      for (const id of d.removals) tracked.delete(id);
      seen = new Map([...seen, ...result.upserts]);
      for (const id of result.removals) seen.delete(id);
      return announced;
    };
    const finished = [{ taskId: 't', status: 'finish', finishedAt: T }];
    expect(step(finished, T)).toEqual(['t:finish']);
    expect(step([], T + 1)).toEqual([]);
    expect(step([], T + 2)).toEqual([]);
    expect(step([], T + 3)).toEqual([]);
    expect(tracked.has('t')).toBe(false);
    expect(seen.get('t')).toEqual({ status: 'finish', finishedAt: T, goneAt: T + 3 });
    expect(step(finished, T + 4)).toEqual([]);
    expect(seen.get('t')).toEqual({ status: 'finish', finishedAt: T });
  });

  it('writes nothing on a steady poll, marks forgotten tasks gone, and drops them after keepAfterGoneMs', () => {
    const seen = memory({ a: ['finish', T], g: ['stop', undefined, T - 8 * DAY], h: ['stop', undefined, T - DAY] });
    const steady = applyAnnouncedRule(seen, [{ taskId: 'a', status: 'finish', finishedAt: T }], [], [], { at: T, keepAfterGoneMs: 7 * DAY });
    expect([...steady.upserts]).toEqual([]);
    expect(steady.removals).toEqual(['g']);
    const gone = applyAnnouncedRule(seen, [], [], ['a'], { at: T, keepAfterGoneMs: 7 * DAY });
    expect(gone.upserts.get('a')).toEqual({ status: 'finish', finishedAt: T, goneAt: T });
  });

  it('does not remember a terminal state whose event is held back, so its release is not taken for a repeat', () => {
    const seen = memory({});
    const finished = [{ taskId: 'late', status: 'finish', finishedAt: T }];
    // Poll 1: the finish waits for its links (no transition): nothing is remembered.
    const waiting = applyAnnouncedRule(seen, finished, [], [], { at: T, keepAfterGoneMs: 7 * DAY, held: new Set(['late']) });
    expect([...waiting.upserts]).toEqual([]);
    // Poll 2: the links arrived, the diff releases the finish: announced, then remembered.
    const release = [{ taskId: 'late', from: 'running', to: 'finish', seq: 3, event: 'finished' as const }];
    const released = applyAnnouncedRule(seen, finished, release, [], { at: T + 1, keepAfterGoneMs: 7 * DAY });
    expect(released.transitions).toEqual(release);
    expect(released.upserts.get('late')).toEqual({ status: 'finish', finishedAt: T });
  });

  it.each([
    [{ status: 'finish', finishedAt: T }, `${T}||finish`],
    [{ status: 'stop' }, '||stop'],
    [{ status: 'a|b', finishedAt: 1, goneAt: 2 }, '1|2|a|b'],
  ])('encodes %j as %j and back', (record, encoded) => {
    expect(encodeAnnounced(record)).toBe(encoded);
    expect(decodeAnnounced(encoded)).toEqual(record);
  });
});
