/**
 * Spectral embedding of the kNN graph (Ng, Jordan & Weiss, 2001): the leading eigenvectors of
 * the normalised adjacency S = D^-1/2 A D^-1/2 of the symmetrised graph, rows normalised to
 * unit length. Spectral clustering is one of the methods the I-Con loss unifies (p: the graph,
 * q: a Gaussian kernel on the embedding); here it gives the trainer its starting partition.
 *
 * The eigenvectors come from subspace iteration on (I + S) / 2 (its eigenvalues lie in [0, 1],
 * so the top of S is also the top in magnitude) with a Rayleigh-Ritz step at the end: only
 * sparse products and an n x b orthonormalisation (CholeskyQR2 on tfjs matmuls, shared with
 * the PCA), so it scales to millions of images, where a dense eigensolver would need n^2.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { KnnGraph, SparseRows } from './knn.js';
import { orthonormalize } from './orthonormalize.js';
import { Rng } from './rng.js';

export interface SpectralOptions {
  /** Subspace iterations (each: one sparse product and an orthonormalisation). */
  iterations?: number;
  /** Extra columns beyond `dims` (they speed up convergence of the wanted ones). */
  oversample?: number;
  seed?: number;
}

/** The symmetrised kNN graph (an edge if either end lists the other), as S = D^-1/2 A D^-1/2. */
export function normalizedAdjacency(g: KnnGraph): SparseRows {
  const { n, k } = g;
  // both directions of every listed edge, then each row sorted and deduplicated in place
  // (typed arrays: at 1,000,000 images, per-row JS arrays would cost several times the memory)
  const count = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = g.indices[i * k + t]!;
      if (j < 0 || j === i) continue;
      count[i + 1]!++;
      count[j + 1]!++;
    }
  }
  for (let i = 0; i < n; i++) count[i + 1]! += count[i]!;
  const all = new Int32Array(count[n]!);
  const fill = count.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = g.indices[i * k + t]!;
      if (j < 0 || j === i) continue;
      all[fill[i]!++] = j;
      all[fill[j]!++] = i;
    }
  }
  const rowPtr = new Int32Array(n + 1);
  const deg = new Int32Array(n);
  let w = 0;
  for (let i = 0; i < n; i++) {
    const row = all.subarray(count[i]!, count[i + 1]!).sort();
    let prev = -1;
    for (const j of row) {
      if (j === prev) continue;
      all[w++] = j;
      prev = j;
    }
    rowPtr[i + 1] = w;
    deg[i] = w - rowPtr[i]!;
  }
  const cols = all.slice(0, w);
  const vals = new Float32Array(w);
  for (let i = 0; i < n; i++) for (let e = rowPtr[i]!; e < rowPtr[i + 1]!; e++) vals[e] = 1 / Math.sqrt(deg[i]! * deg[cols[e]!]!);
  return { n, rowPtr, cols, vals };
}

/**
 * 100 iterations: at 30 the embedding of fashion-mnist-1k had not converged and the start (and
 * I-Con after it) varied by seed (docs/clustering.md); each costs one sparse product.
 */
const DEFAULT_ITERATIONS = 100;
const ORTHO_EVERY = 5;

/** Leading `dims` eigenvectors of S (n x dims, row-major), each row scaled to unit length. */
export function spectralEmbedding(g: KnnGraph, dims: number, opts: SpectralOptions = {}): Float32Array {
  const s = normalizedAdjacency(g);
  const n = s.n;
  const b = Math.min(n, dims + (opts.oversample ?? 8));
  const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  const rng = new Rng(opts.seed ?? 0);
  let y: Float32Array = orthonormalize(rng.normalArray(n * b), n, b);
  let z: Float32Array = new Float32Array(n * b);
  for (let it = 0; it < iterations; it++) {
    // z = (y + S y) / 2
    multiply(s, y, z, b);
    for (let i = 0; i < z.length; i++) z[i] = 0.5 * (z[i]! + y[i]!);
    // a few products between orthonormalisations: the eigenvalues of (I + S) / 2 lie in
    // [0, 1], so the columns drift together only by their ratios to the 5th power
    if (it % ORTHO_EVERY === ORTHO_EVERY - 1 || it === iterations - 1) z = orthonormalize(z, n, b);
    [y, z] = [z, y];
  }
  // Rayleigh-Ritz: T = y^T S y, rotate y onto T's leading eigenvectors
  multiply(s, y, z, b);
  const t = new Matrix(b, b);
  for (let p = 0; p < b; p++) {
    for (let q = p; q < b; q++) {
      let v = 0;
      for (let i = 0; i < n; i++) v += y[i * b + p]! * z[i * b + q]!;
      t.set(p, q, v);
      t.set(q, p, v);
    }
  }
  const eig = new EigenvalueDecomposition(t, { assumeSymmetric: true });
  const order = eig.realEigenvalues
    .map((val, i) => [val, i] as const)
    .sort((a1, a2) => a2[0] - a1[0])
    .slice(0, Math.min(dims, b))
    .map((p) => p[1]);
  const vecs = eig.eigenvectorMatrix;
  const d = order.length;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let c = 0; c < d; c++) {
      let v = 0;
      for (let p = 0; p < b; p++) v += y[i * b + p]! * vecs.get(p, order[c]!);
      out[i * d + c] = v;
      norm += v * v;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let c = 0; c < d; c++) out[i * d + c]! *= inv;
  }
  return out;
}

/** out = S y for a block of b columns (row-major n x b). */
function multiply(s: SparseRows, y: Float32Array, out: Float32Array, b: number): void {
  out.fill(0);
  for (let i = 0; i < s.n; i++) {
    const oi = i * b;
    for (let e = s.rowPtr[i]!; e < s.rowPtr[i + 1]!; e++) {
      const w = s.vals[e]!;
      const oj = s.cols[e]! * b;
      for (let c = 0; c < b; c++) out[oi + c]! += w * y[oj + c]!;
    }
  }
}
