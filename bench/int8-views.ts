/**
 * The 8-bit view model against the float model on ONNX Runtime's CPU provider, in the same run:
 * CPU time per row (runs of 4 rows, as the pipeline runs them, rounds interleaved) and the cosine
 * of each view's features to the float ones, on 2 augmented views of every image of both
 * labelled sets, drawn as the app draws them.
 *   npx tsx bench/int8-views.ts [rounds=3]
 */
import { availableParallelism } from 'node:os';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { BACKBONE } from '../core/embed/backboneInfo.js';
import { backboneOnnx, backboneOnnxInt8 } from '../core/embed/onnx/backboneModel.js';
import { minCosine, nodeRuntime, ROWS_PER_RUN } from '../core/embed/onnx/ortBackbone.js';
import { augmentedViews, viewSeed } from '../core/images/augment.js';
import { decodeImage } from '../core/images/decode.js';

const SHARED = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../shared/datasets');
const rounds = Number(process.argv[2] ?? 3);
const threads = availableParallelism();
const runtime = await nodeRuntime();
const float = await runtime.open(backboneOnnx().source, 'cpu', threads);
const int8 = await runtime.open(backboneOnnxInt8().source, 'cpu', threads);
const plane = BACKBONE.inputSize * BACKBONE.inputSize * 3;
const d = BACKBONE.dim;

for (const set of ['tuxpaint300', 'fashion-mnist-1k']) {
  const root = path.join(SHARED, set);
  const rows: Float32Array[] = [];
  for (const label of readdirSync(root).sort())
    for (const f of readdirSync(path.join(root, label)).sort()) {
      const r = await decodeImage(path.join(root, label, f), { exif: false });
      if (r.ok && r.input) rows.push(augmentedViews(r.input.data, BACKBONE.inputSize, 2, viewSeed(r.hash)));
    }
  const pixels = new Float32Array(rows.length * 2 * plane);
  rows.forEach((r, i) => pixels.set(r, i * 2 * plane));
  const n = rows.length * 2;
  const cpu = { float: 0, int8: 0 };
  const out = { float: new Float32Array(n * d), int8: new Float32Array(n * d) };
  for (let round = 0; round < rounds; round++)
    for (const name of round % 2 ? (['int8', 'float'] as const) : (['float', 'int8'] as const)) {
      const s = name === 'int8' ? int8 : float;
      const c0 = process.cpuUsage();
      for (let start = 0; start < n; start += ROWS_PER_RUN) {
        const count = Math.min(ROWS_PER_RUN, n - start);
        out[name].set(await s.run(pixels.subarray(start * plane, (start + count) * plane), count), start * d);
      }
      const c = process.cpuUsage(c0);
      cpu[name] += (c.user + c.system) / 1000;
    }
  const cos = Array.from({ length: n }, (_, i) =>
    minCosine(out.int8.subarray(i * d, (i + 1) * d), out.float.subarray(i * d, (i + 1) * d), 1),
  ).sort((a, b) => a - b);
  const mean = cos.reduce((a, b) => a + b, 0) / n;
  const perRow = (ms: number) => (ms / rounds / n).toFixed(2);
  console.log(
    `${set}: ${n} views; CPU per row float ${perRow(cpu.float)} ms, 8-bit ${perRow(cpu.int8)} ms (${(cpu.float / cpu.int8).toFixed(2)}x); ` +
      `cosine to float: min ${cos[0]!.toFixed(4)}, 1st percentile ${cos[Math.floor(n / 100)]!.toFixed(4)}, median ${cos[n >> 1]!.toFixed(4)}, mean ${mean.toFixed(4)}`,
  );
}
await float.release();
await int8.release();
