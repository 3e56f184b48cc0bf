/**
 * The 2-D map on a labelled set's cached embeddings (an eval --db, as bench/icon-grid.ts): time
 * and quality of the exact and the sampled t-SNE paths. Quality: the share of each image's 10
 * nearest neighbours on the map that carry its label. KEEP=1|2 maps a third / two thirds of the
 * images (every third row kept / dropped) to look at small libraries.
 *   npx tsx bench/icon-map.ts /tmp/features/tuxpaint300.db
 */
import { initTf } from '../core/embed/backend.js';
import { tsneMapDetailed } from '../core/icon/tsne.js';
import { loadLabelled } from '../core/cli/eval.js';
import { openStore } from '../core/store/index.js';
import { gatherRows } from '../core/icon/preprocess.js';

await initTf({ prefer: ['wasm'] });
const store = openStore(process.argv[2]!);
const lib = store.libraries.list()[0]!;
const all = loadLabelled(store, lib.id, lib.rootPath);
store.close();
const keep = Number(process.env.KEEP ?? 3);
const rows = Array.from({ length: all.n }, (_, i) => i).filter((i) => i % 3 < keep);
const n = rows.length;
const features = gatherRows(all.features, all.d, rows);
const labels = rows.map((i) => all.labels[i]!);

function labelAgreement(xy: Float32Array, k = 10): number {
  let same = 0;
  for (let i = 0; i < n; i++) {
    const near = Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== i)
      .map((j) => [(xy[2 * i]! - xy[2 * j]!) ** 2 + (xy[2 * i + 1]! - xy[2 * j + 1]!) ** 2, j] as const)
      .sort((a, b) => a[0] - b[0])
      .slice(0, k);
    for (const [, j] of near) if (labels[j] === labels[i]) same++;
  }
  return same / (n * k);
}

for (const exactUpTo of [n, 0]) {
  const t = performance.now();
  const r = tsneMapDetailed(features, n, all.d, { seed: 0, exactUpTo });
  const s = (performance.now() - t) / 1000;
  console.log(`${lib.rootPath}: ${n} images, ${r.method}: ${s.toFixed(1)} s, 10-NN label agreement ${labelAgreement(r.points).toFixed(3)}`);
}
