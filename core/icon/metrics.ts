/**
 * Clustering metrics: Hungarian accuracy, NMI (arithmetic normalisation, as
 * scikit-learn's default) and the adjusted Rand index.
 */

function relabel(a: ArrayLike<number>): { ids: Int32Array; k: number; values: number[] } {
  const map = new Map<number, number>();
  const ids = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    let m = map.get(v);
    if (m === undefined) {
      m = map.size;
      map.set(v, m);
    }
    ids[i] = m;
  }
  return { ids, k: map.size, values: [...map.keys()] };
}

/** Contingency table [ka, kb] between two labelings. */
export function contingency(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): { table: Float64Array; ka: number; kb: number; aValues: number[]; bValues: number[] } {
  if (a.length !== b.length) throw new Error('contingency: length mismatch');
  const A = relabel(a);
  const B = relabel(b);
  const table = new Float64Array(A.k * B.k);
  for (let i = 0; i < a.length; i++) table[A.ids[i]! * B.k + B.ids[i]!]! += 1;
  return { table, ka: A.k, kb: B.k, aValues: A.values, bValues: B.values };
}

/**
 * Hungarian algorithm (min-cost assignment) on a square cost matrix m x m
 * (row-major). Returns rowToCol.
 */
export function hungarian(cost: Float64Array, m: number): Int32Array {
  const INF = Number.POSITIVE_INFINITY;
  const u = new Float64Array(m + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j] = row matched to column j (1-based)
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= m; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(INF);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[(i0 - 1) * m + (j - 1)]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!] = u[p[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else minv[j] = minv[j]! - delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0);
  }
  const rowToCol = new Int32Array(m);
  for (let j = 1; j <= m; j++) if (p[j]! > 0) rowToCol[p[j]! - 1] = j - 1;
  return rowToCol;
}

/**
 * The one-to-one matching of predicted clusters to true classes that maximises the agreement
 * (Hungarian): predicted value -> true value; clusters left without a class are absent.
 */
export function hungarianMatch(truth: ArrayLike<number>, pred: ArrayLike<number>): Map<number, number> {
  const { table, ka, kb, aValues, bValues } = contingency(pred, truth);
  const m = Math.max(ka, kb);
  const cost = new Float64Array(m * m);
  for (let i = 0; i < ka; i++) for (let j = 0; j < kb; j++) cost[i * m + j] = -table[i * kb + j]!;
  const match = hungarian(cost, m);
  const out = new Map<number, number>();
  for (let i = 0; i < ka; i++) if (match[i]! < kb) out.set(aValues[i]!, bValues[match[i]!]!);
  return out;
}

/** Accuracy under the best one-to-one matching of predicted clusters to classes. */
export function hungarianAccuracy(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const n = truth.length;
  if (n === 0) return 0;
  const match = hungarianMatch(truth, pred);
  let correct = 0;
  for (let i = 0; i < n; i++) if (match.get(pred[i]!) === truth[i]) correct++;
  return correct / n;
}

/**
 * How a confidence threshold splits a clustering (the app's Unsorted): the share of images
 * below it, and the Hungarian accuracy (matched over all images) of those kept and of those
 * below. NaN for an empty side.
 */
export function thresholdSplit(
  truth: ArrayLike<number>,
  pred: ArrayLike<number>,
  confidence: ArrayLike<number>,
  threshold: number,
): { share: number; accKept: number; accBelow: number } {
  const match = hungarianMatch(truth, pred);
  let below = 0;
  let okBelow = 0;
  let okKept = 0;
  for (let i = 0; i < truth.length; i++) {
    const ok = match.get(pred[i]!) === truth[i] ? 1 : 0;
    if (confidence[i]! < threshold) {
      below++;
      okBelow += ok;
    } else okKept += ok;
  }
  const n = truth.length;
  return { share: n ? below / n : 0, accKept: okKept / (n - below), accBelow: okBelow / below };
}

function entropy(counts: Float64Array, n: number): number {
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h;
}

/** Normalised mutual information, arithmetic mean normalisation: MI / ((H(U) + H(V)) / 2). */
export function nmi(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const n = truth.length;
  const { table, ka, kb } = contingency(truth, pred);
  const rows = new Float64Array(ka);
  const cols = new Float64Array(kb);
  for (let i = 0; i < ka; i++)
    for (let j = 0; j < kb; j++) {
      rows[i]! += table[i * kb + j]!;
      cols[j]! += table[i * kb + j]!;
    }
  // scikit-learn: both labelings a single cluster (or identical trivial) -> 1
  if ((ka === 1 && kb === 1) || (ka === n && kb === n)) return 1;
  let mi = 0;
  for (let i = 0; i < ka; i++)
    for (let j = 0; j < kb; j++) {
      const c = table[i * kb + j]!;
      if (c > 0) mi += (c / n) * Math.log((c * n) / (rows[i]! * cols[j]!));
    }
  const hu = entropy(rows, n);
  const hv = entropy(cols, n);
  const denom = (hu + hv) / 2;
  if (denom <= 0) return 1;
  return Math.max(0, mi / denom);
}

const comb2 = (x: number): number => (x * (x - 1)) / 2;

/** Adjusted Rand index (Hubert & Arabie). */
export function ari(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const n = truth.length;
  const { table, ka, kb } = contingency(truth, pred);
  // scikit-learn special cases: perfect trivial agreement
  if ((ka === kb && ka === 1) || (ka === kb && ka === n) || n <= 1) return 1;
  let sumComb = 0;
  const rows = new Float64Array(ka);
  const cols = new Float64Array(kb);
  for (let i = 0; i < ka; i++)
    for (let j = 0; j < kb; j++) {
      const c = table[i * kb + j]!;
      sumComb += comb2(c);
      rows[i]! += c;
      cols[j]! += c;
    }
  let sa = 0;
  let sb = 0;
  for (const r of rows) sa += comb2(r);
  for (const c of cols) sb += comb2(c);
  const expected = (sa * sb) / comb2(n);
  const max = (sa + sb) / 2;
  if (max === expected) return 1;
  return (sumComb - expected) / (max - expected);
}

export interface Scores {
  acc: number;
  nmi: number;
  ari: number;
}

export function scoreAll(truth: ArrayLike<number>, pred: ArrayLike<number>): Scores {
  return { acc: hungarianAccuracy(truth, pred), nmi: nmi(truth, pred), ari: ari(truth, pred) };
}
