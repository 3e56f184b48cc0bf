/**
 * The PCA's parts: the blocked cross product gives the plain loop's sums to the bit,
 * orthonormalize returns orthonormal columns spanning its input, and pcaFit finds the covariance's
 * leading eigenpairs (checked against a full eigendecomposition by ml-matrix).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { beforeAll, describe, expect, it } from 'vitest';
import { orthonormalize } from '../../core/icon/orthonormalize.js';
import { crossProduct, pcaFit } from '../../core/icon/preprocess.js';
import { Rng } from '../../core/icon/rng.js';
import { setupTf } from './helpers.js';

beforeAll(setupTf);

/** A^T B by the plain triple loop (float64, j from 0 up): what crossProduct must equal. */
function plainCrossProduct(A: Float32Array, B: Float32Array, d: number, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let a = 0; a < m; a++)
    for (let b = 0; b < m; b++) {
      let v = 0;
      for (let j = 0; j < d; j++) v += A[j * m + a]! * B[j * m + b]!;
      out[a * m + b] = v;
    }
  return out;
}

describe('crossProduct', () => {
  it.each([1, 2, 3, 4, 5, 8, 11, 14])('equals the plain loop to the bit with %i columns', (m) => {
    const rng = new Rng(m);
    const d = 37;
    const A = rng.normalArray(d * m);
    const B = rng.normalArray(d * m);
    expect(Array.from(crossProduct(A, B, d, m))).toEqual(Array.from(plainCrossProduct(A, B, d, m)));
  });
});

describe('orthonormalize', () => {
  it.each([
    [40, 7],
    [60, 1],
    [5, 5],
  ])('gives orthonormal columns spanning a %ix%i input', (d, r) => {
    const q = new Rng(d + r).normalArray(d * r);
    const o = orthonormalize(q, d, r);
    const gram = crossProduct(o, o, d, r);
    for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) expect(gram[a * r + b]).toBeCloseTo(a === b ? 1 : 0, 5);
    // each input column is its own projection onto the span of the output
    const coef = crossProduct(o, q, d, r); // [r, r]: o_a . q_b
    for (let b = 0; b < r; b++)
      for (let j = 0; j < d; j++) {
        let proj = 0;
        for (let a = 0; a < r; a++) proj += o[j * r + a]! * coef[a * r + b]!;
        expect(proj).toBeCloseTo(q[j * r + b]!, 4);
      }
  });
});

describe('pcaFit', () => {
  it('finds the leading eigenpairs of the covariance', () => {
    const n = 300;
    const d = 24;
    const r = 5;
    const rng = new Rng(7);
    // a spectrum that falls off: column j has scale 1 / (1 + j), then a random rotation
    const z = rng.normalArray(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) z[i * d + j] = z[i * d + j]! / (1 + j) + (j === 0 ? 3 : 0);
    const rows = (a: Float32Array, m: number) => Array.from({ length: m }, (_, i) => Array.from(a.subarray(i * d, (i + 1) * d)));
    const rotated = new Matrix(rows(z, n)).mmul(new Matrix(rows(orthonormalize(rng.normalArray(d * d), d, d), d)));
    const x = Float32Array.from(rotated.to1DArray());
    const model = pcaFit(x, n, d, r, { iterations: 6, seed: 1 });

    // the reference: ml-matrix's mean and covariance of the same float32 rows (divided by n)
    const X = new Matrix(rows(x, n));
    const mean = X.mean('column');
    for (let j = 0; j < d; j++) expect(model.mean[j]).toBeCloseTo(mean[j]!, 5);
    const centred = X.subRowVector(mean);
    const cov = centred.transpose().mmul(centred).div(n);
    const evd = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
    const order = evd.realEigenvalues.map((v, i) => [v, i] as const).sort((p, q) => q[0] - p[0]);
    for (let c = 0; c < r; c++) {
      const [value, col] = order[c]!;
      expect(model.variances[c]! / value).toBeCloseTo(1, 3);
      // the same axis up to sign
      let dot = 0;
      for (let j = 0; j < d; j++) dot += model.components[j * r + c]! * evd.eigenvectorMatrix.get(j, col);
      expect(Math.abs(dot)).toBeCloseTo(1, 3);
    }
  });
});
