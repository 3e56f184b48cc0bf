import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Svelte components are compiled for the renderer's component tests (jsdom, per file).
  plugins: [svelte({ configFile: false }), svelteTesting()],
  test: {
    include: ['test/**/*.test.ts'],
    // The SIGKILL loops run separately: `npm run test:chaos`.
    exclude: ['test/chaos/**', '**/node_modules/**'],
    // Real model, real SQLite, real sharp, real Chromium: tests are slow-ish by nature.
    testTimeout: 120_000,
    hookTimeout: 900_000,
    pool: 'forks',
    // Two cores: run two files at once at most.
    maxWorkers: 2,
  },
});
