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
