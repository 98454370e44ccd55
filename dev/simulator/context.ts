/** What the simulator's API and control handlers share: the world, the fault queue, counters and signing state. */
import type { FaultQueue } from './faults.js';
import type { NonceCache } from './signing.js';
import type { StatsRecorder } from './stats.js';
import type { SimWorld } from './world.js';
import type { SimWorld2021 } from './world2021.js';

/** What the request handlers share. */
export interface SimContext {
  world: SimWorld;
  /** Instances and advanced download tasks (API 2021-01-01). */
  world2021: SimWorld2021;
  faults: FaultQueue;
  stats: StatsRecorder;
  quirks: boolean;
  credentials: ReadonlyMap<string, string>;
  nonces: NonceCache;
  timers: Set<NodeJS.Timeout>;
  rules: SimRules;
}

/** Switchable DBS behaviours (issue 13); settable at run time with `POST /_sim/rules`. */
export interface SimRules {
  /** An unknown BackupPlanId answers `error` (Param.NotFound) or `empty` (an empty list, as DBS may). Default `error`. */
  unknownPlan: 'error' | 'empty';
  /** Task list PageSize only 30/50/100, as documented (else 1–100). Default false. */
  strictPageSize: boolean;
  /** Leave TotalPages/TotalElements out of list answers (optional in the SDK models). Default false. */
  omitTotals: boolean;
}
