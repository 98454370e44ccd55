/**
 * Ready-made worlds: `empty`, `demo` (three plans, tasks that finish and fail
 * over the first minute), `sample` (one static plan in mixed states) and a
 * parameterised builder for the benchmark (`bench`, `bench:<plans>x<tasks>`).
 */
import type { SimTaskInput, SimWorld } from './world.js';

export interface Scenario {
  name: string;
  description: string;
  /** Seed used when the simulator is given none. */
  seed?: number;
  /** Fills a fresh world (its clock starts at world.startMs). */
  build(world: SimWorld): void;
}

const HOUR = 3_600_000;

/** Historical tasks: created `count` hours back, all finished (one incremental per hour). */
function addHistory(world: SimWorld, planId: string, count: number, options: { stopped?: number } = {}): void {
  for (let i = count; i >= 1; i--) {
    const createdAt = world.startMs - i * HOUR;
    const stopped = options.stopped !== undefined && i === options.stopped;
    world.addTask(planId, {
      status: stopped ? 'stop' : 'finish',
      createdAt,
      finishedAt: createdAt + 90_000,
      ...(stopped ? { errMessage: 'DBS.BackupSetDownload.Failed: OSS object not found for backup set, it may have expired.' } : {}),
    });
  }
}

/** checking → check_pass → schedule → running → `end`, the last step at `endSec`. */
function lifecycle(endSec: number, end: 'finish' | 'stop', errMessage?: string) {
  const s = (sec: number) => Math.max(1, Math.round(sec * 1000));
  const steps = [
    { atMs: s(endSec * 0.15), status: 'check_pass' },
    { atMs: s(endSec * 0.3), status: 'schedule' },
    { atMs: s(endSec * 0.55), status: 'running' },
    errMessage === undefined ? { atMs: s(endSec), status: end } : { atMs: s(endSec), status: end, errMessage },
  ];
  return steps;
}

export const emptyScenario: Scenario = {
  name: 'empty',
  description: 'no plans, no tasks',
  build: () => {},
};

export const DEMO_PLANS = {
  orders: 'dbsdemoorders',
  billing: 'dbsdemobilling',
  analytics: 'dbsdemoanalytics',
} as const;

export const demoScenario: Scenario = {
  name: 'demo',
  description: '3 plans with history; over ~60 s tasks finish, two stop, one fails its precheck',
  build(world) {
    world.addPlan({ planId: DEMO_PLANS.orders, name: 'orders-prod', dbType: 'MySQL' });
    world.addPlan({ planId: DEMO_PLANS.billing, name: 'billing-prod', dbType: 'PostgreSQL', autoDownload: true });
    world.addPlan({ planId: DEMO_PLANS.analytics, name: 'analytics', dbType: 'MySQL' });
    addHistory(world, DEMO_PLANS.orders, 5, { stopped: 3 });
    addHistory(world, DEMO_PLANS.billing, 4);
    addHistory(world, DEMO_PLANS.analytics, 3);

    world.addTask(DEMO_PLANS.orders, { name: 'orders-nightly-full', jobType: 'cbs_backup_sub_full', steps: lifecycle(20, 'finish') });
    world.addTask(DEMO_PLANS.orders, {
      steps: lifecycle(35, 'stop', 'DBS.BackupSetDownload.Failed: OSS object not found for backup set, it may have expired.'),
    });
    world.addTask(DEMO_PLANS.orders, { steps: lifecycle(55, 'finish') });

    world.addTask(DEMO_PLANS.billing, {
      steps: [{ atMs: 12_000, status: 'init', errMessage: 'precheck failed: source backup set is not in a downloadable state' }],
    });
    world.addTask(DEMO_PLANS.billing, { downloadWay: 'auto', downloadDir: '/data/dbs-backup/billing', steps: lifecycle(40, 'finish') });
    world.addTask(DEMO_PLANS.billing, {
      name: '<b>nightly</b> & <!channel> *billing* `full`',
      jobType: 'cbs_backup_sub_full',
      steps: lifecycle(50, 'finish'),
    });

    world.addTask(DEMO_PLANS.analytics, { steps: lifecycle(25, 'finish') });
    world.addTask(DEMO_PLANS.analytics, {
      steps: lifecycle(45, 'stop', 'backup gateway offline: agent heartbeat lost for 600s'),
    });
    world.addTask(DEMO_PLANS.analytics, { dataFormat: 'SQL', steps: lifecycle(60, 'finish') });
  },
};

export const SAMPLE_PLAN_ID = 'dbsqhnuhyw3xxxx';

export const sampleScenario: Scenario = {
  name: 'sample',
  description: `one plan ${SAMPLE_PLAN_ID} with 13 tasks in mixed states, static`,
  build(world) {
    world.addPlan({ planId: SAMPLE_PLAN_ID, name: 'sample-mysql', dbType: 'MySQL' });
    const statuses: Array<[string, Partial<SimTaskInput>?]> = [
      ['finish'],
      ['finish', { jobType: 'cbs_backup_sub_full', dataFormat: 'CSV' }],
      ['stop', { errMessage: 'java.lang.IndexOutOfBoundsException.' }],
      ['finish', { downloadWay: 'auto', downloadDir: '/data/backup' }],
      ['finish'],
      ['init', { errMessage: 'precheck failed: source backup set is not in a downloadable state' }],
      ['stop', { errMessage: 'disk full: no space left on device while writing /data/dbs-backup', downloadWay: 'auto' }],
      ['finish', { dataFormat: 'SQL' }],
      ['pause'],
      ['schedule'],
      ['running'],
      ['check_pass'],
      ['checking'],
    ];
    let createdAt = world.startMs - statuses.length * HOUR;
    for (const [status, extra] of statuses) {
      world.addTask(SAMPLE_PLAN_ID, { status, createdAt, ...extra });
      createdAt += HOUR;
    }
  },
};

export interface BuildScenarioOptions {
  /** Number of plans, ids `plan0001`…. */
  plans: number;
  /** Tasks per plan. */
  tasksPerPlan: number;
  /** Seed for ids, sizes and random timelines, used when the simulator is given none. */
  seed?: number;
  /** Share of each plan's tasks that are live (seeded random path from `checking`). Default 0.01. */
  activeFraction?: number;
  /** Live tasks reach their terminal state within about this long. Default 60 000 ms. */
  spanMs?: number;
}

export function planIdFor(index: number, plans = 1000): string {
  return `plan${String(index + 1).padStart(Math.max(4, String(plans).length), '0')}`;
}

/** The benchmark's world: `plans` × `tasksPerPlan`, mostly historical finished tasks, a few live ones (newest). */
export function buildScenario(options: BuildScenarioOptions): Scenario {
  const { plans, tasksPerPlan } = options;
  const activeFraction = options.activeFraction ?? 0.01;
  const spanMs = options.spanMs ?? 60_000;
  return {
    name: `bench:${plans}x${tasksPerPlan}`,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    description: `${plans} plans × ${tasksPerPlan} tasks (${Math.round(activeFraction * 100)}% live)`,
    build(world) {
      const live = Math.min(tasksPerPlan, Math.round(tasksPerPlan * activeFraction));
      const historical = tasksPerPlan - live;
      const gap = 4 * 60_000; // one historical task every 4 minutes
      for (let p = 0; p < plans; p++) {
        const planId = planIdFor(p, plans);
        world.addPlan({ planId, name: `bench-${planId}` });
        let createdAt = world.startMs - (historical + 1) * gap;
        for (let i = 0; i < historical; i++) {
          createdAt += gap;
          world.addTask(planId, {
            status: i % 50 === 7 ? 'stop' : 'finish',
            createdAt,
            finishedAt: createdAt + 60_000,
          });
        }
        for (let i = 0; i < live; i++) {
          world.addTask(planId, {
            createdAt: world.startMs,
            steps: 'random',
            randomStartMs: Math.floor(world.random() * spanMs * 0.2),
            randomGapMs: Math.max(1, Math.floor(spanMs / 6)),
          });
        }
      }
    },
  };
}

const NAMED: Record<string, Scenario> = {
  empty: emptyScenario,
  demo: demoScenario,
  sample: sampleScenario,
};

/** Names accepted by resolveScenario (plus `bench:<plans>x<tasks>`). */
export function scenarioNames(): string[] {
  return [...Object.keys(NAMED), 'bench'];
}

/** A scenario by name: a named one, `bench` (1000×1000) or `bench:<plans>x<tasks>`. */
export function resolveScenario(scenario: string | Scenario): Scenario {
  if (typeof scenario !== 'string') return scenario;
  const named = NAMED[scenario];
  if (named) return named;
  if (scenario === 'bench') return buildScenario({ plans: 1000, tasksPerPlan: 1000 });
  const match = /^bench:(\d+)x(\d+)$/.exec(scenario);
  if (match) return buildScenario({ plans: Number(match[1]), tasksPerPlan: Number(match[2]) });
  throw new Error(`unknown scenario "${scenario}"; known: ${scenarioNames().join(', ')}, bench:<plans>x<tasks>`);
}
