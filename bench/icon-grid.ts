/**
 * Tuning grid for I-Con on a labeled set, on the embeddings `constellate eval` cached (its
 * --db): every option set against k-means on the same features, per seed.
 *   node bin/constellate.js eval ../shared/datasets/tuxpaint300 --db /tmp/tux.db --seeds 1
 *   npx tsx bench/icon-grid.ts /tmp/tux.db 10 '[{}, {"knn": 5}, {"init": "kmeans", "pins": 5}]'
 * Seeds: N (0..N-1) or A-B (A..B-1). Option keys are ClusteringOptions, plus pins (per class:
 * also score regrouping after that many pins and fixes, as `eval --pins`) and noViews. The rows and labels are eval's own (`loadLabelled`); with several libraries in
 * the database, LIBRARY=<end of its root path> picks one.
 */
import { initTf } from '../core/embed/backend.js';
import { evaluate } from '../core/icon/evaluate.js';
import { loadLabelled } from '../core/cli/eval.js';
import { openStore } from '../core/store/index.js';
await initTf({ prefer: ['wasm'] });
const dbPath = process.argv[2]!;
const set = dbPath.replace(/^.*\//, '').replace(/\.db$/, '');
const nSeeds = process.argv[3]!.split('-').map(Number);
const seeds =
  nSeeds.length === 2
    ? Array.from({ length: nSeeds[1]! - nSeeds[0]! }, (_, i) => nSeeds[0]! + i)
    : Array.from({ length: nSeeds[0]! }, (_, i) => i);
const grid = JSON.parse(process.argv[4]!) as object[];
// the eval cache holds one library per labelled folder: the first, or the one named by LIBRARY
const store = openStore(dbPath);
const libs = store.libraries.list();
const lib = process.env.LIBRARY ? libs.find((l) => l.rootPath.endsWith(process.env.LIBRARY!)) : libs[0];
if (!lib) throw new Error(`no library${process.env.LIBRARY ? ` ending in ${process.env.LIBRARY}` : ''} in ${dbPath}`);
const { features, views, n, d, labels, classes: names } = loadLabelled(store, lib.id, lib.rootPath);
store.close();
console.log(`${set}: n=${n} d=${d} k=${names.length}`);
for (const o of grid) {
  const { noViews, pins, ...opts } = o as { noViews?: boolean; pins?: number };
  const r = evaluate({ features, n, d, labels, views: noViews ? undefined : views, options: opts, pinsPerClass: pins ?? 0, seeds });
  const f = (m: { mean: number; std: number }) => `${(100 * m.mean).toFixed(1)}±${(100 * m.std).toFixed(1)}`;
  console.log(
    `${set} ${JSON.stringify(o)} | icon ${f(r.icon.acc)} nmi ${f(r.icon.nmi)} ari ${f(r.icon.ari)} | km ${f(r.kmeans.acc)} | margin ${(100 * (r.icon.acc.mean - r.kmeans.acc.mean)).toFixed(1)} min ${(100 * r.minAccMargin).toFixed(1)} | ${r.perSeed.map((s) => (100 * s.icon.acc).toFixed(0) + '/' + (100 * s.kmeans.acc).toFixed(0)).join(' ')} | iconMs ${(r.perSeed.reduce((a, s) => a + s.iconMs, 0) / r.perSeed.length).toFixed(0)}${r.pinned && r.fixed ? ` | regrouped after ${pins} pins ${f(r.pinned.acc)}, after ${pins} fixes ${f(r.fixed.acc)} per class` : ''}`,
  );
}
