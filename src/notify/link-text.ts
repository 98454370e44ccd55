/**
 * How messages word download links: every renderer (Slack, email, chat, digests) goes through these, so
 * "valid until" and "no link yet" read the same everywhere, in the channel's language and time zone.
 */
import { linkExpiresAt } from '../dbs/link-expiry.js';
import { DEFAULT_PRESENTATION, formatTimestamp, type Presentation } from '../text/format.js';
import type { Notification } from './event.js';
import { type Messages, messagesFor } from './i18n.js';

/** `valid until 2025-12-01 12:00:00 UTC` for a pre-signed URL that carries its expiry; undefined otherwise. */
export function linkValidity(url: string | undefined, m: Messages = messagesFor('en'), p: Presentation = DEFAULT_PRESENTATION): string | undefined {
  const at = formatTimestamp(linkExpiresAt(url), p);
  return at ? m.validUntil(at) : undefined;
}

/** Said instead of a link whose pre-signed lifetime ended before the message went out (and DBS gave no fresh one). */
export function expiredLinkNote(expiredAt: number, m: Messages = messagesFor('en'), p: Presentation = DEFAULT_PRESENTATION): string {
  return m.linkExpired(formatTimestamp(expiredAt, p) ?? m.unknown);
}

/**
 * What to say in place of links for a finished manual download that has none to show, or undefined
 * when there are links (or the notification is not about a finished manual download).
 */
export function missingLinkNote(n: Notification, m: Messages = messagesFor('en'), p: Presentation = DEFAULT_PRESENTATION): string | undefined {
  if (n.event !== 'finished' || n.task.downloadWay === 'auto') return undefined;
  if (n.task.internetUrl || n.task.intranetUrl) return undefined;
  if (n.linksExpiredAt !== undefined) return expiredLinkNote(n.linksExpiredAt, m, p);
  return n.task.downloadWay === 'manual' ? m.noLinkYet : undefined;
}

/** The English "no link yet" sentence (tests and tools look for it). */
export const NO_LINK_YET = messagesFor('en').noLinkYet;
