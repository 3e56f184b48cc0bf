/**
 * Orthonormalising the columns of a tall row-major matrix, shared by the PCA's subspace
 * iteration (preprocess.ts) and the spectral embedding's (spectral.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { CholeskyDecomposition, Matrix } from 'ml-matrix';

/**
 * Orthonormal columns spanning those of a row-major [d, r] matrix. CholeskyQR2
 * (Q = Z R^-1 with R^T R = Z^T Z, twice): the d x r work is two tfjs matmuls,
 * where modified Gram-Schmidt in JS costs d r^2 scalar steps (seconds at
 * 1792 x 266). Falls back to Gram-Schmidt when Z^T Z is not positive definite
 * (fewer independent rows than columns, e.g. a library of 60 images).
 */
export function orthonormalize(q: Float32Array, d: number, r: number): Float32Array {
  let cur = q;
  for (let pass = 0; pass < 2; pass++) {
    const z = tf.tensor2d(cur, [d, r]);
    const gram = tf.tidy(() => tf.matMul(tf.transpose(z), z));
    const g = gram.dataSync();
    gram.dispose();
    const G = new Matrix(Array.from({ length: r }, (_, i) => Array.from(g.subarray(i * r, (i + 1) * r), Number)));
    const chol = new CholeskyDecomposition(G);
    if (!chol.isPositiveDefinite()) {
      z.dispose();
      return gramSchmidt(Float32Array.from(cur), d, r);
    }
    // Z L^-T with G = L L^T
    const lt = tf.tensor2d(lowerInverseTransposed(chol.lowerTriangularMatrix, r), [r, r]);
    const next = tf.matMul(z, lt);
    cur = Float32Array.from(next.dataSync() as Float32Array);
    tf.dispose([z, lt, next]);
  }
  return cur;
}

/** (L^-1)^T of a lower-triangular r x r matrix, row-major float32 (forward substitution, r^3/6). */
function lowerInverseTransposed(L: Matrix, r: number): Float32Array {
  const l = L.to2DArray(); // plain rows: Matrix.get per entry cost most of this function's time
  const inv = new Float64Array(r * r); // row-major L^-1
  for (let c = 0; c < r; c++) {
    inv[c * r + c] = 1 / l[c]![c]!;
    for (let i = c + 1; i < r; i++) {
      const li = l[i]!;
      let s = 0;
      for (let k = c; k < i; k++) s += li[k]! * inv[k * r + c]!;
      inv[i * r + c] = -s / li[i]!;
    }
  }
  const out = new Float32Array(r * r);
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) out[j * r + i] = inv[i * r + j]!;
  return out;
}

/** Modified Gram-Schmidt on the columns of a row-major [d, r] matrix, in place. */
function gramSchmidt(q: Float32Array, d: number, r: number): Float32Array {
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
  return q;
}
