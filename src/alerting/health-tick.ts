/**
 * A periodic tick in every role process: refreshes the per-plan gauges from
 * the shared tracking meta (so any process's /metrics tells the whole
 * deployment's truth, not only the polls it ran itself) and, in scheduler
 * roles, lets the watchdog notice plans whose polls have stopped
 * (`plan-stale` cannot be observed from a poll that never runs).
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { planLastSuccess, planUp } from '../metrics.js';
import { trackedPlans } from '../scheduler.js';
import { RedisStateStore } from '../tracking/state.js';
import type { WatchdogRunner } from './watchdog-runner.js';

/** Default tick: every 15 s (a stale plan is noticed within a quarter-minute of its threshold). */
export const HEALTH_TICK_MS = 15_000;

export interface HealthTickDeps {
  readonly redis: Redis;
  readonly prefix: string;
  readonly config: () => Config;
  readonly log: Logger;
  /** Present in scheduler roles only: the stale check. */
  readonly watchdog?: WatchdogRunner;
  readonly everyMs?: number;
}

export async function healthTickOnce(deps: HealthTickDeps): Promise<void> {
  const config = deps.config();
  const plans = await trackedPlans(config, deps.redis);
  const metas = await new RedisStateStore(deps.redis, deps.prefix).meta(plans.map((p) => p.id));
  for (const meta of metas) {
    if (meta.lastSuccessAt !== undefined) planLastSuccess.set({ plan: meta.planId }, Math.floor(meta.lastSuccessAt / 1000));
    if (meta.lastPollAt !== undefined) planUp.set({ plan: meta.planId }, meta.lastError === undefined ? 1 : 0);
  }
  if (deps.watchdog) {
    await deps.watchdog.tick(plans.map((p, i) => ({ id: p.id, name: p.name, intervalMs: p.intervalMs, lastSuccessAt: metas[i]?.lastSuccessAt })));
  }
}

/** Starts the tick; returns its stop function. Errors (Redis down) are logged at debug and retried next tick. */
export function startHealthTick(deps: HealthTickDeps): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running || deps.redis.status !== 'ready') return;
    running = true;
    healthTickOnce(deps)
      .catch((error: unknown) => deps.log.debug({ err: error }, 'health tick failed; retrying next tick'))
      .finally(() => {
        running = false;
      });
  }, deps.everyMs ?? HEALTH_TICK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
