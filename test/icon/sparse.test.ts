import { describe, expect, it } from 'vitest';
import { normalizeSparseRows, sparseAdd, sparseMatMul, symmetrizeSparse, type SparseRows } from '../../core/icon/knn.js';

/** CSR from a dense row-major matrix (zeros dropped). */
function csr(dense: number[][]): SparseRows {
  const rowPtr = new Int32Array(dense.length + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  dense.forEach((row, i) => {
    row.forEach((v, j) => {
      if (v !== 0) {
        cols.push(j);
        vals.push(v);
      }
    });
    rowPtr[i + 1] = cols.length;
  });
  return { n: dense.length, rowPtr, cols: Int32Array.from(cols), vals: Float32Array.from(vals) };
}

function dense(m: SparseRows): number[][] {
  const out = Array.from({ length: m.n }, () => new Array<number>(m.n).fill(0));
  for (let i = 0; i < m.n; i++) for (let e = m.rowPtr[i]!; e < m.rowPtr[i + 1]!; e++) out[i]![m.cols[e]!] = m.vals[e]!;
  return out;
}

describe('sparse matrices (CSR)', () => {
  const a = [
    [0, 1, 2],
    [3, 0, 0],
    [0, 0, 0],
  ];
  const b = [
    [1, 0, 1],
    [0, 2, 0],
    [4, 0, 0],
  ];

  it('multiplies like the dense product, columns sorted per row', () => {
    const p = sparseMatMul(csr(a), csr(b));
    expect(dense(p)).toEqual([
      [8, 2, 0],
      [3, 0, 3],
      [0, 0, 0],
    ]);
    expect(Array.from(p.cols.subarray(p.rowPtr[0]!, p.rowPtr[1]!))).toEqual([0, 1]);
  });

  it('adds with weights like the dense weighted sum', () => {
    const s = sparseAdd([
      { m: csr(a), w: 0.5 },
      { m: csr(b), w: 2 },
    ]);
    expect(dense(s)).toEqual([
      [2, 0.5, 3],
      [1.5, 4, 0],
      [8, 0, 0],
    ]);
  });

  it('holds exactly its entries when no two terms share one (typed, sized once)', () => {
    const s = sparseAdd([
      {
        m: csr([
          [0, 1],
          [0, 0],
        ]),
        w: 1,
      },
      {
        m: csr([
          [0, 0],
          [2, 0],
        ]),
        w: 1,
      },
    ]);
    expect(dense(s)).toEqual([
      [0, 1],
      [2, 0],
    ]);
    expect(s.cols).toBeInstanceOf(Int32Array);
    expect(s.cols.length).toBe(2);
    expect(s.vals.length).toBe(2);
  });

  it('normalises rows without the diagonal or zeros, and symmetrises to rows summing to 1', () => {
    const m = normalizeSparseRows(
      csr([
        [5, 1, 3],
        [0, 0, 2],
        [1, 1, 0],
      ]),
    );
    expect(dense(m)).toEqual([
      [0, 0.25, 0.75],
      [0, 0, 1],
      [0.5, 0.5, 0],
    ]);
    expect(m.cols.length).toBe(5);
    const s = symmetrizeSparse(m);
    for (const row of dense(s)) expect(row.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 6);
    const d = dense(s);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(d[i]![j]! > 0).toBe(d[j]![i]! > 0);
    expect(d[1]![0]).toBeGreaterThan(0);
  });
});
