/**
 * Debiasing (I-Con, Sec. 5): mix a kernel with the uniform distribution in
 * PROBABILITY space, (1 - a) K + a / N, and only then take the log.
 * (The official implementation mixes log-probabilities, which is a different,
 * unnormalised distribution; see test/icon/debias.test.ts.)
 */
import * as tf from '@tensorflow/tfjs';

/** (1 - alpha) * kernel + alpha / N, N = number of columns (candidates) unless given. */
export function debias(kernel: tf.Tensor2D, alpha: number, n?: number): tf.Tensor2D {
  if (alpha < 0 || alpha > 1) throw new Error(`debias: alpha=${alpha} not in [0, 1]`);
  const N = n ?? kernel.shape[1];
  return tf.tidy(() => tf.add(tf.mul(kernel, 1 - alpha), alpha / N) as tf.Tensor2D);
}

/** Smallest probability fed to log (for alpha = 0 and zero entries). */
export const LOG_FLOOR = 1e-12;

/** log((1 - alpha) K + alpha / N), floored to avoid log(0). */
export function debiasedLog(kernel: tf.Tensor2D, alpha: number, n?: number): tf.Tensor2D {
  return tf.tidy(() => tf.log(tf.maximum(debias(kernel, alpha, n), LOG_FLOOR)) as tf.Tensor2D);
}
