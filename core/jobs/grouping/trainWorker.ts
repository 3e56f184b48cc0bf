/**
 * Training runs here, off the main thread (the Electron window and the HTTP server stay
 * responsive): choose K if asked, fit Debiased InfoNCE Clustering, and compute the 2-D map.
 * The embeddings are read here, from the database with this worker's own read-only connection,
 * a block at a time (TrainSource): the main thread never holds them. From a few thousand images
 * on, the map runs in a helper thread (helperWorker.ts) beside the fit, and from the size where
 * choosing K reads a sample of the rows, so does choosing K: on two cores the whole run takes
 * about the time of its longest chain (PCA, kNN graph, training).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initTf } from '../../embed/backend.js';
import { DebiasedInfoNCEClustering, RECLUSTER_OVERRIDES, REFINE_OVERRIDES, viewsHeld, type FitResult } from '../../icon/clustering.js';
import type { KnnGraph } from '../../icon/knn.js';
import type { Preprocessor, RowSource } from '../../icon/preprocess.js';
import { chooseKSource, MODULARITY_SAMPLE, type ChooseKResult } from '../../icon/choosek.js';
import { tsneMapSource } from '../../icon/tsne.js';
import { siblingModule, startWorker } from '../../runtime/workers.js';
import { openStore, type Store } from '../../store/index.js';
import { readReducedRows, reducedCacheFile, reducedKey, writeReducedRows, type ReducedRows } from './reducedCache.js';
import { extendMap, previousWork, type PreviousWork } from './reuse.js';
import type { FromTrainWorker, HelperAnswer, HelperTask, TrainRequest, TrainResult } from './trainProtocol.js';

const port = parentPort!;
const req = workerData as TrainRequest;
const post = (m: FromTrainWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function run(): Promise<void> {
  const { backend } = await initTf();
  // The app opened (and checked) the file; this connection only reads, beside its writes.
  const store = openStore(req.source.file, { readonly: true, alreadyChecked: true });
  try {
    const result = await train(store);
    post({ type: 'done', result, backend: { choice: backend.choice, device: backend.device } }, [
      result.labels.buffer as ArrayBuffer,
      result.confidence.buffer as ArrayBuffer,
    ]);
  } finally {
    store.close();
  }
}

/**
 * From this many images on, the map runs in a thread of its own, beside the PCA, the kNN graph
 * and the fit (none of which it waits for, nor they for it): below, starting a thread (and its
 * tfjs) costs about what it saves.
 */
const MAP_BESIDE_FROM = 3000;
/**
 * From this many images on, choosing K runs in a thread of its own, beside the fit's own PCA
 * and kNN graph. Below, it reduces and searches every row on the PCA the fit then keeps, so the
 * fit takes its rows and graph (ChooseKResult.scored) instead of doing that work a second time.
 */
const CHOOSE_K_BESIDE_FROM = MODULARITY_SAMPLE + 1;
/** Candidates for K go up to 20 (choosek.ts defaultCandidates): the graph made while K is chosen serves any of them. */
const MAX_AUTO_K = 20;

/** A run's inputs as this worker reads them. */
interface Inputs {
  n: number;
  /** Every image's own row, and its views (null: training without). */
  clean: RowSource;
  views: RowSource | null;
  prev: PreviousWork;
  /** The previous run's PCA where it fits these features (the same input width), else null. */
  prevPreprocessor: Preprocessor | null;
  /** Choosing K runs in a helper thread. */
  chooseKBeside: boolean;
  /** A new map runs in a helper thread. */
  mapBeside: boolean;
  /** A new map, beside everything else (a kept or extended one is made after the fit). */
  newMap: boolean;
  timings: Record<string, number>;
}

async function train(store: Store): Promise<TrainResult> {
  const { model: modelId, imageIds } = req.source;
  const n = imageIds.length;
  const prev = previousWork(store, req.previousRunId, imageIds);
  const clean = store.embeddings.rowSource(modelId, imageIds);
  const inputs: Inputs = {
    n,
    clean,
    views: req.source.views ? store.embeddings.rowSource(modelId, imageIds, { views: req.source.views }) : null,
    prev,
    prevPreprocessor: prev.preprocessor?.dIn === clean.d ? prev.preprocessor : null,
    chooseKBeside: n >= (req.helpersFrom ?? CHOOSE_K_BESIDE_FROM),
    mapBeside: n >= (req.helpersFrom ?? MAP_BESIDE_FROM),
    newMap: req.map && !(prev.map && !req.refreshMap),
    timings: {},
  };
  const mapTask =
    inputs.newMap && inputs.mapBeside ? helper({ task: 'map', source: { ...req.source, views: null }, seed: req.seed }) : null;
  // awaited after the fit; a failure before that must not go unhandled meanwhile
  mapTask?.catch(() => undefined);
  const fitted = await fitGroups(inputs);
  const { xy, map } = await mapOf(inputs, fitted.graph, mapTask);
  return {
    ...fitted,
    kChosenBy: req.k === null ? 'auto' : 'user',
    xy,
    reused: {
      rows: prev.rows,
      pca: inputs.prevPreprocessor !== null,
      graph: prev.graph && fitted.graph === prev.graph ? 'same' : prev.graphFrom ? 'extended' : 'new',
      map,
    },
    timings: { ...inputs.timings, ...fitted.timings },
  };
}

/**
 * Chooses K (where asked to), fits, and keeps the reduced rows for the next run. Returns what
 * the run keeps of the fit: the reduced rows and views are let go before the map is awaited.
 */
async function fitGroups(
  inputs: Inputs,
): Promise<
  Pick<TrainResult, 'k' | 'kScores' | 'labels' | 'confidence' | 'head' | 'graph' | 'refined' | 'views' | 'timings' | 'finalLoss'>
> {
  const { prev } = inputs;
  const { k, kScores, prepared, chosenOn } = await chooseK(inputs);
  // the PCA K was chosen on, where the fit has no earlier one to keep: then its rows and graph too
  const keep = prepared?.preprocessor ?? inputs.prevPreprocessor;
  const scored = keep ? undefined : chosenOn?.scored;
  const plan = schedule(k);
  const cache = reducedCacheFile(req.source.file);
  const cached = prepared ? null : cachedRows(cache, inputs, plan.followFixes);
  const t = performance.now();
  const model = new DebiasedInfoNCEClustering({ nClusters: plan.k, seed: req.seed, ...plan.overrides });
  const fit = model.fitSource(inputs.clean, {
    pins: new Map(req.pins),
    views: plan.followFixes ? undefined : (inputs.views ?? undefined),
    graph: prepared?.graph ?? prev.graph ?? scored?.graph,
    graphFrom: prev.graphFrom ?? undefined,
    start: plan.start,
    // the previous run's where it fits these features, else the one K was chosen on
    preprocessor: keep ?? chosenOn?.preprocessor,
    reduced: prepared?.reduced ?? cached?.rows ?? scored?.reduced,
    reducedViews: plan.followFixes ? undefined : (prepared?.reducedViews ?? cached?.views ?? undefined),
    viewsInMemoryUpTo: req.viewsInMemoryUpTo,
    onEpoch: (epoch) => post({ type: 'progress', phase: 'train', done: epoch + 1, total: model.opts.epochs }),
  });
  inputs.timings.trainMs = performance.now() - t;
  if (cache && !cached?.hit) keepReducedRows(cache, inputs, model, fit);
  return {
    k: plan.k,
    kScores,
    labels: fit.labels,
    confidence: fit.confidence,
    head: model.exportHead(),
    graph: fit.graph,
    refined: fit.refined,
    views: !plan.followFixes && inputs.views !== null,
    timings: { ...fit.timings, ...(cached ? { reducedCached: cached.hit ? 1 : 0 } : {}) },
    finalLoss: fit.lossHistory.at(-1) ?? null,
  };
}

type Prepared = ReturnType<DebiasedInfoNCEClustering['prepare']> & { reducedViews?: Uint16Array | null };

/**
 * K as asked, or chosen from the data: from CHOOSE_K_BESIDE_FROM images on in a helper thread,
 * while this one computes what the fit needs whatever K (PCA, reduced rows, kNN graph). The views are
 * reduced here once K is chosen, when that thread has ended: its memory and theirs are not held
 * at once (reduced in that thread instead, the first run at 100,000 peaked at 2.2 GiB).
 */
async function chooseK(inputs: Inputs): Promise<{
  k: number;
  kScores: TrainResult['kScores'];
  prepared: Prepared | null;
  /** The preprocessing K was chosen on (and the rows and graph it made), for a fit that would otherwise fit its own. */
  chosenOn?: Pick<ChooseKResult, 'preprocessor' | 'scored'>;
}> {
  const t = performance.now();
  if (req.k !== null) return { k: req.k, kScores: null, prepared: null };
  if (!inputs.chooseKBeside) {
    const chosen = chooseKSource(inputs.clean, undefined, { seed: req.seed });
    inputs.timings.chooseKMs = performance.now() - t;
    return { k: chosen.k, kScores: chosen.scores, prepared: null, chosenOn: chosen };
  }
  const chosen = helper({ task: 'chooseK', source: { ...req.source, views: null }, seed: req.seed });
  const model = new DebiasedInfoNCEClustering({ nClusters: Math.max(MAX_AUTO_K, req.minK), seed: req.seed });
  let prepared: Prepared | null = null;
  if (!inputs.prev.graph && !inputs.prev.graphFrom) {
    prepared = model.prepare(inputs.clean, { preprocessor: inputs.prevPreprocessor ?? undefined });
    inputs.timings.prepareMs = performance.now() - t;
  }
  const r = await chosen;
  if (r.task !== 'chooseK') throw new Error('helper: unexpected answer');
  inputs.timings.chooseKMs = r.ms;
  inputs.timings.chooseKWaitMs = performance.now() - t - (inputs.timings.prepareMs ?? 0);
  // the views too, unless the fit may follow the user's fixes (then it trains without them)
  if (prepared && inputs.views && req.pins.length === 0) {
    const tv = performance.now();
    prepared.reducedViews = model.reduceViews(prepared.preprocessor, inputs.n, inputs.views, req.viewsInMemoryUpTo);
    inputs.timings.viewsMs = performance.now() - tv;
  }
  return { k: r.k, kScores: r.scores, prepared };
}

/**
 * The number of groups and how to train for it. At least one group per group holding pinned
 * images, whatever was asked: each keeps its own. Refining the user's groups (as many as they
 * have now) learns from their fixes and gets the full schedule: the short one lost 5 points of
 * it (fashion-mnist-1k, seed 0: 69.4 -> 64.7 after 5 random pins per class, 73.5 -> 67.6 after
 * 5 fixes). The short schedule is for another K. Following the user's fixes (REFINE_OVERRIDES
 * says why) only when there are some: without them the regroup trains as the first grouping
 * did, and lands where it did (ARI 0.99-1.0 on tuxpaint300 and the demo; with the overrides
 * 0.73-0.79, groups reshuffled for nothing).
 */
function schedule(asked: number): {
  k: number;
  start: Int32Array | undefined;
  followFixes: boolean;
  overrides: Partial<DebiasedInfoNCEClustering['opts']>;
} {
  const n = req.source.imageIds.length;
  const k = Math.max(1, req.minK, Math.min(asked, n));
  const start = req.start && groupCount(req.start) === k ? req.start : undefined;
  const followFixes = start !== undefined && req.pins.length > 0;
  const overrides = followFixes ? REFINE_OVERRIDES : req.schedule === 'recluster' && !start ? RECLUSTER_OVERRIDES : {};
  return { k, start, followFixes, overrides };
}

/**
 * The previous run's reduced rows (reducedCache.ts) where this run keeps its PCA over the same
 * images; `hit` false when there were none to take (then this run keeps its own).
 */
function cachedRows(file: string | null, inputs: Inputs, followFixes: boolean): (Partial<ReducedRows> & { hit: boolean }) | null {
  const pre = inputs.prevPreprocessor;
  if (!file || inputs.prev.rows !== 'same' || !pre) return null;
  const t = performance.now();
  const got = readReducedRows(file, reducedKey(req.source.model, req.source.imageIds, req.source.views, pre));
  inputs.timings.reducedReadMs = performance.now() - t;
  if (!got) return { hit: false };
  // views the fit would hold but not in the cache: it reduces them (and this run keeps them);
  // views it reads per step (a large library) are never in it
  const viewsMissing =
    !followFixes && inputs.views !== null && got.views === null && viewsHeld(inputs.views.n, pre.dOut, req.viewsInMemoryUpTo);
  return { rows: got.rows, views: got.views ?? undefined, hit: !viewsMissing };
}

/**
 * Keeps the fit's reduced rows for the next run over the same images, and its views where it held
 * them all (in a large library it reads them per step: the rows alone spare a regroup reading and
 * reducing every image again, 125 s of 217 at 1,000,000).
 */
function keepReducedRows(file: string, inputs: Inputs, model: DebiasedInfoNCEClustering, fit: FitResult): void {
  const pre = model.exportHead().preprocessor;
  const t = performance.now();
  writeReducedRows(file, reducedKey(req.source.model, req.source.imageIds, req.source.views, pre), fit.reduced, inputs.n, pre.dOut);
  inputs.timings.reducedWriteMs = performance.now() - t;
}

/** The 2-D map: the previous one kept or extended, the helper's new one, or one computed here. */
async function mapOf(
  inputs: Inputs,
  graph: KnnGraph,
  mapTask: Promise<HelperAnswer> | null,
): Promise<{ xy: Float32Array | null; map: TrainResult['reused']['map'] }> {
  const { prev, timings } = inputs;
  if (!req.map) return { xy: null, map: 'none' };
  if (!inputs.newMap && prev.map && graph.k > 0) {
    const same = prev.rows === 'same';
    return { xy: same ? Float32Array.from(prev.map.xy) : extendMap(prev.map, graph), map: same ? 'same' : 'extended' };
  }
  const t = performance.now();
  post({ type: 'progress', phase: 'map', done: 0, total: 1 });
  let xy: Float32Array;
  if (mapTask) {
    const r = await mapTask;
    if (r.task !== 'map') throw new Error('helper: unexpected answer');
    xy = r.xy;
    timings.mapMs = r.ms;
    timings.mapWaitMs = performance.now() - t;
  } else {
    xy = tsneMapSource(inputs.clean, { seed: req.seed }).points;
    timings.mapMs = performance.now() - t;
  }
  post({ type: 'progress', phase: 'map', done: 1, total: 1 });
  return { xy, map: 'new' };
}

/** Runs a task in a helper thread (helperWorker.ts); a failure there fails the run. */
function helper(task: HelperTask): Promise<HelperAnswer> {
  return new Promise((resolve, reject) => {
    const w = startWorker(siblingModule(import.meta.url, 'helperWorker'), { workerData: task });
    w.once('message', (m: { ok?: HelperAnswer; error?: string }) => {
      void w.terminate();
      if (m.ok) resolve(m.ok);
      else reject(new Error(`${task.task}: ${m.error}`));
    });
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`${task.task} thread exited with code ${code}`)));
  });
}

/** Groups in a start grouping (its indices are 0..G-1, -1 for none). */
function groupCount(start: Int32Array): number {
  let max = -1;
  for (const c of start) if (c > max) max = c;
  return max + 1;
}

run().catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
