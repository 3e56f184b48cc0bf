/**
 * Evaluation of I-Con vs k-means on labeled features (the numbers printed by
 * `constellate eval`), and chooseK for when the user gives no K.
 */
import { DebiasedInfoNCEClustering, type ClusteringOptions } from './clustering.js';
import { kmeans } from './kmeans.js';
import { scoreAll, thresholdSplit, type Scores } from './metrics.js';
import { fitPreprocess, type PreprocessOptions } from './preprocess.js';
import { Rng } from './rng.js';

export interface MeanStd {
  mean: number;
  std: number;
}
export interface MetricSummary {
  acc: MeanStd;
  nmi: MeanStd;
  ari: MeanStd;
}
export interface SeedResult {
  seed: number;
  icon: Scores;
  kmeans: Scores;
  iconMs: number;
  kmeansMs: number;
  /** How `unsortedThreshold` splits I-Con's result (absent without a threshold). */
  unsorted?: UnsortedSplit;
}
export interface UnsortedSplit {
  /** Share of images whose confidence is below the threshold. */
  share: number;
  /** Hungarian ACC of the images kept in groups, and of those below (NaN when none). */
  accSorted: number;
  accUnsorted: number;
}
export interface EvaluateResult {
  n: number;
  k: number;
  icon: MetricSummary;
  kmeans: MetricSummary;
  perSeed: SeedResult[];
  /** min over seeds of (I-Con ACC - k-means ACC). */
  minAccMargin: number;
  /** Means over seeds of the per-seed splits (seeds without unsorted images left out of accUnsorted). */
  unsorted?: UnsortedSplit;
}

export interface EvaluateInput {
  features: Float32Array;
  n: number;
  d: number;
  labels: ArrayLike<number>;
  /** Number of clusters (default: number of distinct labels). */
  k?: number;
  seeds?: number[];
  views?: Float32Array;
  /** Pin this many images per class (sampled with the seed) into I-Con. */
  pinsPerClass?: number;
  /** Overrides of the I-Con options (the shipped defaults otherwise). */
  options?: Partial<ClusteringOptions>;
  kmeansInit?: number;
  /** Also report how this confidence threshold (the app's Unsorted) splits I-Con's result. */
  unsortedThreshold?: number;
}

function meanStd(xs: number[]): MeanStd {
  const m = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length);
  return { mean: m, std: Math.sqrt(v) };
}

function summarize(s: Scores[]): MetricSummary {
  return { acc: meanStd(s.map((x) => x.acc)), nmi: meanStd(s.map((x) => x.nmi)), ari: meanStd(s.map((x) => x.ari)) };
}

/** Samples `perClass` pinned images per class; pins map image -> class id (used as cluster index). */
export function samplePins(labels: ArrayLike<number>, perClass: number, seed: number): Map<number, number> {
  const rng = new Rng(seed * 7919 + 13);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!byClass.has(l)) byClass.set(l, []);
    byClass.get(l)!.push(i);
  }
  const pins = new Map<number, number>();
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  classes.forEach((l, ci) => {
    const idx = byClass.get(l)!;
    const perm = rng.permutation(idx.length);
    for (let j = 0; j < Math.min(perClass, idx.length); j++) pins.set(idx[perm[j]!]!, ci);
  });
  return pins;
}

/** I-Con (shipped defaults unless overridden) vs k-means (k-means++, restarts) for each seed. */
export function evaluate(input: EvaluateInput): EvaluateResult {
  const { features, n, d, labels } = input;
  const k = input.k ?? new Set(Array.from(labels)).size;
  const seeds = input.seeds ?? [0, 1, 2, 3, 4];
  const perSeed: SeedResult[] = [];
  // k-means sees exactly the features I-Con's head sees (its effective preprocessing)
  const pre: PreprocessOptions = new DebiasedInfoNCEClustering({ ...input.options, nClusters: k }).opts.preprocess;
  const kmFeat = fitPreprocess(features, n, d, pre).out;
  const kmD = kmFeat.length / n;
  for (const seed of seeds) {
    const t0 = performance.now();
    const km = kmeans(kmFeat, n, kmD, { k, nInit: input.kmeansInit ?? 10, seed });
    const t1 = performance.now();
    const model = new DebiasedInfoNCEClustering({ ...input.options, nClusters: k, seed });
    const pins = input.pinsPerClass ? samplePins(labels, input.pinsPerClass, seed) : undefined;
    const res = model.fit(features, n, d, { views: input.views, pins });
    const t2 = performance.now();
    const r: SeedResult = { seed, icon: scoreAll(labels, res.labels), kmeans: scoreAll(labels, km.labels), iconMs: t2 - t1, kmeansMs: t1 - t0 };
    if (input.unsortedThreshold !== undefined) {
      const split = thresholdSplit(labels, res.labels, res.confidence, input.unsortedThreshold);
      r.unsorted = { share: split.share, accSorted: split.accKept, accUnsorted: split.accBelow };
    }
    perSeed.push(r);
  }
  const splits = perSeed.flatMap((s) => (s.unsorted ? [s.unsorted] : []));
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  return {
    n,
    k,
    icon: summarize(perSeed.map((s) => s.icon)),
    kmeans: summarize(perSeed.map((s) => s.kmeans)),
    perSeed,
    minAccMargin: Math.min(...perSeed.map((s) => s.icon.acc - s.kmeans.acc)),
    ...(splits.length
      ? {
          unsorted: {
            share: mean(splits.map((s) => s.share)),
            accSorted: mean(splits.map((s) => s.accSorted).filter((a) => !Number.isNaN(a))),
            accUnsorted: mean(splits.map((s) => s.accUnsorted).filter((a) => !Number.isNaN(a))),
          },
        }
      : {}),
  };
}
