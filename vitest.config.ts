import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real Apache and PostgreSQL servers: give them time, and do not
    // run more files at once than this 2-core machine can carry.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    pool: 'forks',
    globalSetup: ['test/helpers/globalSetup.ts'],
  },
});
