/**
 * kNN graph (cosine, self excluded) by exact blocked matmul top-k, never
 * holding N x N: row blocks x column blocks, top-(k+1) per tile, merged in JS;
 * beyond KNN_EXACT_UP_TO rows, approximate with an HNSW index (hnswlib-node),
 * and `knnRecall` to measure the approximation against exact on sampled rows.
 * Plus sparse row-stochastic matrices for kNN / walk kernels.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import type * as HnswNamespace from 'hnswlib-node';
import { gatherRows, l2normalize } from './preprocess.js';

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
            insertSorted(indices, sims, o, k - 1, s, col); // replaces the row's last (worst) entry
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

/**
 * The kNN graph of rows x [n, d] made from an earlier graph over mostly the same rows
 * (`prevRow[i]`: row i's index in `prev`, -1 for a row added since), without searching all rows
 * again: a row added since, or one whose neighbour list named a row gone since, is searched
 * exactly among all rows; every other row keeps its list, and takes in the added rows that are
 * nearer than its k-th neighbour (an exact search of all rows among the added ones). With a
 * handful of rows added to a large library this costs (added + affected) x n x d instead of a
 * new index. null when `prev` has fewer than k neighbours per row.
 */
export function extendKnnGraph(prev: KnnGraph, prevRow: Int32Array, x: Float32Array, n: number, d: number, k: number): KnnGraph | null {
  if (prev.k < k || prevRow.length !== n || k > n - 1) return null;
  const newOf = new Int32Array(prev.n).fill(-1);
  for (let i = 0; i < n; i++) if (prevRow[i]! >= 0) newOf[prevRow[i]!] = i;
  const indices = new Int32Array(n * k);
  const sims = new Float32Array(n * k);
  const search: number[] = [];
  const added: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = prevRow[i]!;
    if (p < 0) {
      added.push(i);
      search.push(i);
      continue;
    }
    let ok = true;
    for (let t = 0; t < k && ok; t++) {
      const j = newOf[prev.indices[p * prev.k + t]!]!;
      if (j < 0) ok = false;
      indices[i * k + t] = j;
      sims[i * k + t] = prev.sims[p * prev.k + t]!;
    }
    if (!ok) search.push(i);
  }
  const xs = l2normalize(x, n, d);
  if (search.length > 0) {
    const kk = Math.min(k + 1, n);
    const g = knnQuery(gatherRowsOf(xs, d, search), search.length, xs, n, d, kk, { normalize: false });
    search.forEach((i, r) => {
      let f = 0;
      for (let t = 0; t < kk && f < k; t++) {
        const j = g.indices[r * kk + t]!;
        if (j === i || j < 0) continue;
        indices[i * k + f] = j;
        sims[i * k + f] = g.sims[r * kk + t]!;
        f++;
      }
    });
  }
  if (added.length > 0) {
    const searched = new Uint8Array(n);
    for (const i of search) searched[i] = 1;
    const ka = Math.min(k, added.length);
    const g = knnQuery(xs, n, gatherRowsOf(xs, d, added), added.length, d, ka, { normalize: false });
    for (let i = 0; i < n; i++) {
      if (searched[i]) continue;
      const o = i * k;
      for (let t = 0; t < ka; t++) {
        const j = added[g.indices[i * ka + t]!]!;
        const s = g.sims[i * ka + t]!;
        if (s <= sims[o + k - 1]!) break; // sorted: the rest are farther
        insertSorted(indices, sims, o, k - 1, s, j);
      }
    }
  }
  return { n, k, indices, sims };
}

function gatherRowsOf(x: Float32Array, d: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, i) => out.set(x.subarray(r * d, (r + 1) * d), i * d));
  return out;
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
  const kept = (i: number, e: number) => !(dropSelf && m.cols[e] === i) && m.vals[e] !== 0;
  // counted first, so the result is allocated once, typed (number[] took ~4x the memory at 100,000 map points)
  let nnz = 0;
  for (let i = 0; i < m.n; i++) for (let e = m.rowPtr[i]!; e < m.rowPtr[i + 1]!; e++) if (kept(i, e)) nnz++;
  const rowPtr = new Int32Array(m.n + 1);
  const cols = new Int32Array(nnz);
  const vals = new Float32Array(nnz);
  let o = 0;
  for (let i = 0; i < m.n; i++) {
    let s = 0;
    for (let e = m.rowPtr[i]!; e < m.rowPtr[i + 1]!; e++) if (!(dropSelf && m.cols[e] === i)) s += m.vals[e]!;
    for (let e = m.rowPtr[i]!; e < m.rowPtr[i + 1]!; e++) {
      if (!kept(i, e)) continue;
      cols[o] = m.cols[e]!;
      vals[o++] = s > 0 ? m.vals[e]! / s : 0;
    }
    rowPtr[i + 1] = o;
  }
  return { n: m.n, rowPtr, cols, vals };
}

/**
 * Builds an n x n sparse matrix row by row: `row(i, add)` calls `add(m, r, w)` for each
 * weighted sparse row (row r of m, times w) whose sum is output row i. Shared by the sparse
 * product and the weighted sum, which differ only in which rows they add up.
 */
function accumulateRows(
  n: number,
  bound: number,
  row: (i: number, add: (m: SparseRows, r: number, w: number) => void) => void,
): SparseRows {
  const acc = new Float64Array(n);
  const mark = new Int32Array(n).fill(-1);
  const touched: number[] = [];
  const rowPtr = new Int32Array(n + 1);
  // typed, sized by the caller's bound on the entries: number[] held 16+ bytes an entry and grew
  // by copying (the map's p at 100,000 points: +330 MB)
  const cols = new Int32Array(bound);
  const vals = new Float32Array(bound);
  let o = 0;
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
      cols[o] = c;
      vals[o++] = acc[c]!;
    }
    rowPtr[i + 1] = o;
  }
  return o === bound ? { n, rowPtr, cols, vals } : { n, rowPtr, cols: cols.slice(0, o), vals: vals.slice(0, o) };
}

/** Sparse product A B (both n x n CSR). */
export function sparseMatMul(a: SparseRows, b: SparseRows): SparseRows {
  let bound = 0;
  for (let e = 0; e < a.rowPtr[a.n]!; e++) bound += b.rowPtr[a.cols[e]! + 1]! - b.rowPtr[a.cols[e]!]!;
  return accumulateRows(a.n, Math.min(bound, a.n * a.n), (i, add) => {
    for (let e = a.rowPtr[i]!; e < a.rowPtr[i + 1]!; e++) add(b, a.cols[e]!, a.vals[e]!);
  });
}

/** Weighted sum of sparse matrices (same n). */
export function sparseAdd(terms: { m: SparseRows; w: number }[]): SparseRows {
  const n = terms[0]!.m.n;
  const bound = terms.reduce((s, t) => s + t.m.rowPtr[n]!, 0);
  return accumulateRows(n, Math.min(bound, n * n), (i, add) => {
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
  return normalizeSparseRows(
    sparseAdd([
      { m: p, w: 0.5 },
      { m: { n, rowPtr: tPtr, cols: tCols, vals: tVals }, w: 0.5 },
    ]),
  );
}

// ---------------------------------------------------------------------------
// Approximate kNN graph: HNSW (hnswlib-node), exact where cheap.

/** Above this many rows `knnGraphAuto` switches from the exact blocked matmul to HNSW. */
export const KNN_EXACT_UP_TO = 20000;

export interface HnswOptions {
  /**
   * Links per node and layer (2m on the base layer). Higher: better recall on
   * high-intrinsic-dimension data, slower build and search, ~8m bytes more per row.
   */
  m?: number;
  /** Candidate list size while inserting: graph quality vs build time. */
  efConstruction?: number;
  /** Candidate list size while searching (raised to k + 1 when smaller): recall vs query time. */
  efSearch?: number;
  /** hnswlib's level-assignment seed: with it the graph is deterministic (insertion is sequential). */
  seed?: number;
}

/**
 * Chosen on clustered 128-d L2-normalised rows (bench/knn.ts's data, 100k rows, recall@3 /
 * @10 against exact, m 8-24 x efConstruction 64-200 x efSearch 10-64):
 * - m 16: m 8 loses 2-4 points of recall at the same ef, m 12 about 0.5; m 24 gains
 *   nothing at k <= 10 for 50% more links (memory, build time).
 * - efConstruction 128: at 64 the graph caps recall near 0.97-0.98 whatever efSearch;
 *   200 adds ~0.4 points for ~1.5x the build time.
 * - efSearch 48: 32 gives 0.993 / 0.989, 64 gives 0.997 / 0.996; search is ~1/3 of the
 *   total. Measured: recall@3 0.998 at 100k, 0.971 at 1M; recall@45 (t-SNE's k) 0.989.
 */
export const HNSW_DEFAULTS: Required<Omit<HnswOptions, 'seed'>> = { m: 16, efConstruction: 128, efSearch: 48 };

/**
 * Up to this many distinct rows the graph is computed exhaustively in JS instead: it is
 * exact, cheaper than building an index at that size, and covers n <= k + 1, where an
 * HNSW search would have to return the whole index.
 */
const HNSW_EXHAUSTIVE_UP_TO = 512;

type HnswLib = typeof HnswNamespace;
const requireCjs = createRequire(import.meta.url);
let hnswlib: HnswLib | null = null;

/**
 * hnswlib-node is a native addon compiled at install time. It is loaded on first use, not
 * imported at the top, so that a missing or broken build only fails the approximate path
 * (beyond KNN_EXACT_UP_TO rows) with a message saying so, not every importer of the engine.
 */
function loadHnswlib(): HnswLib {
  if (hnswlib) return hnswlib;
  try {
    hnswlib = requireCjs('hnswlib-node') as HnswLib;
  } catch (err) {
    throw new Error(
      `knn: approximate kNN needs the native module hnswlib-node, which failed to load: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return hnswlib;
}

/**
 * Approximate k nearest neighbours of every row (cosine, self excluded), with an HNSW
 * index (hnswlib-node, inner product on L2-normalised rows). Same result shape as
 * `knnGraph`: [n, k] indices by decreasing similarity, sims = the cosine of each returned
 * pair recomputed in float64 (not hnswlib's float32 distance), so they agree with `knnGraph`.
 *
 * Identical rows (after normalisation) are indexed once: HNSW's neighbour-selection
 * heuristic prunes zero-distance links, so many copies of a row would leave copies poorly
 * connected. A row's copies are its nearest neighbours (cosine 1); the rest of its row
 * comes from its distinct neighbours, each expanded into its copies.
 *
 * Single-threaded: hnswlib-node's addPoint / searchKnn take one point per synchronous
 * call on the calling thread, and an index cannot be shared between worker threads.
 * Deterministic for a given seed (sequential insertion, seeded levels).
 */
export function knnGraphHnsw(x: Float32Array, n: number, d: number, k: number, opts: HnswOptions = {}): KnnGraph {
  if (!Number.isInteger(k) || k < 0) throw new Error(`knn: k must be a non-negative integer, got ${k}`);
  if (k > n - 1) throw new Error(`knn: k=${k} but only ${Math.max(0, n - 1)} candidates`);
  const indices = new Int32Array(n * k);
  const sims = new Float32Array(n * k);
  if (k === 0) return { n, k, indices, sims };
  const xs = l2normalize(x, n, d);
  const { first, gPtr, gRows } = groupIdenticalRows(xs, n, d);
  const u = first.length;
  const hnsw = u > HNSW_EXHAUSTIVE_UP_TO ? buildHnsw(xs, d, first, k, opts) : null;
  for (let g = 0; g < u; g++) {
    const size = gPtr[g + 1]! - gPtr[g]!;
    // distinct rows needed beyond this group's own copies (each brings >= 1 row)
    const want = Math.min(k - (size - 1), u - 1);
    let others: ArrayLike<number> = [];
    if (want > 0) {
      others = hnsw ? hnsw(g, want) : [];
      // exhaustive for small inputs, and if the graph ever returns too few (unreachable nodes)
      if (others.length < want) others = exhaustiveNeighbours(xs, d, first, g, want);
    }
    for (let e = gPtr[g]!; e < gPtr[g + 1]!; e++) {
      const i = gRows[e]!;
      const o = i * k;
      let f = 0;
      for (let c = gPtr[g]!; c < gPtr[g + 1]! && f < k; c++) if (gRows[c] !== i) indices[o + f++] = gRows[c]!;
      for (let t = 0; t < others.length && f < k; t++) {
        const h = others[t]!;
        for (let c = gPtr[h]!; c < gPtr[h + 1]! && f < k; c++) indices[o + f++] = gRows[c]!;
      }
      for (let t = 0; t < k; t++) sims[o + t] = dot(xs, d, i, indices[o + t]!);
      sortRowBySim(indices, sims, o, k);
    }
  }
  return { n, k, indices, sims };
}

/** An empty inner-product HNSW index for `size` rows of `d` floats, with the options' settings. */
function newHnswIndex(d: number, size: number, opts: HnswOptions): InstanceType<HnswLib['HierarchicalNSW']> {
  const { HierarchicalNSW } = loadHnswlib();
  const index = new HierarchicalNSW('ip', d);
  index.initIndex({
    maxElements: size,
    m: opts.m ?? HNSW_DEFAULTS.m,
    efConstruction: opts.efConstruction ?? HNSW_DEFAULTS.efConstruction,
    randomSeed: (opts.seed ?? 0) >>> 0,
  });
  return index;
}

/**
 * Builds the index over the distinct rows (label = group id) and returns a search for the
 * `want` nearest other groups of group g, nearest first.
 */
function buildHnsw(xs: Float32Array, d: number, first: Int32Array, k: number, opts: HnswOptions): (g: number, want: number) => Int32Array {
  const u = first.length;
  const index = newHnswIndex(d, u, opts);
  // the binding reads plain JS arrays element by element; one reused array avoids garbage
  const buf = new Array<number>(d).fill(0);
  const load = (row: number): number[] => {
    for (let j = 0; j < d; j++) buf[j] = xs[row * d + j]!;
    return buf;
  };
  for (let g = 0; g < u; g++) index.addPoint(load(first[g]!), g);
  // hnswlib searches with max(ef, asked); k + 1 leaves room for the query itself
  index.setEf(Math.max(opts.efSearch ?? HNSW_DEFAULTS.efSearch, k + 1));
  return (g, want) => {
    const res = index.searchKnn(load(first[g]!), Math.min(u, want + 1)).neighbors;
    const out = new Int32Array(want);
    let f = 0;
    for (let t = 0; t < res.length && f < want; t++) if (res[t] !== g) out[f++] = res[t]!;
    return out.subarray(0, f);
  };
}

/** The `want` groups whose representative rows are nearest to group g's, by a full scan. */
function exhaustiveNeighbours(xs: Float32Array, d: number, first: Int32Array, g: number, want: number): Int32Array {
  const top = new Int32Array(want).fill(-1);
  const topSim = new Float64Array(want).fill(-Infinity);
  const q = first[g]!;
  for (let h = 0; h < first.length; h++) {
    if (h === g) continue;
    const s = dot(xs, d, q, first[h]!);
    if (s <= topSim[want - 1]!) continue;
    let p = want - 1;
    while (p > 0 && topSim[p - 1]! < s) {
      topSim[p] = topSim[p - 1]!;
      top[p] = top[p - 1]!;
      p--;
    }
    topSim[p] = s;
    top[p] = h;
  }
  return top;
}

/**
 * Groups bit-identical rows (-0 counted as 0) with an open-addressing hash table.
 * `first[g]` is group g's first row; group g's rows, ascending, are gRows[gPtr[g]..gPtr[g+1]).
 */
function groupIdenticalRows(xs: Float32Array, n: number, d: number): { first: Int32Array; gPtr: Int32Array; gRows: Int32Array } {
  const bits = new Uint32Array(xs.buffer, xs.byteOffset, n * d);
  const word = (p: number): number => (bits[p] === 0x80000000 ? 0 : bits[p]!);
  let size = 16;
  while (size < 2 * n) size *= 2;
  const table = new Int32Array(size).fill(-1);
  const hashOf = new Int32Array(n);
  const firstAll = new Int32Array(n);
  const groupOf = new Int32Array(n);
  let u = 0;
  for (let i = 0; i < n; i++) {
    let h = 0x811c9dc5 | 0; // FNV-1a over the row's words
    for (let j = 0; j < d; j++) h = Math.imul(h ^ word(i * d + j), 0x01000193);
    h ^= h >>> 16;
    let p = h & (size - 1);
    for (;;) {
      const g = table[p]!;
      if (g < 0) {
        table[p] = u;
        hashOf[u] = h;
        firstAll[u] = i;
        groupOf[i] = u++;
        break;
      }
      if (hashOf[g] === h && sameRow(word, firstAll[g]! * d, i * d, d)) {
        groupOf[i] = g;
        break;
      }
      p = (p + 1) & (size - 1);
    }
  }
  const gPtr = new Int32Array(u + 1);
  for (let i = 0; i < n; i++) gPtr[groupOf[i]! + 1]!++;
  for (let g = 0; g < u; g++) gPtr[g + 1] = gPtr[g + 1]! + gPtr[g]!;
  const fill = gPtr.slice(0, u);
  const gRows = new Int32Array(n);
  for (let i = 0; i < n; i++) gRows[fill[groupOf[i]!]!++] = i;
  return { first: firstAll.slice(0, u), gPtr, gRows };
}

function sameRow(word: (p: number) => number, a: number, b: number, d: number): boolean {
  for (let j = 0; j < d; j++) if (word(a + j) !== word(b + j)) return false;
  return true;
}

/** Dot product of rows i and j, accumulated in float64. */
function dot(xs: Float32Array, d: number, i: number, j: number): number {
  let s = 0;
  const a = i * d;
  const b = j * d;
  for (let t = 0; t < d; t++) s += xs[a + t]! * xs[b + t]!;
  return s;
}

/**
 * Writes (sim, ix) into slot `from` of the row at `o` (sorted by decreasing similarity over
 * slots 0..from-1) and moves it up to its place; equal similarities keep their order.
 */
function insertSorted(indices: Int32Array, sims: Float32Array, o: number, from: number, sim: number, ix: number): void {
  let p = from;
  while (p > 0 && sims[o + p - 1]! < sim) {
    sims[o + p] = sims[o + p - 1]!;
    indices[o + p] = indices[o + p - 1]!;
    p--;
  }
  sims[o + p] = sim;
  indices[o + p] = ix;
}

/** Stable insertion sort of one [k] row by decreasing similarity. */
function sortRowBySim(indices: Int32Array, sims: Float32Array, o: number, k: number): void {
  for (let a = 1; a < k; a++) insertSorted(indices, sims, o, a, sims[o + a]!, indices[o + a]!);
}

/** Keeps the first k neighbours of a graph computed with a larger k. */
export function trimGraph(g: KnnGraph, k: number): KnnGraph {
  if (g.k === k) return g;
  const indices = new Int32Array(g.n * k);
  const sims = new Float32Array(g.n * k);
  for (let i = 0; i < g.n; i++) {
    indices.set(g.indices.subarray(i * g.k, i * g.k + k), i * k);
    sims.set(g.sims.subarray(i * g.k, i * g.k + k), i * k);
  }
  return { n: g.n, k, indices, sims };
}

/**
 * Most neighbours per image for n images in C groups. A neighbour list longer than about a
 * third of an average group reaches into the other groups when groups are small (the 60-image
 * demo, 10 a group: ACC 46 at k 9, 53 at k 3; 8 images in 2 groups: k 10 is everyone), so
 * k <= max(3, n / 3C), and always < n / C. From 30 images a group on, the default 10 stands.
 */
export function neighbourCap(n: number, C: number): number {
  return Math.max(1, Math.min(n - 1, Math.floor(n / C) - 1, Math.max(3, Math.round(n / (3 * C)))));
}

export interface KnnAutoOptions extends HnswOptions {
  /** Exact blocked matmul up to this many rows, HNSW beyond (default KNN_EXACT_UP_TO). */
  exactUpTo?: number;
}

/** Exact kNN graph up to `exactUpTo` rows, HNSW beyond; cosine, self excluded either way. */
export function knnGraphAuto(x: Float32Array, n: number, d: number, k: number, opts: KnnAutoOptions = {}): KnnGraph {
  if (n <= (opts.exactUpTo ?? KNN_EXACT_UP_TO)) return knnGraph(x, n, d, k, { normalize: true });
  return knnGraphHnsw(x, n, d, k, opts);
}

/**
 * For each query row (each of `opts.rows`, rows of `queries`, where given), the index of its most
 * similar base row (cosine): a full scan while nb x queries is small, else an HNSW index over the
 * base rows (HNSW_DEFAULTS; efSearch 16, enough for the first neighbour). Deterministic for a
 * given seed.
 */
export function nearestBaseRows(
  base: Float32Array,
  nb: number,
  queries: Float32Array,
  nq: number,
  d: number,
  opts: HnswOptions & { exhaustiveUpTo?: number; rows?: ArrayLike<number> } = {},
): Int32Array {
  if (nb === 0) throw new Error('nearestBaseRows: no base rows');
  const rows = opts.rows ?? Int32Array.from({ length: nq }, (_, i) => i);
  const m = rows.length;
  if (nb * m <= (opts.exhaustiveUpTo ?? 5e7)) return knnQuery(gatherRows(queries, d, rows), m, base, nb, d, 1).indices;
  const bs = l2normalize(base, nb, d);
  const out = new Int32Array(m);
  const index = newHnswIndex(d, nb, opts);
  const buf = new Array<number>(d).fill(0);
  for (let b = 0; b < nb; b++) {
    for (let j = 0; j < d; j++) buf[j] = bs[b * d + j]!;
    index.addPoint(buf, b);
  }
  index.setEf(opts.efSearch ?? 16);
  // the inner product ranks a query's neighbours whatever its length: no need to normalise it
  for (let q = 0; q < m; q++) {
    const row = rows[q]!;
    for (let j = 0; j < d; j++) buf[j] = queries[row * d + j]!;
    out[q] = index.searchKnn(buf, 1).neighbors[0]!;
  }
  return out;
}

/** Cosine similarities within which two neighbours count as tied (float32 inputs). */
const RECALL_TIE_TOL = 1e-6;

/**
 * Recall@k of an approximate graph against the exact one, on the query rows `sampleRows`:
 * the fraction of the k slots of those rows holding a true top-k neighbour. Exact
 * neighbours come from `knnQuery` of those rows against all n. Ties are honoured the way
 * ann-benchmarks does: a returned neighbour counts when its cosine (float64) is at least
 * the exact k-th neighbour's, so among equally similar rows (duplicates) any choice is right.
 * Self, out-of-range and repeated indices never count.
 */
export function knnRecall(approx: KnnGraph, x: Float32Array, n: number, d: number, sampleRows: ArrayLike<number>): number {
  const { k } = approx;
  const m = sampleRows.length;
  if (approx.n !== n) throw new Error(`knnRecall: graph has ${approx.n} rows, data ${n}`);
  if (m === 0 || k === 0) return 1;
  const q = new Float32Array(m * d);
  for (let r = 0; r < m; r++) q.set(x.subarray(sampleRows[r]! * d, sampleRows[r]! * d + d), r * d);
  // one extra: the query's own row is among the base rows
  const kk = Math.min(k + 1, n);
  const exact = knnQuery(q, m, x, n, d, kk, { normalize: true });
  const norm = (i: number): number => Math.sqrt(dot(x, d, i, i));
  const cos = (i: number, j: number): number => {
    const den = norm(i) * norm(j);
    return den > 0 ? dot(x, d, i, j) / den : 0;
  };
  let hits = 0;
  for (let r = 0; r < m; r++) {
    const i = sampleRows[r]!;
    const ex: number[] = [];
    for (let t = 0; t < kk; t++) {
      const j = exact.indices[r * kk + t]!;
      if (j !== i && j >= 0) ex.push(cos(i, j));
    }
    ex.sort((a, b) => b - a);
    const kth = ex[k - 1]!;
    const seen = new Set<number>();
    for (let t = 0; t < k; t++) {
      const j = approx.indices[i * k + t]!;
      if (j < 0 || j >= n || j === i || seen.has(j)) continue;
      seen.add(j);
      if (cos(i, j) >= kth - RECALL_TIE_TOL) hits++;
    }
  }
  return hits / (m * k);
}
