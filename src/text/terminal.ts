/** Text for terminals and plain-text views: untrusted text made inert, relative times. */

/**
 * Makes untrusted text (task names, API error messages) safe for a terminal:
 * control characters — ESC and friends, which could rewrite the screen — and
 * bidi overrides become spaces, runs of whitespace collapse, long text is cut.
 */
export function terminalText(text: string, max = 200): string {
  const cleaned = text
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned.length > max ? `${cleaned.slice(0, max - 1)}…` : cleaned;
}

/** "12s ago", "3m ago", "2h ago", "4d ago"; "never" when absent; "in 5s" for a clock ahead of ours. */
export function relativeTime(at: number | undefined, now: number): string {
  if (at === undefined || !Number.isFinite(at)) return 'never';
  const delta = now - at;
  if (Math.abs(delta) < 1_000) return 'just now';
  const abs = Math.abs(delta);
  const text =
    abs < 60_000
      ? `${Math.floor(abs / 1_000)}s`
      : abs < 3_600_000
        ? `${Math.floor(abs / 60_000)}m`
        : abs < 86_400_000
          ? `${Math.floor(abs / 3_600_000)}h`
          : `${Math.floor(abs / 86_400_000)}d`;
  return delta > 0 ? `${text} ago` : `in ${text}`;
}
