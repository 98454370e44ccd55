/**
 * Shared human formatting for messages: sizes, timestamps, durations.
 * Pure; UTC everywhere so a message reads the same in every office.
 */
import { linkExpiresAt } from '../dbs/link-expiry.js';
import type { Notification } from './event.js';

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

// ---------------------------------------------------------------------------
// Download links: every renderer (Slack, email, digests, future channels) words them through these,
// so "valid until" and "no link yet" read the same everywhere and a timezone/locale change is one edit.

/** Said instead of a link when a finished manual download has no URL (DBS had not filled it in). */
export const NO_LINK_YET = 'DBS gave no link yet: get the download from the DBS console';

/** `valid until 2025-12-01 12:00:00 UTC` for a pre-signed URL that carries its expiry; undefined otherwise. */
export function linkValidity(url: string | undefined): string | undefined {
  const at = formatTimestamp(linkExpiresAt(url));
  return at ? `valid until ${at}` : undefined;
}

/** Said instead of a link whose pre-signed lifetime ended before the message went out (and DBS gave no fresh one). */
export function expiredLinkNote(expiredAt: number): string {
  return `the download link expired at ${formatTimestamp(expiredAt) ?? 'an unknown time'} and DBS gave no fresh one: get the download from the DBS console`;
}

/**
 * What to say in place of links for a finished manual download that has none to show, or undefined
 * when there are links (or the notification is not about a finished manual download).
 */
export function missingLinkNote(n: Notification): string | undefined {
  if (n.event !== 'finished' || n.task.downloadWay === 'auto') return undefined;
  if (n.task.internetUrl || n.task.intranetUrl) return undefined;
  if (n.linksExpiredAt !== undefined) return expiredLinkNote(n.linksExpiredAt);
  return n.task.downloadWay === 'manual' ? NO_LINK_YET : undefined;
}
