import { defineConfig } from 'vitest/config';

/**
 * Three projects, run one after the other (sequence.groupOrder): fast unit
 * tests of pure code (no Redis, no setup), integration tests on real
 * Redis/HTTP/SMTP (two files at a time), and end-to-end tests with child
 * processes (one file at a time: they measure and kill processes, and the
 * machine has two cores). Only the projects that talk to Redis get the Redis
 * global setup and the guard that fails a file leaving a connection open.
 */
const withRedis = {
  globalSetup: ['test/setup/redis-global.ts'],
  setupFiles: ['test/setup/leak-guard.ts'],
};

export default defineConfig({
  test: {
    reporters: ['default'],
    pool: 'forks',
    projects: [
      { test: { name: 'unit', pool: 'forks', sequence: { groupOrder: 0 }, include: ['test/unit/**/*.test.ts'], testTimeout: 10_000 } },
      {
        test: {
          ...withRedis,
          name: 'integration',
          pool: 'forks',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          maxWorkers: 2,
        },
      },
      {
        test: {
          ...withRedis,
          name: 'e2e',
          pool: 'forks',
          sequence: { groupOrder: 2 },
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
