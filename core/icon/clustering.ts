/**
 * Debiased InfoNCE Clustering (I-Con, ICLR 2025): a linear head on frozen
 * backbone features, trained so that the cluster kernel q (from the soft
 * assignments phi = softmax(head(x))) matches a supervisory kernel p built
 * from kNN walks, augmented views and the user's pins; both sides debiased.
 */
import * as tf from '@tensorflow/tfjs';
import { calibratedConfidence } from './calibration.js';
import { Rng } from './rng.js';
import {
  applyPreprocess,
  applyPreprocessHalves,
  applyPreprocessSource,
  arraySource,
  fitPreprocessSource,
  gatherRows,
  l2normalize,
  type PreprocessOptions,
  type Preprocessor,
  type RowSource,
} from './preprocess.js';
import {
  extendKnnGraph,
  knnGraphAuto,
  knnKernelSparse,
  neighbourCap,
  trimGraph,
  walkKernelSparse,
  type KnnGraph,
  type SparseRows,
} from './knn.js';
import { rowNormalize, KERNEL_EPS } from './kernels.js';
import { batchKernelToDense, clusterIconLoss, type BatchKernel } from './loss.js';
import { centroidColumns, groupMeans, kmeans } from './kmeans.js';
import { spectralEmbedding } from './spectral.js';
import { decodeHalf, roundToHalves } from './float16.js';
import { SCHEDULE } from './schedule.js';

/** The paper's defaults (ImageNet-scale training), kept for reference and ablations. */
export const PAPER_DEFAULTS = {
  epochs: 30,
  learningRate: 1e-3,
  lrHalveEvery: 10,
  knn: 3,
  walkSteps: 1,
  emaTeacher: false,
  alphaP: 0.6,
  alphaQ: 0.6,
} as const;

/**
 * Shipped defaults. Each departure from PAPER_DEFAULTS was measured on our MobileNetV2 features
 * (tuxpaint300 and fashion-mnist-1k, 5 seeds); docs/clustering.md has the tables and the
 * commands. In short:
 * - preprocess L2 -> PCA 256 -> L2: 7x less work per step than 1792-d, no loss of ACC.
 * - init 'spectral': the head starts at the feature means of a spectral clustering of the kNN
 *   graph (a random start loses to k-means on fashion-mnist-1k).
 * - knn 10, walkSteps 0: walks added little and multiply p's entries (memory at 1,000,000).
 * - augmented views as the anchors' inputs (FitInput.views) with alphaP 0.3: the lever that
 *   makes training pay (+4 ACC over the start on tuxpaint300, +6 on fashion-mnist-1k).
 * - the kNN graph on the clean images, all 256 PCA dims (the mean with a flip, or with strong
 *   views, made the spectral start worse).
 * - learningRate 2e-2, minStepsPerEpoch 20, maxSteps 1000: a few hundred images make an epoch
 *   of a handful of steps (1e-2 was still learning at the end of the schedule on
 *   fashion-mnist-1k); maxSteps bounds the time for large libraries.
 * - kNN exact up to 10,000 images, HNSW beyond (recall in bench/knn.ts).
 */
export const DEFAULTS = {
  epochs: SCHEDULE.epochs,
  learningRate: 2e-2,
  lrHalveEvery: 10,
  knn: 10,
  walkSteps: 0,
  alphaP: 0.3,
  alphaQ: 0.6,
  anchorsPerBatch: SCHEDULE.anchorsPerBatch,
  neighboursPerAnchor: 3,
  maxBatchRows: 4096,
  minStepsPerEpoch: 20,
  labelWeight: 1,
  pinLossWeight: 1,
  emaTeacher: false,
  emaDecay: 0.99,
  emaWeight: 0.5,
  init: 'spectral' as 'random' | 'kmeans' | 'spectral',
  initRestarts: 10,
  initScale: 10,
  minConfidence: 0,
  seed: 0,
  maxSteps: SCHEDULE.maxSteps,
  exactKnnUpTo: 10000,
  knnPcaDims: 256,
  spectralKnn: 10,
  initBias: true,
  hnsw: { m: 12, efConstruction: 64, efSearch: 32 },
  preprocess: { pcaDims: 256 } as PreprocessOptions,
};

/**
 * Refining the user's groups after their fixes (FitInput.start, the fixes pinned): trained without the views and
 * with p debiased as the paper does (0.6). With the views and 0.3, training pulls towards its own
 * unsupervised answer: after 3 fixes per class, 2 of 3 seeds of fashion-mnist-1k ended below the
 * edited grouping (67.1 -> 63.3); this way the regroup gained on average on all three labelled
 * sets (tuxpaint300 65.3 -> 67.5, fashion-mnist-1k 67.0 -> 68.0, the demo 71.7 -> 77.2;
 * docs/clustering.md). The caller leaves the views out.
 */
export const REFINE_OVERRIDES = { alphaP: 0.6 } as const satisfies Partial<ClusteringOptions>;

/**
 * Re-clustering the same images with another K, the app's interactive "regroup": the kNN graph
 * and the PCA of the previous run are reused (FitInput.graph / .preprocessor), the head starts
 * from the spectral clustering at the new K as always, and a shorter schedule refines it: 10
 * epochs at a constant learning rate, half the anchors per step and twice the steps (the same
 * anchor visits at about a third of the [anchors x batch] work). docs/clustering.md has its ACC
 * and Unsorted share against the full schedule.
 */
export const RECLUSTER_OVERRIDES = {
  epochs: 10,
  lrHalveEvery: 10,
  initRestarts: 3,
  // half the anchors per step, twice the steps: the same anchor visits at about a third of the
  // [anchors x batch] work (which grows with the square of the anchors)
  anchorsPerBatch: 256,
  minStepsPerEpoch: 40,
} as const satisfies Partial<ClusteringOptions>;

export interface ClusteringOptions {
  nClusters: number;
  epochs?: number;
  learningRate?: number;
  /** Halve the learning rate every this many epochs. */
  lrHalveEvery?: number;
  /** k of the supervisory kNN kernel (cosine, self excluded). */
  knn?: number;
  /** Extra propagation steps of the kNN walk kernel (0: plain kNN). */
  walkSteps?: number;
  /** Debiasing of p and q: (1-a) K + a/N. */
  alphaP?: number;
  alphaQ?: number;
  anchorsPerBatch?: number;
  /** Neighbours sampled (from the walk kernel) per anchor into the batch. */
  neighboursPerAnchor?: number;
  /** Upper bound on batch rows (anchors + neighbours + pins + views). */
  maxBatchRows?: number;
  minStepsPerEpoch?: number;
  /** Weight of the labels (pins) kernel mixed into p (the kNN walk has weight 1). */
  labelWeight?: number;
  /** Weight of the cross-entropy fixing pinned images to their group. */
  pinLossWeight?: number;
  /** EMA teacher: its cluster kernel is mixed into p (off by default). */
  emaTeacher?: boolean;
  emaDecay?: number;
  emaWeight?: number;
  /**
   * Head initialisation: small random weights, k-means centroids, or the feature means of a
   * spectral clustering of the kNN graph (spectral.ts; the graph symmetrised at spectralKnn).
   */
  init?: 'random' | 'kmeans' | 'spectral';
  spectralKnn?: number;
  /** k-means++ restarts of the 'kmeans' init (seeded with `seed`: the k-means baseline's solution). */
  initRestarts?: number;
  initScale?: number;
  /** Start the head's bias at -initScale |c|^2 / 2, so its argmax is the nearest centroid. */
  initBias?: boolean;
  /** Images whose confidence is below this go to Unsorted (group -1). */
  minConfidence?: number;
  seed?: number;
  preprocess?: PreprocessOptions;
  /**
   * Cap on optimiser steps (all epochs together): the lr schedule is
   * stretched over the capped run. Keeps large N within the time budget.
   */
  maxSteps?: number;
  /** Exact blocked kNN up to this many images; beyond, HNSW (hnswlib-node). */
  exactKnnUpTo?: number;
  /** The kNN graph is searched on this many leading principal components (of the head's PCA features). */
  knnPcaDims?: number;
  /** hnswlib-node parameters beyond exactKnnUpTo (bench/knn.ts reports their recall). */
  hnsw?: { m: number; efConstruction: number; efSearch: number };
}

export interface FitInput {
  /** Pinned images: image index -> cluster index in [0, nClusters). Fixed in the output. */
  pins?: Map<number, number>;
  /**
   * Augmented views of every image (random resized crops, colour jitter, grey, flips), V per
   * image, image-major: rows i*V .. i*V+V-1 are image i's, each with the features' width.
   * Each step an anchor is fed to the head as one of its views, drawn at random, while p
   * still points at the clean image's kNN neighbours: the head learns what neighbours share
   * and augmentations keep.
   */
  views?: Float32Array;
  /** A kNN graph computed before on the same features (re-clustering with another K). */
  graph?: KnnGraph;
  /**
   * An earlier run's kNN graph over mostly the same images (some added or gone since):
   * `rows[i]` is image i's row in it, -1 for one added since. The graph is extended
   * (extendKnnGraph: the added images searched exactly) instead of searched anew.
   */
  graphFrom?: { graph: KnnGraph; rows: Int32Array };
  /**
   * A preprocessing fitted before on the same features (re-clustering: the
   * PCA is not fitted again). Ignored when its input dimension differs.
   */
  preprocessor?: Preprocessor;
  /**
   * A grouping to refine instead of starting afresh: a cluster index in [0, nClusters) per
   * image, -1 for images it does not cover (e.g. added since). The app passes the user's
   * current groups, edits included, when re-clustering into as many groups. The head then
   * starts at these groups' means, pinned images counted in their pinned group. Used only
   * when every group has an image; otherwise the usual start.
   */
  start?: Int32Array;
  /** Called after each epoch (progress). */
  onEpoch?: (epoch: number, loss: number) => void;
  /**
   * Builds a kNN graph (cosine, self excluded, rows by decreasing similarity) instead of the
   * engine's own search (knnGraphAuto with exactKnnUpTo and hnsw): e.g. one that extends an
   * earlier run's graph with the rows added since, or one that searches on several threads.
   */
  knn?: (z: Float32Array, n: number, d: number, k: number) => KnnGraph;
}

/** fitSource's input: the features and their views as row sources (e.g. streamed from SQLite). */
export interface FitSourceInput extends Omit<FitInput, 'views'> {
  /** n * V rows, image-major (FitInput.views). */
  views?: RowSource;
  /**
   * Views are reduced (PCA) and held in memory, as halves (float16.ts), up to this many values
   * (n * V * pcaDims); beyond, each step reads and reduces only its anchors' views (a step feeds
   * each anchor as one view, so a run reads at most maxSteps x anchorsPerBatch of them, however
   * large the library), rounded to halves too. Default 2^27 (256 MiB): 131,072 images with 4
   * views at 256 dims.
   */
  viewsInMemoryUpTo?: number;
  /**
   * The views already through `preprocessor`, as halves (n * V * dOut, image-major): e.g. kept
   * from the previous run over the same images, or made by prepare(). Used instead of `views`.
   */
  reducedViews?: Uint16Array;
  /**
   * The rows already through `preprocessor` ([n, dOut], e.g. reduced while another thread chose
   * K): used as they are instead of reading and reducing the source again. Needs `preprocessor`.
   */
  reduced?: Float32Array;
}

export interface Assignment {
  /** Cluster per image (argmax of phi; pins override). */
  labels: Int32Array;
  /**
   * How likely the image is to be in the right group: max_c phi_ic, calibrated
   * (calibration.ts, calibratedConfidence); 1 for pinned images.
   */
  confidence: Float32Array;
  /** labels, with -1 (Unsorted) where confidence < minConfidence. */
  groups: Int32Array;
}

export interface FitResult extends Assignment {
  /** The partition training started from: the argmax of the initial head, before any step. */
  start: Int32Array;
  graph: KnnGraph;
  lossHistory: number[];
  /** The learning rate of each epoch (halved every lrHalveEvery epochs). */
  lrHistory: number[];
  /** True when training left fewer groups than its k-means start, which was kept instead. */
  collapsed: boolean;
  /** True when training started from FitInput.start: its group c went on as group c. */
  refined: boolean;
  /** tf.memory().numTensors after each epoch (flat = no leak). */
  tensorCounts: number[];
  /** The features trained on: the rows through the preprocessing, the views as halves where they were held. */
  reduced: { rows: Float32Array; views: Uint16Array | null };
  /** knnMs is 0 when FitInput.graph was reused (no search). */
  timings: { preprocessMs: number; knnMs: number; initMs: number; trainMs: number; steps: number; predictMs: number };
}

export interface HeadExport {
  preprocessor: Preprocessor;
  /** Row-major [dIn, nClusters]. */
  weights: Float32Array;
  bias: Float32Array;
  shape: [number, number];
}

const PREDICT_BLOCK = 8192;
/** FitSourceInput.viewsInMemoryUpTo's default, in values (halves: 256 MiB). */
const VIEWS_IN_MEMORY_UP_TO = 2 ** 27;

/** Whether fitSource holds `viewRows` views reduced to `dOut` dims in memory (else it reads them per step). */
export function viewsHeld(viewRows: number, dOut: number, viewsInMemoryUpTo = VIEWS_IN_MEMORY_UP_TO): boolean {
  return viewRows * dOut <= viewsInMemoryUpTo;
}
/** The start (k-means or spectral) is computed on at most this many sampled images. */
const INIT_SAMPLE = 20000;

export class DebiasedInfoNCEClustering {
  readonly opts: Required<Omit<ClusteringOptions, 'preprocess'>> & { preprocess: PreprocessOptions };
  private head: HeadExport | null = null;

  constructor(options: ClusteringOptions) {
    if (!(options.nClusters >= 1)) throw new Error('nClusters must be >= 1');
    this.opts = { ...DEFAULTS, ...options } as DebiasedInfoNCEClustering['opts'];
    for (const [k, v] of Object.entries(options))
      if (v === undefined) (this.opts as Record<string, unknown>)[k] = (DEFAULTS as Record<string, unknown>)[k];
    this.opts.preprocess = { ...DEFAULTS.preprocess, ...options.preprocess };
  }

  fit(features: Float32Array, n: number, d: number, input: FitInput = {}): FitResult {
    if (features.length !== n * d) throw new Error('fit: features length != n*d');
    if (input.views && (input.views.length === 0 || input.views.length % (n * d) !== 0))
      throw new Error('fit: views length is not a multiple of n*d');
    return this.fitSource(arraySource(features, n, d), {
      ...input,
      views: input.views ? arraySource(input.views, input.views.length / d, d) : undefined,
    });
  }

  /**
   * fit() on rows read block by block (1,000,000 x 1792 floats do not fit in the memory budget;
   * the preprocessed n x pcaDims rows do). The method's steps in order: the features (L2, PCA,
   * L2) and the anchors' views; the supervisory kernel p (a kNN graph of the clean images, and
   * the pins); the head's start; training (the KL divergence of the cluster kernel q from p,
   * both debiased, minimised over batches of anchors); the assignment.
   */
  fitSource(src: RowSource, input: FitSourceInput = {}): FitResult {
    const C = this.opts.nClusters;
    const { n, d } = src;
    if (input.views && (input.views.d !== d || input.views.n === 0 || input.views.n % n !== 0))
      throw new Error("fit: views must be n * V rows of the features' width");
    const rng = new Rng(this.opts.seed);
    const t0 = performance.now();
    const { pre, x } = this.features(src, input);
    if (C === 1) return this.fitOneGroup(pre, x, n, t0);
    const dd = pre.dOut;
    const views = this.viewRows(pre, n, input);
    const t1 = performance.now();
    const knnRows = lazy(() => this.knnFeatures(x, n, dd, pre));
    const { graph, walk, searched } = this.supervision(n, knnRows, input);
    const t2 = performance.now();
    const { pinOf, pinned } = pinTable(input.pins, n, C);
    const fromStart = input.start ? this.startHead(x, n, dd, pinOf, input.start) : null;
    const init = fromStart ?? this.initHead(x, n, dd, rng, pinOf, graph, knnRows.get, input.knn);
    knnRows.release();
    const tInit = performance.now();
    const trained = this.train({ x, n, dd, pre, views, walk, pinOf, pinned }, init, rng, input.onEpoch);
    const t3 = performance.now();
    const { assignment, start, collapsed } = this.assign(x, n, pre, init, pinOf, pinned);
    const t4 = performance.now();
    return {
      ...assignment,
      start,
      graph,
      lossHistory: trained.lossHistory,
      lrHistory: trained.lrHistory,
      tensorCounts: trained.tensorCounts,
      collapsed,
      refined: fromStart !== null,
      reduced: { rows: x, views: views?.held ?? null },
      timings: {
        preprocessMs: t1 - t0,
        knnMs: searched ? t2 - t1 : 0,
        initMs: tInit - t2,
        trainMs: t3 - tInit,
        steps: trained.steps,
        predictMs: t4 - t3,
      },
    };
  }

  /** The features the head sees: `reduced` or the source through `preprocessor` (reused), or a preprocessing fitted here. */
  private features(src: RowSource, input: FitSourceInput): { pre: Preprocessor; x: Float32Array } {
    const reuse = input.preprocessor && input.preprocessor.dIn === src.d ? input.preprocessor : null;
    if (input.reduced && (!reuse || input.reduced.length !== src.n * reuse.dOut))
      throw new Error('fit: reduced rows need their preprocessor and n * dOut values');
    if (reuse) return { pre: reuse, x: input.reduced ?? applyPreprocessSource(reuse, src) };
    const { pre, out } = fitPreprocessSource(src, { seed: this.opts.seed, ...this.opts.preprocess });
    return { pre, x: out };
  }

  /**
   * The anchors' views (FitInput.views), or null without: held reduced, as halves, up to
   * viewsInMemoryUpTo values; beyond, each step reads and reduces only its anchors' views.
   */
  private viewRows(pre: Preprocessor, n: number, input: FitSourceInput): ViewRows | null {
    const src = input.views;
    const given = input.reducedViews;
    if (!src && !given) return null;
    const V = src ? src.n / n : given!.length / (n * pre.dOut);
    if (given) {
      if (!Number.isInteger(V) || V < 1 || given.length !== n * V * pre.dOut || (src && src.n !== n * V))
        throw new Error('fit: reduced views need n * V * dOut values');
      return heldViews(given, V, pre.dOut);
    }
    if (viewsHeld(src!.n, pre.dOut, input.viewsInMemoryUpTo)) return heldViews(applyPreprocessHalves(pre, src!), V, pre.dOut);
    return viewsOnDemand(pre, src!, V);
  }

  /**
   * The kNN graph p is built from, and the walk kernel over it: `graph` as it is (the same
   * images), `graphFrom` extended (a few added or gone), or searched. One graph serves p (its
   * first knn neighbours) and the spectral start (spectralKnn).
   */
  private supervision(
    n: number,
    knnRows: Lazy<{ z: Float32Array; dz: number }>,
    input: FitSourceInput,
  ): { graph: KnnGraph; walk: SparseRows; searched: boolean } {
    const o = this.opts;
    const kMax = neighbourCap(n, o.nClusters);
    const kGraph = Math.min(o.init === 'spectral' ? Math.max(o.knn, o.spectralKnn) : o.knn, kMax);
    const reuse = input.graph && input.graph.n === n && input.graph.k >= kGraph ? input.graph : null;
    const extended =
      !reuse && input.graphFrom
        ? extendKnnGraph(input.graphFrom.graph, input.graphFrom.rows, knnRows.get().z, n, knnRows.get().dz, kGraph)
        : null;
    const graph = reuse ?? extended ?? this.buildGraph(knnRows.get().z, n, knnRows.get().dz, kGraph, input.knn);
    const walk = walkKernelSparse(knnKernelSparse(trimGraph(graph, Math.min(o.knn, kMax))), o.walkSteps);
    return { graph, walk, searched: reuse === null };
  }

  /**
   * Training: each step a batch of anchors (BatchSampler), p for the anchors over the batch,
   * the head's q over the batch, one Adam step on KL(p || q) (clusterIconLoss) plus the pins'
   * cross-entropy. Leaves the trained head in this.head.
   */
  private train(
    data: TrainingData,
    init: { weights: Float32Array; bias: Float32Array },
    rng: Rng,
    onEpoch?: (epoch: number, loss: number) => void,
  ): { lossHistory: number[]; lrHistory: number[]; tensorCounts: number[]; steps: number } {
    const o = this.opts;
    const { n, dd } = data;
    const C = o.nClusters;
    const W = tf.tidy(() => tf.variable(tf.tensor2d(init.weights, [dd, C])));
    const b = tf.tidy(() => tf.variable(tf.tensor1d(init.bias)));
    const teacher = o.emaTeacher ? tf.tidy(() => ({ W: tf.variable(W.clone()), b: tf.variable(b.clone()) })) : null;
    const adam = new Adam([W, b]);
    const A = Math.min(o.anchorsPerBatch, n);
    const stepsPerEpoch = Math.max(1, Math.min(Math.max(Math.ceil(n / A), o.minStepsPerEpoch), Math.floor(o.maxSteps / o.epochs)));
    const batches = new BatchSampler(n, data.walk, data.pinned, rng, {
      anchors: A,
      neighbours: o.neighboursPerAnchor,
      maxRows: o.maxBatchRows,
    });
    const pRow = new Float32Array(o.maxBatchRows); // buildP's scratch row (all zeros between rows)
    const buf = { xb: new Float32Array(o.maxBatchRows * dd), xbT: new Float32Array(o.maxBatchRows * dd) }; // reused
    const lossHistory: number[] = [];
    const lrHistory: number[] = [];
    const tensorCounts: number[] = [];
    try {
      for (let epoch = 0; epoch < o.epochs; epoch++) {
        const lr = o.learningRate * Math.pow(0.5, Math.floor(epoch / o.lrHalveEvery));
        lrHistory.push(lr);
        let epochLoss = 0;
        for (let step = 0; step < stepsPerEpoch; step++) {
          const { rows, nA } = batches.next();
          const { p, massRows } = this.buildP(data.walk, rows, batches.posOrig, data.pinOf, nA, pRow);
          // each anchor as one of its views, drawn at random (after the batch: the seeded order)
          const anchorViews = data.views ? data.views.pick(rows.slice(0, nA), rng) : null;
          const batch = batchRows(data.x, dd, rows, nA, anchorViews, buf);
          epochLoss += this.step({ W, b, teacher, adam, lr }, batch, rows, nA, p, massRows, data.pinOf);
          batches.release(rows);
        }
        lossHistory.push(epochLoss / stepsPerEpoch);
        tensorCounts.push(tf.memory().numTensors);
        onEpoch?.(epoch, epochLoss / stepsPerEpoch);
      }
      this.head = {
        preprocessor: data.pre,
        weights: Float32Array.from(W.dataSync() as Float32Array),
        bias: Float32Array.from(b.dataSync() as Float32Array),
        shape: [dd, C],
      };
    } finally {
      adam.dispose();
      tf.dispose([W, b]);
      if (teacher) tf.dispose([teacher.W, teacher.b]);
    }
    return { lossHistory, lrHistory, tensorCounts, steps: stepsPerEpoch * o.epochs };
  }

  /**
   * One optimiser step on a batch: logits = x W + b, phi = softmax(logits), the I-Con loss of
   * the anchors' rows (q from phi against p, clusterIconLoss) plus the pinned rows'
   * cross-entropy. Returns the step's loss.
   */
  private step(
    s: { W: tf.Variable; b: tf.Variable; teacher: Teacher | null; adam: Adam; lr: number },
    batch: { xb: tf.Tensor2D; xbT: tf.Tensor2D },
    rows: number[],
    nA: number,
    p: BatchKernel,
    massRows: number,
    pinOf: Int32Array,
  ): number {
    const o = this.opts;
    const C = o.nClusters;
    const { xb, xbT } = batch;
    // p stays in JS (the loss reads it in JS); a dense tensor only to mix in the teacher
    const pFinal = s.teacher && massRows > 0 ? this.withTeacher(s.teacher, xb, p, nA, rows.length) : p;
    const pins = pinTargets(rows, pinOf, C);
    const { value, grads } = tf.variableGrads(() => {
      const logits = linearHead(xb, xbT, s.W, s.b);
      const phi = tf.softmax(logits) as tf.Tensor2D;
      let loss = clusterIconLoss(phi.slice([0, 0], [nA, C]), phi, pFinal, o.alphaQ, Math.max(1, massRows));
      if (pins && o.pinLossWeight > 0) {
        const ce = tf.div(tf.neg(tf.sum(tf.mul(pins.oneHot, tf.logSoftmax(logits)))), pins.count);
        loss = tf.add(loss, tf.mul(ce, o.pinLossWeight)) as tf.Scalar;
      }
      return loss;
    }, [s.W, s.b]);
    s.adam.step(grads, s.lr);
    const loss = value.dataSync()[0]!;
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    if (s.teacher) {
      const t = s.teacher;
      tf.tidy(() => {
        t.W.assign(tf.add(tf.mul(t.W, o.emaDecay), tf.mul(s.W, 1 - o.emaDecay)));
        t.b.assign(tf.add(tf.mul(t.b, o.emaDecay), tf.mul(s.b, 1 - o.emaDecay)));
      });
    }
    if (pFinal instanceof tf.Tensor) pFinal.dispose();
    tf.dispose([xb, xbT]);
    pins?.oneHot.dispose();
    return loss;
  }

  /** p with the EMA teacher's cluster kernel mixed in, on rows that already have supervision (then debiased like p). */
  private withTeacher(teacher: Teacher, xb: tf.Tensor2D, p: BatchKernel, nA: number, B: number): tf.Tensor2D {
    const o = this.opts;
    return tf.tidy(() => {
      const pT = tf.tensor2d(batchKernelToDense(p), [nA, B]);
      const phiT = tf.softmax(tf.add(tf.matMul(xb, teacher.W), teacher.b)) as tf.Tensor2D;
      const phiTA = phiT.slice([0, 0], [nA, o.nClusters]);
      const notSelf = tf.sub(1, tf.oneHot(tf.range(0, nA, 1, 'int32'), B));
      const mass = tf.add(tf.sum(phiT, 0, true), KERNEL_EPS);
      const qT = rowNormalize(tf.mul(tf.matMul(tf.div(phiTA, mass), tf.transpose(phiT)), notSelf) as tf.Tensor2D);
      const has = tf.cast(tf.greater(tf.sum(pT, 1, true), 0), 'float32');
      const qDeb = tf.mul(tf.add(tf.mul(qT, 1 - o.alphaP), o.alphaP / B), has);
      return tf.add(tf.mul(pT, 1 - o.emaWeight), tf.mul(qDeb, o.emaWeight)) as tf.Tensor2D;
    });
  }

  /**
   * Every image's group by the trained head (pins kept), and the partition training started
   * from. Collapse guard: with very few images (a handful per group) the debiased cluster
   * kernel can pour every image into fewer groups than the user asked for; the start it was
   * refined from is then the better answer (8 tuxpaint images, K = 2: all in one group). Only
   * checked when a group came out empty: the start cannot use more than all of them. Only a
   * collapse counts, training that lost half the start's groups or more: with many groups a few
   * come out empty while the rest are far better than the start, whose head is unsure of
   * everything (K 300: fashion-mnist-1k used 298 groups, median confidence 0.85; falling back to
   * the start, median 0.31, sent 1,288 of a 1,300-image library to Unsorted).
   */
  private assign(
    x: Float32Array,
    n: number,
    pre: Preprocessor,
    init: { weights: Float32Array; bias: Float32Array },
    pinOf: Int32Array,
    pinned: number[],
  ): { assignment: Assignment; start: Int32Array; collapsed: boolean } {
    const o = this.opts;
    let asg = this.predictPreprocessed(x, n);
    const startHead: HeadExport = { preprocessor: pre, weights: init.weights, bias: init.bias, shape: [pre.dOut, o.nClusters] };
    const start = this.predictPreprocessed(x, n, startHead);
    let collapsed = false;
    if (o.init !== 'random' && distinct(asg.labels) < o.nClusters && 2 * distinct(asg.labels) <= distinct(start.labels)) {
      asg = {
        labels: Int32Array.from(start.labels),
        confidence: Float32Array.from(start.confidence),
        groups: Int32Array.from(start.groups),
      };
      this.head = startHead;
      collapsed = true;
    }
    for (const img of pinned) {
      asg.labels[img] = pinOf[img]!;
      asg.confidence[img] = 1;
      asg.groups[img] = pinOf[img]!;
    }
    return { assignment: asg, start: start.labels, collapsed };
  }

  /**
   * What fitSource computes before it needs the number of groups: the preprocessing (or
   * `preprocessor`, reused), the reduced rows and the kNN graph, for up to this model's
   * nClusters groups (the graph's k is capped by neighbourCap at that many). A fit into as many
   * groups or fewer, given them (FitSourceInput.preprocessor, .reduced, .graph), computes none of
   * it again: e.g. while another thread chooses K.
   */
  prepare(
    src: RowSource,
    input: { preprocessor?: Preprocessor; knn?: FitInput['knn'] } = {},
  ): { preprocessor: Preprocessor; reduced: Float32Array; graph: KnnGraph } {
    const o = this.opts;
    const { pre, x } = this.features(src, { preprocessor: input.preprocessor });
    const kMax = neighbourCap(src.n, o.nClusters);
    const kGraph = Math.min(o.init === 'spectral' ? Math.max(o.knn, o.spectralKnn) : o.knn, kMax);
    const { z, dz } = this.knnFeatures(x, src.n, pre.dOut, pre);
    return { preprocessor: pre, reduced: x, graph: this.buildGraph(z, src.n, dz, kGraph, input.knn) };
  }

  /**
   * The views through `pre` as halves (FitSourceInput.reducedViews), or null where fitSource
   * would not hold them (more than viewsInMemoryUpTo values: read per step instead).
   */
  reduceViews(pre: Preprocessor, n: number, views: RowSource, viewsInMemoryUpTo?: number): Uint16Array | null {
    return this.viewRows(pre, n, { views, viewsInMemoryUpTo })?.held ?? null;
  }

  /**
   * One group: phi is 1 for every image, so q(j|i) = 1/N whatever the head and the loss has
   * no gradient. Nothing to learn: every image in the group with confidence 1, a zero head
   * (which assigns new images to it too) and an empty graph (never reused: it has k = 0).
   */
  private fitOneGroup(pre: Preprocessor, x: Float32Array, n: number, t0: number): FitResult {
    this.head = { preprocessor: pre, weights: new Float32Array(pre.dOut), bias: new Float32Array(1), shape: [pre.dOut, 1] };
    const t1 = performance.now();
    return {
      labels: new Int32Array(n),
      confidence: new Float32Array(n).fill(1),
      groups: new Int32Array(n),
      start: new Int32Array(n),
      graph: { n, k: 0, indices: new Int32Array(0), sims: new Float32Array(0) },
      lossHistory: [],
      lrHistory: [],
      tensorCounts: [],
      collapsed: false,
      refined: false,
      reduced: { rows: x, views: null },
      timings: { preprocessMs: t1 - t0, knnMs: 0, initMs: 0, trainMs: 0, steps: 0, predictMs: 0 },
    };
  }

  /**
   * The rows the kNN search sees: the leading knnPcaDims principal components (PCA orders
   * them by variance, so the first columns of the PCA features are a smaller PCA) of each
   * clean image, L2-normalised. Never of the views: strong crops sit far from their image
   * (docs/clustering.md).
   */
  private knnFeatures(x: Float32Array, n: number, dd: number, pre: Preprocessor): { z: Float32Array; dz: number } {
    const dz = pre.pca && this.opts.knnPcaDims < dd ? this.opts.knnPcaDims : dd;
    if (dz === dd) return { z: x, dz };
    const z = new Float32Array(n * dz);
    for (let i = 0; i < n; i++) z.set(x.subarray(i * dd, i * dd + dz), i * dz);
    return { z: l2normalize(z, n, dz), dz };
  }

  /** kNN graph: exact up to exactKnnUpTo images, HNSW beyond (or the caller's FitInput.knn). */
  private buildGraph(z: Float32Array, n: number, dz: number, k: number, knn?: FitInput['knn']): KnnGraph {
    const o = this.opts;
    if (knn) return knn(z, n, dz, k);
    return knnGraphAuto(z, n, dz, k, { exactUpTo: o.exactKnnUpTo, seed: o.seed, ...o.hnsw });
  }

  /** Assigns (new) images with the trained head, no retraining. */
  predict(features: Float32Array, n?: number): Assignment {
    const head = this.requireHead();
    const rows = n ?? features.length / head.preprocessor.dIn;
    return this.predictPreprocessed(applyPreprocess(head.preprocessor, features, rows), rows);
  }

  /** Soft assignments phi [n, C] (row-major) for new images. */
  predictProba(features: Float32Array, n?: number): Float32Array {
    const head = this.requireHead();
    const rows = n ?? features.length / head.preprocessor.dIn;
    return this.probaPreprocessed(applyPreprocess(head.preprocessor, features, rows), rows);
  }

  exportHead(): HeadExport {
    const h = this.requireHead();
    return { ...h, weights: Float32Array.from(h.weights), bias: Float32Array.from(h.bias) };
  }

  importHead(h: HeadExport): void {
    if (h.weights.length !== h.shape[0] * h.shape[1] || h.bias.length !== h.shape[1]) throw new Error('importHead: bad shapes');
    if (h.shape[1] !== this.opts.nClusters) throw new Error('importHead: nClusters mismatch');
    this.head = { ...h, weights: Float32Array.from(h.weights), bias: Float32Array.from(h.bias) };
  }

  private requireHead(): HeadExport {
    if (!this.head) throw new Error('DebiasedInfoNCEClustering: not fitted');
    return this.head;
  }

  private probaPreprocessed(x: Float32Array, n: number, h: HeadExport = this.requireHead()): Float32Array {
    const [dd, C] = h.shape;
    const out = new Float32Array(n * C);
    const W = tf.tensor2d(h.weights, [dd, C]);
    const b = tf.tensor1d(h.bias);
    for (let s = 0; s < n; s += PREDICT_BLOCK) {
      const m = Math.min(PREDICT_BLOCK, n - s);
      const phi = tf.tidy(() => tf.softmax(tf.add(tf.matMul(tf.tensor2d(x.subarray(s * dd, (s + m) * dd), [m, dd]), W), b)));
      out.set(phi.dataSync() as Float32Array, s * C);
      phi.dispose();
    }
    tf.dispose([W, b]);
    return out;
  }

  private predictPreprocessed(x: Float32Array, n: number, head?: HeadExport): Assignment {
    const C = this.opts.nClusters;
    const phi = this.probaPreprocessed(x, n, head);
    const labels = new Int32Array(n);
    const confidence = new Float32Array(n);
    const groups = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (phi[i * C + c]! > phi[i * C + best]!) best = c;
      labels[i] = best;
      confidence[i] = calibratedConfidence(phi[i * C + best]!);
      groups[i] = confidence[i]! < this.opts.minConfidence ? -1 : best;
    }
    return { labels, confidence, groups };
  }

  /**
   * The head at the means of a given grouping (FitInput.start), pins overriding it; null when
   * a group would be empty. A user's fixes are usually hard cases: a pinned image sits among
   * images of another group (that is why it was misplaced). Started from the means of the
   * pinned images alone, as initHead does when every group has pins, those outliers become
   * the centres and the regrouping loses what the user had (fashion-mnist-1k, 5 fixes per
   * group: 63.2 before regrouping, 55.9 after; 70.1 from the user's groups).
   */
  private startHead(
    x: Float32Array,
    n: number,
    dd: number,
    pinOf: Int32Array,
    start: Int32Array,
  ): { weights: Float32Array; bias: Float32Array } | null {
    const o = this.opts;
    const C = o.nClusters;
    if (start.length !== n) throw new Error('fit: start length != n');
    const labels = Int32Array.from(start, (c, i) => (pinOf[i]! >= 0 ? pinOf[i]! : c));
    for (const c of labels) if (c < -1 || c >= C) throw new Error(`fit: bad start group ${c}`);
    const { means, counts } = groupMeans(x, n, dd, labels, C);
    if (counts.some((m) => m === 0)) return null;
    return centroidHead(means, dd, C, o.initScale, o.initBias);
  }

  private initHead(
    x: Float32Array,
    n: number,
    dd: number,
    rng: Rng,
    pinOf: Int32Array,
    graph: KnnGraph,
    knnInput: () => { z: Float32Array; dz: number },
    knn?: FitInput['knn'],
  ): { weights: Float32Array; bias: Float32Array } {
    const o = this.opts;
    const C = o.nClusters;
    if (o.init === 'random') return { weights: rng.normalArray(dd * C, o.initScale / Math.sqrt(dd) / 10), bias: new Float32Array(C) };
    const hasPins = pinOf.some((c) => c >= 0);
    // When the user has pinned images in every group, the head starts at the means of the
    // pinned images: Lloyd iterations from there drift away from the user's labels
    // (fashion-mnist-1k, 5 pins per class: 67.5 from the pinned means, 62.8 after Lloyd).
    const everyGroupPinned = hasPins && new Set(Array.from(pinOf).filter((c) => c >= 0)).size === C;
    // time budget: restarts shrink as n grows (10 up to 2,000 images, 2 at 10,000, 1 from
    // 20,000 on)
    const restarts = everyGroupPinned ? 1 : Math.max(1, Math.min(o.initRestarts, Math.round(20000 / n)));
    const maxIter = everyGroupPinned ? 0 : n > 20000 ? 30 : 100;
    if (o.init === 'spectral' && !everyGroupPinned) {
      // seeded k-means in the spectral embedding (C dims), then the head starts at the feature
      // means of the partition it found. Above INIT_SAMPLE images, on a sample with its own kNN
      // graph, as the k-means start does: only the group means are needed, and the
      // eigenvectors of 100,000 rows at K 50 took 36 s of a 117 s run in JS.
      let g = trimGraph(graph, Math.min(o.spectralKnn, graph.k));
      let rows: Int32Array | null = null;
      if (n > INIT_SAMPLE) {
        rows = rng.permutation(n).subarray(0, INIT_SAMPLE).sort();
        const { z, dz } = knnInput();
        g = this.buildGraph(gatherRows(z, dz, rows), rows.length, dz, Math.min(o.spectralKnn, neighbourCap(rows.length, C)), knn);
      }
      const m = rows ? rows.length : n;
      const emb = spectralEmbedding(g, C, { seed: o.seed });
      const fixedRows = hasPins ? (rows ? Int32Array.from(rows, (src) => pinOf[src]!) : pinOf) : undefined;
      const km = kmeans(emb, m, emb.length / m, { k: C, nInit: restarts, maxIter, seed: o.seed, fixed: fixedRows });
      // A handful of images can leave a group empty here (2 images, K 2: the shift that keeps
      // the top eigenvectors on top zeroes the second), the feature k-means below does not.
      if (distinct(km.labels) === C) {
        const xs = rows ? gatherRows(x, dd, rows) : x;
        return centroidHead(groupMeans(xs, m, dd, km.labels, C).means, dd, C, o.initScale, o.initBias);
      }
    }
    // seeded k-means on the features: pinned images fix their cluster (and seed its centre)
    // (on at most 20k sampled rows: only the centres are needed)
    let xs = x;
    let ns = n;
    let fixed = hasPins ? pinOf : undefined;
    if (n > INIT_SAMPLE) {
      const idx = rng.permutation(n).subarray(0, INIT_SAMPLE);
      ns = idx.length;
      xs = gatherRows(x, dd, idx);
      if (fixed) fixed = Int32Array.from(idx, (src) => pinOf[src]!);
    }
    const km = kmeans(xs, ns, dd, { k: C, nInit: restarts, maxIter, seed: o.seed, fixed });
    return centroidHead(km.centroids, dd, C, o.initScale, o.initBias);
  }

  /**
   * p for the anchor rows of the batch: the mixture of the kNN-walk kernel of the anchor's
   * image (restricted to the batch) and the labels kernel, each row-normalised, then debiased in probability space: (1-a) mixture + a/B. Kept as the
   * uniform a/B plus the few mixture entries per row (BatchKernel); rows with
   * no supervision stay zero.
   */
  private buildP(
    walk: SparseRows,
    rows: number[],
    posOrig: Int32Array,
    pinOf: Int32Array,
    nA: number,
    tmp: Float32Array,
  ): { p: BatchKernel; massRows: number } {
    const o = this.opts;
    const B = rows.length;
    // pinned rows by group, for the labels kernel
    const byGroup = new Map<number, number[]>();
    for (let r = 0; r < B; r++) {
      const c = pinOf[rows[r]!]!;
      if (c >= 0) {
        let l = byGroup.get(c);
        if (!l) byGroup.set(c, (l = []));
        l.push(r);
      }
    }
    const uniform = new Float32Array(nA);
    const rowPtr = new Int32Array(nA + 1);
    const colIdx: number[] = [];
    const vals: number[] = [];
    const touched: number[] = [];
    const add = (j: number, w: number): void => {
      if (tmp[j] === 0) touched.push(j);
      tmp[j] = tmp[j]! + w;
    };
    let massRows = 0;
    for (let r = 0; r < nA; r++) {
      const g = rows[r]!;
      touched.length = 0;
      // kNN walk, normalised over the neighbours present in the batch
      let s = 0;
      for (let e = walk.rowPtr[g]!; e < walk.rowPtr[g + 1]!; e++) {
        const h = walk.cols[e]!;
        const w = walk.vals[e]!;
        const po = posOrig[h]!;
        if (po >= 0 && po !== r) {
          add(po, w);
          s += w;
        }
      }
      let total = 0;
      if (s > 0) {
        for (const j of touched) tmp[j] = tmp[j]! / s;
        total += 1;
      }
      // labels (pins)
      const c = pinOf[g]!;
      if (c >= 0 && o.labelWeight > 0) {
        const grp = byGroup.get(c)!;
        const cnt = grp.length - 1;
        if (cnt > 0) {
          for (const j of grp) if (j !== r) add(j, o.labelWeight / cnt);
          total += o.labelWeight;
        }
      }
      if (total > 0) {
        massRows++;
        uniform[r] = o.alphaP / B;
        const scale = (1 - o.alphaP) / total;
        for (const j of touched) {
          colIdx.push(j);
          vals.push(tmp[j]! * scale);
        }
      }
      for (const j of touched) tmp[j] = 0;
      rowPtr[r + 1] = colIdx.length;
    }
    return { p: { rows: nA, cols: B, uniform, rowPtr, colIdx: Int32Array.from(colIdx), vals: Float32Array.from(vals) }, massRows };
  }
}

/**
 * logits = x W + b with a gradient for W and b only (features are frozen):
 * dW = x^T g using the pre-transposed batch, db = sum_rows g.
 */
function linearHead(x: tf.Tensor2D, xT: tf.Tensor2D, W: tf.Variable, b: tf.Variable): tf.Tensor2D {
  const f = tf.customGrad(((w: tf.Tensor, bb: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return {
      value: tf.add(tf.matMul(x, w as tf.Tensor2D), bb),
      gradFunc: (dy: tf.Tensor) => [tf.matMul(xT, dy as tf.Tensor2D), tf.sum(dy, 0)],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (f as unknown as (w: tf.Tensor, bb: tf.Tensor) => tf.Tensor2D)(W, b);
}

function distinct(labels: Int32Array): number {
  return new Set(labels).size;
}

/** Samples a column of row i of a row-stochastic sparse matrix. */
function sampleRow(m: SparseRows, i: number, rng: Rng): number {
  const s = m.rowPtr[i]!;
  const e = m.rowPtr[i + 1]!;
  if (e <= s) return i;
  let r = rng.next();
  for (let k = s; k < e; k++) {
    r -= m.vals[k]!;
    if (r <= 0) return m.cols[k]!;
  }
  return m.cols[e - 1]!;
}

/** What the training steps read: the features, the anchors' views, the walk kernel and the pins. */
interface TrainingData {
  x: Float32Array;
  n: number;
  dd: number;
  pre: Preprocessor;
  views: ViewRows | null;
  walk: SparseRows;
  pinOf: Int32Array;
  pinned: number[];
}

/** The EMA teacher's head (ClusteringOptions.emaTeacher). */
interface Teacher {
  W: tf.Variable;
  b: tf.Variable;
}

/** A value made on first use and dropped on release (the kNN rows: needed by the graph and the start only). */
interface Lazy<T> {
  get: () => T;
  release: () => void;
}

function lazy<T>(make: () => T): Lazy<T> {
  let v: T | null = null;
  return {
    get: () => (v ??= make()),
    release: () => {
      v = null;
    },
  };
}

/** Pinned images: each image's pinned group (-1: none), and the pinned images in order. */
function pinTable(pins: Map<number, number> | undefined, n: number, C: number): { pinOf: Int32Array; pinned: number[] } {
  const pinOf = new Int32Array(n).fill(-1);
  const pinned: number[] = [];
  for (const [img, c] of pins ?? []) {
    if (img < 0 || img >= n || c < 0 || c >= C) throw new Error(`fit: bad pin ${img} -> ${c}`);
    pinOf[img] = c;
    pinned.push(img);
  }
  pinned.sort((a, b) => a - b);
  return { pinOf, pinned };
}

/**
 * One-hot targets on the batch's pinned rows, zero rows elsewhere (a mask: no gather, whose
 * gradient needs UnsortedSegmentSum, missing on wasm); null without pinned rows.
 */
function pinTargets(rows: number[], pinOf: Int32Array, C: number): { oneHot: tf.Tensor2D; count: number } | null {
  let t: Float32Array | null = null;
  let count = 0;
  for (let r = 0; r < rows.length; r++) {
    const c = pinOf[rows[r]!]!;
    if (c < 0) continue;
    t ??= new Float32Array(rows.length * C);
    t[r * C + c] = 1;
    count++;
  }
  return t ? { oneHot: tf.tensor2d(t, [rows.length, C]), count } : null;
}

/**
 * The batch's rows as tensors: the anchors' views first (or their clean rows without views),
 * then the clean images. Copied in JS (tf.gather is ~10x slower than this on wasm), with the
 * transpose for dW = x^T g written in the same pass (a tfjs transpose, or a matMul with
 * transposeA, costs several times more on wasm).
 */
function batchRows(
  x: Float32Array,
  dd: number,
  rows: number[],
  nA: number,
  anchorViews: Float32Array | null,
  buf: { xb: Float32Array; xbT: Float32Array },
): { xb: tf.Tensor2D; xbT: tf.Tensor2D } {
  const B = rows.length;
  const xb = buf.xb.subarray(0, B * dd);
  const xbT = buf.xbT.subarray(0, B * dd);
  for (let r = 0; r < B; r++) {
    const view = anchorViews !== null && r < nA;
    const src = view ? anchorViews : x;
    const off = (view ? r : rows[r]!) * dd;
    xb.set(src.subarray(off, off + dd), r * dd);
    for (let j = 0; j < dd; j++) xbT[j * B + r] = src[off + j]!;
  }
  return { xb: tf.tensor2d(xb, [B, dd]), xbT: tf.tensor2d(xbT, [dd, B]) };
}

/**
 * The batches of a training run: anchors in a seeded random order (every image once a pass),
 * then for each anchor neighbours sampled from its row of the walk kernel, then the pinned
 * images (all, or 256 drawn); each image at most once, at most maxRows in all. `posOrig` maps
 * an image to its row in the current batch (-1: not in it) until release().
 */
class BatchSampler {
  readonly posOrig: Int32Array;
  private perm: Int32Array;
  private cursor = 0;

  constructor(
    private readonly n: number,
    private readonly walk: SparseRows,
    private readonly pinned: number[],
    private readonly rng: Rng,
    private readonly size: { anchors: number; neighbours: number; maxRows: number },
  ) {
    this.posOrig = new Int32Array(n).fill(-1);
    this.perm = rng.permutation(n);
  }

  /** The next batch's images, the first nA of them its anchors. */
  next(): { rows: number[]; nA: number } {
    const rows: number[] = [];
    const add = (i: number): void => {
      if (this.posOrig[i]! >= 0 || rows.length >= this.size.maxRows) return;
      this.posOrig[i] = rows.length;
      rows.push(i);
    };
    const anchors: number[] = [];
    for (let a = 0; a < this.size.anchors; a++) {
      if (this.cursor >= this.n) {
        this.perm = this.rng.permutation(this.n);
        this.cursor = 0;
      }
      anchors.push(this.perm[this.cursor++]!);
    }
    for (const a of anchors) add(a);
    const nA = rows.length;
    for (const a of anchors) for (let s = 0; s < this.size.neighbours; s++) add(sampleRow(this.walk, a, this.rng));
    const pinned = this.pinned;
    if (pinned.length) {
      const cap = Math.min(pinned.length, 256);
      if (cap === pinned.length) for (const p of pinned) add(p);
      else for (let s = 0; s < cap; s++) add(pinned[this.rng.int(pinned.length)]!);
    }
    return { rows, nA };
  }

  release(rows: number[]): void {
    for (const r of rows) this.posOrig[r] = -1;
  }
}

/** The anchors' inputs during training (FitInput.views). */
interface ViewRows {
  /** Views per image. */
  V: number;
  /** Every view through the preprocessing, as halves (n * V * dOut), when held. */
  held: Uint16Array | null;
  /** Each given image as one of its views, drawn with `rng` in order, reduced: [images, dOut]. */
  pick(images: number[], rng: Rng): Float32Array;
}

function heldViews(h: Uint16Array, V: number, dd: number): ViewRows {
  return {
    V,
    held: h,
    pick: (images, rng) => {
      const out = new Float32Array(images.length * dd);
      images.forEach((i, r) => decodeHalf(h, (i * V + rng.int(V)) * dd, dd, out, r * dd));
      return out;
    },
  };
}

/** Views beyond what is held: read and reduced per step, rounded to halves as held ones are (the same labels either way). */
function viewsOnDemand(pre: Preprocessor, src: RowSource, V: number): ViewRows {
  return {
    V,
    held: null,
    pick: (images, rng) => {
      const picks = images.map((i) => i * V + rng.int(V));
      return roundToHalves(applyPreprocess(pre, src.readRows(picks), picks.length));
    },
  };
}

/** Adam (Kingma & Ba) with a per-step learning rate; slots disposed by dispose(). */
class Adam {
  private m: tf.Variable[];
  private v: tf.Variable[];
  private t = 0;
  constructor(
    private vars: tf.Variable[],
    private beta1 = 0.9,
    private beta2 = 0.999,
    private eps = 1e-8,
  ) {
    this.m = tf.tidy(() => vars.map((x) => tf.variable(tf.zerosLike(x), false)));
    this.v = tf.tidy(() => vars.map((x) => tf.variable(tf.zerosLike(x), false)));
  }
  step(grads: tf.NamedTensorMap, lr: number): void {
    this.t++;
    const bc1 = 1 - Math.pow(this.beta1, this.t);
    const bc2 = 1 - Math.pow(this.beta2, this.t);
    tf.tidy(() => {
      this.vars.forEach((x, i) => {
        const g = grads[x.name];
        if (!g) return;
        const m = this.m[i]!;
        const v = this.v[i]!;
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const upd = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), this.eps));
        x.assign(tf.sub(x, tf.mul(upd, lr)));
      });
    });
  }
  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}

export { KERNEL_EPS };

/**
 * A linear head whose argmax is the nearest centroid: s (x.c - |c|^2 / 2) = -s/2 (|x - c|^2 - |x|^2).
 * Without the bias term (bias false) the argmax favours centroids of large norm (tight groups).
 */
function centroidHead(
  centroids: Float32Array,
  dd: number,
  C: number,
  scale: number,
  bias: boolean,
): { weights: Float32Array; bias: Float32Array } {
  const { cT, sqNorms } = centroidColumns(centroids, C, dd);
  return { weights: cT.map((v) => v * scale), bias: bias ? sqNorms.map((sq) => (-scale * sq) / 2) : new Float32Array(C) };
}
