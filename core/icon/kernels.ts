/**
 * I-Con kernels as dense, row-stochastic [B, N] tfjs tensors (a row i is a
 * distribution p(.|i) or q(.|i) over the N candidate columns). Supervisory
 * kernels (p) and learned kernels (q) share this form so that any p can be
 * paired with any q in the one loss (loss.ts). Sparse (graph) versions of the
 * kNN / walk kernels live in knn.ts. Every function is pure and wraps its
 * work in tf.tidy; callers own (and dispose) the returned tensor.
 */
import * as tf from '@tensorflow/tfjs';

/** Epsilon added to every normaliser (cluster masses, row sums): no 0/0. */
export const KERNEL_EPS = 1e-8;

/** Divides each row by its sum (+eps): rows with no mass stay all-zero. */
export function rowNormalize(w: tf.Tensor2D, eps = KERNEL_EPS): tf.Tensor2D {
  return tf.tidy(() => tf.div(w, tf.add(tf.sum(w, 1, true), eps)));
}

/** 1 off the diagonal, 0 on it, for a square [B, B] kernel (self excluded). */
function offDiagonal(b: number): tf.Tensor2D {
  return tf.tidy(() => tf.sub(tf.onesLike(tf.eye(b)), tf.eye(b)) as tf.Tensor2D);
}

/** Squared Euclidean distances between rows of a [B,d] and b [N,d] (clamped at 0). */
export function squaredDistances(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const an = tf.sum(tf.square(a), 1, true);
    const bn = tf.reshape(tf.sum(tf.square(b), 1), [1, -1]);
    return tf.relu(tf.add(tf.sub(an, tf.mul(2, tf.matMul(a, tf.transpose(b)))), bn)) as tf.Tensor2D;
  });
}

function maybeNormalize(x: tf.Tensor2D, normalize: boolean): tf.Tensor2D {
  return normalize ? tf.tidy(() => tf.div(x, tf.add(tf.norm(x, 'euclidean', 1, true), KERNEL_EPS))) : tf.clone(x);
}

// ---------------------------------------------------------------------------
// Supervisory kernels p

/**
 * Uniform over the k nearest neighbours (cosine; self excluded) of each row
 * within the batch. normalize=false uses raw dot products (honoured).
 */
export function knnKernel(x: tf.Tensor2D, k: number, opts: { normalize?: boolean } = {}): tf.Tensor2D {
  const normalize = opts.normalize ?? true;
  const b = x.shape[0];
  if (k >= b) throw new Error(`knnKernel: k=${k} must be < batch ${b}`);
  return tf.tidy(() => {
    const xn = maybeNormalize(x, normalize);
    const sim = tf.matMul(xn, tf.transpose(xn));
    const masked = tf.sub(sim, tf.mul(tf.eye(b), 1e9)); // self excluded
    const { indices } = tf.topk(masked, k);
    const oneHot = tf.sum(tf.oneHot(indices, b), 1); // [B, N]
    return tf.div(oneHot, k) as tf.Tensor2D;
  });
}

/**
 * kNN walk: propagation of a row-stochastic kernel P over `steps` extra
 * steps, mean_{t=1..steps+1} P^t, self excluded and rows renormalised.
 * Requires square P (the batch is its own candidate set).
 */
export function walkKernel(p: tf.Tensor2D, steps: number): tf.Tensor2D {
  return tf.tidy(() => {
    let acc: tf.Tensor2D = p;
    let cur: tf.Tensor2D = p;
    for (let s = 0; s < steps; s++) {
      cur = tf.matMul(cur, p);
      acc = tf.add(acc, cur);
    }
    return rowNormalize(tf.mul(acc, offDiagonal(p.shape[0])) as tf.Tensor2D);
  });
}

/**
 * Augmented views: rows r and s of the batch showing the same image
 * (`imageOf[r] === imageOf[s]`, r != s, e.g. the original and its horizontal
 * flip) are each other's positives, uniformly. Rows without another view
 * are all-zero (no mass).
 */
export function viewsKernel(imageOf: Int32Array | number[]): tf.Tensor2D {
  const b = imageOf.length;
  return tf.tidy(() => {
    const ids = tf.tensor1d(Array.from(imageOf), 'int32');
    const same = tf.cast(tf.equal(tf.reshape(ids, [-1, 1]), tf.reshape(ids, [1, -1])), 'float32');
    return rowNormalize(tf.mul(same, offDiagonal(b)) as tf.Tensor2D);
  });
}

/**
 * Labels kernel: uniform over the other rows with the same label (the user's
 * pinned groups). A label < 0 means "not pinned": such rows, and rows alone
 * in their group, are all-zero.
 */
export function labelsKernel(labels: Int32Array | number[]): tf.Tensor2D {
  const b = labels.length;
  return tf.tidy(() => {
    const l = tf.tensor1d(Array.from(labels), 'int32');
    const valid = tf.cast(tf.greaterEqual(l, 0), 'float32');
    const same = tf.cast(tf.equal(tf.reshape(l, [-1, 1]), tf.reshape(l, [1, -1])), 'float32');
    const w = tf.mul(tf.mul(same, offDiagonal(b)), tf.mul(tf.reshape(valid, [-1, 1]), tf.reshape(valid, [1, -1])));
    return rowNormalize(w as tf.Tensor2D);
  });
}

/**
 * Per-row Gaussian precisions beta_i = 1/(2 sigma_i^2) such that the
 * conditional p(.|i) has the given perplexity (binary search, as in t-SNE).
 * `d2` holds squared distances, row-major [b, m]; `selfCol[i]` is the column
 * to exclude for row i (or -1).
 */
export function perplexityBetas(
  d2: Float32Array,
  b: number,
  m: number,
  perplexity: number,
  selfCol?: Int32Array,
  tol = 1e-5,
): Float32Array {
  const target = Math.log(perplexity);
  const betas = new Float32Array(b);
  for (let i = 0; i < b; i++) {
    const o = i * m;
    const self = selfCol ? selfCol[i]! : -1;
    let dmin = Infinity;
    for (let j = 0; j < m; j++) if (j !== self && d2[o + j]! < dmin) dmin = d2[o + j]!;
    let beta = 1;
    let lo = 0;
    let hi = Infinity;
    for (let it = 0; it < 64; it++) {
      let z = 0;
      let s = 0;
      for (let j = 0; j < m; j++) {
        if (j === self) continue;
        const dd = d2[o + j]! - dmin;
        const w = Math.exp(-beta * dd);
        z += w;
        s += w * dd;
      }
      const h = Math.log(z) + (beta * s) / z; // entropy (nats)
      if (Math.abs(h - target) < tol) break;
      if (h > target) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
    betas[i] = beta;
  }
  return betas;
}

/**
 * Gaussian kernel on features (SNE / t-SNE supervisory kernel):
 * p(j|i) ∝ exp(-||x_i - x_j||^2 / (2 sigma_i^2)), self excluded, with sigma
 * either fixed or set per row by perplexity. normalize=true L2-normalises the
 * rows first; normalize=false (the default) uses the raw features, honoured.
 */
export function gaussianKernel(x: tf.Tensor2D, opts: { sigma?: number; perplexity?: number; normalize?: boolean } = {}): tf.Tensor2D {
  const normalize = opts.normalize ?? false;
  const b = x.shape[0];
  return tf.tidy(() => {
    const xn = maybeNormalize(x, normalize);
    const d2 = squaredDistances(xn, xn);
    let beta: tf.Tensor;
    if (opts.perplexity !== undefined) {
      const self = Int32Array.from({ length: b }, (_, i) => i);
      beta = tf.tensor2d(perplexityBetas(d2.dataSync() as Float32Array, b, b, opts.perplexity, self), [b, 1]);
    } else {
      const sigma = opts.sigma ?? 1;
      beta = tf.scalar(1 / (2 * sigma * sigma));
    }
    const logits = tf.sub(tf.neg(tf.mul(d2, beta)), tf.mul(tf.eye(b), 1e9));
    return tf.softmax(logits) as tf.Tensor2D;
  });
}

// ---------------------------------------------------------------------------
// Learned kernels q

/**
 * Cluster kernel: q(j|i) = sum_c phi_ic phi_jc / (sum_k phi_kc + eps), with
 * phi [B, C] the soft assignments (softmax of the head). The epsilon keeps a
 * cluster of exactly zero mass from producing 0/0 = NaN.
 */
export function clusterKernel(phi: tf.Tensor2D, eps = KERNEL_EPS): tf.Tensor2D {
  return tf.tidy(() => {
    const mass = tf.add(tf.sum(phi, 0, true), eps); // [1, C]
    return tf.matMul(tf.div(phi, mass), tf.transpose(phi)) as tf.Tensor2D;
  });
}

/** Gaussian kernel on learned embeddings, q(j|i) ∝ exp(-||y_i-y_j||^2 / (2 sigma^2)), self excluded. */
export function gaussianQKernel(y: tf.Tensor2D, sigma = 1, opts: { normalize?: boolean } = {}): tf.Tensor2D {
  return gaussianKernel(y, { sigma, normalize: opts.normalize ?? false });
}

/**
 * Student-t (Cauchy for dof = 1) kernel on embeddings:
 * q(j|i) ∝ (1 + ||y_i - y_j||^2 / dof)^(-(dof+1)/2), self excluded, rows normalised.
 */
export function studentTKernel(y: tf.Tensor2D, opts: { dof?: number; normalize?: boolean } = {}): tf.Tensor2D {
  const dof = opts.dof ?? 1;
  const b = y.shape[0];
  return tf.tidy(() => {
    const yn = maybeNormalize(y, opts.normalize ?? false);
    const d2 = squaredDistances(yn, yn);
    const w = tf.pow(tf.add(1, tf.div(d2, dof)), -(dof + 1) / 2);
    return rowNormalize(tf.mul(w, offDiagonal(b)) as tf.Tensor2D);
  });
}

/** Weighted mixture of kernels, rows renormalised (rows where every term is empty stay empty). */
export function mixKernels(terms: { kernel: tf.Tensor2D; weight: number }[]): tf.Tensor2D {
  return tf.tidy(() => {
    let acc: tf.Tensor2D | null = null;
    for (const { kernel, weight } of terms) {
      if (weight === 0) continue;
      const t = tf.mul(kernel, weight) as tf.Tensor2D;
      acc = acc ? (tf.add(acc, t) as tf.Tensor2D) : t;
    }
    if (!acc) throw new Error('mixKernels: no terms');
    return rowNormalize(acc);
  });
}
