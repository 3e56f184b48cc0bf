import { defineConfig } from 'vitest/config';

// `npm run test:chaos`: the long SIGKILL loops, kept out of the default run (CI runs both).
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.test.ts'],
    testTimeout: 1_500_000,
    pool: 'forks',
  },
});
