// Lint: typescript-eslint's recommended rules plus two type-aware ones (a promise that is neither
// awaited nor handled, a promise where a void callback is expected) on core/, electron/,
// renderer/ (.svelte files through eslint-plugin-svelte), test/ and bench/; and the layers.
//
// Layers (VS Code's code-layering, with eslint-plugin-boundaries): every folder of core/, and
// electron/ and renderer/, is a layer that may import only the layers named in its `may` list,
// all of them listed before it. So no import runs upward, and there is no circle between layers;
// import-x's no-cycle finds circles inside one. test/lint/layers.test.ts shows an upward import failing.
import boundaries from 'eslint-plugin-boundaries';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import svelte from 'eslint-plugin-svelte';
import tseslint from 'typescript-eslint';

/** Bottom first. `may`: the layers it imports (its own folder is always allowed). */
export const LAYERS = [
  {
    type: 'shared',
    pattern: 'core/shared',
    may: [],
    what: 'the API contract (zod schemas, types, the client): what the UI and the core share',
  },
  { type: 'runtime', pattern: 'core/runtime', may: ['shared'], what: 'worker threads, progress, the one-job-at-a-time runner' },
  { type: 'icon', pattern: 'core/icon', may: [], what: 'I-Con and the other maths (pure)' },
  { type: 'library', pattern: 'core/library', may: [], what: 'scanning folders, content hashes, skip reasons' },
  { type: 'images', pattern: 'core/images', may: ['library', 'icon'], what: 'decode, thumbnails, EXIF (sharp), augmented views' },
  { type: 'store', pattern: 'core/store', may: ['library'], what: 'SQLite repositories' },
  { type: 'embed', pattern: 'core/embed', may: ['runtime', 'library', 'images'], what: 'the backbone and its worker pool' },
  {
    type: 'indexing',
    pattern: 'core/jobs/indexing',
    may: ['shared', 'runtime', 'library', 'images', 'store', 'embed', 'icon'],
    what: 'scan + embed into the store',
  },
  {
    type: 'grouping',
    pattern: 'core/jobs/grouping',
    may: ['shared', 'runtime', 'library', 'store', 'embed', 'icon', 'indexing'],
    what: 'clustering runs, placing new images',
  },
  {
    type: 'search',
    pattern: 'core/jobs/search',
    may: ['shared', 'runtime', 'store', 'embed', 'icon', 'indexing', 'grouping'],
    what: 'text search and suggested names with a CLIP-like model',
  },
  { type: 'export', pattern: 'core/jobs/export', may: ['shared', 'runtime', 'library', 'store'], what: 'CSV, JSON and folder exports' },
  { type: 'app', pattern: 'core/app', may: ['store'], what: 'package paths, database sessions' },
  {
    type: 'api',
    pattern: 'core/api',
    may: ['shared', 'runtime', 'library', 'images', 'store', 'embed', 'indexing', 'grouping', 'search', 'export', 'app'],
    what: 'the service behind the contract, its HTTP server',
  },
  {
    type: 'cli',
    pattern: 'core/cli',
    may: ['shared', 'runtime', 'library', 'store', 'embed', 'icon', 'indexing', 'grouping', 'search', 'export', 'app', 'api'],
    what: 'the command line',
  },
  { type: 'electron', pattern: 'electron', may: ['shared', 'runtime', 'embed', 'app', 'api'], what: 'the desktop shell' },
  { type: 'renderer', pattern: 'renderer', may: ['shared'], what: 'the Svelte UI' },
];

// A layer that names one listed after it (or an unknown one) would make a circle possible.
LAYERS.forEach((layer, i) => {
  for (const lower of layer.may) {
    const j = LAYERS.findIndex((l) => l.type === lower);
    if (j < 0 || j >= i) throw new Error(`eslint.config.js: layer ${layer.type} may not import ${lower}: it is not below it`);
  }
});

const layerFiles = ['core/**', 'electron/**', 'renderer/**'];
const tsResolver = createTypeScriptImportResolver({ project: ['tsconfig.json', 'renderer/tsconfig.json'], noWarnOnMultipleProjects: true });

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'release/**', 'scratch/**', '.cache/**', 'test-results/**', 'demo/**', 'bench/results/**'],
  },
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname, extraFileExtensions: ['.svelte'] },
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, svelteConfig: { compilerOptions: { runes: true } } } },
  },
  {
    files: ['**/*.ts', '**/*.cts', '**/*.mts', '**/*.svelte'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    rules: {
      // The renderer replaces its Maps and Sets ($state.raw, a fresh copy per change) rather than
      // mutating them, so the reactive SvelteMap/SvelteSet this rule asks for would add nothing.
      'svelte/prefer-svelte-reactivity': 'off',
      // {' '} keeps a space that the template would otherwise drop (Prettier writes it too).
      'svelte/no-useless-mustaches': 'off',
    },
  },
  {
    // The config files and the plain-JS scripts are outside every tsconfig: no type information.
    files: ['*.js', '*.mjs', 'scripts/**', 'bin/**', 'renderer/vite.config.ts'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: layerFiles,
    plugins: { boundaries, 'import-x': importX },
    settings: {
      'boundaries/elements': LAYERS.map((l) => ({ type: l.type, pattern: l.pattern })),
      'boundaries/dependency-nodes': ['import', 'dynamic-import', 'export'],
      // boundaries resolves through eslint-module-utils (the legacy setting), import-x through the new one.
      'import/resolver': { typescript: { project: ['tsconfig.json', 'renderer/tsconfig.json'], noWarnOnMultipleProjects: true } },
      'import-x/resolver-next': [tsResolver],
      // no-cycle reads the imported files: with the TypeScript parser, or it sees no imports in them.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.cts', '.mts'] },
      'import-x/extensions': ['.ts', '.cts', '.mts', '.js'],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'allow',
          policies: LAYERS.map((l) => ({
            from: { element: { type: l.type } },
            disallow: { to: { element: { types: { noneOf: [l.type, ...l.may] } } } },
            message: `${l.pattern} (${l.type}) may import only ${[l.type, ...l.may].join(', ')}: the layers below it (see LAYERS in eslint.config.js)`,
          })),
        },
      ],
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['electron'], message: 'core/ is a Node library: no Electron.' }] }],
    },
  },
  {
    // Small functions whose names say what they do; a longer one says why on its disable line.
    files: ['core/**/*.ts', 'electron/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
  {
    // A sandboxed preload can only require('electron'): it must be CommonJS.
    files: ['electron/preload.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.svelte'],
    ignores: ['renderer/vite.config.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*', 'electron'], message: 'The renderer runs in a sandboxed page.' }] },
      ],
    },
  },
);
