/**
 * The augmented views through an 8-bit copy of the backbone (core/embed/onnx/quantize.ts) on ONNX
 * Runtime's CPU provider: the real copy is fused into 8-bit kernels and stays within 8-bit
 * rounding of the float model on real images; the chain binds it only on the CPU provider, and
 * passes it over, saying why, where it would be slower (not fused) or its features stray.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKBONE } from '../../core/embed/backboneInfo.js';
import { backboneOnnx, backboneOnnxBytes, backboneOnnxInt8, calibrationKey } from '../../core/embed/onnx/backboneModel.js';
import { INT8_RANGES } from '../../core/embed/onnx/int8Ranges.js';
import {
  INT8_VIEWS_MIN_COSINE,
  loadOrtBackbone,
  minCosine,
  nodeRuntime,
  type OrtProvider,
  type OrtRuntime,
} from '../../core/embed/onnx/ortBackbone.js';
import { quantizedActivations, quantizeQdq, uint8Params } from '../../core/embed/onnx/quantize.js';
import { augmentedViews, viewSeed } from '../../core/images/augment.js';
import { decodeImage } from '../../core/images/decode.js';
import { sharedDatasets } from '../helpers/cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'constellate-int8-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cacheDir = path.join(tmp, 'models');

/** Two images a class (their 2 augmented views each) from a labelled set, as the app feeds them. */
async function views(set: string): Promise<{ pixels: Float32Array; count: number }> {
  const root = path.join(sharedDatasets, set);
  const parts: Float32Array[] = [];
  for (const label of readdirSync(root).sort())
    for (const f of readdirSync(path.join(root, label)).sort().slice(0, 2)) {
      const r = await decodeImage(path.join(root, label, f), { exif: false });
      if (!r.ok || !r.input) throw new Error(`could not decode ${label}/${f}`);
      parts.push(augmentedViews(r.input.data, BACKBONE.inputSize, 2, viewSeed(r.hash)));
    }
  const pixels = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  parts.forEach((p, i) => pixels.set(p, i * p.length));
  return { pixels, count: pixels.length / (BACKBONE.inputSize * BACKBONE.inputSize * 3) };
}

/** Per-row cosines of two count x d matrices. */
function cosines(a: Float32Array, b: Float32Array, count: number): number[] {
  const d = a.length / count;
  return Array.from({ length: count }, (_, i) => minCosine(a.subarray(i * d, (i + 1) * d), b.subarray(i * d, (i + 1) * d), 1));
}

describe('the 8-bit view model', () => {
  it('is cached; ONNX Runtime runs every convolution as QLinearConv; its features stay within 8-bit rounding of the float ones', async () => {
    const first = backboneOnnxInt8({ cacheDir });
    expect(first.origin).toBe('converted');
    expect(backboneOnnxInt8({ cacheDir })).toEqual({ source: first.source, origin: 'cache' });

    const runtime = await nodeRuntime();
    const q = await runtime.open(first.source, 'cpu', 2);
    const f = await runtime.open(backboneOnnx({ cacheDir }).source, 'cpu', 2);
    try {
      for (const set of ['tuxpaint300', 'fashion-mnist-1k']) {
        const { pixels, count } = await views(set);
        expect(count).toBe(40);
        const got = await q.run(pixels, count);
        const cos = cosines(got, await f.run(pixels, count), count);
        const mean = cos.reduce((s, c) => s + c, 0) / count;
        expect(Math.min(...cos), set).toBeGreaterThan(0.95);
        expect(mean, set).toBeGreaterThan(0.98);
        // and it really is 8-bit arithmetic, not the float model again
        expect(mean, set).toBeLessThan(0.9999);
      }
      const ops = q.ops!();
      expect(ops.QLinearConv).toBeGreaterThan(0);
      expect(ops.Conv).toBeUndefined();
      expect(f.ops!().Conv).toBeGreaterThan(0);
    } finally {
      await q.release();
      await f.release();
    }
  }, 300_000);

  it('is built with a range for every tensor it quantizes that is not a ReLU6 output, and refuses a graph it has none for', () => {
    const fp32 = backboneOnnxBytes({ cacheDir });
    const { relu6, measured } = quantizedActivations(fp32);
    // MobileNetV2: the first conv's input, 17 bottleneck outputs and 10 residual sums; 34 ReLU6 outputs (the 35th feeds the pooling)
    expect(measured.length).toBe(28);
    expect(relu6.length).toBe(34);
    expect(measured.map(calibrationKey).sort()).toEqual(Object.keys(INT8_RANGES).sort());
    const missing = Object.fromEntries(Object.entries(INT8_RANGES).filter(([k]) => k !== 'hub_input/Sub'));
    expect(() => quantizeQdq(fp32, missing, calibrationKey)).toThrow('no calibrated range for hub_input/Sub');
  });

  it('maps a range to uint8 with zero exactly representable', () => {
    expect(uint8Params(-1, 1)).toEqual({ scale: 2 / 255, zeroPoint: 128 });
    expect(uint8Params(0, 6)).toEqual({ scale: 6 / 255, zeroPoint: 0 });
    expect(uint8Params(2, 5)).toEqual({ scale: 5 / 255, zeroPoint: 0 }); // widened to hold 0
    expect(uint8Params(-3, -1)).toEqual({ scale: 3 / 255, zeroPoint: 255 });
  });

  it('the real chain binds it on the CPU provider: the device says so, and the views run through it', async () => {
    const ort = await loadOrtBackbone({
      model: backboneOnnx({ cacheDir }).source,
      viewModel: () => backboneOnnxInt8({ cacheDir }).source,
      providers: ['cpu'],
      threads: 2,
    });
    try {
      expect(ort.engine).toMatchObject({ views: 'int8', device: 'CPU (ONNX Runtime, 2 threads); views in 8 bits', unavailable: [] });
      const { pixels, count } = await views('tuxpaint300');
      const [viaViews, viaFloat] = [await ort.embedViews!(pixels, count), await ort.embed(pixels, count)];
      expect(Math.min(...cosines(viaViews, viaFloat, count))).toBeGreaterThan(0.95);
      expect(Array.from(viaViews)).not.toEqual(Array.from(viaFloat));
    } finally {
      await ort.dispose();
    }
  }, 120_000);
});

/**
 * A runtime whose sessions behave as told: the float model's features are one-hot rows; the view
 * model ('views.onnx') drifts from them by `drift` and reports `ops` as its profile's operators.
 */
function fakeRuntime(spec: { gpu?: boolean; drift?: number; ops?: Record<string, number> }): OrtRuntime & { opened: string[] } {
  const opened: string[] = [];
  return {
    opened,
    async open(model, provider: OrtProvider) {
      opened.push(`${String(model)}@${provider}`);
      if (provider !== 'cpu' && !spec.gpu) throw new Error('Failed to load shared library');
      const isViews = model === 'views.onnx';
      return {
        async run(_pixels, count) {
          const d = 8;
          const out = new Float32Array(count * d);
          for (let i = 0; i < count; i++) {
            out[i * d + (i % d)] = 1;
            if (isViews) out[i * d + ((i + 1) % d)] = spec.drift ?? 0.05;
          }
          return out;
        },
        placement: () => ({ [provider === 'cpu' ? 'CPUExecutionProvider' : 'CUDAExecutionProvider']: 58 }),
        ops: () => (isViews ? (spec.ops ?? { QLinearConv: 52 }) : { Conv: 52 }),
        async release() {},
      };
    },
  };
}

describe('the 8-bit view model in the provider chain (injected runtimes)', () => {
  const load = (runtime: OrtRuntime, providers: OrtProvider[]) =>
    loadOrtBackbone({ runtime, providers, threads: 4, model: 'm.onnx', viewModel: () => 'views.onnx' });

  it('binds it on the CPU where it is fused and close to the float features', async () => {
    const bb = await load(fakeRuntime({}), ['cpu']);
    expect(bb.engine.views).toBe('int8');
    expect(bb.embedViews).toBeDefined();
  });

  it('a GPU provider runs the views with the float model: the 8-bit copy is never made', async () => {
    let made = 0;
    const runtime = fakeRuntime({ gpu: true });
    const bb = await loadOrtBackbone({
      runtime,
      providers: ['cuda', 'cpu'],
      threads: 4,
      model: 'm.onnx',
      viewModel: () => (made++, 'views.onnx'),
    });
    expect(bb.engine.provider).toBe('CUDAExecutionProvider');
    expect(made).toBe(0);
    expect(bb.engine.views).toBeUndefined();
    expect(bb.embedViews).toBeUndefined();
  });

  it('passes it over, saying why, where ONNX Runtime did not fuse it (it would be slower) or its features stray', async () => {
    const unfused = await load(fakeRuntime({ ops: { DequantizeLinear: 60, Conv: 52 } }), ['cpu']);
    expect(unfused.embedViews).toBeUndefined();
    expect(unfused.engine.device).toBe('CPU (ONNX Runtime, 4 threads)');
    expect(unfused.engine.unavailable).toEqual([{ choice: 'onnx/cpu 8-bit views', reason: expect.stringMatching(/did not fuse/) }]);

    // a rotation of 0.3 puts the cosine at 1 / sqrt(1.09) = 0.9578 < INT8_VIEWS_MIN_COSINE
    expect(1 / Math.sqrt(1.09)).toBeLessThan(INT8_VIEWS_MIN_COSINE);
    const stray = await load(fakeRuntime({ drift: 0.3 }), ['cpu']);
    expect(stray.embedViews).toBeUndefined();
    expect(stray.engine.unavailable).toEqual([
      { choice: 'onnx/cpu 8-bit views', reason: expect.stringMatching(/stray from the float model's \(cosine 0\.9578 < 0\.97\)/) },
    ]);
  });
});
