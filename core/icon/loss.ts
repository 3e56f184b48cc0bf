/**
 * The I-Con loss: sum_i KL(p(.|i) || q(.|i)), computed (p fixed) as the
 * cross-entropy -(1/B) sum_{i,j: p_ij > 0} p_ij log q_ij, which equals
 * (1/B) sum_i KL(p_i || q_i) + (1/B) sum_i H(p_i): KL up to a constant.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * @param p    supervisory kernel [B, N] (rows sum to 1, or 0 for rows to skip)
 * @param logQ log of the learned kernel [B, N]
 * @param rows number of rows to average over (default: rows of p with mass)
 */
export function iconLoss(p: tf.Tensor2D, logQ: tf.Tensor2D, rows?: number): tf.Scalar {
  return tf.tidy(() => {
    const pos = tf.greater(p, 0);
    const terms = tf.where(pos, tf.mul(p, logQ), tf.zerosLike(p));
    const b = rows ?? Math.max(1, (tf.sum(tf.cast(tf.greater(tf.sum(p, 1), 0), 'float32')).dataSync()[0] ?? 1));
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
 * iconLoss(p, debiasedLog(q, alphaQ), rows) for the cluster kernel restricted
 * to anchor rows, q(j|i) = sum_c phiA_ic phiB_jc / m_c with m_c = sum_k phiB_kc
 * + eps (i over the A anchor rows, j, k over all B batch rows), as one op
 * with a hand-written gradient: the same value and gradient as autodiff
 * through clusterKernel / debiasedLog / iconLoss (checked in
 * test/icon/loss.test.ts) at about a third of the [A, B] work, which
 * dominates a training step on wasm. With qd = (1-a) q + a/B and
 * G = -(1-a) p / (R qd):
 *   dL/dphiA = (G phiB) / m
 *   dL/dphiB = (G^T phiA) / m - 1 (diag(phiA^T G phiB) / m^2)^T.
 * With phiA = phiB = phi this is exactly clusterKernel(phi).
 */
export function clusterIconLoss(phiA: tf.Tensor2D, phiB: tf.Tensor2D, p: tf.Tensor2D, alphaQ: number, rows: number, eps = 1e-8, logFloor = 1e-12): tf.Scalar {
  const N = p.shape[1];
  const f = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const pa = a as tf.Tensor2D;
    const pb = b as tf.Tensor2D;
    const mass = tf.add(tf.sum(pb, 0, true), eps);
    const q = tf.matMul(tf.div(pa, mass), tf.transpose(pb));
    const qd = tf.maximum(tf.add(tf.mul(q, 1 - alphaQ), alphaQ / N), logFloor);
    const value = tf.div(tf.neg(tf.sum(tf.mul(p, tf.log(qd)))), rows) as tf.Scalar;
    save([pa, pb, mass, qd]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sa, sb, m, qds] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const G = tf.mul(tf.div(p, qds), tf.mul(dy, -(1 - alphaQ) / rows)) as tf.Tensor2D;
        const gA = tf.matMul(G, sb); // [A, C]
        const gB = tf.matMul(tf.transpose(G), sa); // [B, C]
        const diag = tf.sum(tf.mul(sa, gA), 0, true); // diag(phiA^T G phiB), [1, C]
        return [tf.div(gA, m), tf.sub(tf.div(gB, m), tf.div(diag, tf.square(m)))];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (f as unknown as (a: tf.Tensor, b: tf.Tensor) => tf.Scalar)(phiA, phiB);
}
