/**
 * A plan whose DBS list is out of creation order is polled with full sweeps
 * only; `dbswatch status` and the status page say so (pure renderers).
 */
import { describe, expect, it } from 'vitest';
import { renderStatusText } from '../../src/status/render-text.js';
import { type PlanStatus, QUEUE_STATES, type QueueDepths, type StatusReport } from '../../src/status/report.js';
import { renderStatusPage } from '../../src/web/page.js';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const depths = Object.fromEntries(QUEUE_STATES.map((s) => [s, 0])) as QueueDepths;
const plan = (over: Partial<PlanStatus>): PlanStatus => ({
  id: 'dbsplanorder01',
  name: 'orders',
  intervalMs: 60_000,
  discovered: false,
  health: 'ok',
  lastPollAt: NOW - 10_000,
  lastSuccessAt: NOW - 10_000,
  taskCount: 5_000,
  byStatus: { finish: 5_000 },
  ...over,
});
const report = (plans: PlanStatus[]): StatusReport => ({
  generatedAt: NOW,
  redis: { url: 'redis://redis:6379', prefix: 'dbswatch' },
  plans,
  queues: { poll: depths, notify: depths },
  failedNotifications: [],
  recentTransitions: [],
});
const page = (plans: PlanStatus[]) =>
  renderStatusPage(
    { report: report(plans), transitions: [], filter: {}, channels: [], channelsCapped: false, chart: [], actionsEnabled: false },
    { now: NOW, nonce: 'n0nce' },
  );

describe('list-order warning', () => {
  it.each([
    ['unordered', true],
    ['newest-first', false],
    [undefined, false],
  ] as const)('listOrder %s → warning shown: %s', (listOrder, shown) => {
    const p = plan(listOrder === undefined ? {} : { listOrder });
    expect(renderStatusText(report([p]), NOW).includes('out of creation order; polled with full sweeps only')).toBe(shown);
    expect(page([p]).includes('tasks listed out of creation order: full sweeps only')).toBe(shown);
  });

  it('shows the last error rather than the order warning on a failing plan (one note per plan)', () => {
    const p = plan({ listOrder: 'unordered', health: 'failing', lastError: 'DBS throttled', lastErrorAt: NOW - 5_000 });
    const text = renderStatusText(report([p]), NOW);
    expect(text).toContain('last error');
    expect(text).not.toContain('out of creation order');
  });
});
