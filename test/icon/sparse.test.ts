import { describe, expect, it } from 'vitest';
import { sparseAdd, sparseMatMul, type SparseRows } from '../../core/icon/knn.js';

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
});
