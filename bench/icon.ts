/**
 * I-Con engine benchmarks on synthetic 1792-d features (the shape of MobileNetV2's): training
 * time at 10k and 100k images next to k-means on the same preprocessed features, re-clustering
 * 10k with another K as the app does it (the previous run's kNN graph and PCA reused) and into
 * the same K from the current groups after the user moved images, assigning
 * 100 new images to a 100k library with the trained head, the 2-D map at 300 (a small
 * library: the dense exact path) and at 100k, and at 1,000,000 images I-Con streamed from a
 * real SQLite database in its own process (time and peak RSS). `npm run bench -- --only icon`
 * (`--quick`: small sizes for CI; ICON_BENCH=a,b picks parts:
 * train10k,recluster,choosek,train100k,predict,tsne300,tsne100k,train1m). choosek: the app's
 * default, K chosen from the data, at 10k (20 true groups) and 100k (50; candidates stop at 20).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initTf } from '../core/embed/backend.js';
import { DebiasedInfoNCEClustering, RECLUSTER_OVERRIDES, type FitResult } from '../core/icon/clustering.js';
import { chooseK } from '../core/icon/choosek.js';
import { kmeans } from '../core/icon/kmeans.js';
import { hungarianAccuracy } from '../core/icon/metrics.js';
import { fitPreprocess } from '../core/icon/preprocess.js';
import { tsneMapDetailed } from '../core/icon/tsne.js';
import type { Figure } from './report.js';
import { syntheticBlobs } from './synthetic.js';

const sec = (ms: number): number => ms / 1000;
const here = path.dirname(fileURLToPath(import.meta.url));

function phases(r: FitResult): string {
  const t = r.timings;
  return `PCA ${sec(t.preprocessMs).toFixed(1)} s, kNN ${sec(t.knnMs).toFixed(1)} s, init ${sec(t.initMs).toFixed(1)} s, train ${sec(t.trainMs).toFixed(1)} s (${t.steps} steps)`;
}

export async function benchIcon(quick: boolean): Promise<Figure[]> {
  const { backend } = await initTf();
  const cmd = `npm run bench -- --only icon${quick ? ' --quick' : ''}`;
  const figs: Figure[] = [];
  const d = quick ? 256 : 1792;
  const log = (f: Figure): void => {
    figs.push(f);
    console.error(`  ${f.name}: ${f.value?.toFixed(2)} ${f.unit} ${f.note ?? ''}`);
  };
  const only = (process.env.ICON_BENCH ?? 'train10k,recluster,choosek,train100k,predict,tsne300,tsne100k,train1m').split(',');

  /** I-Con and k-means (shipped baseline settings) on the same data; returns the fitted model. */
  const trainPair = (n: number, C: number, seed: number): { model: DebiasedInfoNCEClustering; fit: FitResult; x: Float32Array } => {
    const { x, labels } = syntheticBlobs(n, d, C, seed);
    const model = new DebiasedInfoNCEClustering({ nClusters: C, seed: 0 });
    let t0 = performance.now();
    const fit = model.fit(x, n, d);
    const iconMs = performance.now() - t0;
    const mem = process.memoryUsage().rss / 2 ** 30;
    log({
      name: `icon.train.${n}x${d}`,
      value: sec(iconMs),
      unit: 's',
      command: cmd,
      note: `${backend.choice}; ${phases(fit)}; ACC ${hungarianAccuracy(labels, fit.labels).toFixed(3)}; rss ${mem.toFixed(1)} GiB`,
    });
    t0 = performance.now();
    const { out } = fitPreprocess(x, n, d, { seed: 0, ...model.opts.preprocess });
    const restarts = n > 20000 ? 3 : 10; // the eval baseline's 10 restarts would take minutes at 100k
    const km = kmeans(out, n, out.length / n, { k: C, seed: 0, nInit: restarts });
    log({
      name: `kmeans.${n}x${d}`,
      value: sec(performance.now() - t0),
      unit: 's',
      command: cmd,
      note: `same preprocessing (PCA included in the time), ${restarts} restarts; ACC ${hungarianAccuracy(labels, km.labels).toFixed(3)}`,
    });
    return { model, fit, x };
  };

  // --- 10k (quick: 2k): train, then re-cluster with another K the way the app does
  const n1 = quick ? 1000 : 10000;
  if (only.includes('train10k') || only.includes('recluster')) {
    const { model, fit, x } = trainPair(n1, 20, 1);
    if (only.includes('recluster')) {
      const t0 = performance.now();
      const r = new DebiasedInfoNCEClustering({ nClusters: 12, seed: 0, ...RECLUSTER_OVERRIDES }).fit(x, n1, d, {
        graph: fit.graph,
        preprocessor: model.exportHead().preprocessor,
      });
      log({
        name: `icon.recluster.${n1}.otherK`,
        value: sec(performance.now() - t0),
        unit: 's',
        command: cmd,
        note: `K 20 -> 12 as the app re-clusters: previous kNN graph and PCA reused, RECLUSTER_OVERRIDES ${JSON.stringify(RECLUSTER_OVERRIDES)}; ${phases(r)}`,
      });
      // the same K after the user's fixes: training starts from their groups, full schedule
      const pins = new Map<number, number>();
      for (let i = 0; i < n1; i += 100) pins.set(i, fit.labels[(i + 50) % n1]!);
      const t1 = performance.now();
      const g = new DebiasedInfoNCEClustering({ nClusters: 20, seed: 0 }).fit(x, n1, d, {
        graph: fit.graph,
        preprocessor: model.exportHead().preprocessor,
        pins,
        start: fit.labels,
      });
      log({
        name: `icon.regroup.${n1}.sameK`,
        value: sec(performance.now() - t1),
        unit: 's',
        command: cmd,
        note: `K 20 again after ${pins.size} images moved: starts from the current groups, full schedule, previous kNN graph and PCA reused; ${phases(g)}`,
      });
    }
  }

  // --- choosing K (the app's default when the user gives none), at both sizes
  if (only.includes('choosek')) {
    for (const [n, C, seed] of [
      [n1, 20, 4],
      [quick ? 3000 : 100000, 50, 5],
    ] as const) {
      const { x } = syntheticBlobs(n, d, C, seed);
      const t0 = performance.now();
      const r = chooseK(x, n, d, undefined, { seed: 0 });
      log({
        name: `icon.chooseK.${n}x${d}`,
        value: sec(performance.now() - t0),
        unit: 's',
        command: cmd,
        note: `chose K ${r.k} of candidates 1-${r.scores.at(-1)!.k} (${C} true groups): spectral partitions of a kNN graph on at most 20,000 sampled rows, modularity`,
      });
    }
  }

  // --- 100k (quick: 5k): train; assign 100 new images with the trained head
  const n2 = quick ? 3000 : 100000;
  if (only.includes('train100k') || only.includes('predict')) {
    const { model } = trainPair(n2, 50, 2);
    const { x: xNew } = syntheticBlobs(100, d, 50, 2, n2);
    const t0 = performance.now();
    model.predict(xNew, 100);
    log({
      name: `icon.assign.100new.to${n2}`,
      value: sec(performance.now() - t0),
      unit: 's',
      command: cmd,
      note: 'trained head (PCA + linear + softmax), no retraining',
    });
  }

  if (only.includes('tsne300')) {
    const { x } = syntheticBlobs(300, d, 10, 3);
    const t0 = performance.now();
    const r = tsneMapDetailed(x, 300, d, { seed: 0 });
    log({
      name: `icon.tsne.300x${d}`,
      value: sec(performance.now() - t0),
      unit: 's',
      command: cmd,
      note: `${r.method}: PCA ${sec(r.timings.preprocessMs).toFixed(1)} s, optimise ${sec(r.timings.optimizeMs).toFixed(1)} s`,
    });
  }

  if (only.includes('tsne100k')) {
    const { x } = syntheticBlobs(n2, d, 50, 3);
    const t0 = performance.now();
    const r = tsneMapDetailed(x, n2, d, { seed: 0 });
    log({
      name: `icon.tsne.${n2}x${d}`,
      value: sec(performance.now() - t0),
      unit: 's',
      command: cmd,
      note: `${r.method}: PCA ${sec(r.timings.preprocessMs).toFixed(1)} s, kNN+p ${sec(r.timings.knnMs).toFixed(1)} s, optimise ${sec(r.timings.optimizeMs).toFixed(1)} s`,
    });
  }

  // --- 1M (quick: 20k), streamed from SQLite in a child process (its own peak RSS)
  if (only.includes('train1m')) {
    const n3 = quick ? 3000 : 1_000_000;
    const child = spawnSync(process.execPath, [...process.execArgv, path.join(here, 'iconScale.ts'), String(n3), '50'], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = child.stdout.trim().split('\n').at(-1) ?? '';
    if (child.status !== 0 || !line.startsWith('{')) throw new Error(`iconScale ${n3} failed (exit ${child.status})`);
    const r = JSON.parse(line) as {
      iconS: number;
      iconAcc: number;
      kmeansS: number;
      kmeansPrepS: number;
      kmeansAcc: number;
      kmeansOpts: object;
      peakRssBytes: number;
      peakRssAfterIconBytes: number;
      writeS: number;
      dbBytes: number;
      timings: FitResult['timings'];
    };
    const gib = (b: number): string => (b / 2 ** 30).toFixed(2);
    const scaleCmd = `npx tsx bench/iconScale.ts ${n3} 50`;
    log({
      name: `icon.train.${n3}x${d}.sqlite`,
      value: r.iconS,
      unit: 's',
      command: scaleCmd,
      note: `streamed from SQLite (${gib(r.dbBytes)} GiB db written in ${r.writeS.toFixed(0)} s); ${phases({ timings: r.timings } as FitResult)}; ACC ${r.iconAcc.toFixed(3)}; peak RSS ${gib(r.peakRssAfterIconBytes)} GiB`,
    });
    log({
      name: `kmeans.${n3}x${d}.sqlite`,
      value: r.kmeansS,
      unit: 's',
      command: scaleCmd,
      note: `same preprocessing (+${r.kmeansPrepS.toFixed(0)} s to stream and reduce), ${JSON.stringify(r.kmeansOpts)}; ACC ${r.kmeansAcc.toFixed(3)}; peak RSS ${gib(r.peakRssBytes)} GiB`,
    });
    log({
      name: `icon.peakRss.${n3}`,
      value: r.peakRssAfterIconBytes / 2 ** 30,
      unit: 'GiB',
      command: scaleCmd,
      note: 'whole process while I-Con ran (target < 6 GB at 1M)',
    });
  }
  return figs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figs = await benchIcon(process.argv.includes('--quick'));
  for (const f of figs) console.log(`${f.name}\t${f.value?.toFixed(2)}\t${f.unit}\t${f.note ?? ''}`);
}
