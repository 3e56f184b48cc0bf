/**
 * The trained head's inference in plain JavaScript (no tfjs): preprocessing (L2, PCA, L2) and
 * the linear head with its softmax, row by row. For the few rows an app asks about at a time
 * (an image's suggestions, a hundred new images to place) it answers in milliseconds, where
 * starting a tfjs backend takes a second: the process that answers the UI needs no ML runtime.
 * The same numbers as DebiasedInfoNCEClustering.predict / predictProba (float64 sums; the
 * tests compare them).
 */
import { calibratedConfidence } from './calibration.js';
import type { HeadExport } from './clustering.js';
import type { Preprocessor } from './preprocess.js';

/** Rows x [n, dIn] through a fitted preprocessing: [n, dOut]. */
export function preprocessRows(pre: Preprocessor, x: Float32Array, n: number): Float32Array {
  const d = pre.dIn;
  if (x.length !== n * d) throw new Error(`preprocessRows: ${x.length} values are not ${n} rows of ${d}`);
  const r = pre.dOut;
  const out = new Float32Array(n * r);
  const row = new Float64Array(d);
  const acc = new Float64Array(r);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += x[i * d + j]! * x[i * d + j]!;
    const inv = pre.options.l2normalize && ss > 0 ? 1 / Math.sqrt(ss) : 1;
    const scale = pre.options.l2normalize && ss === 0 ? 0 : inv;
    for (let j = 0; j < d; j++) row[j] = x[i * d + j]! * scale;
    if (!pre.pca) {
      for (let j = 0; j < d; j++) out[i * r + j] = row[j]!;
      continue;
    }
    const { mean, components } = pre.pca;
    acc.fill(0);
    for (let j = 0; j < d; j++) {
      const v = row[j]! - mean[j]!;
      if (v === 0) continue;
      const o = j * r;
      for (let c = 0; c < r; c++) acc[c] = acc[c]! + v * components[o + c]!;
    }
    let s2 = 0;
    for (let c = 0; c < r; c++) s2 += acc[c]! * acc[c]!;
    const norm = pre.options.renormalize && s2 > 0 ? 1 / Math.sqrt(s2) : 1;
    for (let c = 0; c < r; c++) out[i * r + c] = acc[c]! * norm;
  }
  return out;
}

/** Soft assignments phi [n, C] of preprocessed rows [n, dOut]. */
export function headProba(head: HeadExport, z: Float32Array, n: number): Float32Array {
  const [dd, C] = head.shape;
  const out = new Float32Array(n * C);
  const logits = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) logits[c] = head.bias[c]!;
    for (let j = 0; j < dd; j++) {
      const v = z[i * dd + j]!;
      if (v === 0) continue;
      const o = j * C;
      for (let c = 0; c < C; c++) logits[c] = logits[c]! + v * head.weights[o + c]!;
    }
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, logits[c]!);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += logits[c] = Math.exp(logits[c]! - max);
    for (let c = 0; c < C; c++) out[i * C + c] = logits[c]! / sum;
  }
  return out;
}

/** Each row's cluster (argmax of phi) and its calibrated confidence, as predict gives them. */
export function headPredict(
  head: HeadExport,
  x: Float32Array,
  n: number,
): { labels: Int32Array; confidence: Float32Array; proba: Float32Array } {
  const C = head.shape[1];
  const proba = headProba(head, preprocessRows(head.preprocessor, x, n), n);
  const labels = new Int32Array(n);
  const confidence = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (proba[i * C + c]! > proba[i * C + best]!) best = c;
    labels[i] = best;
    confidence[i] = calibratedConfidence(proba[i * C + best]!);
  }
  return { labels, confidence, proba };
}
