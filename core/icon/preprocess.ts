/**
 * Preprocessing of backbone features: L2 normalisation and optional PCA
 * (randomised subspace / power iteration, tfjs matmuls, small eigen in JS).
 */
import * as tf from '@tensorflow/tfjs';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { orthonormalize } from './orthonormalize.js';
import { encodeHalf } from './float16.js';
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

/** Rows of a row-major [n, d] matrix, in the given order. */
export function gatherRows(x: Float32Array, d: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) out.set(x.subarray(rows[r]! * d, rows[r]! * d + d), r * d);
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

/**
 * Eigen-decomposition of a small symmetric matrix (row-major m x m), by
 * decreasing eigenvalue; eigenvectors are the columns of `vectors`.
 * ml-matrix (Householder tridiagonalisation + QL): O(m^3), about 6x faster
 * than the Jacobi sweeps it replaced at m = 266.
 */
export function symmetricEigen(a: Float64Array, m: number): { values: Float64Array; vectors: Float64Array } {
  const rows = Array.from({ length: m }, (_, i) => Array.from(a.subarray(i * m, (i + 1) * m)));
  const evd = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const ev = evd.realEigenvalues;
  const V = evd.eigenvectorMatrix;
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => ev[j]! - ev[i]!);
  const values = new Float64Array(m);
  const vectors = new Float64Array(m * m);
  order.forEach((src, dst) => {
    values[dst] = ev[src]!;
    for (let k = 0; k < m; k++) vectors[k * m + dst] = V.get(k, src);
  });
  return { values, vectors };
}

const PCA_BLOCK = 8192;

/**
 * Rows read on demand, so that N x D never has to be in memory at once: an
 * in-memory matrix (arraySource) or the embeddings table streamed from
 * SQLite (core/store). The engine reads blocks in order, plus a random
 * sample of rows to fit the PCA.
 */
export interface RowSource {
  readonly n: number;
  readonly d: number;
  /** Rows [start, start + count), row-major. */
  read(start: number, count: number): Float32Array;
  /** The given rows in the given order, row-major. */
  readRows(indices: ArrayLike<number>): Float32Array;
}

export function arraySource(x: Float32Array, n: number, d: number): RowSource {
  if (x.length !== n * d) throw new Error('arraySource: length != n*d');
  return {
    n,
    d,
    read: (start, count) => x.subarray(start * d, (start + count) * d),
    readRows: (indices) => {
      const out = new Float32Array(indices.length * d);
      for (let r = 0; r < indices.length; r++) out.set(x.subarray(indices[r]! * d, (indices[r]! + 1) * d), r * d);
      return out;
    },
  };
}

/**
 * C Q for the covariance C of the rows (given as tfjs blocks), as
 * (X^T (X Q) - n mu (mu^T Q)) / n: centring by algebra, because
 * elementwise ops over [n, d] (subtracting the mean, transposing X) cost
 * more on wasm than the matmuls themselves. Returns row-major [d, r].
 */
function covTimes(blocks: tf.Tensor2D[], n: number, mean: Float32Array, q: Float32Array, d: number, r: number): Float32Array {
  const qt = tf.tensor2d(q, [d, r]);
  const acc = new Float64Array(r * d); // (X Q)^T X, [r, d]
  for (const xb of blocks) {
    const t = tf.tidy(() => tf.matMul(tf.transpose(tf.matMul(xb, qt)), xb));
    const v = t.dataSync();
    for (let i = 0; i < v.length; i++) acc[i] = acc[i]! + v[i]!;
    t.dispose();
  }
  qt.dispose();
  const muQ = new Float64Array(r);
  for (let j = 0; j < d; j++) for (let c = 0; c < r; c++) muQ[c] = muQ[c]! + mean[j]! * q[j * r + c]!;
  const out = new Float32Array(d * r);
  for (let j = 0; j < d; j++) for (let c = 0; c < r; c++) out[j * r + c] = (acc[c * d + j]! - n * mean[j]! * muQ[c]!) / n;
  return out;
}

/**
 * A^T B for row-major [d, m] matrices A and B, in float64: entry (a, b) is the sum over j, from
 * j = 0 up, of A[j, a] B[j, b]. Computed 4 x 4 entries at a time, each kept in a register while
 * j runs, so the work is 16 products per 8 loads (the plain triple loop spent three times as
 * long); the order of each sum is the plain loop's, so the result is the same to the bit.
 */
export function crossProduct(A: Float32Array, B: Float32Array, d: number, m: number): Float64Array {
  const out = new Float64Array(m * m);
  const m4 = m - (m % 4);
  for (let a = 0; a < m; a += 4) {
    const aw = Math.min(4, m - a);
    for (let b = 0; b < m; b += 4) {
      if (aw === 4 && b < m4) {
        // prettier-ignore
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0,
          s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        // prettier-ignore
        for (let j = 0, o = 0; j < d; j++, o += m) {
          const a0 = A[o + a]!, a1 = A[o + a + 1]!, a2 = A[o + a + 2]!, a3 = A[o + a + 3]!;
          const b0 = B[o + b]!, b1 = B[o + b + 1]!, b2 = B[o + b + 2]!, b3 = B[o + b + 3]!;
          s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
          s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
          s20 += a2 * b0; s21 += a2 * b1; s22 += a2 * b2; s23 += a2 * b3;
          s30 += a3 * b0; s31 += a3 * b1; s32 += a3 * b2; s33 += a3 * b3;
        }
        out.set([s00, s01, s02, s03], a * m + b);
        out.set([s10, s11, s12, s13], (a + 1) * m + b);
        out.set([s20, s21, s22, s23], (a + 2) * m + b);
        out.set([s30, s31, s32, s33], (a + 3) * m + b);
        continue;
      }
      // the edges, entry by entry
      for (let x = a; x < a + aw; x++)
        for (let y = b; y < Math.min(m, b + 4); y++) {
          let v = 0;
          for (let j = 0, o = 0; j < d; j++, o += m) v += A[o + x]! * B[o + y]!;
          out[x * m + y] = v;
        }
    }
  }
  return out;
}

/**
 * PCA to r dimensions by randomised subspace iteration (Halko et al.: r + 10
 * columns, a few power iterations; exact for r >= rank and quick to
 * converge for the leading components), seeded.
 */
export function pcaFit(
  x: Float32Array,
  n: number,
  d: number,
  r: number,
  opts: { iterations?: number; seed?: number; center?: boolean } = {},
): PcaModel {
  r = Math.min(r, d, n);
  const iters = opts.iterations ?? 4;
  const rng = new Rng(opts.seed ?? 0);
  const mean = new Float32Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + x[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j] = opts.center === false ? 0 : mean[j]! / n;
  // oversample for accuracy of the last components
  const rr = Math.min(d, r + 10);
  let qArr = orthonormalize(rng.normalArray(d * rr), d, rr);
  const blocks: tf.Tensor2D[] = [];
  for (let s = 0; s < n; s += PCA_BLOCK)
    blocks.push(tf.tensor2d(x.subarray(s * d, Math.min(n, s + PCA_BLOCK) * d), [Math.min(PCA_BLOCK, n - s), d]));
  try {
    for (let it = 0; it < iters; it++) {
      qArr = orthonormalize(covTimes(blocks, n, mean, qArr, d, rr), d, rr);
    }
    // Rayleigh-Ritz: small eigenproblem of Q^T C Q
    const cq = covTimes(blocks, n, mean, qArr, d, rr);
    const sm = crossProduct(qArr, cq, d, rr);
    // symmetrise float32 round-off before Jacobi
    for (let a = 0; a < rr; a++) for (let b = a + 1; b < rr; b++) sm[a * rr + b] = sm[b * rr + a] = (sm[a * rr + b]! + sm[b * rr + a]!) / 2;
    const { values, vectors } = symmetricEigen(sm, rr);
    // components = Q V[:, :r] (a [d, rr] x [rr, r] matmul)
    const vr = new Float32Array(rr * r);
    for (let k = 0; k < rr; k++) for (let c = 0; c < r; c++) vr[k * r + c] = vectors[k * rr + c]!;
    const prodT = tf.tidy(() => tf.matMul(tf.tensor2d(qArr, [d, rr]), tf.tensor2d(vr, [rr, r])));
    const components = Float32Array.from(prodT.dataSync() as Float32Array);
    prodT.dispose();
    const variances = Float32Array.from(values.slice(0, r));
    return { d, r, mean, components, variances };
  } finally {
    for (const b of blocks) b.dispose();
  }
}

/** Projects rows onto the PCA components (blocked tfjs matmul; the mean is subtracted after projecting). */
export function pcaTransform(model: PcaModel, x: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * model.r);
  const projector = pcaProjector(model);
  try {
    projector.project(x, n, out, 0);
  } finally {
    projector.dispose();
  }
  return out;
}

/**
 * The components as one tensor and mu W, made once and used for every block of a source:
 * (x - mu) W = x W - mu W, one matmul per block and no [n, d] elementwise op.
 */
function pcaProjector(model: PcaModel): {
  project(x: Float32Array, n: number, out: Float32Array, rowOffset: number): void;
  dispose(): void;
} {
  const { d, r } = model;
  const muW = new Float32Array(r);
  for (let j = 0; j < d; j++) for (let c = 0; c < r; c++) muW[c] = muW[c]! + model.mean[j]! * model.components[j * r + c]!;
  const comp = tf.tensor2d(model.components, [d, r]);
  return {
    project(x, n, out, rowOffset) {
      for (let s = 0; s < n; s += PCA_BLOCK) {
        const m = Math.min(PCA_BLOCK, n - s);
        const y = tf.tidy(() => tf.matMul(tf.tensor2d(x.subarray(s * d, (s + m) * d), [m, d]), comp));
        const v = y.dataSync();
        const o = (rowOffset + s) * r;
        for (let i = 0; i < m * r; i++) out[o + i] = v[i]! - muW[i % r]!;
        y.dispose();
      }
    },
    dispose: () => comp.dispose(),
  };
}

export interface PreprocessOptions {
  /** L2-normalise rows before anything else (default true: cosine geometry of the backbone). */
  l2normalize?: boolean;
  /** Reduce to this many dimensions with PCA (null/undefined: keep all). */
  pcaDims?: number | null;
  /**
   * Fit the PCA on at most this many rows, sampled with the seed (default
   * 5,000, about 20 rows per component kept): fitting costs ~4 x sample x d
   * x (pcaDims + 10) flops, seconds at 10,000 rows, minutes on all of
   * 1,000,000.
   */
  pcaSample?: number;
  /**
   * Subtract the mean before finding the components (default true). false: the top
   * right-singular vectors of the raw rows, a rotation and truncation that keeps cosines
   * between the (all-positive, ReLU) backbone features close to their full-dimension values.
   */
  pcaCenter?: boolean;
  /** Power iterations of the randomised PCA (default 3). */
  pcaIterations?: number;
  /** L2-normalise again after PCA (default true when pcaDims is set and l2normalize is on). */
  renormalize?: boolean;
  seed?: number;
}

export interface Preprocessor {
  options: { l2normalize: boolean; pcaDims: number | null; renormalize: boolean; seed: number };
  pca: PcaModel | null;
  dIn: number;
  dOut: number;
}

const PCA_SAMPLE = 5000;
const PCA_ITERATIONS = 3;

/** Fits the preprocessing on a feature matrix; returns the model and the transformed rows. */
export function fitPreprocess(
  x: Float32Array,
  n: number,
  d: number,
  opts: PreprocessOptions = {},
): { pre: Preprocessor; out: Float32Array } {
  return fitPreprocessSource(arraySource(x, n, d), opts);
}

/**
 * Fits the preprocessing on rows read from `src` (the PCA on a seeded sample
 * of them) and returns the transformed rows: n x dOut in memory, the input
 * only ever a block at a time.
 */
export function fitPreprocessSource(src: RowSource, opts: PreprocessOptions = {}): { pre: Preprocessor; out: Float32Array } {
  const pre = fitPreprocessor(src, opts);
  return { pre, out: applyPreprocessSource(pre, src) };
}

/** The fit of fitPreprocessSource alone (the PCA on its seeded sample), without transforming the rows. */
export function fitPreprocessor(src: RowSource, opts: PreprocessOptions = {}): Preprocessor {
  const { n, d } = src;
  const l2 = opts.l2normalize ?? true;
  const pcaDims = opts.pcaDims ?? null;
  const renorm = opts.renormalize ?? (l2 && pcaDims !== null);
  const seed = opts.seed ?? 0;
  let pca: PcaModel | null = null;
  if (pcaDims !== null && pcaDims < d) {
    const m = Math.min(n, opts.pcaSample ?? PCA_SAMPLE);
    const idx = m === n ? Int32Array.from({ length: n }, (_, i) => i) : new Rng(seed + 7).permutation(n).subarray(0, m).sort();
    let sample = src.readRows(idx);
    if (l2) sample = l2normalize(sample, m, d);
    pca = pcaFit(sample, m, d, pcaDims, { seed, iterations: opts.pcaIterations ?? PCA_ITERATIONS, center: opts.pcaCenter ?? true });
  }
  return { options: { l2normalize: l2, pcaDims, renormalize: renorm, seed }, pca, dIn: d, dOut: pca ? pca.r : d };
}

/** The given rows of a source as a source of their own (row r is `rows[r]`). */
export function subsetSource(src: RowSource, rows: ArrayLike<number>): RowSource {
  return {
    n: rows.length,
    d: src.d,
    read: (start, count) =>
      src.readRows(Array.from({ length: Math.max(0, Math.min(count, rows.length - start)) }, (_, k) => rows[start + k]!)),
    readRows: (indices) => src.readRows(Array.from(indices, (i) => rows[i]!)),
  };
}

/** Applies a fitted preprocessing to new rows. */
export function applyPreprocess(pre: Preprocessor, x: Float32Array, n: number): Float32Array {
  return applyPreprocessSource(pre, arraySource(x, n, pre.dIn));
}

/**
 * Rows read and reduced at a time: 4,096 x 1792 floats, 29 MiB read and as much normalised
 * (16,384 held 235 MiB at once in each of a run's three threads).
 */
const APPLY_BLOCK = 4096;

/** Rows [start, start + count) of a source as a source of their own. */
function rangeSource(src: RowSource, start: number, count: number): RowSource {
  return {
    n: count,
    d: src.d,
    read: (s, c) => src.read(start + s, Math.min(c, count - s)),
    readRows: (indices) => src.readRows(Array.from(indices, (i) => start + i)),
  };
}

/**
 * applyPreprocessSource's rows as halves (float16.ts), a block at a time: n x dOut values at 2
 * bytes each, never all of them at 4 (400,000 views at 256 dims: 205 MB instead of 410).
 */
export function applyPreprocessHalves(pre: Preprocessor, src: RowSource): Uint16Array {
  const out = new Uint16Array(src.n * pre.dOut);
  for (let s = 0; s < src.n; s += APPLY_BLOCK) {
    const m = Math.min(APPLY_BLOCK, src.n - s);
    encodeHalf(applyPreprocessSource(pre, rangeSource(src, s, m)), out, s * pre.dOut);
  }
  return out;
}

/** Applies a fitted preprocessing to rows read block by block from `src`. */
export function applyPreprocessSource(pre: Preprocessor, src: RowSource): Float32Array {
  const { n } = src;
  if (src.d !== pre.dIn) throw new Error(`preprocess: rows have ${src.d} dims, fitted on ${pre.dIn}`);
  if (!pre.pca) {
    if (!pre.options.l2normalize) {
      const out = new Float32Array(n * pre.dIn);
      for (let s = 0; s < n; s += APPLY_BLOCK) out.set(src.read(s, Math.min(APPLY_BLOCK, n - s)), s * pre.dIn);
      return out;
    }
    const out = new Float32Array(n * pre.dIn);
    for (let s = 0; s < n; s += APPLY_BLOCK) {
      const m = Math.min(APPLY_BLOCK, n - s);
      out.set(l2normalize(src.read(s, m), m, pre.dIn), s * pre.dIn);
    }
    return out;
  }
  const r = pre.pca.r;
  const out = new Float32Array(n * r);
  const projector = pcaProjector(pre.pca);
  try {
    for (let s = 0; s < n; s += APPLY_BLOCK) {
      const m = Math.min(APPLY_BLOCK, n - s);
      let block = src.read(s, m);
      if (pre.options.l2normalize) block = l2normalize(block, m, pre.dIn);
      projector.project(block, m, out, s);
    }
  } finally {
    projector.dispose();
  }
  if (pre.options.renormalize) {
    for (let i = 0; i < n; i++) {
      let ss = 0;
      for (let j = i * r; j < (i + 1) * r; j++) ss += out[j]! * out[j]!;
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
      for (let j = i * r; j < (i + 1) * r; j++) out[j] = out[j]! * inv;
    }
  }
  return out;
}
