import { defineConfig } from 'vitest/config';

// Browser tests: playwright-core drives Debian's chromium against a real
// `dohyo` server with real data (tests/e2e/).
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    pool: 'forks',
    reporters: ['default'],
  },
});
