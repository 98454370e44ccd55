/** The scripted 50-task, 3-plan timeline shared by the tracking tests. */
import type { RunningSimulator } from '../../dev/simulator/index.js';
import type { ScriptedTask } from './pipeline.js';

const U = undefined;
/** Status per round (r0 = baseline). */
const TEMPLATES: (string | undefined)[][] = [
  ['finish', 'finish', 'finish', 'finish', 'finish', 'finish'],
  ['checking', 'check_pass', 'schedule', 'running', 'finish', 'finish'],
  ['checking', 'init', 'init', 'init', 'init', 'init'],
  ['running', 'stop', 'running', 'finish', 'finish', 'finish'],
  [U, U, 'finish', 'finish', 'finish', 'finish'],
  [U, 'checking', 'running', 'stop', 'stop', 'stop'],
  ['running', 'pause', 'running', 'running', 'finish', 'finish'],
  ['stop', 'stop', 'stop', 'stop', 'stop', 'stop'],
  [U, U, U, 'stop', 'stop', 'stop'],
  ['schedule', 'running', 'running', 'running', 'running', 'finish'],
];
export const PLANS: Record<string, number> = { planalpha01: 20, planbeta002: 15, plangamma03: 15 };
export const ROUNDS = 6;

export function script(): ScriptedTask[] {
  const tasks: ScriptedTask[] = [];
  let n = 0;
  for (const [planId, count] of Object.entries(PLANS)) {
    for (let i = 0; i < count; i++, n++) {
      const rounds = TEMPLATES[n % TEMPLATES.length] as (string | undefined)[];
      tasks.push({ planId, taskId: `task${String(n).padStart(4, '0')}`, rounds });
    }
  }
  return tasks;
}

export function applyRound(sim: RunningSimulator, tasks: readonly ScriptedTask[], round: number): void {
  for (const task of tasks) {
    const status = task.rounds[round];
    const before = round > 0 ? task.rounds[round - 1] : undefined;
    if (status === undefined) continue;
    if (before === undefined) sim.world.addTask(task.planId, { taskId: task.taskId, status, name: `name of ${task.taskId}` });
    else if (before !== status) sim.world.setStatus(task.taskId, status);
  }
}
