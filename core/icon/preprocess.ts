/**
 * Preprocessing of backbone features: L2 normalisation and optional PCA
 * (randomised subspace / power iteration, tfjs matmuls, small eigen in JS).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from './rng.js';

/** Row-wise L2 normalisation (returns a new array; zero rows stay zero). */
export function l2normalize(x: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = x[o + j]!;
      s += v * v;
    }
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) out[o + j] = x[o + j]! * inv;
  }
  return out;
}

export interface PcaModel {
  /** Input dimension. */
  d: number;
  /** Output dimension. */
  r: number;
  /** Column means, length d. */
  mean: Float32Array;
  /** Principal axes, row-major [d, r] (columns orthonormal, by decreasing variance). */
  components: Float32Array;
  /** Variance along each component, length r. */
  variances: Float32Array;
}

/** Jacobi eigen-decomposition of a small symmetric matrix (row-major m x m). */
export function symmetricEigen(a: Float64Array, m: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(a);
  const V = new Float64Array(m * m);
  for (let i = 0; i < m; i++) V[i * m + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off += A[p * m + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = A[p * m + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = A[p * m + p]!;
        const aqq = A[q * m + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < m; k++) {
          const akp = A[k * m + p]!;
          const akq = A[k * m + q]!;
          A[k * m + p] = c * akp - s * akq;
          A[k * m + q] = s * akp + c * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = A[p * m + k]!;
          const aqk = A[q * m + k]!;
          A[p * m + k] = c * apk - s * aqk;
          A[q * m + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = V[k * m + p]!;
          const vkq = V[k * m + q]!;
          V[k * m + p] = c * vkp - s * vkq;
          V[k * m + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => A[j * m + j]! - A[i * m + i]!);
  const values = new Float64Array(m);
  const vectors = new Float64Array(m * m);
  order.forEach((src, dst) => {
    values[dst] = A[src * m + src]!;
    for (let k = 0; k < m; k++) vectors[k * m + dst] = V[k * m + src]!;
  });
  return { values, vectors };
}

/** Modified Gram-Schmidt on the columns of a row-major [d, r] matrix, in place. */
function orthonormalize(q: Float32Array, d: number, r: number): void {
  for (let c = 0; c < r; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += q[i * r + c]! * q[i * r + p]!;
      for (let i = 0; i < d; i++) q[i * r + c] = q[i * r + c]! - dot * q[i * r + p]!;
    }
    let s = 0;
    for (let i = 0; i < d; i++) s += q[i * r + c]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let i = 0; i < d; i++) q[i * r + c] = q[i * r + c]! * inv;
  }
}

const PCA_BLOCK = 8192;

/** X^T (X Q) in row blocks, for centred X given as (x - mean). */
function covTimes(x: tf.Tensor2D, mean: tf.Tensor1D, q: tf.Tensor2D): tf.Tensor2D {
  const n = x.shape[0];
  let acc: tf.Tensor2D = tf.zeros([x.shape[1], q.shape[1]]);
  for (let s = 0; s < n; s += PCA_BLOCK) {
    const next = tf.tidy(() => {
      const xb = tf.sub(x.slice([s, 0], [Math.min(PCA_BLOCK, n - s), -1]), mean);
      return tf.add(acc, tf.matMul(tf.transpose(xb), tf.matMul(xb, q))) as tf.Tensor2D;
    });
    acc.dispose();
    acc = next;
  }
  return acc;
}

/**
 * PCA to r dimensions by randomised subspace iteration (exact for r >= rank
 * and converges quickly for the leading components), seeded.
 */
export function pcaFit(x: Float32Array, n: number, d: number, r: number, opts: { iterations?: number; seed?: number } = {}): PcaModel {
  r = Math.min(r, d, n);
  const iters = opts.iterations ?? 4;
  const rng = new Rng(opts.seed ?? 0);
  const mean = new Float32Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + x[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / n;
  // oversample for accuracy of the last components
  const rr = Math.min(d, r + 10);
  const q = rng.normalArray(d * rr);
  orthonormalize(q, d, rr);
  const xt = tf.tensor2d(x, [n, d]);
  const mt = tf.tensor1d(mean);
  let qArr = q;
  for (let it = 0; it < iters; it++) {
    const qt = tf.tensor2d(qArr, [d, rr]);
    const z = covTimes(xt, mt, qt);
    qArr = z.dataSync() as Float32Array;
    qArr = Float32Array.from(qArr);
    qt.dispose();
    z.dispose();
    orthonormalize(qArr, d, rr);
  }
  // Rayleigh-Ritz: small eigenproblem of Q^T C Q
  const qt = tf.tensor2d(qArr, [d, rr]);
  const cq = covTimes(xt, mt, qt);
  const small = tf.tidy(() => tf.matMul(tf.transpose(qt), cq).div(n));
  const sm = Float64Array.from(small.dataSync());
  small.dispose();
  cq.dispose();
  qt.dispose();
  xt.dispose();
  mt.dispose();
  const { values, vectors } = symmetricEigen(sm, rr);
  const components = new Float32Array(d * r);
  for (let i = 0; i < d; i++) {
    for (let c = 0; c < r; c++) {
      let s = 0;
      for (let k = 0; k < rr; k++) s += qArr[i * rr + k]! * vectors[k * rr + c]!;
      components[i * r + c] = s;
    }
  }
  const variances = Float32Array.from(values.slice(0, r));
  return { d, r, mean, components, variances };
}

/** Projects rows onto the PCA components (blocked tfjs matmul). */
export function pcaTransform(model: PcaModel, x: Float32Array, n: number): Float32Array {
  const { d, r } = model;
  const out = new Float32Array(n * r);
  const comp = tf.tensor2d(model.components, [d, r]);
  const mean = tf.tensor1d(model.mean);
  for (let s = 0; s < n; s += PCA_BLOCK) {
    const m = Math.min(PCA_BLOCK, n - s);
    const y = tf.tidy(() => tf.matMul(tf.sub(tf.tensor2d(x.subarray(s * d, (s + m) * d), [m, d]), mean), comp));
    out.set(y.dataSync() as Float32Array, s * r);
    y.dispose();
  }
  comp.dispose();
  mean.dispose();
  return out;
}

export interface PreprocessOptions {
  /** L2-normalise rows before anything else (default true: cosine geometry of the backbone). */
  l2normalize?: boolean;
  /** Reduce to this many dimensions with PCA (null/undefined: keep all). */
  pcaDims?: number | null;
  /** L2-normalise again after PCA (default true when pcaDims is set and l2normalize is on). */
  renormalize?: boolean;
  seed?: number;
}

export interface Preprocessor {
  options: Required<Omit<PreprocessOptions, 'pcaDims'>> & { pcaDims: number | null };
  pca: PcaModel | null;
  dIn: number;
  dOut: number;
}

/** Fits the preprocessing on a feature matrix; returns the model and the transformed rows. */
export function fitPreprocess(x: Float32Array, n: number, d: number, opts: PreprocessOptions = {}): { pre: Preprocessor; out: Float32Array } {
  const l2 = opts.l2normalize ?? true;
  const pcaDims = opts.pcaDims ?? null;
  const renorm = opts.renormalize ?? (l2 && pcaDims !== null);
  const seed = opts.seed ?? 0;
  let cur = l2 ? l2normalize(x, n, d) : x;
  let pca: PcaModel | null = null;
  if (pcaDims !== null && pcaDims < d) {
    pca = pcaFit(cur, n, d, pcaDims, { seed });
    cur = pcaTransform(pca, cur, n);
    if (renorm) cur = l2normalize(cur, n, pca.r);
  }
  const pre: Preprocessor = { options: { l2normalize: l2, pcaDims, renormalize: renorm, seed }, pca, dIn: d, dOut: pca ? pca.r : d };
  return { pre, out: cur };
}

/** Applies a fitted preprocessing to new rows. */
export function applyPreprocess(pre: Preprocessor, x: Float32Array, n: number): Float32Array {
  let cur = pre.options.l2normalize ? l2normalize(x, n, pre.dIn) : x;
  if (pre.pca) {
    cur = pcaTransform(pre.pca, cur, n);
    if (pre.options.renormalize) cur = l2normalize(cur, n, pre.pca.r);
  }
  return cur;
}
