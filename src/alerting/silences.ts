/**
 * Silences, pure: does a silence cover this (plan, event, channel) at this
 * instant, and when does it end? Config silences and runtime silences (Redis,
 * `dbswatch silence add`) share this one shape. No Redis, no clock.
 */
import type { SilenceConfig } from '../config.js';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** A silence as matching sees it. Unset lists mean "every". */
export interface Silence {
  /** `config-<index>` for config silences, a random id for runtime ones. */
  readonly id: string;
  readonly source: 'config' | 'runtime';
  /** Plan id globs (`*` matches any run of characters). Default: every plan. */
  readonly plans?: readonly string[];
  readonly events?: readonly string[];
  readonly channels?: readonly string[];
  /** Epoch ms; default: always started. */
  readonly from?: number;
  /** Epoch ms; default: no end (then `weekly` bounds it). */
  readonly until?: number;
  readonly weekly?: { readonly days: readonly Weekday[]; readonly start: string; readonly end: string; readonly timezone: string };
  readonly reason: string;
  /** Send what was silenced once the silence ends. Default: false. */
  readonly replay: boolean;
  /** Who added a runtime silence (free text). */
  readonly createdBy?: string;
  readonly createdAt?: number;
}

/** What a notification offers to be matched. Watchdog events about a channel use `planId: ''`. */
export interface SilenceCandidate {
  readonly planId: string;
  readonly event: string;
  readonly channel: string;
  readonly at: number;
}

/** `*` matches any run of characters (including none); everything else is literal. */
export function globMatch(glob: string, value: string): boolean {
  const pattern = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`).test(value);
}

const DAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const formats = new Map<string, Intl.DateTimeFormat>();

/** Weekday and minute of the day of `at` in `timezone`. */
export function localWeekMinute(at: number, timezone: string): { day: Weekday; minute: number } {
  let format = formats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timezone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
  const day = String(parts.weekday).slice(0, 3).toLowerCase() as Weekday;
  return { day, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

const toMinute = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * True when `at` falls in the weekly window. A window whose end is not after its start runs past
 * midnight (`22:00`–`06:00`): its listed day is the day it starts.
 */
export function inWeeklyWindow(weekly: NonNullable<Silence['weekly']>, at: number): boolean {
  const { day, minute } = localWeekMinute(at, weekly.timezone);
  const start = toMinute(weekly.start);
  const end = toMinute(weekly.end);
  if (start < end) return weekly.days.includes(day) && minute >= start && minute < end;
  const yesterday = DAYS[(DAYS.indexOf(day) + 6) % 7] as Weekday;
  return (weekly.days.includes(day) && minute >= start) || (weekly.days.includes(yesterday) && minute < end);
}

/** True when the silence is in force at `at` (time only). */
export function silenceActive(silence: Silence, at: number): boolean {
  if (silence.from !== undefined && at < silence.from) return false;
  if (silence.until !== undefined && at >= silence.until) return false;
  if (silence.weekly && !inWeeklyWindow(silence.weekly, at)) return false;
  return true;
}

/** True when the silence has ended for good (runtime silences past `until` can be dropped). */
export function silenceExpired(silence: Silence, at: number): boolean {
  return silence.until !== undefined && at >= silence.until;
}

/** The first silence covering the candidate, or undefined. */
export function matchSilence(silences: readonly Silence[], c: SilenceCandidate): Silence | undefined {
  return silences.find(
    (s) =>
      silenceActive(s, c.at) &&
      (!s.plans || s.plans.some((glob) => globMatch(glob, c.planId))) &&
      (!s.events || s.events.includes(c.event)) &&
      (!s.channels || s.channels.includes(c.channel)),
  );
}

/** When an active silence stops covering `at` (for replay); minute steps through a weekly window, at most 8 days. */
export function silenceEnd(silence: Silence, at: number): number {
  if (!silence.weekly) return silence.until ?? at;
  let t = at - (at % 60_000) + 60_000;
  const limit = at + 8 * 86_400_000;
  while (t < limit && silenceActive(silence, t)) t += 60_000;
  return Math.min(t, silence.until ?? t);
}

/** Config silences as `Silence`s (ids by position, stable across reloads of the same file). */
export function configSilences(list: readonly SilenceConfig[]): Silence[] {
  return list.map((s, i) => ({
    id: `config-${i + 1}`,
    source: 'config',
    reason: s.reason,
    replay: s.replay,
    ...(s.plans ? { plans: s.plans } : {}),
    ...(s.events ? { events: s.events } : {}),
    ...(s.channels ? { channels: s.channels } : {}),
    ...(s.from !== undefined ? { from: s.from } : {}),
    ...(s.until !== undefined ? { until: s.until } : {}),
    ...(s.weekly ? { weekly: s.weekly } : {}),
  }));
}
