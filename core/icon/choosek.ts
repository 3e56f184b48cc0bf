/**
 * Choosing K when the user does not: k-means (k-means++, restarts) for each
 * candidate K on the cached (preprocessed) embeddings, each partition scored
 * by a criterion, the best K wins:
 * - 'modularity' (default): Newman modularity of the partition on the
 *   symmetrised kNN graph (k = 5, cosine): the fraction of kNN edges inside
 *   clusters minus its expectation for the same cluster volumes. It asks the
 *   question I-Con's kNN kernel asks: do neighbours share a cluster?
 * - 'silhouette': mean silhouette on a seeded sample (measured to pick K = 2
 *   on our features: kept for comparison).
 */
import * as tf from '@tensorflow/tfjs';
import { kmeans } from './kmeans.js';
import { fitPreprocess, type PreprocessOptions } from './preprocess.js';
import { Rng } from './rng.js';
import { knnGraph, type KnnGraph } from './knn.js';

export interface ChooseKOptions {
  criterion?: 'modularity' | 'silhouette';
  /** k of the kNN graph for modularity (default 5). */
  graphK?: number;
  sample?: number;
  nInit?: number;
  seed?: number;
  preprocess?: PreprocessOptions;
}

export interface ChooseKResult {
  k: number;
  criterion: 'modularity' | 'silhouette';
  scores: { k: number; score: number }[];
}

/** Newman modularity of a labelling on an (undirected, unweighted) kNN graph. */
export function knnModularity(g: KnnGraph, labels: Int32Array, k: number): number {
  const n = g.n;
  // symmetrised: edge (i,j) for j in kNN(i); both directions counted, each edge weight 1/2 each way
  const m2 = 2 * n * g.k; // sum of degrees of the symmetrised (i->j and j->i) multigraph
  let inside = 0;
  const vol = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < g.k; j++) {
      const c = g.indices[i * g.k + j]!;
      if (labels[c] === labels[i]) inside += 2;
      vol[labels[i]!]! += 1;
      vol[labels[c]!]! += 1;
    }
  }
  let expected = 0;
  for (let c = 0; c < k; c++) expected += (vol[c]! / m2) ** 2;
  return inside / m2 - expected;
}

/**
 * Default candidates: 1..20 (capped at n/3). One group scores 0 on both criteria (a single
 * group's modularity is exactly 0), so a split is chosen only where it beats chance: a folder
 * of near-identical images, or of too few to tell apart (under 6), stays one group.
 */
export function defaultCandidates(n: number): number[] {
  const out: number[] = [];
  for (let k = 1; k <= Math.max(1, Math.min(20, Math.floor(n / 3))); k++) out.push(k);
  return out;
}

/** Mean silhouette of a labelling on rows x [n, d] (Euclidean distances). */
export function silhouette(x: Float32Array, n: number, d: number, labels: Int32Array, k: number): number {
  return tf.tidy(() => {
    const xt = tf.tensor2d(x, [n, d]);
    const sq = tf.sum(tf.square(xt), 1, true);
    const dist = tf.sqrt(tf.relu(tf.add(tf.sub(sq, tf.mul(2, tf.matMul(xt, tf.transpose(xt)))), tf.transpose(sq))));
    const oh = tf.oneHot(tf.tensor1d(labels, 'int32'), k);
    const sums = tf.matMul(dist, oh).arraySync() as number[][]; // [n, k]
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) counts[labels[i]!]! += 1;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const own = labels[i]!;
      if (counts[own]! <= 1) continue; // silhouette 0 for singletons
      const a = sums[i]![own]! / (counts[own]! - 1);
      let b = Infinity;
      for (let c = 0; c < k; c++) if (c !== own && counts[c]! > 0) b = Math.min(b, sums[i]![c]! / counts[c]!);
      const m = Math.max(a, b);
      total += m > 0 && Number.isFinite(b) ? (b - a) / m : 0;
    }
    return total / n;
  });
}

export function chooseK(features: Float32Array, n: number, d: number, candidates?: number[], opts: ChooseKOptions = {}): ChooseKResult {
  const cands = (candidates ?? defaultCandidates(n)).filter((k) => k >= 1 && (k === 1 || k < n));
  if (cands.length === 0) throw new Error('chooseK: no valid candidate');
  const criterion = opts.criterion ?? 'modularity';
  const { out: x, pre } = fitPreprocess(features, n, d, opts.preprocess ?? {});
  const dd = pre.dOut;
  const rng = new Rng(opts.seed ?? 0);
  const m = Math.min(n, opts.sample ?? 2000);
  const idx = m < n ? rng.permutation(n).subarray(0, m) : Int32Array.from({ length: n }, (_, i) => i);
  const xs = new Float32Array(m * dd);
  idx.forEach((src, r) => xs.set(x.subarray(src * dd, src * dd + dd), r * dd));
  // one group needs no graph (and under 2 images there is none to build)
  const graph = criterion === 'modularity' && cands.some((k) => k > 1) ? knnGraph(x, n, dd, Math.min(opts.graphK ?? 5, n - 1)) : null;
  const scores: { k: number; score: number }[] = [];
  for (const k of cands) {
    if (k === 1) {
      scores.push({ k, score: 0 });
      continue;
    }
    const km = kmeans(x, n, dd, { k, nInit: opts.nInit ?? 3, seed: opts.seed ?? 0 });
    if (graph) {
      scores.push({ k, score: knnModularity(graph, km.labels, k) });
    } else {
      const lab = new Int32Array(m);
      idx.forEach((src, r) => (lab[r] = km.labels[src]!));
      scores.push({ k, score: silhouette(xs, m, dd, lab, k) });
    }
  }
  // ties go to the earlier candidate (the smaller K with the default, ascending, list)
  let best = scores[0]!;
  for (const s of scores) if (s.score > best.score) best = s;
  return { k: best.k, criterion, scores };
}
