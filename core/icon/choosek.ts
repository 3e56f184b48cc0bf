/**
 * Choosing K when the user does not: a partition for each candidate K, each scored by a
 * criterion; the smallest K within `tolerance` of the best score wins.
 * - 'modularity' (default): the partitions are the trainer's own start (spectral.ts: the
 *   leading eigenvectors of the kNN graph symmetrised at spectralKnn 10; for each K, k-means on
 *   the first K of them) on the trainer's features (PCA 256), scored by the Newman modularity
 *   of the partition on the symmetrised kNN graph (k = 10, cosine): do neighbours share a
 *   cluster, beyond chance? That is the question I-Con's kNN kernel asks. Rows are put in an
 *   order fixed by their values first, so the same images in any order get the same K.
 * - 'silhouette': k-means on the features, mean silhouette on a seeded sample (it picks K = 2
 *   on our features: kept for comparison).
 * What each setting chose on the labelled sets and on random subsets of their classes is in
 * docs/clustering.md (bench/icon-choosek.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULTS } from './clustering.js';
import { kmeans } from './kmeans.js';
import {
  applyPreprocessSource,
  arraySource,
  fitPreprocessor,
  gatherRows,
  l2normalize,
  subsetSource,
  type PreprocessOptions,
  type Preprocessor,
  type RowSource,
} from './preprocess.js';
import { Rng } from './rng.js';
import { knnGraphAuto, neighbourCap, trimGraph, type KnnGraph } from './knn.js';
import { spectralEmbedding } from './spectral.js';
import { identicalRowsSource } from './identicalRows.js';

export interface ChooseKOptions {
  criterion?: 'modularity' | 'silhouette';
  /** k of the kNN graph for modularity (default 10). */
  graphK?: number;
  /** k of the graph whose spectral embedding gives the partitions (default 10, the trainer's spectralKnn). */
  spectralKnn?: number;
  /** Rows scored at most (default: MODULARITY_SAMPLE for modularity, 2,000 for silhouette). */
  sample?: number;
  /**
   * k-means restarts per candidate (default: in the spectral embedding 10 up to 2,000 images,
   * fewer beyond, 1 from 20,000; on the features for silhouette 3).
   */
  nInit?: number;
  seed?: number;
  /** The smallest K scoring within this fraction of the best score wins (default 0.02). */
  tolerance?: number;
  /** Default: the trainer's (L2, PCA to 256 dims, L2): the features the head and its graph see. */
  preprocess?: PreprocessOptions;
}

export interface ChooseKResult {
  k: number;
  criterion: 'modularity' | 'silhouette';
  scores: { k: number; score: number }[];
  /**
   * The preprocessing the partitions were made on, fitted on the rows in their canonical order:
   * with the default `preprocess`, what the trainer would fit (on every row, up to its PCA
   * sample, in another order: the same to float rounding), so it can reuse this one.
   */
  preprocessor: Preprocessor;
  /**
   * Where modularity scored every row (n up to `sample`): the rows through `preprocessor` and
   * their kNN graph (cosine, exact up to KNN_EXACT_UP_TO, k the graph's and spectralKnn's,
   * whichever is larger), both in the source's order. A fit of the same rows on `preprocessor`
   * takes them instead of reducing and searching every row again.
   */
  scored?: { reduced: Float32Array; graph: KnnGraph };
}

/** Modularity scores at most this many rows, a seeded sample of them beyond (ChooseKOptions.sample). */
export const MODULARITY_SAMPLE = 20000;

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
  return chooseKSource(arraySource(features, n, d), candidates, opts);
}

/**
 * chooseK on rows read on demand (e.g. streamed from SQLite): one pass over all rows (copies
 * and the canonical order), then only the rows it samples are read again and reduced.
 */
export function chooseKSource(src: RowSource, candidates?: number[], opts: ChooseKOptions = {}): ChooseKResult {
  const { n } = src;
  const criterion = opts.criterion ?? 'modularity';
  // Rows in an order fixed by their values, so that the same images in any order (renamed,
  // moved, indexed in another order) get the same K: every step below (the PCA's sample, the
  // spectral start, k-means++) depends on the row order, and near the top of the curve that
  // was enough to move K (62 demo images in 4 orders: K 4, 4, 4 and 6).
  // No partition can tell copies of one image apart: a K above the number of distinct images
  // would split them by how the kNN search broke its ties.
  const keyOf = canonicalKeys(src.d, opts.seed ?? 0);
  const key = new Float64Array(n);
  const distinct = identicalRowsSource(src, (block, start, count) => keyOf(block, start, count, key)).unique.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => key[a]! - key[b]!);
  const canon = subsetSource(src, order);
  const pre = fitPreprocessor(canon, { seed: opts.seed ?? 0, ...(opts.preprocess ?? DEFAULTS.preprocess) });
  const dd = pre.dOut;
  const rng = new Rng(opts.seed ?? 0);
  const m = Math.min(n, opts.sample ?? (criterion === 'modularity' ? MODULARITY_SAMPLE : 2000));
  const idx = m < n ? rng.permutation(n).subarray(0, m).sort() : Int32Array.from({ length: n }, (_, i) => i);
  // silhouette's k-means runs on every row; modularity reads only the sampled ones
  const x = criterion === 'silhouette' || m === n ? applyPreprocessSource(pre, canon) : null;
  const xs = x ? (m < n ? gatherRows(x, dd, idx) : x) : applyPreprocessSource(pre, subsetSource(canon, idx));
  const cands = (candidates ?? defaultCandidates(n)).filter((k) => k >= 1 && (k === 1 || (k < n && k <= distinct)));
  if (cands.length === 0) throw new Error('chooseK: no valid candidate');
  const scores: { k: number; score: number }[] = [];
  const split = cands.filter((k) => k > 1);
  // one group needs no partition (and under 2 images there is no graph to build)
  const labelsOf = split.length === 0 ? null : criterion === 'modularity' ? spectralPartitions(xs, m, dd, split, opts) : null;
  for (const k of cands) {
    if (k === 1) {
      scores.push({ k, score: 0 });
      continue;
    }
    if (labelsOf) {
      scores.push({ k, score: knnModularity(labelsOf.graph, labelsOf.partition(k), k) });
    } else {
      const km = kmeans(x!, n, dd, { k, nInit: opts.nInit ?? 3, seed: opts.seed ?? 0 });
      const lab = new Int32Array(m);
      idx.forEach((src, r) => (lab[r] = km.labels[src]!));
      scores.push({ k, score: silhouette(xs, m, dd, lab, k) });
    }
  }
  // The smallest K within `tolerance` of the best score: near its top the curve is flat, and
  // on our features it stays high well past the number of kinds (subclusters of a kind are
  // real structure to the graph), so a wider tolerance over-splits less (docs/clustering.md).
  const top = Math.max(...scores.map((s) => s.score));
  const tol = (opts.tolerance ?? 0.02) * Math.abs(top);
  const k = Math.min(...scores.filter((s) => s.score >= top - tol).map((s) => s.k));
  if (!labelsOf || m < n) return { k, criterion, scores, preprocessor: pre };
  // back in the source's order: its row i is the canonical row rank[i]
  const rank = new Int32Array(n);
  order.forEach((src, r) => (rank[src] = r));
  const scored = { reduced: gatherRows(xs, dd, rank), graph: graphInOrder(labelsOf.searched, order, rank) };
  return { k, criterion, scores, preprocessor: pre, scored };
}

/** A kNN graph over rows in `order` (row r is the source's order[r]), renumbered in the source's order. */
function graphInOrder(g: KnnGraph, order: Int32Array, rank: Int32Array): KnnGraph {
  const indices = new Int32Array(g.indices.length);
  for (let i = 0; i < g.n; i++) for (let j = 0; j < g.k; j++) indices[i * g.k + j] = order[g.indices[rank[i]! * g.k + j]!]!;
  return { n: g.n, k: g.k, indices, sims: gatherRows(g.sims, g.k, rank) };
}

/**
 * The partitions modularity scores, as the trainer would start at each K: one kNN search, the
 * spectral embedding of its graph at spectralKnn (capped for small groups at K as the trainer
 * caps it: neighbourCap), then per K k-means on the first K dimensions (rows renormalised:
 * the embedding of K clusters). One embedding serves every K with the same cap (all of them
 * from about 600 images on). `graph` is what modularity scores on, `searched` the search itself.
 */
function spectralPartitions(
  x: Float32Array,
  n: number,
  d: number,
  ks: number[],
  opts: ChooseKOptions,
): { graph: KnnGraph; searched: KnnGraph; partition: (k: number) => Int32Array } {
  const seed = opts.seed ?? 0;
  // capped for a handful of images as the trainer caps its own graph: with 6 copies each of 2
  // images, 10 neighbours would reach across to the other image and hide the split
  const graphK = Math.min(opts.graphK ?? 10, neighbourCap(n, 2));
  const spectralK = (k: number): number => Math.min(opts.spectralKnn ?? 10, neighbourCap(n, k));
  const full = knnGraphAuto(x, n, d, Math.max(graphK, ...ks.map(spectralK)), { seed });
  // restarts shrink as n grows, as the trainer's start does (10 up to 2,000 images, 1 from 20,000)
  const restarts = Math.max(1, Math.min(10, Math.round(20000 / n)));
  const embeddings = new Map<number, { emb: Float32Array; dims: number }>();
  const embeddingFor = (k: number): { emb: Float32Array; dims: number } => {
    const sk = spectralK(k);
    let e = embeddings.get(sk);
    if (!e) {
      const dims = Math.max(...ks.filter((c) => spectralK(c) === sk));
      const emb = spectralEmbedding(trimGraph(full, sk), dims, { seed });
      embeddings.set(sk, (e = { emb, dims: emb.length / n }));
    }
    return e;
  };
  return {
    graph: trimGraph(full, graphK),
    searched: full,
    partition: (k) => {
      const { emb, dims } = embeddingFor(k);
      const kd = Math.min(k, dims);
      const sub = new Float32Array(n * kd);
      for (let i = 0; i < n; i++) sub.set(emb.subarray(i * dims, i * dims + kd), i * kd);
      return kmeans(l2normalize(sub, n, kd), n, kd, { k, nInit: opts.nInit ?? restarts, seed }).labels;
    },
  };
}

/**
 * The key that puts rows in an order depending only on their values: each row's projection on
 * a seeded random direction (ties: identical rows, interchangeable). Fills key[start..] block
 * by block.
 */
function canonicalKeys(d: number, seed: number): (block: Float32Array, start: number, count: number, key: Float64Array) => void {
  const w = new Rng(seed + 0x5eed).normalArray(d, 1);
  return (block, start, count, key) => {
    for (let r = 0; r < count; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += block[r * d + j]! * w[j]!;
      key[start + r] = s;
    }
  };
}
