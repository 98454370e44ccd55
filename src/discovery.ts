/** What a plan found by discovery (`DescribeBackupPlanList`) is watched with. */
import { type Config, DEFAULT_ACCOUNT, type PlanConfig } from './config.js';

/** The plan settings that discovered plans get. */
export function discoveredPlan(config: Config, id: string, name: string | undefined, account?: string): PlanConfig {
  return {
    id,
    name: name || id,
    intervalMs: config.defaults.interval,
    notify: config.discover.notify ?? config.defaults.notify,
    events: config.discover.events ?? config.defaults.events,
    discovered: true,
    ...(config.defaults.remind ? { remind: config.defaults.remind } : {}),
    ...(account && account !== DEFAULT_ACCOUNT ? { account } : {}),
  };
}
