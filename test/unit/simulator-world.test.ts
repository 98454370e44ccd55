import { describe, expect, it } from 'vitest';
import { resolveScenario, SAMPLE_PLAN_ID, scenarioNames } from '../../dev/simulator/scenarios.js';
import { taskToWire } from '../../dev/simulator/wire.js';
import { isAllowedTransition, mulberry32, SimWorld } from '../../dev/simulator/world.js';

function world(): SimWorld {
  const w = new SimWorld({ seed: 7, clock: 'manual', startMs: 1_700_000_000_000 });
  w.addPlan({ planId: 'p1' });
  return w;
}

describe('SimWorld paging', () => {
  it('lists newest first, and a new task pushes older ones to later pages', () => {
    const w = world();
    const tasks = w.addTasks('p1', 5);
    const ids = tasks.map((t) => t.BackupSetDownloadTaskId);
    expect(w.tasksOf('p1').map((t) => t.BackupSetDownloadTaskId)).toEqual([...ids].reverse());
    expect(w.page('p1', 0, 2).items.map((t) => t.BackupSetDownloadTaskId)).toEqual([ids[4], ids[3]]);
    expect(w.page('p1', 2, 2).items.map((t) => t.BackupSetDownloadTaskId)).toEqual([ids[0]]);
    const fresh = w.addTask('p1');
    expect(w.page('p1', 0, 2).items[0]?.BackupSetDownloadTaskId).toBe(fresh.BackupSetDownloadTaskId);
    expect(w.page('p1', 1, 2).items.map((t) => t.BackupSetDownloadTaskId)).toEqual([ids[3], ids[2]]);
    expect(w.page('p1', 9, 2)).toEqual({ total: 6, items: [] });
  });

  it('removes tasks', () => {
    const w = world();
    const [a, b] = w.addTasks('p1', 2);
    w.removeTask(a?.BackupSetDownloadTaskId ?? '');
    expect(w.tasksOf('p1')).toEqual([b]);
    expect(w.task(a?.BackupSetDownloadTaskId ?? '')).toBeUndefined();
  });

  it('is deterministic for a seed', () => {
    const ids = (seed: number) => {
      const w = new SimWorld({ seed });
      w.addPlan({ planId: 'p' });
      return w.addTasks('p', 3).map((t) => t.BackupSetDownloadTaskId);
    };
    expect(ids(3)).toEqual(ids(3));
    expect(ids(3)).not.toEqual(ids(4));
    expect(mulberry32(1)()).toBe(mulberry32(1)());
  });
});

describe('SimWorld state machine and ledger', () => {
  it('records every explicit status change', () => {
    const w = world();
    const t = w.addTask('p1');
    const id = t.BackupSetDownloadTaskId;
    for (const s of ['check_pass', 'schedule', 'running', 'finish']) w.setStatus(id, s);
    expect(w.events.map((e) => `${e.from}>${e.to}`)).toEqual(['checking>check_pass', 'check_pass>schedule', 'schedule>running', 'running>finish']);
    expect(w.events.every((e) => e.planId === 'p1' && e.taskId === id && e.at === w.startMs)).toBe(true);
    expect(t.BackupSetDownloadFinishTime).toBe(w.startMs);
    expect(t.BackupSetDownloadInternetUrl).toMatch(/^\/\/dbs-.*\.oss-cn-hangzhou\.example\/.+\?Expires=\d+&OSSAccessKeyId=.+&Signature=.+/);
    expect(t.BackupSetDownloadIntranetUrl).toContain('oss-cn-hangzhou-internal.example');
    expect(JSON.parse(JSON.stringify(t)).BackupSetDownloadInternetUrl).toBe(t.BackupSetDownloadInternetUrl);
  });

  it('gives a stopped task an ErrMessage and an auto task gateway fields, but no URLs', () => {
    const w = world();
    const stopped = w.addTask('p1', { status: 'running' });
    w.setStatus(stopped.BackupSetDownloadTaskId, 'stop');
    expect(stopped.ErrMessage).toBeTruthy();
    expect(stopped.BackupSetDownloadInternetUrl).toBeUndefined();
    const auto = w.addTask('p1', { status: 'finish', downloadWay: 'auto' });
    expect(auto).toMatchObject({ BackupSetDownloadTargetType: 'agent', BackupSetDownloadDir: '/data/dbs-backup' });
    expect(auto.BackupGatewayId).toBeGreaterThan(0);
    expect(auto.BackupSetDownloadInternetUrl).toBeUndefined();
  });

  it('knows the real transitions, and a strict world rejects impossible jumps', () => {
    expect(isAllowedTransition('checking', 'init')).toBe(true);
    expect(isAllowedTransition('pause', 'running')).toBe(true);
    expect(isAllowedTransition('checking', 'finish')).toBe(false);
    expect(isAllowedTransition('finish', 'running')).toBe(false);
    const strict = new SimWorld({ strictTransitions: true });
    strict.addPlan({ planId: 'p' });
    const t = strict.addTask('p');
    expect(() => strict.setStatus(t.BackupSetDownloadTaskId, 'finish')).toThrow(/impossible transition/);
    expect(() => strict.addTask('p', { steps: [{ atMs: 1, status: 'running' }] })).toThrow(/impossible/);
    // A lenient world (the default) takes any status, even unknown ones, so tests can force odd states.
    const w = world();
    const u = w.addTask('p1');
    w.setStatus(u.BackupSetDownloadTaskId, 'mystery_state');
    expect(u.BackupSetDownloadStatus).toBe('mystery_state');
  });

  it('applies scripted timeline steps on tick, in order, at their due time', () => {
    const w = world();
    const t = w.addTask('p1', {
      steps: [
        { atMs: 1000, status: 'check_pass' },
        { atMs: 2000, status: 'schedule' },
        { atMs: 3000, status: 'running' },
        { atMs: 4000, status: 'stop', errMessage: 'boom' },
      ],
    });
    expect(w.tick()).toBe(0);
    expect(w.advance(2500)).toBe(2);
    expect(t.BackupSetDownloadStatus).toBe('schedule');
    expect(w.tick(w.startMs + 10_000)).toBe(2);
    expect(t).toMatchObject({ BackupSetDownloadStatus: 'stop', ErrMessage: 'boom' });
    expect(w.events.map((e) => e.at - w.startMs)).toEqual([1000, 2000, 3000, 4000]);
    expect(w.tick(20_000)).toBe(0); // relative form; nothing left
    expect(w.pendingSteps).toBe(0);
  });

  it('drives seeded random timelines to a terminal state through allowed transitions', () => {
    const w = world();
    const tasks = w.addTasks('p1', 50, { steps: 'random', randomGapMs: 1000 });
    w.advance(10 * 60_000);
    for (const t of tasks) expect(['finish', 'stop', 'init']).toContain(t.BackupSetDownloadStatus);
    for (const e of w.events) expect(isAllowedTransition(e.from, e.to), `${e.from}>${e.to}`).toBe(true);
  });
});

describe('wire quirks', () => {
  it('serves scheme-less, sometimes quoted URLs and numbers as strings with quirks on; clean values without', () => {
    const w = world();
    const tasks = w.addTasks('p1', 6, { status: 'finish' });
    const wire = tasks.map((t) => taskToWire(t, true));
    expect(wire.some((x) => String(x.BackupSetDownloadInternetUrl).startsWith('"//'))).toBe(true);
    expect(wire.some((x) => String(x.BackupSetDownloadInternetUrl).startsWith('//'))).toBe(true);
    expect(wire.some((x) => typeof x.BackupSetDataSize === 'string')).toBe(true);
    const clean = tasks.map((t) => taskToWire(t, false));
    expect(clean.every((x) => String(x.BackupSetDownloadInternetUrl).startsWith('https://'))).toBe(true);
    expect(clean.every((x) => typeof x.BackupSetDataSize === 'number')).toBe(true);
    const running = taskToWire(w.addTask('p1', { status: 'running' }), false);
    expect(running).not.toHaveProperty('BackupSetDownloadInternetUrl');
  });
});

describe('scenarios', () => {
  it('has the named scenarios', () => {
    expect(scenarioNames()).toEqual(expect.arrayContaining(['empty', 'demo', 'sample']));
    const sample = new SimWorld();
    resolveScenario('sample').build(sample);
    expect(sample.planIds()).toEqual([SAMPLE_PLAN_ID]);
    expect(new Set(sample.tasksOf(SAMPLE_PLAN_ID).map((t) => t.BackupSetDownloadStatus)).size).toBeGreaterThanOrEqual(7);
    const demo = new SimWorld({ clock: 'manual' });
    resolveScenario('demo').build(demo);
    expect(demo.planIds()).toHaveLength(3);
    demo.advance(61_000);
    const to = demo.events.map((e) => e.to);
    expect(to.filter((s) => s === 'finish').length).toBeGreaterThanOrEqual(4);
    expect(to.filter((s) => s === 'stop')).toHaveLength(2);
    expect(to.filter((s) => s === 'init')).toHaveLength(1);
    const names = demo.planIds().flatMap((p) => demo.tasksOf(p).map((t) => t.BackupSetDownloadTaskName));
    expect(names.some((n) => n.includes('<b>nightly</b> & <!channel>'))).toBe(true);
  });
});
