import { defineConfig } from 'vitest/config';

/**
 * Three projects, run one after the other (sequence.groupOrder): fast unit tests,
 * integration tests on real Redis/HTTP/SMTP (two files at a time), and
 * end-to-end tests with child processes (one file at a time: they measure
 * and kill processes, and the machine has two cores).
 */
const shared = {
  globalSetup: ['test/setup/redis-global.ts'],
  setupFiles: ['test/setup/leak-guard.ts'],
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      { test: { ...shared, name: 'unit', sequence: { groupOrder: 0 }, include: ['test/unit/**/*.test.ts'], testTimeout: 10_000 } },
      {
        test: { ...shared, name: 'integration', sequence: { groupOrder: 1 }, include: ['test/integration/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000, maxWorkers: 2 },
      },
      {
        test: { ...shared, name: 'e2e', sequence: { groupOrder: 2 }, include: ['test/e2e/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 120_000, fileParallelism: false },
      },
    ],
  },
});
