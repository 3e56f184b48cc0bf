import { beforeAll, describe, expect, it } from 'vitest';
import { knnGraph, knnGraphAuto, knnGraphHnsw, knnRecall, nearestBaseRows, type KnnGraph } from '../../core/icon/knn.js';
import { Rng } from '../../core/icon/rng.js';
import { blobs, setupTf } from './helpers.js';

beforeAll(setupTf);

/** Cosine of rows i and j, float64, 0 for a zero row. */
function cosine(x: Float32Array, d: number, i: number, j: number): number {
  let ij = 0;
  let ii = 0;
  let jj = 0;
  for (let t = 0; t < d; t++) {
    ij += x[i * d + t]! * x[j * d + t]!;
    ii += x[i * d + t]! ** 2;
    jj += x[j * d + t]! ** 2;
  }
  return ii > 0 && jj > 0 ? ij / Math.sqrt(ii * jj) : 0;
}

function row(g: KnnGraph, i: number): number[] {
  return Array.from(g.indices.subarray(i * g.k, i * g.k + g.k));
}

/** Every row: k distinct valid neighbours, not itself, sims = true cosine, decreasing. */
function expectWellFormed(g: KnnGraph, x: Float32Array, d: number): void {
  for (let i = 0; i < g.n; i++) {
    const r = row(g, i);
    expect(new Set(r).size).toBe(g.k);
    for (let t = 0; t < g.k; t++) {
      const j = r[t]!;
      expect(j).not.toBe(i);
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThan(g.n);
      expect(g.sims[i * g.k + t]).toBeCloseTo(cosine(x, d, i, j), 5);
      if (t > 0) expect(g.sims[i * g.k + t]).toBeLessThanOrEqual(g.sims[i * g.k + t - 1]!);
    }
  }
}

describe('knnGraphHnsw', () => {
  // 4,000 rows in 20 clusters, 32-d isotropic noise: enough distinct rows for the HNSW path
  const d = 32;
  const k = 3;
  const { x, n } = blobs(20, 200, d, 3, 5);
  const sample = new Rng(2).permutation(n).subarray(0, 500);

  it('finds >= 95% of the exact neighbours on clustered data', () => {
    const g = knnGraphHnsw(x, n, d, k, { seed: 1 });
    const exact = knnGraph(x, n, d, k);
    expect(knnRecall(g, x, n, d, sample)).toBeGreaterThanOrEqual(0.95);
    // the same by neighbour ids over all rows (continuous data: no ties), independent of knnRecall
    let found = 0;
    for (let i = 0; i < n; i++) {
      const want = new Set(row(exact, i));
      for (const j of row(g, i)) if (want.has(j)) found++;
    }
    expect(found / (n * k)).toBeGreaterThanOrEqual(0.95);
    expectWellFormed(g, x, d);
  });

  it('is deterministic for a seed', () => {
    const a = knnGraphHnsw(x, n, d, k, { seed: 7 });
    const b = knnGraphHnsw(x, n, d, k, { seed: 7 });
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(Array.from(a.sims)).toEqual(Array.from(b.sims));
  });

  it("identical rows are each other's nearest neighbours at cosine 1", () => {
    const base = blobs(10, 100, 16, 3, 9);
    const dd = 16;
    // rows 0..299 get two more copies each (one scaled by 2: identical after normalisation),
    // row 999 nine more: a group larger than k + 1
    const extra: number[] = [];
    for (let r = 0; r < 300; r++) extra.push(r, r);
    for (let c = 0; c < 9; c++) extra.push(999);
    const nn = base.n + extra.length;
    const xx = new Float32Array(nn * dd);
    xx.set(base.x);
    extra.forEach((src, e) => {
      const scale = e % 2 === 0 ? 1 : 2;
      for (let t = 0; t < dd; t++) xx[(base.n + e) * dd + t] = base.x[src * dd + t]! * scale;
    });
    const copiesOf = (r: number): number[] => [r, ...extra.flatMap((src, e) => (src === r ? [base.n + e] : []))];
    const g = knnGraphHnsw(xx, nn, dd, k, { seed: 1 });
    expectWellFormed(g, xx, dd);
    for (const r of [0, 150, 299]) {
      const group = copiesOf(r);
      for (const i of group) {
        const nb = row(g, i);
        // the two other copies first (cosine 1), then a distinct row
        expect(new Set(nb.slice(0, 2))).toEqual(new Set(group.filter((c) => c !== i)));
        expect(g.sims[i * k]).toBeCloseTo(1, 6);
        expect(g.sims[i * k + 1]).toBeCloseTo(1, 6);
        expect(group).not.toContain(nb[2]);
      }
    }
    const big = copiesOf(999);
    for (const i of big) for (const j of row(g, i)) expect(big).toContain(j);
    const s = new Rng(3).permutation(nn).subarray(0, 400);
    expect(knnRecall(g, xx, nn, dd, s)).toBeGreaterThanOrEqual(0.95);
  });

  it('many copies of a few rows leave recall intact', () => {
    // 2,000 distinct rows plus 500 copies each of 4 of them. Indexed as is, HNSW's neighbour
    // heuristic prunes links between zero-distance points and recall drops (~0.77 at k = 10).
    const base = blobs(10, 200, 16, 3, 9);
    const dd = 16;
    const kk = 10;
    const nn = base.n + 4 * 500;
    const xx = new Float32Array(nn * dd);
    xx.set(base.x);
    for (let e = 0; e < 4 * 500; e++)
      xx.set(base.x.subarray(Math.floor(e / 500) * 7 * dd, (Math.floor(e / 500) * 7 + 1) * dd), (base.n + e) * dd);
    const g = knnGraphHnsw(xx, nn, dd, kk, { seed: 1 });
    expect(knnRecall(g, xx, nn, dd, new Rng(3).permutation(nn).subarray(0, 1000))).toBeGreaterThanOrEqual(0.95);
  });

  it('small inputs: exact, including n = k + 1 and all rows identical', () => {
    const small = blobs(3, 50, 8, 3, 4);
    const g = knnGraphHnsw(small.x, small.n, 8, 5);
    const exact = knnGraph(small.x, small.n, 8, 5);
    expect(Array.from(g.indices)).toEqual(Array.from(exact.indices));
    expectWellFormed(g, small.x, 8);
    // n = k + 1: every other row, by decreasing cosine
    const five = blobs(5, 1, 4, 1, 2);
    const g5 = knnGraphHnsw(five.x, 5, 4, 4);
    for (let i = 0; i < 5; i++) expect(new Set(row(g5, i))).toEqual(new Set([0, 1, 2, 3, 4].filter((j) => j !== i)));
    expectWellFormed(g5, five.x, 4);
    // ten identical rows
    const same = new Float32Array(10 * 4);
    for (let i = 0; i < 10; i++) same.set([1, 2, 3, 4], i * 4);
    const gs = knnGraphHnsw(same, 10, 4, 3);
    expectWellFormed(gs, same, 4);
    for (let i = 0; i < 30; i++) expect(gs.sims[i]).toBeCloseTo(1, 6);
    // degenerate sizes
    expect(knnGraphHnsw(new Float32Array(4), 1, 4, 0).indices.length).toBe(0);
    expect(() => knnGraphHnsw(five.x, 5, 4, 5)).toThrow(/only 4 candidates/);
  });

  it('knnGraphAuto: exact up to exactUpTo rows, HNSW beyond', () => {
    const m = blobs(6, 100, 8, 3, 8);
    const exact = knnGraph(m.x, m.n, 8, k);
    expect(Array.from(knnGraphAuto(m.x, m.n, 8, k, { exactUpTo: m.n }).indices)).toEqual(Array.from(exact.indices));
    const hnsw = knnGraphHnsw(m.x, m.n, 8, k, { seed: 4, efSearch: 10 });
    expect(Array.from(knnGraphAuto(m.x, m.n, 8, k, { exactUpTo: m.n - 1, seed: 4, efSearch: 10 }).indices)).toEqual(
      Array.from(hnsw.indices),
    );
  });
});

describe('knnRecall', () => {
  const d = 8;
  const k = 4;
  const { x, n } = blobs(4, 60, d, 3, 11);
  const all = Array.from({ length: n }, (_, i) => i);

  it('is 1 for the exact graph and loses 1/k per wrong slot', () => {
    const exact = knnGraph(x, n, d, k);
    expect(knnRecall(exact, x, n, d, all)).toBe(1);
    // last slot -> the least similar row: one miss per row
    const far = { ...exact, indices: Int32Array.from(exact.indices) };
    for (let i = 0; i < n; i++) {
      let worst = -1;
      let ws = Infinity;
      for (let j = 0; j < n; j++) {
        const s = cosine(x, d, i, j);
        if (j !== i && s < ws) [worst, ws] = [j, s];
      }
      far.indices[i * k + k - 1] = worst;
    }
    expect(knnRecall(far, x, n, d, all)).toBeCloseTo((k - 1) / k, 10);
    // self, a repeated neighbour and -1 never count
    const bad = { ...exact, indices: Int32Array.from(exact.indices) };
    bad.indices[0] = 0;
    bad.indices[k + 1] = bad.indices[k]!;
    bad.indices[2 * k] = -1;
    expect(knnRecall(bad, x, n, d, [0, 1, 2])).toBeCloseTo((3 * k - 3) / (3 * k), 10);
  });

  it('honours ties: any of several identical rows is a right answer', () => {
    // query 0; rows 1..3 identical at cosine 0.71 to it; row 4 the nearest (0.995); row 5 opposite.
    // Its true top-2: row 4 and any one of rows 1..3.
    const y = Float32Array.from([1, 0, 1, 1, 1, 1, 1, 1, 1, 0.1, -1, 0]);
    const graph = (second: number): KnnGraph => ({
      n: 6,
      k: 2,
      indices: Int32Array.from([4, second, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      sims: new Float32Array(12),
    });
    for (const tied of [1, 2, 3]) expect(knnRecall(graph(tied), y, 6, 2, [0])).toBe(1);
    expect(knnRecall(graph(5), y, 6, 2, [0])).toBe(0.5);
  });
});

describe('nearestBaseRows', () => {
  it('finds the most similar base row of each query, by HNSW as by a full scan', () => {
    const { x, n } = blobs(10, 300, 32, 5, 3);
    const nb = 2000;
    const base = x.subarray(0, nb * 32);
    const queries = x.subarray(nb * 32, n * 32);
    const nq = n - nb;
    const exact = nearestBaseRows(base, nb, queries, nq, 32);
    const hnsw = nearestBaseRows(base, nb, queries, nq, 32, { exhaustiveUpTo: 0, seed: 1 });
    const bestSim = (q: number, b: number) => cosine(x, 32, nb + q, b);
    let same = 0;
    for (let q = 0; q < nq; q++) {
      let best = -Infinity;
      for (let b = 0; b < nb; b++) best = Math.max(best, bestSim(q, b));
      expect(bestSim(q, exact[q]!)).toBeCloseTo(best, 5);
      if (bestSim(q, hnsw[q]!) >= best - 1e-6) same++;
    }
    expect(same / nq).toBeGreaterThan(0.98);
    expect(Array.from(nearestBaseRows(base, nb, queries, nq, 32, { exhaustiveUpTo: 0, seed: 1 }))).toEqual(Array.from(hnsw));
    // some of the query rows only: the same answers for those, by either search
    const rows = Int32Array.from({ length: 50 }, (_, i) => 7 * i + 3);
    expect(Array.from(nearestBaseRows(base, nb, queries, nq, 32, { rows }))).toEqual(Array.from(rows, (r) => exact[r]!));
    expect(Array.from(nearestBaseRows(base, nb, queries, nq, 32, { rows, exhaustiveUpTo: 0, seed: 1 }))).toEqual(
      Array.from(rows, (r) => hnsw[r]!),
    );
  });
});
