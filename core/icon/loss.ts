/**
 * The I-Con loss: sum_i KL(p(.|i) || q(.|i)), computed (p fixed) as the
 * cross-entropy -(1/B) sum_{i,j: p_ij > 0} p_ij log q_ij, which equals
 * (1/B) sum_i KL(p_i || q_i) + (1/B) sum_i H(p_i): KL up to a constant.
 */
import * as tf from '@tensorflow/tfjs';
import { ownStorage } from './tensorStorage.js';

/**
 * @param p    supervisory kernel [B, N] (rows sum to 1, or 0 for rows to skip)
 * @param logQ log of the learned kernel [B, N]
 * @param rows number of rows to average over (default: rows of p with mass)
 */
export function iconLoss(p: tf.Tensor2D, logQ: tf.Tensor2D, rows?: number): tf.Scalar {
  return tf.tidy(() => {
    const pos = tf.greater(p, 0);
    const terms = tf.where(pos, tf.mul(p, logQ), tf.zerosLike(p));
    const b = rows ?? Math.max(1, tf.sum(tf.cast(tf.greater(tf.sum(p, 1), 0), 'float32')).dataSync()[0] ?? 1);
    return tf.div(tf.neg(tf.sum(terms)), b) as tf.Scalar;
  });
}

/** Mean over rows of KL(p_i || q_i) (reference implementation, for tests and diagnostics). */
export function meanKl(p: tf.Tensor2D, q: tf.Tensor2D, rows?: number): tf.Scalar {
  return tf.tidy(() => {
    const pos = tf.greater(p, 0);
    const safeP = tf.where(pos, p, tf.onesLike(p));
    const safeQ = tf.where(pos, q, tf.onesLike(q));
    const terms = tf.where(pos, tf.mul(p, tf.sub(tf.log(safeP), tf.log(safeQ))), tf.zerosLike(p));
    const b = rows ?? p.shape[0];
    return tf.div(tf.sum(terms), b) as tf.Scalar;
  });
}

/** Mean row entropy of p, the constant separating iconLoss from meanKl. */
export function meanEntropy(p: tf.Tensor2D, rows?: number): tf.Scalar {
  return tf.tidy(() => {
    const pos = tf.greater(p, 0);
    const safeP = tf.where(pos, p, tf.onesLike(p));
    const b = rows ?? p.shape[0];
    return tf.div(tf.neg(tf.sum(tf.where(pos, tf.mul(p, tf.log(safeP)), tf.zerosLike(p)))), b) as tf.Scalar;
  });
}

/**
 * A supervisory kernel over the batch, as debiasing leaves it: p_ij = uniform_i + sparse_ij,
 * where uniform_i is the a/N mass every column gets (0 for rows without supervision) and the
 * sparse part is (1-a) times the kNN / walk / views / labels kernel, a few entries per row.
 */
export interface BatchKernel {
  rows: number;
  cols: number;
  uniform: Float32Array;
  /** CSR: entries of row i are rowPtr[i] .. rowPtr[i+1]. */
  rowPtr: Int32Array;
  colIdx: Int32Array;
  vals: Float32Array;
}

/** The BatchKernel of a dense p (no uniform part: every positive entry is listed). */
export function denseToBatchKernel(p: Float32Array, rows: number, cols: number): BatchKernel {
  const rowPtr = new Int32Array(rows + 1);
  const colIdx: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = p[i * cols + j]!;
      if (v > 0) {
        colIdx.push(j);
        vals.push(v);
      }
    }
    rowPtr[i + 1] = colIdx.length;
  }
  return { rows, cols, uniform: new Float32Array(rows), rowPtr, colIdx: Int32Array.from(colIdx), vals: Float32Array.from(vals) };
}

/** The dense [rows, cols] matrix of a BatchKernel. */
export function batchKernelToDense(k: BatchKernel): Float32Array {
  const out = new Float32Array(k.rows * k.cols);
  for (let i = 0; i < k.rows; i++) {
    out.fill(k.uniform[i]!, i * k.cols, (i + 1) * k.cols);
    for (let e = k.rowPtr[i]!; e < k.rowPtr[i + 1]!; e++) out[i * k.cols + k.colIdx[e]!] = out[i * k.cols + k.colIdx[e]!]! + k.vals[e]!;
  }
  return out;
}

/** Below this a running product of q entries is folded into the log-sum (no float64 underflow). */
const PRODUCT_FLOOR = 1e-250;

/**
 * sum_ij p_ij log qd_ij over a BatchKernel p, with qd = keep q + uniformQ (floored at logFloor),
 * and G = gScale p / qd written in the same pass (G may be q's own array: a row's sparse entries
 * read q before its dense pass overwrites it; the sum adds them after the dense term, in order).
 */
function weightedLogQ(
  q: Float32Array,
  G: Float32Array,
  ker: BatchKernel,
  keep: number,
  uniformQ: number,
  gScale: number,
  logFloor: number,
): number {
  const B = ker.cols;
  const inPlace = G === q;
  let sparseLog = new Float64Array(16);
  let sparseGrad = new Float64Array(16);
  let sum = 0;
  for (let i = 0; i < ker.rows; i++) {
    const u = ker.uniform[i]!;
    const e0 = ker.rowPtr[i]!;
    const e1 = ker.rowPtr[i + 1]!;
    const off = i * B;
    if (u <= 0 && e1 === e0) {
      if (inPlace) G.fill(0, off, off + B);
      continue;
    }
    if (e1 - e0 > sparseLog.length) {
      sparseLog = new Float64Array(e1 - e0);
      sparseGrad = new Float64Array(e1 - e0);
    }
    for (let e = e0; e < e1; e++) {
      const v = ker.vals[e]!;
      let qd = keep * q[off + ker.colIdx[e]!]! + uniformQ;
      if (qd < logFloor) qd = logFloor;
      sparseLog[e - e0] = v * Math.log(qd);
      sparseGrad[e - e0] = (gScale * v) / qd;
    }
    if (u > 0) {
      const gu = gScale * u;
      let logSum = 0;
      let prod = 1;
      for (let j = 0; j < B; j++) {
        let qd = keep * q[off + j]! + uniformQ;
        if (qd < logFloor) qd = logFloor;
        prod *= qd;
        if (prod < PRODUCT_FLOOR) {
          logSum += Math.log(prod);
          prod = 1;
        }
        G[off + j] = gu / qd;
      }
      sum += u * (logSum + Math.log(prod));
    } else if (inPlace) G.fill(0, off, off + B);
    for (let e = e0; e < e1; e++) {
      const j = ker.colIdx[e]!;
      sum += sparseLog[e - e0]!;
      G[off + j] = G[off + j]! + sparseGrad[e - e0]!;
    }
  }
  return sum;
}

/**
 * iconLoss(p, debiasedLog(q, alphaQ), rows) for the cluster kernel restricted
 * to anchor rows, q(j|i) = sum_c phiA_ic phiB_jc / m_c with m_c = sum_k phiB_kc
 * + eps (i over the A anchor rows, j, k over all B batch rows), as one op
 * with a hand-written gradient: the same value and gradient as autodiff
 * through clusterKernel / debiasedLog / iconLoss (checked in
 * test/icon/loss.test.ts). With qd = (1-a) q + a/B and
 * G = -(1-a) p / (R qd):
 *   dL/dphiA = (G phiB) / m
 *   dL/dphiB = (G^T phiA) / m - 1 (diag(phiA^T G phiB) / m^2)^T.
 * With phiA = phiB = phi this is exactly clusterKernel(phi).
 *
 * Why the [A, B] part is a JS loop: the matmuls are cheap (C is small), but
 * each elementwise tfjs op over [A, B] costs about 10 ns an entry on wasm and
 * the composed form needs a dozen. Debiasing gives every entry of a
 * supervised row the same uniform weight, so sum_j p_ij log qd_ij is
 * uniform_i log(prod_j qd_ij) plus a few sparse terms: one multiply per
 * entry and a log per row (products are folded into the sum before they
 * could underflow). `p` is a BatchKernel (as the trainer builds it) or dense.
 */
export function clusterIconLoss(
  phiA: tf.Tensor2D,
  phiB: tf.Tensor2D,
  p: tf.Tensor2D | Float32Array | BatchKernel,
  alphaQ: number,
  rows: number,
  eps = 1e-8,
  logFloor = 1e-12,
): tf.Scalar {
  const [A] = phiA.shape;
  const [B] = phiB.shape;
  const ker =
    p instanceof tf.Tensor
      ? denseToBatchKernel(p.dataSync() as Float32Array, A, B)
      : p instanceof Float32Array
        ? denseToBatchKernel(p, A, B)
        : p;
  if (ker.rows !== A || ker.cols !== B) throw new Error(`clusterIconLoss: p is ${ker.rows}x${ker.cols}, expected ${A}x${B}`);
  const keep = 1 - alphaQ;
  const uniformQ = alphaQ / B;
  const f = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const pa = a as tf.Tensor2D;
    const pb = b as tf.Tensor2D;
    const mass = tf.add(tf.sum(pb, 0, true), eps);
    // the small [B, C] transposed explicitly: matMul's transposeB is several times slower on wasm
    const qT = tf.tidy(() => tf.matMul(tf.div(pa, mass), tf.transpose(pb)));
    // G is written over q where JS can address q's storage (wasm, cpu): the [A, B] matrix is
    // then neither copied out, nor allocated, nor copied back each step (tensorStorage.ts)
    const own = ownStorage(qT);
    const q = own ?? (qT.dataSync() as Float32Array);
    const G = own ?? new Float32Array(A * B);
    const sum = weightedLogQ(q, G, ker, keep, uniformQ, -keep / rows, logFloor);
    const Gt = own ? qT : tf.tensor2d(G, [A, B]);
    save([pa, pb, mass, Gt]);
    // what backprop needs is kept by save (a clone); the forward's own handles go
    tf.dispose(own ? [qT] : [qT, Gt]);
    return {
      value: tf.scalar(-sum / rows),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sa, sb, m, g] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const up = dy.dataSync()[0]!;
        const Gs = up !== 1 ? tf.mul(g, up) : g;
        const gA = tf.matMul(Gs, sb); // [A, C]
        // (G^T phiA) as (phiA^T G)^T: transposing the small [A, C] side (transposeA is slow on wasm)
        const gB = tf.transpose(tf.matMul(tf.transpose(sa), Gs)); // [B, C]
        const diag = tf.sum(tf.mul(sa, gA), 0, true); // diag(phiA^T G phiB), [1, C]
        return [tf.div(gA, m), tf.sub(tf.div(gB, m), tf.div(diag, tf.square(m)))];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (f as unknown as (a: tf.Tensor, b: tf.Tensor) => tf.Scalar)(phiA, phiB);
}
