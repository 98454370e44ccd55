/**
 * When a pre-signed OSS download URL stops working, read from the URL itself
 * (pure). DBS hands out OSS pre-signed URLs; OSS documents two query shapes:
 * - V1 (`OSSAccessKeyId`, `Signature`): `Expires=<epoch seconds>`;
 * - V4 (`x-oss-signature-version=OSS4-HMAC-SHA256`): `x-oss-date=<YYYYMMDDTHHMMSSZ>` plus
 *   `x-oss-expires=<seconds>` (lifetime from that date).
 * Anything else (no query, garbage values) gives undefined: dbswatch then says nothing about expiry
 * rather than guessing. Only the expiry is read; the URL is never logged.
 */

/** Epoch ms at which a pre-signed OSS URL expires, or undefined when the URL does not say. */
export function linkExpiresAt(url: string | undefined): number | undefined {
  if (!url) return undefined;
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const end = url.indexOf('#', q);
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(url.slice(q + 1, end < 0 ? undefined : end));
  } catch {
    return undefined;
  }
  // Parameter names are case-insensitive in practice (OSS accepts `x-oss-date` and `X-Oss-Date`).
  const get = (name: string): string | undefined => {
    for (const [key, value] of params) if (key.toLowerCase() === name) return value;
    return undefined;
  };

  const v4Date = get('x-oss-date');
  const v4Expires = get('x-oss-expires');
  if (v4Date !== undefined && v4Expires !== undefined) {
    const signedAt = parseOssDate(v4Date);
    const seconds = wholeNumber(v4Expires);
    if (signedAt === undefined || seconds === undefined) return undefined;
    return signedAt + seconds * 1000;
  }

  const v1 = get('expires');
  if (v1 !== undefined) {
    const seconds = wholeNumber(v1);
    // Below 1e9 s (2001) is no pre-signed expiry; above 1e11 s it would be year 5138 — both garbage.
    if (seconds === undefined || seconds < 1e9 || seconds > 1e11) return undefined;
    return seconds * 1000;
  }
  return undefined;
}

/** `20231203T121212Z` (ISO 8601 basic, UTC) → epoch ms. */
function parseOssDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls over out-of-range parts (month 13): reject those instead of inventing a date.
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h) return undefined;
  return ms;
}

function wholeNumber(value: string): number | undefined {
  const trimmed = value.trim();
  if (!/^\d{1,12}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}
