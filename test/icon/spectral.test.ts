import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import type { KnnGraph } from '../../core/icon/knn.js';
import { normalizedAdjacency, spectralEmbedding } from '../../core/icon/spectral.js';
import { Rng } from '../../core/icon/rng.js';

function graphOf(lists: number[][]): KnnGraph {
  const n = lists.length;
  const k = Math.max(...lists.map((l) => l.length));
  const indices = new Int32Array(n * k).fill(-1);
  lists.forEach((l, i) => l.forEach((j, t) => (indices[i * k + t] = j)));
  return { n, k, indices, sims: new Float32Array(n * k) };
}

function dense(s: ReturnType<typeof normalizedAdjacency>): number[][] {
  const m = Array.from({ length: s.n }, () => new Array<number>(s.n).fill(0));
  for (let i = 0; i < s.n; i++) for (let e = s.rowPtr[i]!; e < s.rowPtr[i + 1]!; e++) m[i]![s.cols[e]!] = s.vals[e]!;
  return m;
}

describe('spectral embedding of the kNN graph', () => {
  it('symmetrises the graph and scales each edge by 1/sqrt(deg_i deg_j) (hand-computed)', () => {
    // 0 -> 1, 1 -> 2, 2 -> 1, 3 -> 0: undirected edges 0-1, 1-2, 0-3; degrees 2, 2, 1, 1
    const s = dense(normalizedAdjacency(graphOf([[1], [2], [1], [0]])));
    const r = (a: number, b: number) => 1 / Math.sqrt(a * b);
    const want = [
      [0, r(2, 2), 0, r(2, 1)],
      [r(2, 2), 0, r(2, 1), 0],
      [0, r(1, 2), 0, 0],
      [r(1, 2), 0, 0, 0],
    ];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(s[i]![j]).toBeCloseTo(want[i]![j]!, 6);
  });

  it('maps three disconnected groups to three orthogonal points', () => {
    // three rings of 8 nodes, each node linked to its two ring neighbours
    const lists: number[][] = [];
    for (let g = 0; g < 3; g++) for (let t = 0; t < 8; t++) lists.push([g * 8 + ((t + 1) % 8), g * 8 + ((t + 7) % 8)]);
    const z = spectralEmbedding(graphOf(lists), 3, { seed: 4 });
    const row = (i: number) => Array.from(z.subarray(i * 3, i * 3 + 3));
    const dot = (a: number[], b: number[]) => a.reduce((s, v, c) => s + v * b[c]!, 0);
    for (let i = 0; i < 24; i++) {
      expect(dot(row(i), row(i))).toBeCloseTo(1, 5);
      for (let j = 0; j < 24; j++) expect(dot(row(i), row(j))).toBeCloseTo(Math.floor(i / 8) === Math.floor(j / 8) ? 1 : 0, 4);
    }
  });

  it('spans the leading eigenvectors of a dense eigensolver on a random kNN graph', () => {
    const n = 120;
    const k = 6;
    const rng = new Rng(9);
    const lists = Array.from({ length: n }, (_, i) => {
      const s = new Set<number>();
      while (s.size < k) {
        const j = rng.int(n);
        if (j !== i) s.add(j);
      }
      return [...s];
    });
    const g = graphOf(lists);
    const dims = 4;
    const z = spectralEmbedding(g, dims, { seed: 1, iterations: 400, oversample: 12 });
    const eig = new EigenvalueDecomposition(new Matrix(dense(normalizedAdjacency(g))), { assumeSymmetric: true });
    const top = eig.realEigenvalues
      .map((v, i) => [v, i] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, dims)
      .map((p) => p[1]);
    const u = eig.eigenvectorMatrix;
    // rows of z are normalised rows of an n x dims basis B of the same subspace as U's top
    // columns: undo the row scaling with U's own row norms and compare the projectors
    const rowNorm = Array.from({ length: n }, (_, i) => Math.sqrt(top.reduce((s, c) => s + u.get(i, c) ** 2, 0)));
    const b = new Matrix(n, dims);
    for (let i = 0; i < n; i++) for (let c = 0; c < dims; c++) b.set(i, c, z[i * dims + c]! * rowNorm[i]!);
    const uTop = new Matrix(n, dims);
    for (let i = 0; i < n; i++) top.forEach((col, c) => uTop.set(i, c, u.get(i, col)));
    // ||U^T B||_F^2 = dims when B is an orthonormal basis of span(U)
    const overlap = uTop.transpose().mmul(b);
    let f = 0;
    for (let p = 0; p < dims; p++) for (let q = 0; q < dims; q++) f += overlap.get(p, q) ** 2;
    expect(f).toBeCloseTo(dims, 2);
  });
});
