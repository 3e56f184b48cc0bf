import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

/**
 * The test tiers, one vitest project each (`npm run test:<tier>`; `npm test` runs all four):
 * - unit: pure code and the store (real SQLite, real sharp, no model): under a minute.
 * - integration: the service and the built CLI on real images with the real model.
 * - e2e: the UI, its components in jsdom and the whole app in Chromium.
 * - chaos: SIGKILL loops against real runs.
 * Speed targets are not asserted here: `npm run bench` measures them.
 */
const UNIT = [
  'test/icon/**/*.test.ts',
  'test/store/**/*.test.ts',
  'test/library/**/*.test.ts',
  'test/images/**/*.test.ts',
  'test/jobs/**/*.test.ts',
  'test/electron/**/*.test.ts',
  'test/embed/**/*.test.ts',
  'test/cli/loadLabelled.test.ts',
  'test/renderer/lib.test.ts',
  'test/lint/**/*.test.ts',
];
const INTEGRATION = ['test/integration/**/*.test.ts', 'test/api/**/*.test.ts', 'test/cli/export.test.ts', 'test/cli/evalPeers.test.ts'];
const E2E = ['test/e2e/**/*.test.ts', 'test/renderer/**/*.svelte.test.ts'];
const CHAOS = ['test/chaos/**/*.chaos.test.ts'];
// The store at 100,000 images, the embed pool and indexing with the real model, and whole
// clustering runs in their worker: integration.
const UNIT_BUT_SLOW = [
  'test/store/scale.test.ts',
  'test/jobs/embedPool.test.ts',
  'test/jobs/indexLibrary.test.ts',
  'test/jobs/streamingRun.test.ts',
  'test/jobs/trainProgress.test.ts',
];

export default defineConfig({
  test: {
    // Real model, real SQLite, real sharp, real Chromium: tests are slow-ish by nature.
    testTimeout: 120_000,
    hookTimeout: 900_000,
    pool: 'forks',
    // Two cores: run two files at once at most.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT, exclude: UNIT_BUT_SLOW } },
      { extends: true, test: { name: 'integration', include: [...INTEGRATION, ...UNIT_BUT_SLOW] } },
      // Svelte components are compiled for the renderer's component tests (jsdom, per file).
      { extends: true, plugins: [svelte({ configFile: false }), svelteTesting()], test: { name: 'e2e', include: E2E } },
      { extends: true, test: { name: 'chaos', include: CHAOS, testTimeout: 1_500_000 } },
    ],
  },
});
