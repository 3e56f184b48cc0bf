/**
 * The 2-D map: t-SNE as an I-Con instance. Supervisory kernel p = Gaussian on
 * features with per-point bandwidth set by perplexity (symmetrised); learned
 * kernel q = Student-t (Cauchy) on the 2-D points; loss = sum_i KL(p_i||q_i).
 *
 * - n <= exactUpTo (default 300): dense p from the Gaussian kernel, the loss's gradient over all
 *   pairs, Adam. Its time grows with n^2 (0.7 s at 300 points, 7 s at 1,000 on this machine),
 *   while the sampled path below maps 1,000 in 0.7 s as well: 2-D 10-NN label agreement on
 *   fashion-mnist-1k 0.624 exact vs 0.613 sampled, tuxpaint300 0.517 vs 0.509
 *   (bench/icon-map.ts). Below ~300 the exact path is clearly better (200 tuxpaint images:
 *   0.489 vs 0.453) and still quick.
 * - larger n: PCA-50 fitted on a 10k-row sample; perplexity 15 by default;
 *   300 iterations; sparse p on the kNN graph (k = 3 x perplexity, HNSW kNN beyond
 *   20k points) and q normalised with sampled negatives,
 *   q_ij = w_ij / Z_i, Z_i ≈ (n-1)/M sum_m w_im over M uniform negatives per
 *   point and iteration (a LargeVis/UMAP-style unbiased estimate of the
 *   partition function). The gradient of that same loss is written out in
 *   plain JS on typed arrays (the sparse per-edge work is faster there than
 *   as tf ops).
 * - n counts distinct images: copies of one image (bit-identical rows) share one point.
 * - beyond MAP_POINTS_UP_TO distinct rows, the t-SNE maps a seeded sample of that many, and every
 *   other row goes beside its most similar sampled row (cosine on the PCA-50 rows), with a small
 *   seeded offset: the out-of-sample placement mapPlacement.ts uses for new images.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from './rng.js';
import {
  applyPreprocess,
  arraySource,
  fitPreprocessor,
  gatherRows,
  l2normalize,
  pcaFit,
  type Preprocessor,
  type RowSource,
} from './preprocess.js';
import { knnGraphAuto, nearestBaseRows, normalizeSparseRows, symmetrizeSparse, type SparseRows } from './knn.js';
import { gaussianKernel, perplexityBetas } from './kernels.js';
import { identicalRowsSource } from './identicalRows.js';

/** Points up to which the dense exact path is used (see above). */
export const EXACT_UP_TO = 300;

/**
 * Distinct rows up to which every row is a point of the t-SNE; beyond, a sample of this many
 * is, and the others are placed beside them. At 1,000,000 images the full map took 30 minutes
 * and most of the first run's 7.7 GiB; with the sample, 4 minutes (docs/scale.md).
 */
export const MAP_POINTS_UP_TO = 150_000;

export interface TsneOptions {
  perplexity?: number;
  iterations?: number;
  seed?: number;
  /** Use the dense exact path up to this many points (default 300). */
  exactUpTo?: number;
  /** Negatives sampled per point and iteration (sampled path, default 5). */
  negatives?: number;
  /** PCA dimensions before the kNN / Gaussian kernel (default 50; null keeps all). */
  pcaDims?: number | null;
  /** L2-normalise features first (default true). */
  l2normalize?: boolean;
  learningRate?: number;
  /** Attraction multiplier during the first quarter of iterations (default 4). */
  earlyExaggeration?: number;
  /** t-SNE points at most; the other rows are placed beside them (default MAP_POINTS_UP_TO). */
  maxPoints?: number;
}

export interface TsneResult {
  /** Row-major [n, 2]. */
  points: Float32Array;
  method: 'exact' | 'sampled';
  timings: { preprocessMs: number; knnMs: number; optimizeMs: number };
}

export function tsneMap(features: Float32Array, n: number, d: number, opts: TsneOptions = {}): Float32Array {
  return tsneMapDetailed(features, n, d, opts).points;
}

export function tsneMapDetailed(features: Float32Array, n: number, d: number, opts: TsneOptions = {}): TsneResult {
  return tsneMapSource(arraySource(features, n, d), opts);
}

/**
 * The map of rows read on demand (e.g. streamed from SQLite): the PCA is fitted on a sample
 * read first, then one pass over all rows reduces them and finds the copies; only the reduced
 * rows [n, pcaDims] are held.
 */
export function tsneMapSource(src: RowSource, opts: TsneOptions = {}): TsneResult {
  const { n, d } = src;
  const seed = opts.seed ?? 0;
  const t0 = performance.now();
  const pcaDims = opts.pcaDims === undefined ? 50 : opts.pcaDims;
  const l2 = opts.l2normalize ?? true;
  let pre: Preprocessor;
  if (pcaDims !== null && pcaDims < d && n > 10000) {
    // PCA fitted on a seeded 10k-row sample, applied to all rows
    const idx = new Rng(seed + 7).permutation(n).subarray(0, 10000);
    const sample = l2 ? l2normalize(src.readRows(idx), idx.length, d) : src.readRows(idx);
    const pca = pcaFit(sample, idx.length, d, pcaDims, { seed, iterations: 3 });
    pre = { options: { l2normalize: l2, pcaDims, renormalize: false, seed }, pca, dIn: d, dOut: pca.r };
  } else {
    pre = fitPreprocessor(src, { l2normalize: l2, pcaDims: pcaDims !== null && pcaDims < d ? pcaDims : null, renormalize: false, seed });
  }
  const dd = pre.dOut;
  // Copies of one image (bit-identical rows) get one point: nothing tells them apart, and
  // t-SNE would push them apart as if something did (twelve copies filled the whole canvas).
  // The map is made of the distinct rows, then each copy takes its original's point. One pass
  // reduces the rows and finds the copies.
  const x = new Float32Array(n * dd);
  const same = identicalRowsSource(src, (block, start, count) => x.set(applyPreprocess(pre, block, count), start * dd));
  const distinct = same.unique.length < n ? gatherRows(x, dd, same.unique) : x;
  const preprocessMs = performance.now() - t0;
  const u = same.unique.length;
  const cap = Math.max(2, opts.maxPoints ?? MAP_POINTS_UP_TO);
  const r = u > cap ? sampledMap(distinct, u, dd, cap, opts, seed) : optimise(distinct, u, dd, opts, seed);
  r.timings.preprocessMs = preprocessMs;
  if (same.unique.length === n) return r;
  const points = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    points[2 * i] = r.points[2 * same.of[i]!]!;
    points[2 * i + 1] = r.points[2 * same.of[i]! + 1]!;
  }
  return { ...r, points };
}

/**
 * t-SNE of a seeded sample of `cap` of the n rows; each other row takes the point of its most
 * similar sampled row, offset by up to 0.5% of the map's extent (seeded by the row) so that
 * several do not sit on one pixel.
 */
function sampledMap(x: Float32Array, n: number, dd: number, cap: number, opts: TsneOptions, seed: number): TsneResult {
  const pick = new Rng(seed + 11).permutation(n).subarray(0, cap).sort();
  const sample = gatherRows(x, dd, pick);
  const r = optimise(sample, cap, dd, opts, seed);
  const t = performance.now();
  const inSample = new Uint8Array(n);
  for (const i of pick) inSample[i] = 1;
  const rest = Int32Array.from({ length: n }, (_, i) => i).filter((i) => !inSample[i]);
  const near = nearestBaseRows(sample, cap, x, n, dd, { seed, rows: rest });
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of r.points) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const spread = 0.005 * (hi - lo || 1);
  const rng = new Rng(seed + 13);
  const points = new Float32Array(n * 2);
  for (let l = 0; l < cap; l++) {
    points[2 * pick[l]!] = r.points[2 * l]!;
    points[2 * pick[l]! + 1] = r.points[2 * l + 1]!;
  }
  rest.forEach((i, q) => {
    const l = near[q]!;
    points[2 * i] = r.points[2 * l]! + (rng.next() - 0.5) * 2 * spread;
    points[2 * i + 1] = r.points[2 * l + 1]! + (rng.next() - 0.5) * 2 * spread;
  });
  r.timings.knnMs += performance.now() - t;
  return { ...r, points };
}

/** t-SNE of n distinct rows x [n, dd] (already reduced). */
function optimise(x: Float32Array, n: number, dd: number, opts: TsneOptions, seed: number): TsneResult {
  const exactUpTo = opts.exactUpTo ?? EXACT_UP_TO;
  // large n: perplexity 15 (k = 45 neighbours) by default, for the time budget
  const perplexity = Math.min(opts.perplexity ?? (n <= exactUpTo ? 30 : 15), Math.max(2, (n - 1) / 3));
  const t1 = performance.now();
  const rng = new Rng(seed);
  // init: small seeded Gaussian (deterministic)
  const y = rng.normalArray(n * 2, 1e-2);
  if (n <= exactUpTo) {
    const iters = opts.iterations ?? 500;
    const pts = exactTsne(x, n, dd, y, perplexity, iters, opts.learningRate ?? 0.05, opts.earlyExaggeration ?? 4);
    const t2 = performance.now();
    return { points: pts, method: 'exact', timings: { preprocessMs: 0, knnMs: 0, optimizeMs: t2 - t1 } };
  }
  const k = Math.min(n - 1, Math.floor(3 * perplexity));
  const g = knnGraphAuto(x, n, dd, k, { seed });
  // Gaussian on the kNN distances (squared Euclidean of the rows used), perplexity-calibrated
  const d2 = new Float32Array(n * k);
  const xn = x;
  for (let i = 0; i < n; i++) {
    let ni = 0;
    for (let t = 0; t < dd; t++) ni += xn[i * dd + t]! ** 2;
    for (let j = 0; j < k; j++) {
      const c = g.indices[i * k + j]!;
      let s = 0;
      for (let t = 0; t < dd; t++) {
        const diff = xn[i * dd + t]! - xn[c * dd + t]!;
        s += diff * diff;
      }
      d2[i * k + j] = s;
    }
    void ni;
  }
  const betas = perplexityBetas(d2, n, k, perplexity);
  const rowPtr = new Int32Array(n + 1);
  const vals = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    rowPtr[i + 1] = (i + 1) * k;
    let mn = Infinity;
    for (let j = 0; j < k; j++) mn = Math.min(mn, d2[i * k + j]!);
    for (let j = 0; j < k; j++) vals[i * k + j] = Math.exp(-betas[i]! * (d2[i * k + j]! - mn));
  }
  const p = symmetrizeSparse(normalizeSparseRows({ n, rowPtr, cols: Int32Array.from(g.indices), vals }));
  const t2 = performance.now();
  sampledTsne(p, y, rng, opts.iterations ?? 300, opts.negatives ?? 5, opts.learningRate ?? 1, opts.earlyExaggeration ?? 4);
  const t3 = performance.now();
  return { points: y, method: 'sampled', timings: { preprocessMs: 0, knnMs: t2 - t1, optimizeMs: t3 - t2 } };
}

/**
 * Dense I-Con t-SNE: p is the Gaussian kernel (perplexity, symmetrised), built from the kernels;
 * the loss is iconLoss(p, log q) with q the Student-t kernel on the points, and its gradient is
 * written out (`denseTsneGradient`) instead of taken by autodiff. The n x n tf ops took 18 ms
 * an iteration at 300 points (8.8 s a map, which the groups waited for); the same gradient on
 * typed arrays takes about 1.4 ms. test/icon/tsne.test.ts checks it against
 * tf.grad of iconLoss over the kernels. Adam, as tf.train.adam.
 */
function exactTsne(
  x: Float32Array,
  n: number,
  d: number,
  y0: Float32Array,
  perplexity: number,
  iters: number,
  lr: number,
  exag: number,
): Float32Array {
  const p = tf.tidy(() => {
    const pc = gaussianKernel(tf.tensor2d(x, [n, d]), { perplexity });
    const sym = tf.div(tf.add(pc, tf.transpose(pc)), 2);
    return tf.div(sym, tf.sum(sym, 1, true)) as tf.Tensor2D;
  });
  const pData = p.dataSync() as Float32Array;
  p.dispose();
  const y = Float32Array.from(y0);
  const adam = new Adam(y.length, lr);
  const exagIters = Math.floor(iters / 4);
  const grad = new Float64Array(n * 2);
  const w = new Float64Array(n);
  for (let it = 0; it < iters; it++) {
    denseTsneGradient(pData, y, n, it < exagIters ? exag : 1, grad, w);
    adam.step(y, grad);
  }
  return y;
}

/**
 * Gradient of the dense t-SNE I-Con loss over the points y [n, 2]:
 *   L = (1/n) sum_i [ a sum_j p_ij log(1 + ||y_i - y_j||^2) + log Z_i ],  Z_i = sum_{j != i} w_ij,
 * w_ij = 1 / (1 + ||y_i - y_j||^2). With a = 1 and rows of p summing to 1 this is
 * iconLoss(p, log q), q_ij = w_ij / Z_i (the Student-t kernel); a > 1 is early exaggeration,
 * which scales the attraction only. Writes into `grad` (and uses `w`, n scratch). Returns L when
 * `withLoss` (its logs cost as much as the gradient, and the optimiser does not need it), else NaN.
 */
export function denseTsneGradient(
  p: Float32Array,
  y: Float32Array,
  n: number,
  a: number,
  grad: Float64Array = new Float64Array(2 * n),
  w: Float64Array = new Float64Array(n),
  withLoss = false,
): number {
  grad.fill(0);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const yi0 = y[2 * i]!;
    const yi1 = y[2 * i + 1]!;
    let z = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) {
        w[j] = 0;
        continue;
      }
      const dx = yi0 - y[2 * j]!;
      const dy = yi1 - y[2 * j + 1]!;
      const wij = 1 / (1 + dx * dx + dy * dy);
      w[j] = wij;
      z += wij;
    }
    if (withLoss) loss += Math.log(z);
    let gi0 = 0;
    let gi1 = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) {
      const wij = w[j]!;
      if (wij === 0) continue;
      const pij = p[row + j]!;
      // attraction 2 a p_ij w_ij (y_i - y_j); repulsion from log Z_i: -2 w_ij^2 (y_i - y_j) / Z_i
      const f = 2 * a * pij * wij - (2 * wij * wij) / z;
      if (withLoss && pij > 0) loss -= a * pij * Math.log(wij);
      const dx = yi0 - y[2 * j]!;
      const dy = yi1 - y[2 * j + 1]!;
      gi0 += f * dx;
      gi1 += f * dy;
      grad[2 * j] = grad[2 * j]! - f * dx;
      grad[2 * j + 1] = grad[2 * j + 1]! - f * dy;
    }
    grad[2 * i] = grad[2 * i]! + gi0;
    grad[2 * i + 1] = grad[2 * i + 1]! + gi1;
  }
  for (let t = 0; t < 2 * n; t++) grad[t] = grad[t]! / n;
  return withLoss ? loss / n : NaN;
}

/** Adam (Kingma & Ba) with tf.train.adam's defaults: beta1 0.9, beta2 0.999, epsilon 1e-7. */
class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;
  constructor(
    size: number,
    private readonly lr: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-7,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  step(x: Float32Array, g: Float64Array): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    for (let k = 0; k < x.length; k++) {
      this.m[k] = this.beta1 * this.m[k]! + (1 - this.beta1) * g[k]!;
      this.v[k] = this.beta2 * this.v[k]! + (1 - this.beta2) * g[k]! * g[k]!;
      x[k] = x[k]! - (this.lr * (this.m[k]! / c1)) / (Math.sqrt(this.v[k]! / c2) + this.eps);
    }
  }
}

/**
 * Sampled-negatives I-Con t-SNE on a sparse p. Loss per point i:
 * sum_j p_ij log(1 + d_ij^2) + log Z_i, Z_i estimated from M uniform negatives.
 * Gradient (w = 1/(1+d^2)): attraction 2 p_ij w_ij (y_i - y_j) on i (and the
 * opposite on j), repulsion -2 w_im^2 (y_i - y_m) / sum_m' w_im' on i (and the
 * opposite on m). Momentum gradient descent, linear learning-rate decay.
 */
function sampledTsne(p: SparseRows, y: Float32Array, rng: Rng, iters: number, M: number, lr0: number, exag: number): void {
  const n = p.n;
  const grad = new Float32Array(n * 2);
  const vel = new Float32Array(n * 2);
  const neg = new Int32Array(M);
  const wn = new Float32Array(M);
  const exagIters = Math.floor(iters / 4);
  for (let it = 0; it < iters; it++) {
    grad.fill(0);
    const a = it < exagIters ? exag : 1;
    for (let i = 0; i < n; i++) {
      const yi0 = y[2 * i]!;
      const yi1 = y[2 * i + 1]!;
      for (let e = p.rowPtr[i]!; e < p.rowPtr[i + 1]!; e++) {
        const j = p.cols[e]!;
        const dx = yi0 - y[2 * j]!;
        const dy = yi1 - y[2 * j + 1]!;
        const w = 1 / (1 + dx * dx + dy * dy);
        const f = 2 * a * p.vals[e]! * w;
        grad[2 * i] = grad[2 * i]! + f * dx;
        grad[2 * i + 1] = grad[2 * i + 1]! + f * dy;
        grad[2 * j] = grad[2 * j]! - f * dx;
        grad[2 * j + 1] = grad[2 * j + 1]! - f * dy;
      }
      let z = 0;
      for (let m = 0; m < M; m++) {
        let c = rng.int(n - 1);
        if (c >= i) c++;
        neg[m] = c;
        const dx = yi0 - y[2 * c]!;
        const dy = yi1 - y[2 * c + 1]!;
        const w = 1 / (1 + dx * dx + dy * dy);
        wn[m] = w;
        z += w;
      }
      for (let m = 0; m < M; m++) {
        const c = neg[m]!;
        const dx = yi0 - y[2 * c]!;
        const dy = yi1 - y[2 * c + 1]!;
        const w = wn[m]!;
        const f = (2 * w * w) / z;
        grad[2 * i] = grad[2 * i]! - f * dx;
        grad[2 * i + 1] = grad[2 * i + 1]! - f * dy;
        grad[2 * c] = grad[2 * c]! + f * dx;
        grad[2 * c + 1] = grad[2 * c + 1]! + f * dy;
      }
    }
    const lr = lr0 * (1 - it / iters) + 0.01 * lr0;
    const mom = it < exagIters ? 0.5 : 0.8;
    for (let t = 0; t < 2 * n; t++) {
      // clip per-coordinate steps for stability
      let g = grad[t]!;
      if (g > 4) g = 4;
      else if (g < -4) g = -4;
      vel[t] = mom * vel[t]! - lr * g;
      y[t] = y[t]! + vel[t]!;
    }
  }
}
