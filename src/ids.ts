/**
 * Ids that cannot collide. Job ids, Job Scheduler ids and delivery-marker keys
 * are built from API-controlled strings (plan ids, task ids, statuses), so two
 * different tuples must never produce the same id — a collision silently drops
 * the second notification (BullMQ ignores an add whose id exists) or merges two
 * plans' schedules.
 *
 * The encoding is injective:
 * - a part keeps `A–Z a–z 0–9 _ - ! * ' ( )` as they are and writes every other
 *   UTF-8 byte as `~XX` (upper-case hex) — so `.` (the part separator), `~` (the
 *   escape) and `:` (BullMQ's key separator) never appear raw, and decoding is
 *   unambiguous;
 * - parts are joined with `.`, which no encoded part contains;
 * - a part whose encoding is longer than `MAX_ENCODED_PART` becomes `~H` + the
 *   SHA-256 of the raw value (`H` is not a hex digit, so this cannot be read as
 *   an escape): ids stay bounded, and distinct values stay distinct;
 * - a value from a non-plan source (issue 19's instances, …) is tagged with
 *   `sourcePart(kind, value)` = `~N<kind>-<encoded value>` (`N` is not a hex
 *   digit either), so it can never equal any plan's part.
 *
 * Compatibility: up to here ids were `encodeURIComponent` with `%` → `~`. For
 * every value without `.` or `~` (every real DBS plan and task id) the encoding
 * is byte-for-byte the same, so existing job ids, delivered markers and
 * schedulers keep deduplicating across the upgrade. Only values holding `.` or
 * `~` — exactly the ambiguous ones — are encoded differently (see
 * RELIABILITY.md, "Ids").
 */
import { createHash } from 'node:crypto';

/** Longest encoded part kept readable; longer ones are hashed. */
export const MAX_ENCODED_PART = 200;

/** Characters written as they are (the old encoding's unreserved set minus `.` and `~`). */
const PLAIN = /^[A-Za-z0-9_\-!*'()]$/;

function escapeBytes(char: string): string {
  let out = '';
  for (const byte of Buffer.from(char, 'utf8')) out += `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** Encodes one id component injectively (never contains `.` or `:`; `~` only as an escape). */
export function idPart(value: string | number): string {
  const raw = String(value);
  let out = '';
  // for…of walks code points: a lone surrogate is written as U+FFFD's bytes by Buffer, so hash those instead.
  for (const char of raw) out += PLAIN.test(char) ? char : escapeBytes(char);
  if (out.length > MAX_ENCODED_PART || hasLoneSurrogate(raw)) {
    return `~H${createHash('sha256').update(raw, 'utf16le').digest('hex')}`;
  }
  return out;
}

function hasLoneSurrogate(value: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);
}

/** Inverse of `idPart` for parts that were not hashed; undefined for a hashed or malformed part. */
export function decodeIdPart(part: string): string | undefined {
  if (part.startsWith('~H') || part.startsWith('~N')) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < part.length; ) {
    const char = part[i] as string;
    if (char === '~') {
      const hex = part.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
    } else if (PLAIN.test(char)) {
      bytes.push(char.charCodeAt(0));
      i += 1;
    } else return undefined;
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Source kinds other than DBS backup plans (whose parts stay untagged for compatibility). */
const SOURCE_KIND = /^[a-z]{1,32}$/;

/**
 * The id part of a watched source. Kind `plan` keeps the plain encoding (existing
 * ids); any other kind is tagged, so an instance `x` never shares ids with a plan `x`.
 */
export function sourcePart(kind: string, value: string): string {
  if (kind === 'plan') return idPart(value);
  if (!SOURCE_KIND.test(kind)) throw new Error(`id source kind must be 1–32 lower-case letters (got ${JSON.stringify(kind)})`);
  return `~N${kind}-${idPart(value)}`;
}

/** Joins encoded parts into one id. Each part must come from `idPart`/`sourcePart` (or be a fixed literal of plain characters). */
export function joinId(...parts: readonly string[]): string {
  return parts.join('.');
}

/** Encodes and joins raw values: `encodeId('a.b', 'c')` → `a~2Eb.c`. */
export function encodeId(...values: readonly (string | number)[]): string {
  return joinId(...values.map(idPart));
}
