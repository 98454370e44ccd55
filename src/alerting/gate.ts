/**
 * The alerting gate of the notify processor: before a job is sent, drop
 * what a silence covers (recording it) and reminders whose failure has been
 * resolved. Reads Redis (runtime silences, acks, tracking state) on every
 * job, so changes apply to queued work without a reload; decisions are the
 * pure `matchSilence` and `reminderDecision`.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { discoveredPlan } from '../discovery.js';
import type { NotifyJobData } from '../jobs/payloads.js';
import { redisKeys } from '../keys.js';
import type { Notification, WatchdogNotice } from '../notify/event.js';
import { decodeTracked } from '../tracking/diff.js';
import { RedisStateStore } from '../tracking/state.js';
import { effectiveRemind, reminderDecision } from './reminders.js';
import { type SilencedRecord, SilenceStore } from './silence-store.js';
import { matchSilence, type Silence, silenceEnd } from './silences.js';

export interface Screened {
  /** To send now. */
  readonly notifications: readonly Notification[];
  readonly watchdog?: WatchdogNotice;
  /** Stopped by a silence (recorded). */
  readonly silenced: readonly SilencedRecord[];
  /** Reminder ids not sent because the failure was resolved. */
  readonly skipped: readonly string[];
  /** Stopped by a `replay: true` silence: sent when it ends. */
  readonly deferred: readonly Notification[];
  /** When the last replay silence ends (set when `deferred` is not empty). */
  readonly deferUntil?: number;
}

export interface AlertingGate {
  screen(data: NotifyJobData, now: number): Promise<Screened>;
}

export function openAlertingGate(deps: { redis: Redis; prefix: string; config: Config }): AlertingGate {
  const { redis, prefix, config } = deps;
  const silences = new SilenceStore(redis, prefix);
  const state = new RedisStateStore(redis, prefix);

  const reminderDue = async (n: Notification, channel: string): Promise<boolean> => {
    if (!n.reminder) return true;
    const plan = config.plans.find((p) => p.id === n.plan.id) ?? discoveredPlan(config, n.plan.id, n.plan.name);
    const [acked, tracked, doneAt] = await Promise.all([
      redis.exists(redisKeys(prefix).ack(n.task.taskId)),
      redis.hget(state.tasksKey(n.plan.id), n.task.taskId),
      n.task.backupSetId ? redis.get(redisKeys(prefix).backupSetDone(n.plan.id, n.task.backupSetId)) : Promise.resolve(null),
    ]);
    const decision = reminderDecision(n, {
      acknowledged: acked > 0,
      trackedSeq: tracked ? decodeTracked(tracked)?.seq : undefined,
      backupSetDoneAt: doneAt ? Number(doneAt) : undefined,
      remind: effectiveRemind(plan, config.channels[channel]),
    });
    return decision.due;
  };

  return {
    async screen(data, now) {
      const all: Silence[] = await silences.all(config, now);
      const silenced: SilencedRecord[] = [];
      const record = (s: Silence, id: string, planId: string, event: string, taskId?: string): SilencedRecord => ({
        notificationId: id,
        planId,
        event,
        channel: data.channel,
        silenceId: s.id,
        reason: s.reason,
        at: now,
        replay: s.replay,
        ...(taskId ? { taskId } : {}),
      });
      if (data.watchdog) {
        const w = data.watchdog;
        const planId = w.subject.kind === 'plan' ? w.subject.id : '';
        const s = matchSilence(all, { planId, event: w.event, channel: data.channel, at: now });
        if (s) {
          // Watchdog events are about now: never replayed, only recorded.
          const r = record(s, w.id, planId, w.event);
          await silences.recordSilenced([{ ...r, replay: false }]);
          return { notifications: [], silenced: [r], skipped: [], deferred: [] };
        }
        return { notifications: [], watchdog: w, silenced: [], skipped: [], deferred: [] };
      }
      const send: Notification[] = [];
      const skipped: string[] = [];
      const deferred: Notification[] = [];
      let deferUntil: number | undefined;
      for (const n of data.notifications) {
        const s = matchSilence(all, { planId: n.plan.id, event: n.event, channel: data.channel, at: now });
        if (s) {
          silenced.push(record(s, n.id, n.plan.id, n.event, n.task.taskId));
          if (s.replay) {
            deferred.push(n);
            deferUntil = Math.max(deferUntil ?? 0, silenceEnd(s, now));
          }
        } else if (await reminderDue(n, data.channel)) send.push(n);
        else skipped.push(n.id);
      }
      await silences.recordSilenced(silenced);
      return { notifications: send, silenced, skipped, deferred, ...(deferUntil !== undefined ? { deferUntil } : {}) };
    },
  };
}
