/**
 * JSON output of the CLI: exactly one document on stdout, errors included,
 * with timestamps as ISO 8601 strings rather than epoch milliseconds.
 */

/** Epoch-millisecond fields (`createdAt`, `lastPollAt`, `generatedAt`, …) become ISO 8601; everything else is kept. */
export function isoTimestamps(value: unknown, key?: string): unknown {
  if (typeof value === 'number' && key !== undefined && /At$/.test(key) && Number.isFinite(value)) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? value : date.toISOString();
  }
  if (Array.isArray(value)) return value.map((item) => isoTimestamps(item));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isoTimestamps(v, k)]));
  }
  return value;
}

/** Writes one pretty JSON document (timestamps as ISO 8601) and a newline to stdout. */
export function printJson(document: unknown): void {
  process.stdout.write(`${JSON.stringify(isoTimestamps(document), null, 2)}\n`);
}
