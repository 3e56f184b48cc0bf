/** `npm run setup` talks to a newcomer (issue 21, defect 11): engine warnings in one line, the ML engine named. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain .mjs script without type declarations
import { installedEngines, summariseEngineWarnings } from '../../scripts/setup.mjs';
import { testTempDir } from '../helpers/tempDir.js';

describe('npm run setup', () => {
  it('sums npm’s "Unsupported engine" warnings up in one line that says the Node is fine', () => {
    const lines = [
      'npm warn EBADENGINE Unsupported engine {',
      "npm warn EBADENGINE   package: 'vite@8.3.8',",
      "npm warn EBADENGINE   required: { node: '>=22' },",
      "npm warn EBADENGINE   current: { node: 'v20.20.2', npm: '11.6.1' }",
      "npm warn EBADENGINE Unsupported engine { package: '@sveltejs/vite-plugin-svelte@7.3.1', required: { node: '>=22' } }",
      'added 812 packages in 3m',
    ];
    const { kept, summary } = summariseEngineWarnings(lines, '>=20.9', 'v20.20.2') as { kept: string[]; summary: string };
    expect(kept).toEqual(['added 812 packages in 3m']);
    expect(summary).toBe(
      'setup: 2 dependencies declare a newer Node for their own tools (@sveltejs/vite-plugin-svelte, vite): npm warns "Unsupported engine", but Constellate needs Node >=20.9 and you have v20.20.2, which is fine.',
    );
  });

  it('names the ML engines installed, fastest first', () => {
    const root = testTempDir('cs-setup-');
    mkdirSync(join(root, 'node_modules/@tensorflow/tfjs-backend-wasm'), { recursive: true });
    expect(installedEngines(root)).toEqual(['TensorFlow.js WebAssembly (CPU)']);
    mkdirSync(join(root, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64'), { recursive: true });
    writeFileSync(join(root, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node'), '');
    expect(installedEngines(root)).toEqual(['ONNX Runtime (CPU)', 'TensorFlow.js WebAssembly (CPU)']);
  });
});
