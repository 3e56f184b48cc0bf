/**
 * What drawing the augmented views costs: CPU time per 224 px view (augmentedViews, as the
 * decode worker draws them), 4 views of each of the first 100 images of tuxpaint300.
 *   npx tsx bench/augment-views.ts [rounds=5]
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { BACKBONE } from '../core/embed/backboneInfo.js';
import { augmentedViews, viewSeed } from '../core/images/augment.js';
import { decodeImage } from '../core/images/decode.js';

const SHARED = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../shared/datasets');
const rounds = Number(process.argv[2] ?? 5);
const VIEWS = 4;
const root = path.join(SHARED, 'tuxpaint300');
const files = readdirSync(root)
  .sort()
  .flatMap((label) => readdirSync(path.join(root, label)).map((f) => path.join(root, label, f)))
  .sort()
  .slice(0, 100);
const inputs: { data: Float32Array; seed: number }[] = [];
for (const f of files) {
  const r = await decodeImage(f, { exif: false });
  if (r.ok && r.input) inputs.push({ data: r.input.data, seed: viewSeed(r.hash) });
}
augmentedViews(inputs[0]!.data, BACKBONE.inputSize, VIEWS, inputs[0]!.seed); // warm the JIT
const perView: number[] = [];
for (let round = 0; round < rounds; round++) {
  const c0 = process.cpuUsage();
  for (const x of inputs) augmentedViews(x.data, BACKBONE.inputSize, VIEWS, x.seed);
  const c = process.cpuUsage(c0);
  perView.push((c.user + c.system) / 1000 / (inputs.length * VIEWS));
}
perView.sort((a, b) => a - b);
console.log(
  `${inputs.length} images x ${VIEWS} views, ${rounds} rounds: CPU per view median ${perView[rounds >> 1]!.toFixed(3)} ms (min ${perView[0]!.toFixed(3)}, max ${perView.at(-1)!.toFixed(3)})`,
);
