/**
 * Do the engines give the same features? Every image of both labelled sets (tuxpaint300,
 * fashion-mnist-1k) and its mirror embedded by the pipeline's own pool with ONNX Runtime and with
 * tfjs wasm; the figure is the smallest cosine between the two engines' vectors of one image
 * (target >= 0.9999, the tolerance under which switching engines does not embed again).
 * `--quick` takes two images per class.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EngineChoice } from '../core/embed/engine.js';
import { minCosine, SAME_FEATURES_COSINE } from '../core/embed/onnx/ortBackbone.js';
import { embedAll } from '../core/embed/pool.js';
import { DEFAULT_VIEWS } from '../core/jobs/indexing/views.js';
import type { EmbedItem } from '../core/embed/protocol.js';
import type { Figure } from './report.js';

const SHARED = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../shared/datasets');

function items(set: string, perClass: number): EmbedItem[] {
  const root = path.join(SHARED, set);
  const out: EmbedItem[] = [];
  for (const label of readdirSync(root).sort())
    for (const f of readdirSync(path.join(root, label)).sort().slice(0, perClass))
      out.push({ imageId: out.length + 1, path: path.join(root, label, f), contentHash: null });
  return out;
}

async function embed(list: EmbedItem[], engine: EngineChoice, thumbs: string): Promise<Map<number, Float32Array>> {
  const out = new Map<number, Float32Array>();
  await embedAll(list, { thumbnailDir: path.join(thumbs, engine), engine, views: DEFAULT_VIEWS }, (batch) => {
    for (const r of batch) {
      if (!('embedding' in r)) throw new Error(`image ${r.imageId}: ${r.skip.message}`);
      const v = new Float32Array(r.embedding.length + r.views.length);
      v.set(r.embedding);
      v.set(r.views, r.embedding.length);
      out.set(r.imageId, v);
    }
  });
  return out;
}

export async function benchEngines(quick: boolean): Promise<Figure[]> {
  const cmd = `npx tsx bench/run.ts ${quick ? '--quick ' : ''}--only engines`;
  const thumbs = mkdtempSync(path.join(tmpdir(), 'cs-bench-engines-'));
  const figures: Figure[] = [];
  try {
    for (const set of ['tuxpaint300', 'fashion-mnist-1k']) {
      const list = items(set, quick ? 2 : Infinity);
      const onnx = await embed(list, 'onnx', thumbs);
      const wasm = await embed(list, 'wasm', thumbs);
      const cos = list.map((it) => minCosine(onnx.get(it.imageId)!, wasm.get(it.imageId)!, 2));
      const below = cos.filter((c) => c < SAME_FEATURES_COSINE).length;
      const sorted = [...cos].sort((a, b) => a - b);
      figures.push({
        name: `smallest cosine ONNX Runtime vs tfjs wasm, per image and mirror, ${set} (${list.length} images) (target >= ${SAME_FEATURES_COSINE})`,
        value: sorted[0]!,
        unit: 'cosine',
        command: cmd,
        note: `1 - smallest = ${(1 - sorted[0]!).toExponential(2)}; median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(8)}; ${below} below ${SAME_FEATURES_COSINE}`,
      });
    }
  } finally {
    rmSync(thumbs, { recursive: true, force: true });
  }
  return figures;
}
