import { describe, expect, it } from 'vitest';
import { KNOWN_STATUSES } from '../../src/dbs/task.js';
import { type AnnouncedRecord, applyAnnouncedRule, decodeAnnounced, encodeAnnounced } from '../../src/tracking/announced.js';
import { classify, decodeTracked, diff, encodeTracked, type TrackedTask } from '../../src/tracking/diff.js';

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
  if (to === 'init' && from === 'checking') return 'failed';
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
    const result = diff(new Map(), snap({ a: 'finish', b: 'running', c: 'init' }), { ...baseline, notifyOnFirstSight: true });
    expect(result.transitions).toEqual([
      { taskId: 'a', to: 'finish', seq: 1, event: 'finished' },
      { taskId: 'c', to: 'init', seq: 1, event: 'failed' },
    ]);
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
    const result = diff(new Map(), [{ taskId: 'a', status: 'finish' }, { taskId: 'a', status: 'finish' }], after);
    expect(result.transitions).toHaveLength(1);
    expect(result.trackedCount).toBe(1);
  });

  it('is deterministic: recomputing from the same state gives the same transitions', () => {
    const previous = state({ a: ['running', 7], b: ['checking', 1] });
    const current = snap({ a: 'finish', b: 'init', c: 'stop' });
    expect(diff(previous, current, after)).toEqual(diff(previous, current, after));
  });
});

describe('tracked record encoding', () => {
  it.each([
    [{ status: 'finish', seq: 3, missed: 0 }],
    [{ status: 'odd|status', seq: 12, missed: 2 }],
  ])('round-trips %o', (task) => {
    expect(decodeTracked(encodeTracked(task))).toEqual(task);
  });

  it.each(['', 'garbage', 'x|0|finish', '1|-1|finish', '0|0|finish', '1|0|'])('rejects %j', (value) => {
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
    ['forgotten, back finish with the same finish time', {}, { t: ['finish', T - DAY, T - 1_000] }, [{ taskId: 't', status: 'finish', finishedAt: T - DAY }], []],
    ['forgotten, back finish with a new finish time (a real new run)', {}, { t: ['finish', T - DAY, T - 1_000] }, [{ taskId: 't', status: 'finish', finishedAt: T }], ['t:finish']],
    ['finish → running → finish, same finish time', { t: ['running', 3] }, { t: ['finish', T - DAY] }, [{ taskId: 't', status: 'finish', finishedAt: T - DAY }], []],
    ['finish → running → finish, new finish time', { t: ['running', 3] }, { t: ['finish', T - DAY] }, [{ taskId: 't', status: 'finish', finishedAt: T }], ['t:finish']],
    ['stop → running → stop without a finish time (unknown: announced again)', { t: ['running', 3] }, { t: ['stop'] }, [{ taskId: 't', status: 'stop' }], ['t:stop']],
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

  it.each([
    [{ status: 'finish', finishedAt: T }, `${T}||finish`],
    [{ status: 'stop' }, '||stop'],
    [{ status: 'a|b', finishedAt: 1, goneAt: 2 }, '1|2|a|b'],
  ])('encodes %j as %j and back', (record, encoded) => {
    expect(encodeAnnounced(record)).toBe(encoded);
    expect(decodeAnnounced(encoded)).toEqual(record);
  });
});
