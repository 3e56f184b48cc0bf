/**
 * k-means (Lloyd) with k-means++ initialisation and several restarts: the
 * baseline, on the same (preprocessed) features. Distances by tfjs matmul in
 * row blocks; deterministic for a seed.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from './rng.js';

export interface KMeansOptions {
  k: number;
  /** Restarts; the run with the lowest inertia wins (default 10). */
  nInit?: number;
  maxIter?: number;
  /** Stop when the relative inertia change is below tol (default 1e-6). */
  tol?: number;
  seed?: number;
  /**
   * Constraints: fixed[i] = cluster of point i (-1: free). Fixed points seed
   * their cluster (the mean of its fixed points) and never move; the other
   * centres come from k-means++ (seeded k-means).
   */
  fixed?: Int32Array;
}

export interface KMeansResult {
  labels: Int32Array;
  /** Row-major [k, d]. */
  centroids: Float32Array;
  inertia: number;
  iterations: number;
}

const BLOCK = 8192;

/**
 * The rows as tfjs blocks plus their squared norms, built once and shared by
 * every restart and iteration. Why: on wasm each elementwise op over [n, d]
 * costs about 10 ns an entry (slicing, squaring), while the matmul that
 * gives the dot products runs at full speed; with the norms kept in JS, a
 * distance pass is one matmul per block and an [n, k] loop in JS.
 */
export class PointBlocks {
  readonly blocks: { start: number; rows: number; t: tf.Tensor2D }[] = [];
  readonly norms: Float32Array;
  constructor(
    readonly data: Float32Array,
    readonly n: number,
    readonly d: number,
  ) {
    this.norms = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = i * d; j < (i + 1) * d; j++) s += data[j]! * data[j]!;
      this.norms[i] = s;
    }
    for (let s = 0; s < n; s += BLOCK) {
      const rows = Math.min(BLOCK, n - s);
      this.blocks.push({ start: s, rows, t: tf.tensor2d(data.subarray(s * d, (s + rows) * d), [rows, d]) });
    }
  }
  dispose(): void {
    for (const b of this.blocks) b.t.dispose();
  }
}

/**
 * Centroids [k, d] as the columns of a [d, k] matrix (for x·c as one matmul) and their squared
 * norms: the nearest centroid is the argmax of x·c - |c|^2 / 2.
 */
export function centroidColumns(centroids: Float32Array, k: number, d: number): { cT: Float32Array; sqNorms: Float32Array } {
  const cT = new Float32Array(d * k);
  const sqNorms = new Float32Array(k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = centroids[c * d + j]!;
      cT[j * k + c] = v;
      s += v * v;
    }
    sqNorms[c] = s;
  }
  return { cT, sqNorms };
}

/**
 * Feature means [k, d] of the groups of a labelling (rows labelled < 0 are left out; an empty
 * group's mean stays zero) and the group sizes.
 */
export function groupMeans(
  data: Float32Array,
  n: number,
  d: number,
  labels: ArrayLike<number>,
  k: number,
): { means: Float32Array; counts: Float64Array } {
  const means = new Float32Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (c < 0) continue;
    counts[c]! += 1;
    const o = i * d;
    const co = c * d;
    for (let j = 0; j < d; j++) means[co + j]! += data[o + j]!;
  }
  for (let c = 0; c < k; c++) if (counts[c]! > 0) for (let j = 0; j < d; j++) means[c * d + j] = means[c * d + j]! / counts[c]!;
  return { means, counts };
}

/** For each row the nearest centroid and its squared distance. */
export function assignToCentroids(pts: PointBlocks, centroids: Float32Array, k: number): { labels: Int32Array; d2: Float32Array } {
  const { n, d } = pts;
  const labels = new Int32Array(n);
  const d2 = new Float32Array(n);
  const { cT, sqNorms: cn } = centroidColumns(centroids, k, d);
  const ct = tf.tensor2d(cT, [d, k]);
  for (const { start, rows, t } of pts.blocks) {
    const dotsT = tf.matMul(t, ct);
    const dots = dotsT.dataSync() as Float32Array;
    dotsT.dispose();
    for (let r = 0; r < rows; r++) {
      const xn = pts.norms[start + r]!;
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        const dist = xn - 2 * dots[r * k + c]! + cn[c]!;
        if (dist < bestD) {
          bestD = dist;
          best = c;
        }
      }
      labels[start + r] = best;
      d2[start + r] = bestD > 0 ? bestD : 0;
    }
  }
  ct.dispose();
  return { labels, d2 };
}

/** k-means++ seeding (D^2 sampling). */
export function kmeansPlusPlus(x: PointBlocks, k: number, rng: Rng, given?: { centroids: Float32Array; has: boolean[] }): Float32Array {
  const { n, d, data } = x;
  const centroids = new Float32Array(k * d);
  let best: Float32Array;
  let start = 1;
  const order = Array.from({ length: k }, (_, i) => i);
  if (given && given.has.some((h) => h)) {
    // clusters with given centres first, the free ones by D^2 sampling after them
    const fixedIdx = order.filter((c) => given.has[c]);
    const freeIdx = order.filter((c) => !given.has[c]);
    best = new Float32Array(n).fill(Infinity);
    for (const c of fixedIdx) {
      centroids.set(given.centroids.subarray(c * d, c * d + d), c * d);
      const nd = assignToCentroids(x, centroids.subarray(c * d, (c + 1) * d), 1).d2;
      for (let i = 0; i < n; i++) if (nd[i]! < best[i]!) best[i] = nd[i]!;
    }
    order.splice(0, k, ...fixedIdx, ...freeIdx);
    start = fixedIdx.length;
  } else {
    const first = rng.int(n);
    centroids.set(data.subarray(first * d, first * d + d), 0);
    best = assignToCentroids(x, centroids.subarray(0, d), 1).d2;
  }
  // Greedy k-means++ (Arthur & Vassilvitskii 2007, section 3; scikit-learn's default): each
  // centre is the best of 2 + ln k candidates drawn by D^2 sampling, the one that lowers the
  // potential most. Plain k-means++ (one candidate) left our baseline several ACC points under
  // scikit-learn's KMeans at the same n_init (docs/clustering.md).
  const trials = 2 + Math.floor(Math.log(k));
  for (let oc = start; oc < k; oc++) {
    const c = order[oc]!;
    let total = 0;
    for (let i = 0; i < n; i++) total += best[i]!;
    let bestPot = Infinity;
    let bestD2: Float32Array | null = null;
    for (let t = 0; t < trials; t++) {
      const pick = total > 0 ? sampleD2(best, total, rng) : rng.int(n);
      const nd = assignToCentroids(x, data.subarray(pick * d, pick * d + d), 1).d2;
      let pot = 0;
      for (let i = 0; i < n; i++) pot += Math.min(nd[i]!, best[i]!);
      if (pot < bestPot) {
        bestPot = pot;
        bestD2 = nd;
        centroids.set(data.subarray(pick * d, pick * d + d), c * d);
      }
    }
    for (let i = 0; i < n; i++) if (bestD2![i]! < best[i]!) best[i] = bestD2![i]!;
  }
  return centroids;
}

/** A row drawn with probability proportional to its squared distance (D^2 sampling). */
function sampleD2(d2: Float32Array, total: number, rng: Rng): number {
  let r = rng.next() * total;
  for (let i = 0; i < d2.length; i++) {
    r -= d2[i]!;
    if (r <= 0) return i;
  }
  return d2.length - 1;
}

function lloyd(x: PointBlocks, init: Float32Array, k: number, maxIter: number, tol: number, rng: Rng, fixed?: Int32Array): KMeansResult {
  const { n, d, data } = x;
  let centroids = init;
  let prev = Infinity;
  let labels: Int32Array = new Int32Array(n);
  let inertia = Infinity;
  let it = 0;
  for (; it < maxIter; it++) {
    const a = assignToCentroids(x, centroids, k);
    if (fixed)
      for (let i = 0; i < n; i++)
        if (fixed[i]! >= 0) {
          a.labels[i] = fixed[i]!;
          a.d2[i] = 0;
        }
    labels = a.labels;
    inertia = 0;
    for (let i = 0; i < n; i++) inertia += a.d2[i]!;
    const { means: next, counts } = groupMeans(data, n, d, labels, k);
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        // empty cluster: re-seed at the point farthest from its centroid
        let far = 0;
        for (let i = 1; i < n; i++) if (a.d2[i]! > a.d2[far]!) far = i;
        a.d2[far] = 0;
        next.set(data.subarray(far * d, far * d + d), c * d);
        void rng;
      }
    }
    centroids = next;
    if (Math.abs(prev - inertia) <= tol * Math.max(inertia, 1e-12)) {
      it++;
      break;
    }
    prev = inertia;
  }
  const fin = assignToCentroids(x, centroids, k);
  if (fixed)
    for (let i = 0; i < n; i++)
      if (fixed[i]! >= 0) {
        fin.labels[i] = fixed[i]!;
        fin.d2[i] = 0;
      }
  inertia = 0;
  for (let i = 0; i < n; i++) inertia += fin.d2[i]!;
  return { labels: fin.labels, centroids, inertia, iterations: it };
}

/** k-means on row-major features [n, d]; best of nInit k-means++ restarts. */
export function kmeans(data: Float32Array, n: number, d: number, opts: KMeansOptions): KMeansResult {
  const { k } = opts;
  if (k < 1 || k > n) throw new Error(`kmeans: k=${k} invalid for n=${n}`);
  const nInit = opts.nInit ?? 10;
  const rng = new Rng(opts.seed ?? 0);
  const x = new PointBlocks(data, n, d);
  try {
    let best: KMeansResult | null = null;
    let given: { centroids: Float32Array; has: boolean[] } | undefined;
    if (opts.fixed) {
      const { means, counts } = groupMeans(data, n, d, opts.fixed, k);
      given = { centroids: means, has: Array.from(counts, (v) => v > 0) };
    }
    for (let r = 0; r < nInit; r++) {
      const init = kmeansPlusPlus(x, k, rng, given);
      const res = lloyd(x, init, k, opts.maxIter ?? 100, opts.tol ?? 1e-6, rng, opts.fixed);
      if (!best || res.inertia < best.inertia) best = res;
    }
    return best!;
  } finally {
    x.dispose();
  }
}
