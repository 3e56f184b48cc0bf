/**
 * chooseK on a labelled set's cached embeddings (an eval --db, as bench/icon-grid.ts): the K
 * chosen and its time, the K chosen for the same rows in other orders (must not move), on
 * random 95% subsets (how much K moves when a few images come or go), and the modularity curve.
 *   npx tsx bench/icon-choosek.ts /tmp/features/tuxpaint300.db [subsets=10]
 * LIBRARY=<end of its root path> picks a library, as in icon-grid.ts.
 */
import { initTf } from '../core/embed/backend.js';
import { chooseK } from '../core/icon/choosek.js';
import { Rng } from '../core/icon/rng.js';
import { loadLabelled } from '../core/cli/eval.js';
import { openStore } from '../core/store/index.js';

await initTf({ prefer: ['wasm'] });
const dbPath = process.argv[2]!;
const orders = Number(process.argv[3] ?? 10);
const store = openStore(dbPath);
const libs = store.libraries.list();
const lib = process.env.LIBRARY ? libs.find((l) => l.rootPath.endsWith(process.env.LIBRARY!)) : libs[0];
if (!lib) throw new Error(`no library${process.env.LIBRARY ? ` ending in ${process.env.LIBRARY}` : ''} in ${dbPath}`);
const { features, n, d, classes } = loadLabelled(store, lib.id, lib.rootPath);
store.close();

/** chooseK on the given rows (indices into the set), in the given order; K and seconds. */
function choose(rows: ArrayLike<number>): { k: number; s: number; curve: string } {
  const x = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) x.set(features.subarray(rows[i]! * d, (rows[i]! + 1) * d), i * d);
  const t = performance.now();
  const r = chooseK(x, rows.length, d);
  return { k: r.k, s: (performance.now() - t) / 1000, curve: r.scores.map((c) => `${c.k}:${c.score.toFixed(3)}`).join(' ') };
}
const all = Int32Array.from({ length: n }, (_, i) => i);
const base = choose(all);
// the same images in other orders (renamed, moved, indexed otherwise): must not move K
const reordered = Array.from({ length: 3 }, (_, o) => choose(new Rng(100 + o).permutation(n)).k);
// 95% of the images, 'orders' times: how much K moves when a few images come or go
const subsets = Array.from({ length: orders }, (_, o) => choose(new Rng(200 + o).permutation(n).subarray(0, Math.round(0.95 * n)).sort()).k);
console.log(`${lib.rootPath}: n=${n}, true K ${classes.length}; chosen K ${base.k} (${base.s.toFixed(2)} s); in 3 other row orders ${reordered.join(',')}; on ${orders} random 95% subsets ${subsets.join(',')}`);
console.log(`modularity by K: ${base.curve}`);
