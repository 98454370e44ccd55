/**
 * Shared human formatting for messages: sizes, timestamps, durations.
 * Pure. Times and durations take the channel's `Presentation` (IANA time
 * zone + locale); without one they read UTC and English, as before.
 */
import type { Locale } from '../config.js';

/** How one channel shows times and words. Default: UTC, en. */
export interface Presentation {
  readonly timezone: string;
  readonly locale: Locale;
}
export const DEFAULT_PRESENTATION: Presentation = { timezone: 'UTC', locale: 'en' };

import { oneLine, truncate } from './escape.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** `1288490188` → `1.2 GiB`; whole bytes below 1 KiB. */
export function formatBytes(bytes: number | undefined): string | undefined {
  if (bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return undefined;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${value} B`;
  // One decimal below 100 units reads well (1.2 GiB, 37.5 MiB); none above (512 MiB).
  const shown = value < 100 ? value.toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
  return `${shown} ${UNITS[unit]}`;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();
/** `UTC+8`, `UTC-3:30`, `UTC` for the zone's offset at `ms`. */
function utcOffset(ms: number, timezone: string): { label: string; minutes: number } {
  let format = zoneFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    zoneFormats.set(timezone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const minutes = Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
  if (minutes === 0) return { label: 'UTC', minutes };
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const label = `UTC${sign}${Math.floor(abs / 60)}${abs % 60 ? `:${String(abs % 60).padStart(2, '0')}` : ''}`;
  return { label, minutes };
}

/**
 * Epoch ms → `2024-05-01 12:34:56 UTC`, or in the channel's zone `2024-05-01 20:34:56 UTC+8`.
 * The numeric form reads the same in every locale; the offset is always shown so a forwarded message is unambiguous.
 */
export function formatTimestamp(ms: number | undefined, presentation: Presentation = DEFAULT_PRESENTATION): string | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return undefined;
  const { label, minutes } = utcOffset(ms, presentation.timezone);
  const local = new Date(date.getTime() + minutes * 60_000);
  return `${local.toISOString().slice(0, 19).replace('T', ' ')} ${label}`;
}

const DURATION_UNITS: Readonly<Record<Locale, readonly [string, string, string, string]>> = {
  en: ['d', 'h', 'm', 's'],
  'zh-CN': ['天', '小时', '分', '秒'],
};

/** Milliseconds → `1h 2m 3s` / `1小时 2分 3秒` (`0s` for under a second; negative → undefined). */
export function formatDuration(ms: number | undefined, presentation: Presentation = DEFAULT_PRESENTATION): string | undefined {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return undefined;
  let seconds = Math.round(ms / 1000);
  const days = Math.floor(seconds / 86_400);
  seconds -= days * 86_400;
  const hours = Math.floor(seconds / 3_600);
  seconds -= hours * 3_600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const [d, h, m, s] = DURATION_UNITS[presentation.locale];
  const parts: string[] = [];
  if (days) parts.push(`${days}${d}`);
  if (hours) parts.push(`${hours}${h}`);
  if (minutes) parts.push(`${minutes}${m}`);
  if (seconds || parts.length === 0) parts.push(`${seconds}${s}`);
  return parts.join(' ');
}

/** Duration of a task (finished − created), when both are known. */
export function taskDuration(
  createdAt: number | undefined,
  finishedAt: number | undefined,
  presentation: Presentation = DEFAULT_PRESENTATION,
): string | undefined {
  if (createdAt === undefined || finishedAt === undefined) return undefined;
  return formatDuration(finishedAt - createdAt, presentation);
}

/** A status as a short, inert word (statuses come from the API too). */
export function statusWord(status: string): string {
  return truncate(oneLine(status).replace(/[^A-Za-z0-9_ -]/g, ''), 40) || 'unknown';
}
