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
}
