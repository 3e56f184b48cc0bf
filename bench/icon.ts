/**
 * I-Con engine benchmarks (synthetic features, 1792-d like MobileNetV2):
 * training time at 10k and 100k images, re-clustering 10k with another K on
 * the cached kNN graph, assigning 100 new images with a trained head, and
 * the 2-D map (t-SNE as I-Con) at 100k. `npm run bench -- --only icon`
 * (`--quick`: small sizes for CI). Standalone: `npx tsx bench/icon.ts [--quick]`.
 */
import { initTf } from '../core/embed/backend.js';
import { DebiasedInfoNCEClustering } from '../core/icon/clustering.js';
import { tsneMapDetailed } from '../core/icon/tsne.js';
import { Rng } from '../core/icon/rng.js';
import type { Figure } from './report.js';

/** Blobs on the sphere-ish: `k` centres, n points, d dims, float32 row-major. */
function synthetic(n: number, d: number, k: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const centres = rng.normalArray(k * d, 1);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = rng.int(k);
    for (let j = 0; j < d; j++) x[i * d + j] = centres[c * d + j]! + 1.5 * rng.normal();
  }
  return x;
}

const sec = (ms: number): number => ms / 1000;

export async function benchIcon(quick: boolean): Promise<Figure[]> {
  const { backend } = await initTf();
  const cmd = `npm run bench -- --only icon${quick ? ' --quick' : ''}`;
  const figs: Figure[] = [];
  const d = quick ? 256 : 1792;
  const log = (f: Figure): void => {
    figs.push(f);
    console.error(`  ${f.name}: ${f.value} ${f.unit} ${f.note ?? ''}`);
  };
  const only = (process.env.ICON_BENCH ?? 'train10k,recluster,predict,train100k,tsne100k').split(',');

  // --- 10k (quick: 2k)
  const n1 = quick ? 2000 : 10000;
  const x1 = synthetic(n1, d, 20, 1);
  const model = new DebiasedInfoNCEClustering({ nClusters: 20, seed: 0 });
  let graph = undefined as ReturnType<DebiasedInfoNCEClustering['fit']>['graph'] | undefined;
  if (only.includes('train10k')) {
    const t0 = performance.now();
    const r = model.fit(x1, n1, d);
    graph = r.graph;
    const t = performance.now() - t0;
    log({ name: `icon.train.${n1}x${d}`, value: sec(t), unit: 's', command: cmd, note: `${backend.choice}; knn ${sec(r.timings.knnMs).toFixed(1)} s, train ${sec(r.timings.trainMs).toFixed(1)} s` });
  }
  if (only.includes('recluster') && graph) {
    const t0 = performance.now();
    new DebiasedInfoNCEClustering({ nClusters: 12, seed: 0 }).fit(x1, n1, d, { graph });
    log({ name: `icon.recluster.${n1}.otherK`, value: sec(performance.now() - t0), unit: 's', command: cmd, note: 'cached kNN graph, K 20 -> 12, shipped defaults' });
  }
  if (only.includes('predict') && graph) {
    const xNew = synthetic(100, d, 20, 1);
    const t0 = performance.now();
    model.predict(xNew, 100);
    log({ name: 'icon.predict.100new', value: sec(performance.now() - t0), unit: 's', command: cmd, note: 'trained head, no retraining (independent of library size)' });
  }
  if (quick) return figs;

  // --- 100k
  const n2 = 100000;
  if (only.includes('train100k')) {
    const x2 = synthetic(n2, d, 50, 2);
    const t0 = performance.now();
    const r = new DebiasedInfoNCEClustering({ nClusters: 50, seed: 0 }).fit(x2, n2, d);
    const t = performance.now() - t0;
    log({ name: `icon.train.${n2}x${d}`, value: sec(t), unit: 's', command: cmd, note: `knn(IVF on PCA-128) ${sec(r.timings.knnMs).toFixed(1)} s, train ${sec(r.timings.trainMs).toFixed(1)} s, rss ${(process.memoryUsage().rss / 2 ** 30).toFixed(1)} GiB` });
  }
  if (only.includes('tsne100k')) {
    const x3 = synthetic(n2, d, 50, 3);
    const t0 = performance.now();
    const r = tsneMapDetailed(x3, n2, d, { seed: 0 });
    const t = performance.now() - t0;
    log({ name: `icon.tsne.${n2}x${d}`, value: sec(t), unit: 's', command: cmd, note: `${r.method}: PCA ${sec(r.timings.preprocessMs).toFixed(1)} s, kNN+p ${sec(r.timings.knnMs).toFixed(1)} s, optimise ${sec(r.timings.optimizeMs).toFixed(1)} s` });
  }
  return figs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figs = await benchIcon(process.argv.includes('--quick'));
  for (const f of figs) console.log(`${f.name}\t${f.value?.toFixed(2)}\t${f.unit}\t${f.note ?? ''}`);
}
