/**
 * kNN graph (cosine, self excluded) by exact blocked matmul top-k, never
 * holding N x N: row blocks x column blocks, top-(k+1) per tile, merged in JS.
 * Plus sparse row-stochastic matrices for kNN / walk kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { l2normalize } from './preprocess.js';

export interface KnnGraph {
  n: number;
  k: number;
  /** Neighbour indices, row-major [n, k], by decreasing similarity. */
  indices: Int32Array;
  /** Cosine similarities, [n, k]. */
  sims: Float32Array;
}

export interface KnnOptions {
  /** L2-normalise rows first (cosine). Honoured when false: raw dot products. Default true. */
  normalize?: boolean;
  rowBlock?: number;
  colBlock?: number;
}

/**
 * Exact k nearest neighbours of every row of `x` (n x d) among the rows of
 * `x`, self excluded. Cost O(n^2 d) flops, memory O(rowBlock * colBlock).
 */
export function knnGraph(x: Float32Array, n: number, d: number, k: number, opts: KnnOptions = {}): KnnGraph {
  return knnQuery(x, n, x, n, d, k, { ...opts, excludeSelf: true });
}

/**
 * k nearest rows of `base` (nb x d) for each row of `queries` (nq x d).
 * With excludeSelf (queries === base), the query's own row is skipped.
 */
export function knnQuery(
  queries: Float32Array,
  nq: number,
  base: Float32Array,
  nb: number,
  d: number,
  k: number,
  opts: KnnOptions & { excludeSelf?: boolean } = {},
): KnnGraph {
  const normalize = opts.normalize ?? true;
  const excludeSelf = opts.excludeSelf ?? false;
  const maxK = excludeSelf ? nb - 1 : nb;
  if (k > maxK) throw new Error(`knn: k=${k} but only ${maxK} candidates`);
  const q = normalize ? l2normalize(queries, nq, d) : queries;
  const b = queries === base && normalize ? q : normalize ? l2normalize(base, nb, d) : base;
  const rowBlock = opts.rowBlock ?? 2048;
  const colBlock = opts.colBlock ?? 16384;
  const indices = new Int32Array(nq * k).fill(-1);
  const sims = new Float32Array(nq * k).fill(-Infinity);
  const kk = Math.min(k + (excludeSelf ? 1 : 0), nb);
  // Column blocks as tensors, kept for all row blocks.
  const colTensors: { start: number; t: tf.Tensor2D }[] = [];
  for (let c = 0; c < nb; c += colBlock) {
    const m = Math.min(colBlock, nb - c);
    // stored transposed [d, m]: matMul with transposeB is very slow on wasm
    colTensors.push({ start: c, t: tf.tidy(() => tf.transpose(tf.tensor2d(b.subarray(c * d, (c + m) * d), [m, d]))) });
  }
  try {
    for (let r = 0; r < nq; r += rowBlock) {
      const rm = Math.min(rowBlock, nq - r);
      const qt = tf.tensor2d(q.subarray(r * d, (r + rm) * d), [rm, d]);
      for (const { start, t } of colTensors) {
        const kt = Math.min(kk, t.shape[1]);
        const { values, indices: idx } = tf.tidy(() => tf.topk(tf.matMul(qt, t), kt));
        const v = values.dataSync();
        const ix = idx.dataSync();
        values.dispose();
        idx.dispose();
        for (let i = 0; i < rm; i++) {
          const row = r + i;
          const o = row * k;
          for (let j = 0; j < kt; j++) {
            const col = start + ix[i * kt + j]!;
            if (excludeSelf && col === row) continue;
            const s = v[i * kt + j]!;
            if (s <= sims[o + k - 1]!) break; // sorted within tile
            // insertion into the sorted row
            let p = k - 1;
            while (p > 0 && sims[o + p - 1]! < s) {
              sims[o + p] = sims[o + p - 1]!;
              indices[o + p] = indices[o + p - 1]!;
              p--;
            }
            sims[o + p] = s;
            indices[o + p] = col;
          }
        }
      }
      qt.dispose();
    }
  } finally {
    for (const { t } of colTensors) t.dispose();
  }
  return { n: nq, k, indices, sims };
}

/** Sparse matrix in CSR form; for kernels, row-stochastic (rows sum to 1 or are empty). */
export interface SparseRows {
  n: number;
  rowPtr: Int32Array;
  cols: Int32Array;
  vals: Float32Array;
}

/** Supervisory kNN kernel: p(j|i) = 1/k for the k nearest neighbours of i (self excluded). */
export function knnKernelSparse(g: KnnGraph): SparseRows {
  const { n, k } = g;
  const rowPtr = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) rowPtr[i] = i * k;
  const vals = new Float32Array(n * k).fill(1 / k);
  return { n, rowPtr, cols: Int32Array.from(g.indices), vals };
}

/** Row-normalises a sparse matrix after removing the diagonal (self excluded). */
export function normalizeSparseRows(m: SparseRows, dropSelf = true): SparseRows {
  const rowPtr = new Int32Array(m.n + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < m.n; i++) {
    let s = 0;
    for (let e = m.rowPtr[i]!; e < m.rowPtr[i + 1]!; e++) if (!(dropSelf && m.cols[e] === i)) s += m.vals[e]!;
    for (let e = m.rowPtr[i]!; e < m.rowPtr[i + 1]!; e++) {
      if ((dropSelf && m.cols[e] === i) || m.vals[e] === 0) continue;
      cols.push(m.cols[e]!);
      vals.push(s > 0 ? m.vals[e]! / s : 0);
    }
    rowPtr[i + 1] = cols.length;
  }
  return { n: m.n, rowPtr, cols: Int32Array.from(cols), vals: Float32Array.from(vals) };
}

/**
 * Builds an n x n sparse matrix row by row: `row(i, add)` calls `add(m, r, w)` for each
 * weighted sparse row (row r of m, times w) whose sum is output row i. Shared by the sparse
 * product and the weighted sum, which differ only in which rows they add up.
 */
function accumulateRows(n: number, row: (i: number, add: (m: SparseRows, r: number, w: number) => void) => void): SparseRows {
  const acc = new Float64Array(n);
  const mark = new Int32Array(n).fill(-1);
  const touched: number[] = [];
  const rowPtr = new Int32Array(n + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    touched.length = 0;
    row(i, (m, r, w) => {
      for (let f = m.rowPtr[r]!; f < m.rowPtr[r + 1]!; f++) {
        const c = m.cols[f]!;
        if (mark[c] !== i) {
          mark[c] = i;
          acc[c] = 0;
          touched.push(c);
        }
        acc[c] = acc[c]! + w * m.vals[f]!;
      }
    });
    touched.sort((x, y) => x - y);
    for (const c of touched) {
      cols.push(c);
      vals.push(acc[c]!);
    }
    rowPtr[i + 1] = cols.length;
  }
  return { n, rowPtr, cols: Int32Array.from(cols), vals: Float32Array.from(vals) };
}

/** Sparse product A B (both n x n CSR). */
export function sparseMatMul(a: SparseRows, b: SparseRows): SparseRows {
  return accumulateRows(a.n, (i, add) => {
    for (let e = a.rowPtr[i]!; e < a.rowPtr[i + 1]!; e++) add(b, a.cols[e]!, a.vals[e]!);
  });
}

/** Weighted sum of sparse matrices (same n). */
export function sparseAdd(terms: { m: SparseRows; w: number }[]): SparseRows {
  return accumulateRows(terms[0]!.m.n, (i, add) => {
    for (const { m, w } of terms) add(m, i, w);
  });
}

/**
 * kNN-walk kernel: propagation of the kNN kernel P over `steps` extra steps,
 * p = mean_{t=1..steps+1} P^t, with the diagonal removed and rows renormalised.
 * steps = 0 is the plain kNN kernel; steps = 1 adds neighbours of neighbours.
 */
export function walkKernelSparse(p: SparseRows, steps: number): SparseRows {
  if (steps <= 0) return normalizeSparseRows(p);
  const terms: { m: SparseRows; w: number }[] = [{ m: p, w: 1 }];
  let cur = p;
  for (let s = 0; s < steps; s++) {
    cur = sparseMatMul(cur, p);
    terms.push({ m: cur, w: 1 });
  }
  return normalizeSparseRows(sparseAdd(terms.map((t) => ({ m: t.m, w: 1 / terms.length }))));
}

/** Symmetrises: (P + P^T) / 2, rows renormalised. */
export function symmetrizeSparse(p: SparseRows): SparseRows {
  const n = p.n;
  const counts = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) for (let e = p.rowPtr[i]!; e < p.rowPtr[i + 1]!; e++) counts[p.cols[e]! + 1]!++;
  const tPtr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) tPtr[i + 1] = tPtr[i]! + counts[i + 1]!;
  const fill = Int32Array.from(tPtr.subarray(0, n));
  const tCols = new Int32Array(tPtr[n]!);
  const tVals = new Float32Array(tPtr[n]!);
  for (let i = 0; i < n; i++) {
    for (let e = p.rowPtr[i]!; e < p.rowPtr[i + 1]!; e++) {
      const c = p.cols[e]!;
      const pos = fill[c]!++;
      tCols[pos] = i;
      tVals[pos] = p.vals[e]!;
    }
  }
  return normalizeSparseRows(sparseAdd([{ m: p, w: 0.5 }, { m: { n, rowPtr: tPtr, cols: tCols, vals: tVals }, w: 0.5 }]));
}

export interface IvfOptions {
  /** Number of inverted lists (default ~sqrt(n)). */
  nlist?: number;
  /** Lists searched per query list (default 8). */
  nprobe?: number;
  seed?: number;
  normalize?: boolean;
}

/**
 * Approximate kNN (cosine, self excluded) with an inverted file: a coarse
 * k-means quantizer (trained on a sample), each point in its nearest list,
 * and every list searched exactly against the points of its `nprobe`
 * nearest lists. Cost ~ n * nprobe * (n / nlist) * d instead of n^2 d.
 * Used beyond ~20k points (exact blocked matmul below that).
 */

export function knnGraphIvf(x: Float32Array, n: number, d: number, k: number, opts: IvfOptions = {}): KnnGraph {
  const normalize = opts.normalize ?? true;
  const xs = normalize ? l2normalize(x, n, d) : x;
  const nlist = Math.max(1, Math.min(opts.nlist ?? Math.round(Math.sqrt(n)), Math.floor(n / 4)));
  const nprobe = Math.min(nlist, opts.nprobe ?? 8);
  const seed = opts.seed ?? 0;
  // coarse quantizer on a sample: a few Lloyd iterations from random points
  let s = seed >>> 0 || 1;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const sampleN = Math.min(n, nlist * 32);
  const sample = new Float32Array(sampleN * d);
  const step = n / sampleN;
  for (let i = 0; i < sampleN; i++) {
    const src = Math.min(n - 1, Math.floor(i * step + rand() * step));
    sample.set(xs.subarray(src * d, src * d + d), i * d);
  }
  let cents = new Float32Array(nlist * d);
  for (let c = 0; c < nlist; c++) {
    const src = Math.floor(rand() * sampleN);
    cents.set(sample.subarray(src * d, src * d + d), c * d);
  }
  const sampleT = tf.tensor2d(sample, [sampleN, d]);
  for (let it = 0; it < 8; it++) {
    const a = nearestCentroid(sampleT, cents, nlist);
    const next = new Float32Array(nlist * d);
    const cnt = new Float64Array(nlist);
    for (let i = 0; i < sampleN; i++) {
      const c = a[i]!;
      cnt[c]! += 1;
      for (let j = 0; j < d; j++) next[c * d + j]! += sample[i * d + j]!;
    }
    for (let c = 0; c < nlist; c++) {
      if (cnt[c] === 0) next.set(cents.subarray(c * d, c * d + d), c * d);
      else for (let j = 0; j < d; j++) next[c * d + j] = next[c * d + j]! / cnt[c]!;
    }
    cents = next;
  }
  sampleT.dispose();
  // assign every point
  const xT = tf.tensor2d(xs, [n, d]);
  const listOf = nearestCentroid(xT, cents, nlist);
  xT.dispose();
  const members: number[][] = Array.from({ length: nlist }, () => []);
  for (let i = 0; i < n; i++) members[listOf[i]!]!.push(i);
  // probe lists: nearest centroids to each centroid
  const probes = knnQuery(cents, nlist, cents, nlist, d, nprobe, { normalize: false });
  const indices = new Int32Array(n * k).fill(-1);
  const sims = new Float32Array(n * k).fill(-Infinity);
  for (let l = 0; l < nlist; l++) {
    const q = members[l]!;
    if (q.length === 0) continue;
    const candSet: number[] = [...q];
    for (let p = 0; p < nprobe; p++) {
      const pl = probes.indices[l * nprobe + p]!;
      if (pl !== l && pl >= 0) for (const m of members[pl]!) candSet.push(m);
    }
    const kk = Math.min(k + 1, candSet.length);
    const cand = new Float32Array(candSet.length * d);
    candSet.forEach((m, r) => cand.set(xs.subarray(m * d, m * d + d), r * d));
    const candT = tf.tidy(() => tf.transpose(tf.tensor2d(cand, [candSet.length, d])));
    for (let s0 = 0; s0 < q.length; s0 += 2048) {
      const qm = Math.min(2048, q.length - s0);
      const qa = new Float32Array(qm * d);
      for (let r = 0; r < qm; r++) qa.set(xs.subarray(q[s0 + r]! * d, q[s0 + r]! * d + d), r * d);
      const { values, indices: ix } = tf.tidy(() => tf.topk(tf.matMul(tf.tensor2d(qa, [qm, d]), candT), kk));
      const vv = values.dataSync();
      const ii = ix.dataSync();
      tf.dispose([values, ix]);
      for (let r = 0; r < qm; r++) {
        const row = q[s0 + r]!;
        let filled = 0;
        for (let j = 0; j < kk && filled < k; j++) {
          const col = candSet[ii[r * kk + j]!]!;
          if (col === row) continue;
          indices[row * k + filled] = col;
          sims[row * k + filled] = vv[r * kk + j]!;
          filled++;
        }
      }
    }
    candT.dispose();
  }
  // rare: a point whose candidate set had fewer than k others -> fill with random points
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      if (indices[i * k + j]! < 0) {
        let c = Math.floor(rand() * n);
        if (c === i) c = (c + 1) % n;
        indices[i * k + j] = c;
        sims[i * k + j] = -1;
      }
    }
  }
  return { n, k, indices, sims };
}

function nearestCentroid(x: tf.Tensor2D, cents: Float32Array, nlist: number): Int32Array {
  const [n, d] = x.shape;
  const out = new Int32Array(n);
  const c = tf.tidy(() => tf.transpose(tf.tensor2d(cents, [nlist, d])));
  const cn = tf.tidy(() => tf.reshape(tf.sum(tf.square(c), 0), [1, nlist]));
  for (let s = 0; s < n; s += 8192) {
    const m = Math.min(8192, n - s);
    const a = tf.tidy(() => tf.argMin(tf.sub(cn, tf.mul(2, tf.matMul(x.slice([s, 0], [m, d]), c))), 1));
    out.set(a.dataSync() as Int32Array, s);
    a.dispose();
  }
  tf.dispose([c, cn]);
  return out;
}

/** Exact kNN up to `exactUpTo` points (default 20,000), IVF beyond. */
export function knnGraphAuto(x: Float32Array, n: number, d: number, k: number, opts: IvfOptions & { exactUpTo?: number } = {}): KnnGraph {
  if (n <= (opts.exactUpTo ?? 20000)) return knnGraph(x, n, d, k, { normalize: opts.normalize ?? true });
  return knnGraphIvf(x, n, d, k, opts);
}
