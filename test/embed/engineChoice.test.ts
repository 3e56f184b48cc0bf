/**
 * Engine choice and the device it reports, for the paths this machine cannot run: the real
 * chain logic (core/embed/onnx/ortBackbone.ts, core/embed/backend.ts) with injected runtimes
 * that say which provider ran how many nodes, or whether libtensorflow found a GPU.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initTf, loadNativeBackend, tfjsOrder, type BackendLoader } from '../../core/embed/backend.js';
import { describeEngine, engineOrder, engineTag, parseEngine } from '../../core/embed/engine.js';
import { loadOrtBackbone, providersFor, type OrtProvider, type OrtRuntime } from '../../core/embed/onnx/ortBackbone.js';

/**
 * A runtime whose providers behave as told: 'missing' throws as ONNX Runtime does when a provider's
 * library does not load; otherwise its first run reports `placement` and returns features that
 * are the CPU's, or differ by `drift` (a rotation towards another direction).
 */
function fakeRuntime(
  spec: Partial<Record<OrtProvider, 'missing' | { placement: Record<string, number>; drift?: number }>>,
): OrtRuntime & { opened: OrtProvider[] } {
  const opened: OrtProvider[] = [];
  return {
    opened,
    async open(_model, provider) {
      opened.push(provider);
      const s = spec[provider] ?? (provider === 'cpu' ? { placement: { CPUExecutionProvider: 58 } } : 'missing');
      if (s === 'missing') throw new Error(`OrtSessionOptionsAppendExecutionProvider_${provider}: Failed to load shared library`);
      let ran = false;
      return {
        async run(_pixels, count) {
          ran = true;
          const d = 8;
          const out = new Float32Array(count * d);
          for (let i = 0; i < count; i++) {
            out[i * d + (i % d)] = 1;
            out[i * d + ((i + 1) % d)] = s.drift ?? 0;
          }
          return out;
        },
        placement: () => (ran ? s.placement : {}),
        async release() {},
      };
    },
  };
}

describe('ONNX Runtime provider chain (injected placements)', () => {
  it("binds CUDA where it ran the nodes and its features are the CPU's: a GPU, and how many nodes it ran", async () => {
    const runtime = fakeRuntime({ cuda: { placement: { CUDAExecutionProvider: 55, CPUExecutionProvider: 3 } } });
    const bb = await loadOrtBackbone({ runtime, providers: ['cuda', 'cpu'], threads: 16, model: 'm.onnx' });
    expect(bb.engine).toMatchObject({
      choice: 'onnx',
      gpu: true,
      provider: 'CUDAExecutionProvider',
      parallelWorkers: false,
      unavailable: [],
    });
    expect(bb.engine.device).toBe('GPU (NVIDIA CUDA, ONNX Runtime); 55 of 58 nodes on CUDAExecutionProvider');
    // the CPU session that gave the reference features was opened, and released
    expect(runtime.opened).toEqual(['cuda', 'cpu']);
  });

  it('passes over a provider whose library does not load, with the reason, and reports the CPU with its threads', async () => {
    const bb = await loadOrtBackbone({ runtime: fakeRuntime({}), providers: ['cuda', 'cpu'], threads: 16, model: 'm.onnx' });
    expect(bb.engine).toMatchObject({ gpu: false, provider: 'CPUExecutionProvider', device: 'CPU (ONNX Runtime, 16 threads)' });
    expect(bb.engine.unavailable).toEqual([
      { choice: 'onnx/cuda', reason: expect.stringMatching(/^its provider library is not installed or does not load/) },
    ]);
  });

  it('passes over a provider that took none of the nodes, and one whose features differ beyond the tolerance', async () => {
    const runtime = fakeRuntime({
      coreml: { placement: { CPUExecutionProvider: 58 } },
      dml: { placement: { DmlExecutionProvider: 58 }, drift: 0.05 },
    });
    const bb = await loadOrtBackbone({ runtime, providers: ['dml', 'coreml', 'cpu'], threads: 4, model: 'm.onnx' });
    expect(bb.engine.provider).toBe('CPUExecutionProvider');
    expect(bb.engine.gpu).toBe(false);
    expect(bb.engine.unavailable).toEqual([
      { choice: 'onnx/dml', reason: expect.stringMatching(/^its features differ from the CPU's \(cosine 0\.99875\d* < 0\.9999\)/) },
      { choice: 'onnx/coreml', reason: "ONNX Runtime ran none of the graph's nodes on CoreMLExecutionProvider" },
    ]);
  });

  it('a provider that ran only part of the graph says so, and is not called a GPU', async () => {
    const runtime = fakeRuntime({ coreml: { placement: { CoreMLExecutionProvider: 20, CPUExecutionProvider: 38 } } });
    const bb = await loadOrtBackbone({ runtime, providers: ['coreml', 'cpu'], threads: 8, model: 'm.onnx' });
    expect(bb.engine.gpu).toBe(false);
    expect(bb.engine.provider).toBe('CPUExecutionProvider');
    expect(bb.engine.device).toBe('mostly CPU: 20 of 58 nodes on CoreMLExecutionProvider, the rest on CPUExecutionProvider (ONNX Runtime)');
  });

  it('fails with every reason when no provider loads', async () => {
    await expect(
      loadOrtBackbone({ runtime: fakeRuntime({ cpu: 'missing' }), providers: ['cuda', 'cpu'], model: 'm.onnx' }),
    ).rejects.toMatchObject({
      unavailable: [{ choice: 'onnx/cuda' }, { choice: 'onnx/cpu' }],
    });
  });

  it('tries only the providers the npm package carries for the platform, fastest first', () => {
    expect(providersFor('linux', 'x64')).toEqual(['cuda', 'cpu']);
    expect(providersFor('linux', 'arm64')).toEqual(['cpu']);
    expect(providersFor('win32', 'x64')).toEqual(['dml', 'cpu']);
    expect(providersFor('darwin', 'arm64')).toEqual(['coreml', 'cpu']);
  });
});

describe('tfjs native backends: the device libtensorflow reports (real loader, injected backend)', () => {
  /** Stands in for importing @tensorflow/tfjs-node(-gpu): registers a 'tensorflow' backend reporting `gpu`. */
  const fakePackage = (gpu: boolean) => async () => {
    class FakeNative extends tf.KernelBackend {
      readonly isUsingGpuDevice = gpu;
      override dispose(): void {}
    }
    if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
    tf.registerBackend('tensorflow', () => new FakeNative());
  };

  it('tfjs-node-gpu with a GPU device: a GPU', async () => {
    expect(await loadNativeBackend('tfjs-node-gpu', fakePackage(true))).toEqual({
      tfBackend: 'tensorflow',
      gpu: true,
      device: 'GPU (CUDA, tfjs-node-gpu)',
    });
  });

  it('tfjs-node-gpu without one (no CUDA 11.2 / cuDNN 8.1): says it runs on the CPU, and why', async () => {
    const r = await loadNativeBackend('tfjs-node-gpu', fakePackage(false));
    expect(r.gpu).toBe(false);
    expect(r.device).toMatch(/^CPU: tfjs-node-gpu found no usable GPU .*CUDA 11\.2 and cuDNN 8\.1/);
  });

  it("the training worker's choice (initTf) carries the device through: GPU only where one is bound", async () => {
    const loader =
      (gpu: boolean): BackendLoader =>
      async (choice) => {
        if (choice === 'tfjs-node-gpu') return loadNativeBackend(choice, fakePackage(gpu));
        throw Object.assign(new Error('not here'), { code: 'ERR_MODULE_NOT_FOUND' });
      };
    const withGpu = await initTf({ loader: loader(true) });
    expect(withGpu.backend).toMatchObject({ choice: 'tfjs-node-gpu', gpu: true, device: 'GPU (CUDA, tfjs-node-gpu)' });
    const without = await initTf({ loader: loader(false) });
    expect(without.backend).toMatchObject({ choice: 'tfjs-node-gpu', gpu: false });
    expect(without.backend.device).toMatch(/^CPU/);
    await tf.setBackend('cpu');
  });
});

describe('engine order and names', () => {
  it('fastest first; --engine (CONSTELLATE_ENGINE) forces one; CONSTELLATE_BACKEND starts from one', () => {
    expect(engineOrder({})).toEqual(['onnx', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
    expect(engineOrder({ CONSTELLATE_ENGINE: 'wasm', CONSTELLATE_BACKEND: 'onnx' })).toEqual(['wasm']);
    expect(engineOrder({ CONSTELLATE_BACKEND: 'tfjs-node' })).toEqual(['tfjs-node', 'wasm', 'cpu']);
    expect(() => engineOrder({ CONSTELLATE_ENGINE: 'cuda' })).toThrow(/must be one of onnx, tfjs-node-gpu, tfjs-node, wasm, cpu/);
    expect(() => parseEngine('webgl')).toThrow();
  });

  it('the tfjs side (training, the head) follows a forced tfjs engine and ignores ONNX Runtime', () => {
    expect(tfjsOrder({ CONSTELLATE_ENGINE: 'onnx' })).toEqual(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
    expect(tfjsOrder({ CONSTELLATE_BACKEND: 'onnx' })).toEqual(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
    expect(tfjsOrder({ CONSTELLATE_ENGINE: 'cpu' })).toEqual(['cpu']);
    expect(tfjsOrder({ CONSTELLATE_BACKEND: 'wasm' })).toEqual(['wasm', 'cpu']);
  });

  it('tags and describes an engine as it ran', () => {
    expect(engineTag({ choice: 'onnx', provider: 'CUDAExecutionProvider', gpu: true })).toBe('onnx/CUDAExecutionProvider');
    expect(engineTag({ choice: 'tfjs-node-gpu', provider: 'tensorflow', gpu: false })).toBe('tfjs-node-gpu/cpu');
    expect(engineTag({ choice: 'wasm', provider: 'wasm', gpu: false })).toBe('wasm');
    expect(
      describeEngine({
        choice: 'onnx',
        device: 'CPU (ONNX Runtime, 2 threads)',
        unavailable: [{ choice: 'onnx/cuda', reason: 'not installed' }],
      }),
    ).toBe('embedding engine: onnx (CPU (ONNX Runtime, 2 threads)); passed over onnx/cuda: not installed');
  });
});
