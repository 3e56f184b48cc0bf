/**
 * chooseK against the truth, on the labelled sets an eval --db holds: for each set and for
 * random subsets of its classes (3 to 8 classes, seeded), the K chosen without labels, whether
 * it lands within +-1 of the number of classes, and I-Con's ACC at the chosen K next to its ACC
 * at the true K; plus K for the whole set in other row orders (must not move).
 *   node bin/constellate.js eval ../shared/datasets/tuxpaint300 --db /tmp/eval.db --seeds 1
 *   npx tsx bench/icon-choosek.ts /tmp/eval.db [subsets=10] [tolerance]
 */
import { initTf } from '../core/embed/backend.js';
import { chooseK } from '../core/icon/choosek.js';
import { DebiasedInfoNCEClustering } from '../core/icon/clustering.js';
import { hungarianAccuracy } from '../core/icon/metrics.js';
import { gatherRows } from '../core/icon/preprocess.js';
import { Rng } from '../core/icon/rng.js';
import { loadLabelled } from '../core/cli/eval.js';
import { openStore } from '../core/store/index.js';

await initTf({ prefer: ['wasm'] });
const dbPath = process.argv[2]!;
const nSubsets = Number(process.argv[3] ?? 10);
const tolerance = process.argv[4] ? Number(process.argv[4]) : undefined;
const store = openStore(dbPath, { readonly: true });
const libs = store.libraries.list();
const data = libs.map((lib) => ({ name: lib.rootPath.replace(/^.*[\\/]/, ''), ...loadLabelled(store, lib.id, lib.rootPath) }));
store.close();

let within = 0;
let total = 0;
for (const set of data) {
  const { features, views, n, d, labels, classes } = set;
  const V = views ? views.length / (n * d) : 0;
  const score = (rows: Int32Array, k: number, truth: number[]): number => {
    const x = gatherRows(features, d, rows);
    const v = views
      ? gatherRows(
          views,
          d,
          Array.from(rows).flatMap((r) => Array.from({ length: V }, (_, j) => r * V + j)),
        )
      : undefined;
    return hungarianAccuracy(truth, new DebiasedInfoNCEClustering({ nClusters: k, seed: 0 }).fit(x, rows.length, d, { views: v }).labels);
  };
  const rng = new Rng(7);
  const subsets: number[][] = [classes.map((_, c) => c)];
  for (let s = 0; s < nSubsets; s++) {
    const m = 3 + rng.int(Math.min(6, classes.length - 2));
    subsets.push(Array.from(rng.permutation(classes.length).subarray(0, m)).sort((a, b) => a - b));
  }
  for (const [si, sub] of subsets.entries()) {
    const rows = Int32Array.from(labels.flatMap((l, i) => (sub.includes(l) ? [i] : [])));
    const truth = Array.from(rows, (r) => labels[r]!);
    const t = performance.now();
    const k = chooseK(gatherRows(features, d, rows), rows.length, d, undefined, tolerance === undefined ? {} : { tolerance }).k;
    const secs = (performance.now() - t) / 1000;
    const ok = Math.abs(k - sub.length) <= 1;
    within += ok ? 1 : 0;
    total++;
    const accAuto = score(rows, k, truth);
    const accTrue = k === sub.length ? accAuto : score(rows, sub.length, truth);
    console.log(
      `${set.name} ${si === 0 ? 'all classes' : `subset ${si}`} (${sub.length} classes, ${rows.length} images): K ${k}${ok ? '' : ' (off)'} in ${secs.toFixed(1)} s; ` +
        `I-Con ACC ${accAuto.toFixed(3)} at K ${k}, ${accTrue.toFixed(3)} at K ${sub.length}`,
    );
  }
  const reordered = [0, 1, 2].map((o) => {
    const perm = new Rng(100 + o).permutation(n);
    return chooseK(gatherRows(features, d, perm), n, d, undefined, tolerance === undefined ? {} : { tolerance }).k;
  });
  console.log(`${set.name}: K in 3 other row orders ${reordered.join(', ')}`);
}
console.log(`within +-1 of the number of classes: ${within} of ${total} (${((100 * within) / total).toFixed(0)}%)`);
