/**
 * The watchdog's thin edge: keeps each subject's `WatchState` in Redis,
 * applies observations with a compare-and-set (several workers observe the
 * same plan), and enqueues one notify job per `watchdog.notify` channel when
 * the state changes. Job ids carry the state-change sequence, so two
 * processes that raced to the same change enqueue one job, and the delivery
 * guard sends it once.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { NotifyJobData } from '../jobs/payloads.js';
import { redisKeys } from '../keys.js';
import type { Logger } from '../logger.js';
import { idPart, type WatchdogNotice } from '../notify/event.js';
import { notifyJobOptions } from '../queues.js';
import { initialState, type Observation, type SubjectKind, step, type WatchState } from './watchdog.js';

export interface WatchdogDeps {
  readonly redis: Redis;
  readonly prefix: string;
  readonly config: () => Config;
  readonly notifyQueue: Queue<NotifyJobData>;
  readonly log: Logger;
  readonly now?: () => number;
}

const CAS_ROUNDS = 5;
/** A healthy subject's success is recorded at most this often. */
const QUIET_WRITE_MS = 60_000;
/** Longest error text carried into a watchdog message. */
const ERROR_MAX = 500;

export class WatchdogRunner {
  constructor(private readonly deps: WatchdogDeps) {}

  /** A poll of a plan succeeded or failed. Never throws: self-monitoring must not break the poll. */
  async observePlan(plan: { id: string; name: string }, obs: Observation): Promise<void> {
    await this.observe('plan', plan.id, plan.name, obs);
  }

  /** A delivery to a channel succeeded, or failed permanently. */
  async observeChannel(channel: string, obs: Observation): Promise<void> {
    await this.observe('channel', channel, channel, obs);
  }

  /** Stale check for every plan, given each plan's last successful poll (from the tracking meta). */
  async tick(plans: readonly { id: string; name: string; intervalMs: number; lastSuccessAt?: number | undefined }[]): Promise<void> {
    const config = this.deps.config();
    const at = (this.deps.now ?? Date.now)();
    for (const plan of plans) {
      await this.observe('plan', plan.id, plan.name, {
        kind: 'tick',
        at,
        staleAfterMs: plan.intervalMs * config.watchdog.staleAfterIntervals,
        ...(plan.lastSuccessAt !== undefined ? { lastSuccessAt: plan.lastSuccessAt } : {}),
      });
    }
  }

  async state(kind: SubjectKind, id: string): Promise<WatchState | undefined> {
    const raw = await this.deps.redis.get(redisKeys(this.deps.prefix).watchdog(kind, id));
    return raw ? (JSON.parse(raw) as WatchState) : undefined;
  }

  private async observe(kind: SubjectKind, id: string, name: string, obs: Observation): Promise<void> {
    try {
      await this.apply(kind, id, name, obs);
    } catch (error) {
      this.deps.log.warn({ err: error, kind, id }, 'watchdog could not record an observation');
    }
  }

  private async apply(kind: SubjectKind, id: string, name: string, obs: Observation): Promise<void> {
    const key = redisKeys(this.deps.prefix).watchdog(kind, id);
    const config = this.deps.config();
    const options = { failingAfter: config.watchdog.failingAfter, recoverAfter: config.watchdog.recoverAfter };
    // A dedicated connection would be needed for WATCH on a shared one; a Lua-free CAS on the value itself
    // (compare the JSON we read) keeps the shared connection usable.
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const raw = await this.deps.redis.get(key);
      const current = raw ? (JSON.parse(raw) as WatchState) : initialState(obs.at);
      // The common case — another success of a healthy subject — writes at most once a minute (every delivery
      // observes its channel; a write each time would double the Redis work of a busy channel).
      if (obs.kind === 'success' && raw && current.health === 'ok' && current.failures === 0 && obs.at - (current.lastSuccessAt ?? 0) < QUIET_WRITE_MS) return;
      const next = step(kind, current, obs, options);
      const json = JSON.stringify(next.state);
      if (json === raw) return;
      const swapped = await this.deps.redis.eval(
        "if (redis.call('GET', KEYS[1]) or '') == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0",
        1,
        key,
        raw ?? '',
        json,
      );
      if (Number(swapped) !== 1) continue;
      if (next.event) await this.announce(kind, id, name, next.event, next.state);
      return;
    }
    this.deps.log.debug({ kind, id }, 'watchdog state kept changing; observation dropped');
  }

  private async announce(kind: SubjectKind, id: string, name: string, event: WatchdogNotice['event'], state: WatchState): Promise<void> {
    const config = this.deps.config();
    const at = (this.deps.now ?? Date.now)();
    // A failing channel is not told about its own failure (it would fail again, and loop).
    const targets = config.watchdog.notify.filter((channel) => !(kind === 'channel' && channel === id));
    const problem = event !== 'plan-recovered' && event !== 'notifications-recovered';
    this.deps.log[problem ? 'warn' : 'info']({ kind, id, event, error: state.lastError }, `watchdog: ${event} (${name})`);
    if (targets.length === 0) return;
    const jobs = targets.map((channel) => {
      const notice: WatchdogNotice = {
        id: ['watchdog', kind, idPart(id), `${state.seq}-${event}`, idPart(channel)].join('.'),
        event,
        subject: { kind, id, name },
        at,
        ...(problem && state.lastError ? { error: state.lastError.slice(0, ERROR_MAX) } : {}),
        ...(problem && state.failures ? { failures: state.failures } : {}),
        ...(state.lastSuccessAt !== undefined ? { lastSuccessAt: state.lastSuccessAt } : {}),
      };
      return { name: 'notify', data: { v: 1 as const, channel, notifications: [], watchdog: notice }, opts: notifyJobOptions(config, notice.id) };
    });
    await this.deps.notifyQueue.addBulk(jobs);
  }
}
