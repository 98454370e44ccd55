import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/redis-global.ts'],
    setupFiles: ['test/setup/leak-guard.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: integration tests share one Redis and spawn processes; keep parallelism modest.
    maxWorkers: 2,
    pool: 'forks',
    reporters: ['default'],
  },
});
