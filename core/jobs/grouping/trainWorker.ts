/**
 * Training runs here, off the main thread (the Electron window and the HTTP server stay
 * responsive): choose K if asked, fit Debiased InfoNCE Clustering, and compute the 2-D map.
 * The embeddings are read here, from the database with this worker's own read-only connection,
 * a block at a time (TrainSource): the main thread never holds them. From a few thousand images
 * on, choosing K and the map run in helper threads (helperWorker.ts) beside the fit: on two
 * cores the whole run takes about the time of its longest chain (PCA, kNN graph, training).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initTf } from '../../embed/backend.js';
import { DebiasedInfoNCEClustering, RECLUSTER_OVERRIDES, REFINE_OVERRIDES } from '../../icon/clustering.js';
import { chooseKSource } from '../../icon/choosek.js';
import { tsneMapSource } from '../../icon/tsne.js';
import { siblingModule, startWorker } from '../../runtime/workers.js';
import { openStore, type Store } from '../../store/index.js';
import { extendMap, previousWork } from './reuse.js';
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
 * From this many images on, choosing K and the map run in threads of their own, beside the
 * PCA, the kNN graph and the fit (none of which they wait for, nor it for them): below, starting
 * a thread (and its tfjs) costs about what it saves.
 */
const HELPERS_FROM = 3000;
/** Candidates for K go up to 20 (choosek.ts defaultCandidates): the graph made while K is chosen serves any of them. */
const MAX_AUTO_K = 20;

async function train(store: Store): Promise<TrainResult> {
  const { model: modelId, imageIds } = req.source;
  const n = imageIds.length;
  const clean = store.embeddings.rowSource(modelId, imageIds);
  const views = req.source.views ? store.embeddings.rowSource(modelId, imageIds, { views: req.source.views }) : null;
  const prev = previousWork(store, req.previousRunId, imageIds);
  const timings: Record<string, number> = {};
  const helpers = n >= (req.helpersFrom ?? HELPERS_FROM);
  const cleanSource = { ...req.source, views: null };
  // a new map, beside everything else (the kept or extended one is made after the fit)
  const newMap = req.map && !(prev.map && !req.refreshMap);
  const mapTask = newMap && helpers ? helper({ task: 'map', source: cleanSource, seed: req.seed }) : null;
  // awaited after the fit; a failure before that must not go unhandled meanwhile
  mapTask?.catch(() => undefined);
  let k = req.k;
  let kScores: TrainResult['kScores'] = null;
  let t = performance.now();
  let prepared: ReturnType<DebiasedInfoNCEClustering['prepare']> | null = null;
  if (k === null && helpers) {
    // K in another thread; here meanwhile what the fit needs whatever K: PCA, reduced rows, graph
    const chosen = helper({ task: 'chooseK', source: cleanSource, seed: req.seed });
    if (!prev.graph && !prev.graphFrom) {
      prepared = new DebiasedInfoNCEClustering({ nClusters: Math.max(MAX_AUTO_K, req.minK), seed: req.seed }).prepare(clean, {
        preprocessor: prev.preprocessor ?? undefined,
      });
      timings.prepareMs = performance.now() - t;
    }
    const r = await chosen;
    if (r.task !== 'chooseK') throw new Error('helper: unexpected answer');
    k = r.k;
    kScores = r.scores;
    timings.chooseKMs = r.ms;
    timings.chooseKWaitMs = performance.now() - t - (timings.prepareMs ?? 0);
  } else if (k === null) {
    const chosen = chooseKSource(clean, undefined, { seed: req.seed });
    k = chosen.k;
    kScores = chosen.scores;
    timings.chooseKMs = performance.now() - t;
  }
  // at least one group per group holding pinned images, whatever was asked: each keeps its own
  k = Math.max(1, req.minK, Math.min(k, n));
  t = performance.now();
  // Refining the user's groups (as many as they have now) learns from their fixes and gets the
  // full schedule: the short one lost 5 points of it (fashion-mnist-1k, seed 0: 69.4 -> 64.7
  // after 5 random pins per class, 73.5 -> 67.6 after 5 fixes). It is for another K.
  const start = req.start && groupCount(req.start) === k ? req.start : undefined;
  // Following the user's fixes (REFINE_OVERRIDES says why) only when there are some: without
  // them the regroup trains as the first grouping did, and lands where it did (ARI 0.99-1.0 on
  // tuxpaint300 and the demo; with the overrides 0.73-0.79, groups reshuffled for nothing).
  const followFixes = start !== undefined && req.pins.length > 0;
  const schedule = followFixes ? REFINE_OVERRIDES : req.schedule === 'recluster' && !start ? RECLUSTER_OVERRIDES : {};
  const model = new DebiasedInfoNCEClustering({ nClusters: k, seed: req.seed, ...schedule });
  const epochs = model.opts.epochs;
  const fit = model.fitSource(clean, {
    pins: new Map(req.pins),
    views: followFixes ? undefined : (views ?? undefined),
    graph: prepared?.graph ?? prev.graph ?? undefined,
    graphFrom: prev.graphFrom ?? undefined,
    start,
    preprocessor: prepared?.preprocessor ?? prev.preprocessor ?? undefined,
    reduced: prepared?.reduced,
    onEpoch: (epoch) => post({ type: 'progress', phase: 'train', done: epoch + 1, total: epochs }),
  });
  prepared = null;
  timings.trainMs = performance.now() - t;
  let xy: Float32Array | null = null;
  let map: TrainResult['reused']['map'] = 'none';
  if (req.map && !newMap && prev.map && fit.graph.k > 0) {
    xy = prev.rows === 'same' ? Float32Array.from(prev.map.xy) : extendMap(prev.map, fit.graph);
    map = prev.rows === 'same' ? 'same' : 'extended';
  } else if (req.map) {
    t = performance.now();
    post({ type: 'progress', phase: 'map', done: 0, total: 1 });
    if (mapTask) {
      const r = await mapTask;
      if (r.task !== 'map') throw new Error('helper: unexpected answer');
      xy = r.xy;
      timings.mapMs = r.ms;
      timings.mapWaitMs = performance.now() - t;
    } else {
      xy = tsneMapSource(clean, { seed: req.seed }).points;
      timings.mapMs = performance.now() - t;
    }
    map = 'new';
    post({ type: 'progress', phase: 'map', done: 1, total: 1 });
  }
  return {
    k,
    kChosenBy: req.k === null ? 'auto' : 'user',
    kScores,
    labels: fit.labels,
    confidence: fit.confidence,
    head: model.exportHead(),
    xy,
    graph: fit.graph,
    refined: fit.refined,
    views: !followFixes && views !== null,
    reused: {
      rows: prev.rows,
      pca: prev.preprocessor !== null && prev.preprocessor.dIn === clean.d,
      graph: prev.graph && fit.graph === prev.graph ? 'same' : prev.graphFrom ? 'extended' : 'new',
      map,
    },
    timings: { ...timings, ...fit.timings },
    finalLoss: fit.lossHistory.at(-1) ?? null,
  };
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
