/**
 * The DBS API simulator: a loopback HTTP server speaking the real wire
 * format of DescribeBackupSetDownloadTaskList / DescribeBackupPlanList
 * (signatures verified), backed by an in-memory world with a task state
 * machine, scripted or seeded-random timelines, fault injection, stats and a
 * control API under `/_sim/`. Used by the demo, the tests and the benchmark.
 */

export { FAULT_KINDS, type FaultKind, type FaultSpec } from './faults.js';
export {
  type BuildScenarioOptions,
  buildScenario,
  DEMO_PLANS,
  planIdFor,
  resolveScenario,
  SAMPLE_PLAN_ID,
  type Scenario,
  scenarioNames,
} from './scenarios.js';
export {
  DBS_API_VERSION,
  DEFAULT_SIM_CREDENTIAL,
  DEFAULT_SIM_RULES,
  PLAN_LIST_ACTION,
  type RunningSimulator,
  type SimCredential,
  type SimRules,
  type SimulatorOptions,
  startSimulator,
  TASK_LIST_ACTION,
} from './server.js';
export * as signing from './signing.js';
export type { SimStats } from './stats.js';
export { taskToWire } from './wire.js';
export { ADVANCED_ACTIONS, advancedTaskToWire, DBS_2021_VERSION } from './wire2021.js';
export {
  ALLOWED_TRANSITIONS,
  isAllowedTransition,
  mulberry32,
  SIM_URL_LIFETIME_S,
  type SimEvent,
  type SimPlan,
  type SimStep,
  type SimTask,
  type SimTaskInput,
  SimWorld,
  type SimWorldOptions,
  TERMINAL_STATUSES,
  toPlainTask,
  type UrlSignature,
} from './world.js';
export { RESULT_LIFETIME_MS, type SimAdvancedEvent, type SimAdvancedTask, type SimInstance, SimWorld2021 } from './world2021.js';
