/**
 * The status page's "finished vs failed per hour" chart: bucketing of
 * history entries and an inline SVG, both pure (no clock, no Redis) so a
 * known series has a known picture. Inline SVG needs no script and no
 * external asset, and its presentation attributes are not inline styles, so
 * the page's Content-Security-Policy can forbid those.
 */
import { type Html, html } from './html.js';

/** One hour of the chart; `start` is the bucket's first millisecond. */
export interface HourBucket {
  readonly start: number;
  readonly finished: number;
  readonly failed: number;
}

/** The chart's window: 24 hourly buckets ending with the current hour. */
export const CHART_HOURS = 24;
const HOUR = 3_600_000;

/**
 * Counts finished and failed transitions per clock hour over the last 24
 * hours, oldest bucket first; the last bucket is the (partial) current hour.
 * Entries outside the window and other events are ignored.
 */
export function hourlyBuckets(entries: readonly { readonly at: number; readonly event: string }[], now: number, hours = CHART_HOURS): HourBucket[] {
  const currentHour = Math.floor(now / HOUR) * HOUR;
  const first = currentHour - (hours - 1) * HOUR;
  const buckets = Array.from({ length: hours }, (_, i) => ({ start: first + i * HOUR, finished: 0, failed: 0 }));
  for (const entry of entries) {
    if (entry.event !== 'finished' && entry.event !== 'failed') continue;
    const index = Math.floor((entry.at - first) / HOUR);
    const bucket = buckets[index];
    if (!bucket || entry.at > now) continue;
    bucket[entry.event] += 1;
  }
  return buckets;
}

/** Chart geometry (viewBox units; the SVG scales to its container). */
export const CHART = { width: 720, height: 160, left: 28, bottom: 18, top: 8 } as const;

const two = (n: number) => String(n).padStart(2, '0');

/** `HH:00` of a bucket in UTC: the page states its times in UTC so every reader sees the same axis. */
function hourLabel(start: number): string {
  return `${two(new Date(start).getUTCHours())}:00`;
}

/**
 * Two bars per hour (finished, failed) on a shared axis scaled to the
 * busiest hour. Every bar has a `<title>` (a tooltip and a text alternative);
 * the whole chart carries a summary for screen readers.
 */
export function renderChart(buckets: readonly HourBucket[]): Html {
  const { width, height, left, bottom, top } = CHART;
  const plotHeight = height - bottom - top;
  const max = Math.max(1, ...buckets.map((b) => Math.max(b.finished, b.failed)));
  const slot = (width - left) / Math.max(1, buckets.length);
  const bar = Math.max(1, Math.floor((slot - 2) / 2));
  const y = (n: number) => top + plotHeight - Math.round((n / max) * plotHeight);
  const totalFinished = buckets.reduce((sum, b) => sum + b.finished, 0);
  const totalFailed = buckets.reduce((sum, b) => sum + b.failed, 0);

  const hours = buckets.map((b, i) => {
    const x = left + i * slot + 1;
    const label = `${hourLabel(b.start)} UTC: ${b.finished} finished, ${b.failed} failed`;
    const finished =
      b.finished > 0 && html`<rect class="finished" x="${x.toFixed(1)}" y="${y(b.finished)}" width="${bar}" height="${top + plotHeight - y(b.finished)}"/>`;
    const failed =
      b.failed > 0 && html`<rect class="failed" x="${(x + bar).toFixed(1)}" y="${y(b.failed)}" width="${bar}" height="${top + plotHeight - y(b.failed)}"/>`;
    // Every sixth hour gets a label; more would collide at this width.
    const tick =
      (i % 6 === 0 || i === buckets.length - 1) &&
      html`<text class="tick" x="${(x + bar).toFixed(1)}" y="${height - 4}" text-anchor="middle">${hourLabel(b.start)}</text>`;
    return html`<g class="hour"><title>${label}</title>${finished}${failed}</g>${tick}`;
  });
  // Axis: the baseline and the top value, so bar heights can be read.
  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="Finished and failed downloads per hour over the last ${buckets.length} hours: ${totalFinished} finished, ${totalFailed} failed" xmlns="http://www.w3.org/2000/svg"><line class="axis" x1="${left}" y1="${top + plotHeight}" x2="${width}" y2="${top + plotHeight}"/><text class="tick" x="${left - 4}" y="${top + 8}" text-anchor="end">${max}</text><text class="tick" x="${left - 4}" y="${top + plotHeight}" text-anchor="end">0</text>${hours}</svg>`;
}
