/**
 * How honest a confidence is, on labelled data: "NN% sure" should mean that NN% of such images
 * are in the right group, where the right group of an image is the one the Hungarian matching
 * gives its class.
 * - expected calibration error (Naeini et al. 2015, as Guo et al. 2017 use it): 10 equal-width
 *   bins of confidence, the bin-weighted mean |accuracy - mean confidence|;
 * - AUROC of the confidence for "in the right group" (Mann-Whitney, ties counted half);
 * - per group: its shown confidence (the mean of its members') against its purity (the share
 *   of its largest class), as a Spearman rank correlation.
 */
import { hungarianMatch } from './metrics.js';

/**
 * The confidence the app shows and thresholds: the head's max_c phi_ic mapped by a logistic,
 * sigmoid(slope * phi + intercept), fitted on both labelled sets (5 seeds each) to the event
 * "in its class's group" (bench/icon-calibrate.ts refits it; docs/clustering.md has the
 * figures). The head's own phi is over-sure (mean 0.85 where 55-65% of images are in the
 * right group). Monotone in phi, so it orders images exactly as phi does.
 */
export const CONFIDENCE_CALIBRATION = Object.freeze({ slope: 3.63, intercept: -2.685 });

export function calibratedConfidence(phiMax: number, c: { slope: number; intercept: number } = CONFIDENCE_CALIBRATION): number {
  return 1 / (1 + Math.exp(-(c.slope * phiMax + c.intercept)));
}

/** For each image: is its group the one matched to its class? */
export function inRightGroup(truth: ArrayLike<number>, pred: ArrayLike<number>): Uint8Array {
  const match = hungarianMatch(truth, pred);
  return Uint8Array.from({ length: truth.length }, (_, i) => (match.get(pred[i]!) === truth[i] ? 1 : 0));
}

/** Expected calibration error over `bins` equal-width bins of [0, 1]. */
export function expectedCalibrationError(confidence: ArrayLike<number>, correct: ArrayLike<number>, bins = 10): number {
  const n = confidence.length;
  if (n === 0) return 0;
  const count = new Float64Array(bins);
  const sumConf = new Float64Array(bins);
  const sumOk = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const c = Math.min(1, Math.max(0, confidence[i]!));
    const b = Math.min(bins - 1, Math.floor(c * bins));
    count[b]! += 1;
    sumConf[b]! += c;
    sumOk[b]! += correct[i]! ? 1 : 0;
  }
  let e = 0;
  for (let b = 0; b < bins; b++) if (count[b]! > 0) e += Math.abs(sumOk[b]! - sumConf[b]!) / n;
  return e;
}

/** Area under the ROC curve of `score` for the positives; NaN when one class is empty. */
export function auroc(score: ArrayLike<number>, positive: ArrayLike<number>): number {
  const ranks = averageRanks(score);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < score.length; i++) {
    if (positive[i]) {
      pos++;
      rankSum += ranks[i]!;
    }
  }
  const neg = score.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Spearman's rank correlation (Pearson on average ranks); NaN for fewer than 2 points or no spread. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error('spearman: length mismatch');
  const n = a.length;
  if (n < 2) return NaN;
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const ma = ra.reduce((s, v) => s + v, 0) / n;
  const mb = rb.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i]! - ma) * (rb[i]! - mb);
    saa += (ra[i]! - ma) ** 2;
    sbb += (rb[i]! - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** 1-based ranks, ties given their average rank. */
function averageRanks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => x[i]! - x[j]!);
  const ranks = new Float64Array(n);
  for (let s = 0; s < n;) {
    let e = s;
    while (e + 1 < n && x[order[e + 1]!] === x[order[s]!]) e++;
    const r = (s + e) / 2 + 1;
    for (let t = s; t <= e; t++) ranks[order[t]!] = r;
    s = e + 1;
  }
  return ranks;
}

/** Each non-empty group's mean confidence and purity (share of its most common class). */
export function groupConfidenceAndPurity(
  truth: ArrayLike<number>,
  pred: ArrayLike<number>,
  confidence: ArrayLike<number>,
): { confidence: number[]; purity: number[]; size: number[] } {
  const byGroup = new Map<number, { sum: number; n: number; classes: Map<number, number> }>();
  for (let i = 0; i < pred.length; i++) {
    const g = pred[i]!;
    if (g < 0) continue;
    let s = byGroup.get(g);
    if (!s) byGroup.set(g, (s = { sum: 0, n: 0, classes: new Map() }));
    s.sum += confidence[i]!;
    s.n++;
    s.classes.set(truth[i]!, (s.classes.get(truth[i]!) ?? 0) + 1);
  }
  const out = { confidence: [] as number[], purity: [] as number[], size: [] as number[] };
  for (const s of byGroup.values()) {
    out.confidence.push(s.sum / s.n);
    out.purity.push(Math.max(...s.classes.values()) / s.n);
    out.size.push(s.n);
  }
  return out;
}

export interface CalibrationScores {
  ece: number;
  auroc: number;
  /** Spearman correlation of a group's mean confidence with its purity. */
  groupSpearman: number;
}

export function calibrationScores(truth: ArrayLike<number>, pred: ArrayLike<number>, confidence: ArrayLike<number>): CalibrationScores {
  const ok = inRightGroup(truth, pred);
  const g = groupConfidenceAndPurity(truth, pred, confidence);
  return { ece: expectedCalibrationError(confidence, ok), auroc: auroc(confidence, ok), groupSpearman: spearman(g.confidence, g.purity) };
}
