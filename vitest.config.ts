import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-redis.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The machine has 2 cores; files share one redis-server, each under its own key prefix.
    maxWorkers: 2,
    // expect.poll waits on what a page or a worker shows (the browser tests): 1 s, its default, is short on a loaded
    // 2-core machine. A behaviour that never comes still fails, after 15 s.
    expect: { poll: { timeout: 15_000 } },
    reporters: ['default'],
  },
});
