/**
 * Shared human formatting for messages: sizes, timestamps, durations.
 * Pure; UTC everywhere so a message reads the same in every office.
 */

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

/** Epoch ms → `2024-05-01 12:34:56 UTC`. */
export function formatTimestamp(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return undefined;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Milliseconds → `1h 2m 3s` (`0s` for under a second; negative → undefined). */
export function formatDuration(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return undefined;
  let seconds = Math.round(ms / 1000);
  const days = Math.floor(seconds / 86_400);
  seconds -= days * 86_400;
  const hours = Math.floor(seconds / 3_600);
  seconds -= hours * 3_600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const parts: string[] = [];
  if (days) parts.push(`${days}d`);
  if (hours) parts.push(`${hours}h`);
  if (minutes) parts.push(`${minutes}m`);
  if (seconds || parts.length === 0) parts.push(`${seconds}s`);
  return parts.join(' ');
}

/** Duration of a task (finished − created), when both are known. */
export function taskDuration(createdAt: number | undefined, finishedAt: number | undefined): string | undefined {
  if (createdAt === undefined || finishedAt === undefined) return undefined;
  return formatDuration(finishedAt - createdAt);
}

/** A status as a short, inert word (statuses come from the API too). */
export function statusWord(status: string): string {
  return truncate(oneLine(status).replace(/[^A-Za-z0-9_ -]/g, ''), 40) || 'unknown';
}
