// Lint: typescript-eslint's recommended rules on core/, electron/, test/, bench/; the renderer's
// .svelte files are checked by svelte-check. One architectural rule is enforced here: the
// renderer reaches the core only through the API contract and its client.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'release/**', 'scratch/**', '.cache/**', 'test-results/**', 'demo/**', '**/*.svelte'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.cts', '**/*.mts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['electron', '**/electron/**', '**/renderer/**'], message: 'core/ is a Node library: no Electron or renderer imports.' }] }],
    },
  },
  {
    // A sandboxed preload can only require('electron'): it must be CommonJS.
    files: ['electron/preload.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['renderer/**/*.ts'],
    ignores: ['renderer/vite.config.ts', 'renderer/vitest.config.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+core/(?!shared/(contract|client)\\.js$)',
              message: 'The renderer imports only core/shared/contract.js and core/shared/client.js.',
            },
            { group: ['node:*', 'electron'], message: 'The renderer runs in a sandboxed page.' },
          ],
        },
      ],
    },
  },
);
