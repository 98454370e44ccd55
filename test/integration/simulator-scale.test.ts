/**
 * The benchmark's simulator world at full size (1,000 plans × 1,000 tasks):
 * built in seconds and serving a page in O(pageSize). Slow and memory-hungry,
 * so it lives with the integration tests, not the unit tests.
 */
import { describe, expect, it } from 'vitest';
import { buildScenario } from '../../dev/simulator/scenarios.js';
import { taskToWire } from '../../dev/simulator/wire.js';
import { SimWorld } from '../../dev/simulator/world.js';

describe('simulator at benchmark scale', () => {
  it('builds the benchmark world (1,000 plans × 1,000 tasks) and serves a page in O(pageSize)', () => {
    const t0 = performance.now();
    const w = new SimWorld({ seed: 42 });
    buildScenario({ plans: 1000, tasksPerPlan: 1000, seed: 42 }).build(w);
    const buildMs = performance.now() - t0;
    expect(w.planIds()).toHaveLength(1000);
    expect(w.planIds()[0]).toBe('plan0001');
    expect(w.totalTasks).toBe(1_000_000);
    const t1 = performance.now();
    const page = w.page('plan0500', 3, 100);
    const items = page.items.map((t) => taskToWire(t, true));
    const body = JSON.stringify({ Items: { BackupSetDownloadTaskDetail: items } });
    const pageMs = performance.now() - t1;
    expect(page.total).toBe(1000);
    expect(items).toHaveLength(100);
    const heapMb = Math.round(process.memoryUsage().heapUsed / 1e6);
    console.log(
      `[simulator bench] build 1000x1000: ${buildMs.toFixed(0)} ms; one page of 100 (read + serialise, ${body.length} bytes): ${pageMs.toFixed(2)} ms; heap ${heapMb} MB`,
    );
  }, 60_000);
});
