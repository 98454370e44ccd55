/**
 * The chart's pure parts: hourly bucketing of history entries and the SVG
 * for a known series.
 */
import { describe, expect, it } from 'vitest';
import { CHART, hourlyBuckets, renderChart } from '../../src/web/chart.js';

const HOUR = 3_600_000;
// 2024-05-01 12:30:00 UTC: the current bucket is 12:00, the first 13:00 the day before.
const NOW = Date.UTC(2024, 4, 1, 12, 30);
const THIS_HOUR = Date.UTC(2024, 4, 1, 12, 0);

describe('hourlyBuckets', () => {
  it('returns 24 hourly buckets, oldest first, ending with the current hour', () => {
    const buckets = hourlyBuckets([], NOW);
    expect(buckets).toHaveLength(24);
    expect(buckets[0]?.start).toBe(THIS_HOUR - 23 * HOUR);
    expect(buckets[23]?.start).toBe(THIS_HOUR);
    expect(buckets.every((b) => b.finished === 0 && b.failed === 0)).toBe(true);
  });

  it.each([
    ['in the current hour', NOW - 60_000, 23],
    ['at the first millisecond of the current hour', THIS_HOUR, 23],
    ['in the hour before', THIS_HOUR - 1, 22],
    ['at the start of the window', THIS_HOUR - 23 * HOUR, 0],
  ])('counts an entry %s in the right bucket', (_, at, index) => {
    const buckets = hourlyBuckets([{ at, event: 'finished' }], NOW);
    expect(buckets.findIndex((b) => b.finished === 1)).toBe(index);
  });

  it('ignores entries outside the window, in the future, and other events', () => {
    const buckets = hourlyBuckets(
      [
        { at: THIS_HOUR - 23 * HOUR - 1, event: 'finished' },
        { at: NOW + 60_000, event: 'finished' },
        { at: NOW - 1_000, event: 'progress' },
        { at: NOW - 1_000, event: 'failed' },
      ],
      NOW,
    );
    expect(buckets.reduce((n, b) => n + b.finished, 0)).toBe(0);
    expect(buckets.reduce((n, b) => n + b.failed, 0)).toBe(1);
  });
});

describe('renderChart', () => {
  const series = hourlyBuckets(
    [
      ...Array.from({ length: 4 }, () => ({ at: THIS_HOUR + 1_000, event: 'finished' })),
      ...Array.from({ length: 2 }, () => ({ at: THIS_HOUR + 2_000, event: 'failed' })),
      { at: THIS_HOUR - 5 * HOUR, event: 'finished' },
    ],
    NOW,
  );
  const svg = renderChart(series).toString();
  const rects = [...svg.matchAll(/<rect class="(finished|failed)" x="([\d.]+)" y="(\d+)" width="(\d+)" height="(\d+)"\/>/g)].map((m) => ({
    kind: m[1],
    x: Number(m[2]),
    y: Number(m[3]),
    width: Number(m[4]),
    height: Number(m[5]),
  }));

  it('draws one bar per non-empty count, scaled to the busiest hour', () => {
    const plot = CHART.height - CHART.bottom - CHART.top;
    expect(rects.map((r) => [r.kind, r.height])).toEqual([
      ['finished', Math.round(plot / 4)],
      ['finished', plot],
      ['failed', plot / 2],
    ]);
    // Every bar stands on the baseline.
    for (const r of rects) expect(r.y + r.height).toBe(CHART.top + plot);
    // The failed bar sits right of its hour's finished bar; later hours sit further right.
    const [older, finished, failed] = rects;
    expect(failed!.x).toBeCloseTo(finished!.x + finished!.width, 1);
    expect(older!.x).toBeLessThan(finished!.x);
  });

  it('labels the axis with the maximum and the hours in UTC, and titles every hour', () => {
    expect(svg).toMatch(/<text class="tick"[^>]*>4<\/text>/);
    expect(svg).toContain('>12:00</text>');
    expect(svg).toContain('>13:00</text>');
    expect(svg).toContain('<title>12:00 UTC: 4 finished, 2 failed</title>');
    expect(svg).toContain('<title>07:00 UTC: 1 finished, 0 failed</title>');
    expect(svg.match(/<title>/g)).toHaveLength(24);
    expect(svg).toContain('aria-label="Finished and failed downloads per hour over the last 24 hours: 5 finished, 2 failed"');
  });

  it('draws an empty chart (axis only) when nothing happened', () => {
    const empty = renderChart(hourlyBuckets([], NOW)).toString();
    expect(empty).not.toContain('<rect');
    expect(empty).toMatch(/^<svg [^>]*role="img"/);
    expect(empty.endsWith('</svg>')).toBe(true);
  });
});
