/**
 * How messages word download links: every renderer (Slack, email, chat, digests) goes through these, so
 * "valid until" and "no link yet" read the same everywhere.
 */
import { linkExpiresAt } from '../dbs/link-expiry.js';
import { formatTimestamp } from '../text/format.js';
import type { Notification } from './event.js';

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
