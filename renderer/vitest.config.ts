// Component tests (jsdom + the Svelte compiler): `npx vitest run --config renderer/vitest.config.ts`.
// The root vitest.config.ts has no Svelte plugin, so it runs test/renderer/*.test.ts except
// the *.svelte.test.ts ones (those import .svelte files) — see the report for the root change.
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  plugins: [svelte(), svelteTesting()],
  test: {
    include: ['test/renderer/**/*.test.ts'],
    environment: 'jsdom',
    pool: 'forks',
    maxWorkers: 2,
  },
});
