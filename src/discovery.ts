/** What a plan found by discovery (`DescribeBackupPlanList`) is watched with. */
import type { Config, PlanConfig } from './config.js';

/** The plan settings that discovered plans get. */
export function discoveredPlan(config: Config, id: string, name: string | undefined): PlanConfig {
  return {
    id,
    name: name || id,
    intervalMs: config.defaults.interval,
    notify: config.discover.notify ?? config.defaults.notify,
    events: config.discover.events ?? config.defaults.events,
    discovered: true,
  };
}
