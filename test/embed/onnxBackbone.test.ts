/**
 * The real backbone converted to ONNX and run by the real ONNX Runtime gives tfjs's features:
 * cosine >= 0.9999 for every image and every mirror, on real images from both labelled sets
 * (three per class, decoded by the app's own sharp pipeline). The whole sets are measured by
 * `npm run bench -- --only engines`. Also: the conversion is cached, and a cache that cannot be
 * written leaves the model in memory.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKBONE } from '../../core/embed/backboneInfo.js';
import { loadTfjsBackbone } from '../../core/embed/mobilenet.js';
import { backboneOnnx } from '../../core/embed/onnx/backboneModel.js';
import { loadOrtBackbone, minCosine, SAME_FEATURES_COSINE } from '../../core/embed/onnx/ortBackbone.js';
import { decodeImage } from '../../core/images/decode.js';
import { sharedDatasets } from '../helpers/cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'constellate-onnx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function sample(set: string, perClass: number): Promise<Float32Array> {
  const root = path.join(sharedDatasets, set);
  const pairs: Float32Array[] = [];
  for (const label of readdirSync(root).sort()) {
    const files = readdirSync(path.join(root, label)).sort().slice(0, perClass);
    for (const f of files) {
      const r = await decodeImage(path.join(root, label, f), { size: BACKBONE.inputSize });
      if (!r.ok || !r.input) throw new Error(`could not decode ${label}/${f}`);
      pairs.push(r.input.pair);
    }
  }
  const out = new Float32Array(pairs.reduce((a, p) => a + p.length, 0));
  pairs.forEach((p, i) => out.set(p, i * p.length));
  return out;
}

describe('the backbone on ONNX Runtime', () => {
  it('gives tfjs features (cosine >= 0.9999 per image and mirror) on both labelled sets, on the CPU provider it reports', async () => {
    const cacheDir = path.join(tmp, 'models');
    const first = backboneOnnx({ cacheDir });
    expect(first.origin).toBe('converted');
    const again = backboneOnnx({ cacheDir });
    expect(again).toEqual({ source: first.source, origin: 'cache' });

    const ort = await loadOrtBackbone({ model: again.source, providers: ['cpu'], threads: 2 });
    expect(ort.engine).toMatchObject({
      choice: 'onnx',
      provider: 'CPUExecutionProvider',
      gpu: false,
      threads: 2,
      parallelWorkers: false,
      device: 'CPU (ONNX Runtime, 2 threads)',
    });
    const tfjs = await loadTfjsBackbone(['wasm']);
    try {
      for (const set of ['tuxpaint300', 'fashion-mnist-1k']) {
        const input = await sample(set, 3);
        const rows = input.length / (224 * 224 * 3);
        expect(rows).toBe(60);
        const reference = tfjs.embed(input, rows) as Float32Array;
        const got = await ort.embed(input, rows);
        expect(got.length).toBe(rows * BACKBONE.dim);
        expect(minCosine(got, reference, rows), set).toBeGreaterThanOrEqual(SAME_FEATURES_COSINE);
      }
    } finally {
      await tfjs.dispose();
      await ort.dispose();
    }
  }, 300_000);

  it('the real provider chain on this machine: CUDA is passed over with its reason, the CPU is bound', async () => {
    const ort = await loadOrtBackbone({
      providers: ['cuda', 'cpu'],
      threads: 1,
      model: backboneOnnx({ cacheDir: path.join(tmp, 'models') }).source,
    });
    try {
      expect(ort.engine.provider).toBe('CPUExecutionProvider');
      expect(ort.engine.device).toBe('CPU (ONNX Runtime, 1 thread)');
      expect(ort.engine.unavailable).toEqual([
        { choice: 'onnx/cuda', reason: expect.stringMatching(/provider library is not installed or does not load/) },
      ]);
    } finally {
      await ort.dispose();
    }
  }, 120_000);

  it('a cache that cannot be written leaves the model in memory, with the reason', () => {
    const blocker = path.join(tmp, 'not-a-folder');
    writeFileSync(blocker, 'x');
    const r = backboneOnnx({ cacheDir: path.join(blocker, 'models') });
    expect(r.origin).toBe('memory');
    expect(r.source).toBeInstanceOf(Uint8Array);
    expect(r.cacheError).toMatch(/ENOTDIR|EEXIST/);
  });
});
