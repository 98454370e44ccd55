/**
 * The pure rules of incremental sweeps (src/tracking/sweep.ts), the diff's
 * `sweep` input, and the pager's stop rule on an in-memory list. The same
 * behaviour against the simulator and Redis: test/integration/incremental-sweeps.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import type { DbsApi, DownloadTaskPage, DownloadTaskQuery } from '../../src/dbs/client.js';
import { observeTask } from '../../src/dbs/normalise.js';
import { dbsTaskSource, type RawTaskPageReader, sweepDownloadTasks, sweepRawDownloadTasks } from '../../src/dbs/pager.js';
import type { DownloadTask } from '../../src/dbs/task.js';
import { diff, type TrackedTask } from '../../src/tracking/diff.js';
import { chooseSweep, incrementalStopRule, isSettled, listOrderOf, type SweepChoiceInput } from '../../src/tracking/sweep.js';

const HOUR = 3_600_000;
const state = (entries: Record<string, string>) =>
  new Map<string, TrackedTask>(Object.entries(entries).map(([id, status]) => [id, { status, seq: 1, missed: 0 }]));
const page = (entries: Record<string, string>) => Object.entries(entries).map(([taskId, status]) => ({ taskId, status }));

describe('chooseSweep', () => {
  const ready: SweepChoiceInput = {
    mode: 'incremental',
    baselineDone: true,
    fullSweptByThisProcess: true,
    lastFullSweepAt: 10 * HOUR,
    listOrder: 'newest-first',
    now: 10 * HOUR + 59 * 60_000,
    fullSweepEveryMs: HOUR,
  };
  const { lastFullSweepAt: _a, ...noFullSweepYet } = ready;
  const { listOrder: _b, ...orderUnchecked } = ready;

  it.each([
    ['every safety condition holds', ready, 'incremental', 'incremental'],
    ['dbs.sweep is full', { ...ready, mode: 'full' }, 'full', 'configured-full'],
    ['the plan has no baseline yet', { ...ready, baselineDone: false }, 'full', 'baseline'],
    ['this process has not fully swept the plan yet', { ...ready, fullSweptByThisProcess: false }, 'full', 'process-start'],
    ['the last full sweep found the list out of order', { ...ready, listOrder: 'unordered' }, 'full', 'list-unordered'],
    ['no full sweep has checked the order yet', orderUnchecked, 'full', 'order-unverified'],
    ['no full sweep was ever recorded', noFullSweepYet, 'full', 'full-sweep-due'],
    ['fullSweepEvery has passed, exactly', { ...ready, now: 11 * HOUR }, 'full', 'full-sweep-due'],
    ['fullSweepEvery is 0', { ...ready, fullSweepEveryMs: 0 }, 'full', 'full-sweep-due'],
  ] as const)('%s → %s (%s)', (_name, input, kind, reason) => {
    expect(chooseSweep(input as SweepChoiceInput)).toEqual({ kind, reason });
  });
});

describe('isSettled', () => {
  it.each([
    ['finish', true],
    ['stop', true],
    ['init', false],
    ['pause', false],
    ['running', false],
    ['checking', false],
    ['exporting', false],
  ])('%s → %s', (status, settled) => {
    expect(isSettled(status)).toBe(settled);
  });
});

describe('incrementalStopRule', () => {
  const known = state({ n1: 'running', n2: 'pause', a: 'finish', b: 'finish', c: 'stop', d: 'finish', e: 'finish', f: 'finish' });

  it('stops after a whole page of known, settled, unchanged tasks once every unsettled task was seen', () => {
    const stop = incrementalStopRule(known)();
    expect(stop(page({ n1: 'running', n2: 'pause' }))).toBe(false);
    expect(stop(page({ a: 'finish', b: 'finish' }))).toBe(true);
  });

  it.each([
    ['a task on the page changed status', { a: 'finish', b: 'stop' }],
    ['a task on the page is new', { a: 'finish', zz: 'finish' }],
    ['a task on the page is known but unsettled', { a: 'finish', n1: 'running' }],
    ['the page is empty', {}],
  ])('does not stop when %s', (_name, entries) => {
    const stop = incrementalStopRule(known)();
    stop(page({ n1: 'running', n2: 'pause' }));
    expect(stop(page(entries as Record<string, string>))).toBe(false);
  });

  it('keeps reading until the last known unsettled task is seen, however quiet the pages before it', () => {
    const stop = incrementalStopRule(known)();
    expect(stop(page({ n1: 'running', a: 'finish' }))).toBe(false);
    expect(stop(page({ b: 'finish', c: 'stop' }))).toBe(false); // quiet, but n2 not seen yet
    expect(stop(page({ d: 'finish', n2: 'schedule' }))).toBe(false); // n2 seen; this page changed
    expect(stop(page({ e: 'finish', f: 'finish' }))).toBe(true);
  });

  it('treats init as unsettled: a failed precheck can still move on', () => {
    const stop = incrementalStopRule(state({ old: 'init', a: 'finish', b: 'finish' }))();
    expect(stop(page({ a: 'finish', b: 'finish' }))).toBe(false);
    expect(stop(page({ old: 'init' }))).toBe(false);
  });

  it('gives every pass a fresh rule (a re-read from page 0 starts over)', () => {
    const makeRule = incrementalStopRule(known);
    const first = makeRule();
    first(page({ n1: 'running', n2: 'pause' }));
    const second = makeRule();
    expect(second(page({ a: 'finish', b: 'finish' }))).toBe(false);
  });
});

describe('listOrderOf', () => {
  it.each([
    ['creation times non-increasing (ties allowed)', [30, 20, 20, 10], 'newest-first'],
    ['an empty list', [], 'newest-first'],
    ['one task older than the next', [30, 10, 20], 'unordered'],
    ['oldest first', [10, 20, 30], 'unordered'],
    ['a task without a creation time', [30, undefined, 10], 'unordered'],
  ] as const)('%s → %s', (_name, times, order) => {
    const tasks = times.map((createdAt) => (createdAt === undefined ? {} : { createdAt }));
    expect(listOrderOf(tasks)).toBe(order);
  });
});

describe('diff with sweep: incremental', () => {
  const options = { baselineDone: true, notifyOnFirstSight: false, forgetAfterMissedPolls: 1 };
  const previous = new Map<string, TrackedTask>([
    ['new1', { status: 'running', seq: 2, missed: 0 }],
    ['old1', { status: 'finish', seq: 1, missed: 0 }],
    ['gone', { status: 'finish', seq: 1, missed: 0 }],
  ]);

  it('leaves tasks below the read alone: no missed count, no forgetting', () => {
    const result = diff(previous, page({ new1: 'finish' }), { ...options, sweep: 'incremental' });
    expect(result.transitions).toEqual([{ taskId: 'new1', from: 'running', to: 'finish', seq: 3, event: 'finished' }]);
    expect([...result.upserts.keys()]).toEqual(['new1']);
    expect(result.removals).toEqual([]);
    expect(result.trackedCount).toBe(3);
  });

  it('forgets on a full sweep (the default) what the same read would leave alone when incremental', () => {
    const full = diff(previous, page({ new1: 'finish' }), options);
    expect(full.removals).toEqual(['old1', 'gone']);
    expect(diff(previous, page({ new1: 'finish' }), { ...options, sweep: 'full' }).removals).toEqual(['old1', 'gone']);
  });

  it('still clears the missed count of a task the incremental read saw again', () => {
    const missed = new Map<string, TrackedTask>([['back', { status: 'finish', seq: 1, missed: 2 }]]);
    const result = diff(missed, page({ back: 'finish' }), { ...options, forgetAfterMissedPolls: 3, sweep: 'incremental' });
    expect([...result.upserts]).toEqual([['back', { status: 'finish', seq: 1, missed: 0 }]]);
  });
});

/** An in-memory DBS list, newest first, counting requests. */
function memoryApi(tasks: DownloadTask[]): DbsApi & { requests: number } {
  const api = {
    requests: 0,
    async describeDownloadTaskPage(query: DownloadTaskQuery): Promise<DownloadTaskPage> {
      if (!('planId' in query)) throw new Error('not used here');
      api.requests++;
      const start = query.pageNum * query.pageSize;
      return {
        pageNum: query.pageNum,
        pageSize: query.pageSize,
        totalElements: tasks.length,
        totalPages: Math.ceil(tasks.length / query.pageSize),
        items: tasks.slice(start, start + query.pageSize),
      };
    },
    async describeBackupPlanPage(): Promise<never> {
      throw new Error('not used here');
    },
  };
  return api;
}

describe('sweeps through the pager', () => {
  // 10 pages of 30: two running tasks on top, history below.
  const tasks: DownloadTask[] = Array.from({ length: 300 }, (_, i) => ({
    taskId: `t${String(300 - i).padStart(3, '0')}`,
    planId: 'p',
    status: i < 2 ? 'running' : 'finish',
    createdAt: 1_000_000 - i,
  }));
  const known = new Map<string, TrackedTask>(tasks.map((t) => [t.taskId, { status: t.status, seq: 1, missed: 0 }]));

  it('reads every page without a stop rule, and stops early with one', async () => {
    const api = memoryApi(tasks);
    const full = await sweepDownloadTasks(api, 'p', { pageSize: 30 });
    expect(full).toMatchObject({ complete: true, requests: 10, pages: 10 });
    expect(full.records.map((r) => r.taskId)).toEqual(tasks.map((t) => t.taskId));
    expect(full.records[0]).toEqual({ taskId: 't300', status: 'running', createdAt: 1_000_000, raw: tasks[0] });

    const top = await sweepDownloadTasks(api, 'p', { pageSize: 30, stopAfterPage: incrementalStopRule(known) });
    expect(top).toMatchObject({ complete: false, requests: 2, pages: 2 });
    expect(top.records.map((r) => r.taskId)).toEqual(tasks.slice(0, 60).map((t) => t.taskId));
  });

  it('reads to the end when the stop rule never fires, and calls that complete', async () => {
    const api = memoryApi(tasks);
    const unseen = new Map(known);
    unseen.set('vanished', { status: 'running', seq: 1, missed: 0 });
    const result = await sweepDownloadTasks(api, 'p', { pageSize: 30, stopAfterPage: incrementalStopRule(unseen) });
    expect(result).toMatchObject({ complete: true, requests: 10 });
  });

  it('dbsTaskSource over a reader of normalised pages hands back the task a page carried', async () => {
    const source = dbsTaskSource(memoryApi(tasks), () => ({ pageSize: 30 }));
    const sweep = await source.sweep('p');
    expect(sweep.taskOf(sweep.records[5] as (typeof sweep.records)[number])).toBe(tasks[5]);
  });

  it('a raw sweep reads only id, status, creation and finish time per item, and normalises on demand', async () => {
    const raw = [
      {
        BackupSetDownloadTaskId: 'r2',
        BackupSetDownloadStatus: 'FINISH',
        BackupSetDownloadCreateTime: '1700000001000',
        BackupSetDownloadFinishTime: 1_700_000_002_000,
        BackupSetDownloadInternetUrl: '"//bucket.example/r2.zip?Signature=s"',
      },
      { BackupSetDownloadTaskId: 'r1', BackupSetDownloadStatus: 'running', BackupSetDownloadCreateTime: 1_700_000_000 },
    ];
    const readPage: RawTaskPageReader = async () => ({ pageNum: 0, pageSize: 100, totalPages: 1, totalElements: 2, items: raw });
    const sweep = await sweepRawDownloadTasks(readPage, 'p', { pageSize: 100 });
    const { records, complete } = sweep;
    expect(complete).toBe(true);
    expect(records).toEqual([
      { taskId: 'r2', status: 'finish', createdAt: 1_700_000_001_000, finishedAt: 1_700_000_002_000, raw: raw[0] },
      { taskId: 'r1', status: 'running', createdAt: 1_700_000_000_000, raw: raw[1] },
    ]);
    expect(sweep.taskOf(records[0] as (typeof records)[number])).toEqual({
      taskId: 'r2',
      planId: 'p',
      status: 'finish',
      internetUrl: 'https://bucket.example/r2.zip?Signature=s',
      createdAt: 1_700_000_001_000,
      finishedAt: 1_700_000_002_000,
    });
  });

  it('a raw sweep keeps the item only of tasks the poll may need normalised', async () => {
    const raw = [
      { BackupSetDownloadTaskId: 'news', BackupSetDownloadStatus: 'finish', BackupSetDownloadFinishTime: 1_700_000_002_000 },
      { BackupSetDownloadTaskId: 'old', BackupSetDownloadStatus: 'finish', BackupSetDownloadFinishTime: 1_700_000_001_000 },
    ];
    const readPage: RawTaskPageReader = async () => ({ pageNum: 0, pageSize: 100, totalPages: 1, totalElements: 2, items: raw });
    const asked: string[] = [];
    const sweep = await sweepRawDownloadTasks(readPage, 'p', {
      pageSize: 100,
      needsDetail: (taskId, status) => {
        asked.push(`${taskId}:${status}`);
        return taskId === 'news';
      },
    });
    expect(asked).toEqual(['news:finish', 'old:finish']);
    // The settled task is still listed with what the diff and the announced rule read, but holds no item.
    expect(sweep.records).toEqual([
      { taskId: 'news', status: 'finish', finishedAt: 1_700_000_002_000, raw: raw[0] },
      { taskId: 'old', status: 'finish', finishedAt: 1_700_000_001_000 },
    ]);
    expect(sweep.taskOf(sweep.records[0] as (typeof sweep.records)[number])).toMatchObject({ taskId: 'news', planId: 'p' });
    expect(() => sweep.taskOf(sweep.records[1] as (typeof sweep.records)[number])).toThrow(/task old of plan p was not kept/);
  });

  it('a raw sweep warns once about a status it does not know, even for a task it never normalises', async () => {
    const raw = [
      { BackupSetDownloadTaskId: 'odd1', BackupSetDownloadStatus: 'Quarantined-Sweep' },
      { BackupSetDownloadTaskId: 'odd2', BackupSetDownloadStatus: 'Quarantined-Sweep' },
      { BackupSetDownloadTaskId: 'ok', BackupSetDownloadStatus: 'finish' },
    ];
    const readPage: RawTaskPageReader = async () => ({ pageNum: 0, pageSize: 100, totalPages: 1, totalElements: 3, items: raw });
    const warnings: { message: string; fields?: object }[] = [];
    const sweep = await sweepRawDownloadTasks(readPage, 'p', {
      pageSize: 100,
      needsDetail: () => false,
      warn: (message, fields) => warnings.push(fields ? { message, fields } : { message }),
    });
    expect(sweep.records.map((r) => r.status)).toEqual(['Quarantined-Sweep', 'Quarantined-Sweep', 'finish']);
    expect(warnings).toEqual([
      {
        message: 'DBS sent an unknown download status; keeping it as-is',
        fields: expect.objectContaining({ status: 'Quarantined-Sweep', taskId: 'odd1', planId: 'p' }),
      },
    ]);
  });

  it('observeTask fails like normaliseTask on an item without id or status', () => {
    expect(() => observeTask({ BackupSetDownloadStatus: 'finish' })).toThrow(/no BackupSetDownloadTaskId/);
    expect(() => observeTask({ BackupSetDownloadTaskId: 'x' })).toThrow(/task x has no BackupSetDownloadStatus/);
    expect(() => observeTask(null)).toThrow(/not an object/);
  });
});

describe('config: dbs.sweep and dbs.fullSweepEvery', () => {
  const problems = (yaml: string): string[] => {
    try {
      parseConfig(yaml, {}, 'test');
    } catch (error) {
      if (error instanceof ConfigError) return [...error.problems];
      throw error;
    }
    return [];
  };

  it('defaults to incremental sweeps with a full sweep at least hourly', () => {
    const config = parseConfig('{}', {}, 'test');
    expect(config.dbs.sweep).toBe('incremental');
    expect(config.dbs.fullSweepEvery).toBe(HOUR);
  });

  it('accepts full and a duration', () => {
    const config = parseConfig('dbs: { sweep: full, fullSweepEvery: 30m }', {}, 'test');
    expect(config.dbs).toMatchObject({ sweep: 'full', fullSweepEvery: 30 * 60_000 });
  });

  it.each([
    ['dbs: { sweep: sometimes }', /^dbs\.sweep: must be incremental or full/],
    ['dbs: { fullSweepEvery: hourly }', /^dbs\.fullSweepEvery: "hourly" is not a duration for dbs\.fullSweepEvery/],
  ])('%s → an error naming the key', (yaml, message) => {
    expect(problems(yaml)).toEqual([expect.stringMatching(message)]);
  });
});
