/**
 * The DBS API simulator: a loopback HTTP server speaking the real wire
 * format of DescribeBackupSetDownloadTaskList / DescribeBackupPlanList
 * (signatures verified), backed by an in-memory world with a task state
 * machine, scripted or seeded-random timelines, fault injection, stats and a
 * control API under `/_sim/`. Used by the demo, the tests and the benchmark.
 */
export {
  DBS_API_VERSION,
  DEFAULT_SIM_CREDENTIAL,
  DEFAULT_SIM_RULES,
  type SimRules,
  PLAN_LIST_ACTION,
  type RunningSimulator,
  type SimCredential,
  type SimulatorOptions,
  startSimulator,
  TASK_LIST_ACTION,
} from './server.js';
export {
  ALLOWED_TRANSITIONS,
  isAllowedTransition,
  mulberry32,
  type SimEvent,
  type SimPlan,
  type SimStep,
  type SimTask,
  type SimTaskInput,
  SimWorld,
  type SimWorldOptions,
  SIM_URL_LIFETIME_S,
  TERMINAL_STATUSES,
  toPlainTask,
  type UrlSignature,
} from './world.js';
export { FAULT_KINDS, type FaultKind, type FaultSpec } from './faults.js';
export type { SimStats } from './stats.js';
export {
  buildScenario,
  type BuildScenarioOptions,
  DEMO_PLANS,
  planIdFor,
  resolveScenario,
  SAMPLE_PLAN_ID,
  type Scenario,
  scenarioNames,
} from './scenarios.js';
export { taskToWire } from './wire.js';
export * as signing from './signing.js';
export { SimWorld2021, type SimAdvancedTask, type SimAdvancedEvent, type SimInstance, RESULT_LIFETIME_MS } from './world2021.js';
export { ADVANCED_ACTIONS, DBS_2021_VERSION, advancedTaskToWire } from './wire2021.js';
