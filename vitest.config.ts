import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real model, real SQLite, real sharp: tests are slow-ish by nature.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Two cores: run two files at once at most.
    maxWorkers: 2,
  },
});
