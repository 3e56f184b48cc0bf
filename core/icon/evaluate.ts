/**
 * Evaluation of I-Con vs k-means on labeled features (the numbers printed by
 * `constellate eval`), and chooseK for when the user gives no K.
 */
import { calibrationScores, type CalibrationScores } from './calibration.js';
import { chooseK } from './choosek.js';
import { DebiasedInfoNCEClustering, REFINE_OVERRIDES, type ClusteringOptions } from './clustering.js';
import { kmeans } from './kmeans.js';
import { hungarianMatch, scoreAll, thresholdSplit, type Scores } from './metrics.js';
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
  /** The trainer's starting partition, before any training step. */
  start: Scores;
  /** How honest I-Con's confidence is (calibration.ts). */
  calibration: CalibrationScores;
  /** I-Con at the K chooseK picks without labels (autoK only). */
  auto?: Scores;
  kmeans: Scores;
  iconMs: number;
  kmeansMs: number;
  /** How `unsortedThreshold` splits I-Con's result (absent without a threshold). */
  unsorted?: UnsortedSplit;
  /** After the user pins `pinsPerClass` random images per class and regroups. */
  pinned?: Scores;
  /** After the user moves `pinsPerClass` misplaced images per class to their group and regroups. */
  fixed?: Scores;
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
  start: MetricSummary;
  kmeans: MetricSummary;
  /** Means over seeds. */
  calibration: CalibrationScores;
  /** The K chooseK picks without labels, and I-Con at that K (autoK only). */
  auto?: { k: number; scores: MetricSummary };
  perSeed: SeedResult[];
  /** min over seeds of (I-Con ACC - k-means ACC). */
  minAccMargin: number;
  /** Means over seeds of the per-seed splits (seeds without unsorted images left out of accUnsorted). */
  unsorted?: UnsortedSplit;
  pinned?: MetricSummary;
  fixed?: MetricSummary;
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
  /**
   * Also score the app's regrouping after the user's edits, as the app runs it (as many
   * groups as before, training started from them), for two kinds of edit:
   * this many random images per class pinned to their class's group, and this many
   * misplaced images per class moved there (each sampled with the seed).
   */
  pinsPerClass?: number;
  /** Overrides of the I-Con options (the shipped defaults otherwise). */
  options?: Partial<ClusteringOptions>;
  kmeansInit?: number;
  /** Also report how this confidence threshold (the app's Unsorted) splits I-Con's result. */
  unsortedThreshold?: number;
  /** Also choose K without labels (as the app does when the user gives none) and score I-Con there. */
  autoK?: boolean;
}

function meanStd(xs: number[]): MeanStd {
  const m = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length);
  return { mean: m, std: Math.sqrt(v) };
}

function summarize(s: Scores[]): MetricSummary {
  return { acc: meanStd(s.map((x) => x.acc)), nmi: meanStd(s.map((x) => x.nmi)), ari: meanStd(s.map((x) => x.ari)) };
}

/** Samples `perClass` images per class: image -> its label. */
export function samplePins(labels: ArrayLike<number>, perClass: number, seed: number): Map<number, number> {
  return sampleByClass(labels, perClass, new Rng(seed * 7919 + 13), () => true);
}

/**
 * Samples up to `perClass` misplaced images per class: images whose group in `pred` is not
 * the group matched to their class (what a user fixing the groups would move). Image -> its
 * label.
 */
export function sampleFixes(labels: ArrayLike<number>, pred: ArrayLike<number>, perClass: number, seed: number): Map<number, number> {
  const groupOf = classToGroup(labels, pred);
  return sampleByClass(labels, perClass, new Rng(seed * 7919 + 29), (i) => pred[i] !== groupOf.get(labels[i]!));
}

function sampleByClass(labels: ArrayLike<number>, perClass: number, rng: Rng, eligible: (i: number) => boolean): Map<number, number> {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!byClass.has(l)) byClass.set(l, []);
    if (eligible(i)) byClass.get(l)!.push(i);
  }
  const out = new Map<number, number>();
  for (const l of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = byClass.get(l)!;
    const perm = rng.permutation(idx.length);
    for (let j = 0; j < Math.min(perClass, idx.length); j++) out.set(idx[perm[j]!]!, l);
  }
  return out;
}

/** Class -> the group the Hungarian matching gives it (classes left without a group absent). */
function classToGroup(labels: ArrayLike<number>, pred: ArrayLike<number>): Map<number, number> {
  return new Map([...hungarianMatch(labels, pred)].map(([group, cls]) => [cls, group]));
}

/**
 * The user's edits on a grouping, then the app's regrouping: each image of `edits` (image ->
 * label) pinned in its class's group, training started from the grouping with the edits in
 * it (what "Regroup everything" runs with as many groups).
 */
function regroup(input: EvaluateInput, k: number, seed: number, grouping: Int32Array, edits: Map<number, number>): Scores {
  const groupOf = classToGroup(input.labels, grouping);
  const pins = new Map<number, number>();
  for (const [img, label] of edits) if (groupOf.has(label)) pins.set(img, groupOf.get(label)!);
  const model = new DebiasedInfoNCEClustering({ ...input.options, ...REFINE_OVERRIDES, nClusters: k, seed });
  const res = model.fit(input.features, input.n, input.d, { pins, start: grouping });
  return scoreAll(input.labels, res.labels);
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
  const autoK = input.autoK ? chooseK(features, n, d, undefined, { seed: 0 }).k : undefined;
  for (const seed of seeds) {
    const t0 = performance.now();
    const km = kmeans(kmFeat, n, kmD, { k, nInit: input.kmeansInit ?? 10, seed });
    const t1 = performance.now();
    const model = new DebiasedInfoNCEClustering({ ...input.options, nClusters: k, seed });
    const res = model.fit(features, n, d, { views: input.views });
    const t2 = performance.now();
    const r: SeedResult = {
      seed,
      icon: scoreAll(labels, res.labels),
      start: scoreAll(labels, res.start),
      calibration: calibrationScores(labels, res.labels, res.confidence),
      kmeans: scoreAll(labels, km.labels),
      iconMs: t2 - t1,
      kmeansMs: t1 - t0,
    };
    if (autoK !== undefined)
      r.auto =
        autoK === k
          ? r.icon
          : scoreAll(
              labels,
              new DebiasedInfoNCEClustering({ ...input.options, nClusters: autoK, seed }).fit(features, n, d, { views: input.views })
                .labels,
            );
    if (input.unsortedThreshold !== undefined) {
      const split = thresholdSplit(labels, res.labels, res.confidence, input.unsortedThreshold);
      r.unsorted = { share: split.share, accSorted: split.accKept, accUnsorted: split.accBelow };
    }
    if (input.pinsPerClass) {
      r.pinned = regroup(input, k, seed, res.labels, samplePins(labels, input.pinsPerClass, seed));
      r.fixed = regroup(input, k, seed, res.labels, sampleFixes(labels, res.labels, input.pinsPerClass, seed));
    }
    perSeed.push(r);
  }
  const splits = perSeed.flatMap((s) => (s.unsorted ? [s.unsorted] : []));
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  return {
    n,
    k,
    icon: summarize(perSeed.map((s) => s.icon)),
    start: summarize(perSeed.map((s) => s.start)),
    kmeans: summarize(perSeed.map((s) => s.kmeans)),
    calibration: {
      ece: mean(perSeed.map((s) => s.calibration.ece)),
      auroc: mean(perSeed.map((s) => s.calibration.auroc)),
      groupSpearman: mean(perSeed.map((s) => s.calibration.groupSpearman)),
    },
    ...(autoK !== undefined ? { auto: { k: autoK, scores: summarize(perSeed.map((s) => s.auto!)) } } : {}),
    perSeed,
    minAccMargin: Math.min(...perSeed.map((s) => s.icon.acc - s.kmeans.acc)),
    ...(input.pinsPerClass ? { pinned: summarize(perSeed.map((s) => s.pinned!)), fixed: summarize(perSeed.map((s) => s.fixed!)) } : {}),
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
