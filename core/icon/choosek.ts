/**
 * Choosing K when the user does not: k-means (k-means++, restarts) for each
 * candidate K on the cached (preprocessed) embeddings, scored by the mean
 * silhouette (Euclidean on L2-normalised features = a monotone function of
 * cosine) on a seeded sample of at most `sample` points; the best K wins.
 */
import * as tf from '@tensorflow/tfjs';
import { kmeans } from './kmeans.js';
import { fitPreprocess, type PreprocessOptions } from './preprocess.js';
import { Rng } from './rng.js';

export interface ChooseKOptions {
  sample?: number;
  nInit?: number;
  seed?: number;
  preprocess?: PreprocessOptions;
}

export interface ChooseKResult {
  k: number;
  scores: { k: number; silhouette: number }[];
}

/** Default candidates: 2..20 (capped at n/3). */
export function defaultCandidates(n: number): number[] {
  const out: number[] = [];
  for (let k = 2; k <= Math.min(20, Math.floor(n / 3)); k++) out.push(k);
  return out;
}

/** Mean silhouette of a labelling on rows x [n, d] (Euclidean distances). */
export function silhouette(x: Float32Array, n: number, d: number, labels: Int32Array, k: number): number {
  return tf.tidy(() => {
    const xt = tf.tensor2d(x, [n, d]);
    const sq = tf.sum(tf.square(xt), 1, true);
    const dist = tf.sqrt(tf.relu(tf.add(tf.sub(sq, tf.mul(2, tf.matMul(xt, tf.transpose(xt)))), tf.transpose(sq))));
    const oh = tf.oneHot(tf.tensor1d(labels, 'int32'), k);
    const sums = tf.matMul(dist, oh).arraySync() as number[][]; // [n, k]
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) counts[labels[i]!]! += 1;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const own = labels[i]!;
      if (counts[own]! <= 1) continue; // silhouette 0 for singletons
      const a = sums[i]![own]! / (counts[own]! - 1);
      let b = Infinity;
      for (let c = 0; c < k; c++) if (c !== own && counts[c]! > 0) b = Math.min(b, sums[i]![c]! / counts[c]!);
      const m = Math.max(a, b);
      total += m > 0 && Number.isFinite(b) ? (b - a) / m : 0;
    }
    return total / n;
  });
}

export function chooseK(features: Float32Array, n: number, d: number, candidates?: number[], opts: ChooseKOptions = {}): ChooseKResult {
  const cands = (candidates ?? defaultCandidates(n)).filter((k) => k >= 2 && k < n);
  if (cands.length === 0) throw new Error('chooseK: no valid candidate');
  const { out: x, pre } = fitPreprocess(features, n, d, opts.preprocess ?? {});
  const dd = pre.dOut;
  const rng = new Rng(opts.seed ?? 0);
  const m = Math.min(n, opts.sample ?? 2000);
  const idx = m < n ? rng.permutation(n).subarray(0, m) : Int32Array.from({ length: n }, (_, i) => i);
  const xs = new Float32Array(m * dd);
  idx.forEach((src, r) => xs.set(x.subarray(src * dd, src * dd + dd), r * dd));
  const scores: { k: number; silhouette: number }[] = [];
  for (const k of cands) {
    const km = kmeans(x, n, dd, { k, nInit: opts.nInit ?? 3, seed: opts.seed ?? 0 });
    const lab = new Int32Array(m);
    idx.forEach((src, r) => (lab[r] = km.labels[src]!));
    scores.push({ k, silhouette: silhouette(xs, m, dd, lab, k) });
  }
  let best = scores[0]!;
  for (const s of scores) if (s.silhouette > best.silhouette) best = s;
  return { k: best.k, scores };
}
