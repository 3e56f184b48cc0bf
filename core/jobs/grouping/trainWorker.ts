/**
 * Training runs here, off the main thread (the Electron window and the HTTP server stay
 * responsive): choose K if asked, fit Debiased InfoNCE Clustering, and compute the 2-D map.
 * The embeddings are read here, from the database with this worker's own read-only connection,
 * a block at a time (TrainSource): the main thread never holds them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initTf } from '../../embed/backend.js';
import { DebiasedInfoNCEClustering, RECLUSTER_OVERRIDES, REFINE_OVERRIDES } from '../../icon/clustering.js';
import { chooseKSource } from '../../icon/choosek.js';
import { tsneMapSource } from '../../icon/tsne.js';
import { openStore } from '../../store/index.js';
import { extendMap, previousWork } from './reuse.js';
import type { FromTrainWorker, TrainRequest, TrainResult } from './trainProtocol.js';

const port = parentPort!;
const req = workerData as TrainRequest;
const post = (m: FromTrainWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function run(): Promise<void> {
  const { backend } = await initTf();
  // The app opened (and checked) the file; this connection only reads, beside its writes.
  const store = openStore(req.source.file, { readonly: true, alreadyChecked: true });
  try {
    const result = train(store);
    post({ type: 'done', result, backend: { choice: backend.choice, device: backend.device } }, [result.labels.buffer as ArrayBuffer, result.confidence.buffer as ArrayBuffer]);
  } finally {
    store.close();
  }
}

function train(store: ReturnType<typeof openStore>): TrainResult {
  const { model: modelId, imageIds } = req.source;
  const n = imageIds.length;
  const clean = store.embeddings.rowSource(modelId, imageIds);
  const views = req.source.views ? store.embeddings.rowSource(modelId, imageIds, { views: req.source.views }) : null;
  const timings: Record<string, number> = {};
  let t = performance.now();
  let k = req.k;
  let kScores: TrainResult['kScores'] = null;
  if (k === null) {
    const chosen = chooseKSource(clean, undefined, { seed: req.seed });
    k = chosen.k;
    kScores = chosen.scores;
    timings.chooseKMs = performance.now() - t;
  }
  // at least one group per group holding pinned images, whatever was asked: each keeps its own
  k = Math.max(1, req.minK, Math.min(k, n));
  const prev = previousWork(store, req.previousRunId, imageIds);
  t = performance.now();
  // Refining the user's groups (as many as they have now) learns from their fixes and gets the
  // full schedule: the short one lost 5 points of it (fashion-mnist-1k, seed 0: 69.4 -> 64.7
  // after 5 random pins per class, 73.5 -> 67.6 after 5 fixes). It is for another K.
  const start = req.start && groupCount(req.start) === k ? req.start : undefined;
  const schedule = start ? REFINE_OVERRIDES : req.schedule === 'recluster' ? RECLUSTER_OVERRIDES : {};
  const model = new DebiasedInfoNCEClustering({ nClusters: k, seed: req.seed, ...schedule });
  const epochs = model.opts.epochs;
  // Refining the user's groups follows their fixes without the views (REFINE_OVERRIDES says why).
  const trainViews = start ? undefined : (views ?? undefined);
  const fit = model.fitSource(clean, {
    pins: new Map(req.pins),
    views: trainViews,
    graph: prev.graph ?? undefined,
    graphFrom: prev.graphFrom ?? undefined,
    start,
    preprocessor: prev.preprocessor ?? undefined,
    onEpoch: (epoch) => post({ type: 'progress', phase: 'train', done: epoch + 1, total: epochs }),
  });
  timings.trainMs = performance.now() - t;
  let xy: Float32Array | null = null;
  let map: TrainResult['reused']['map'] = 'none';
  if (req.map && prev.map && !req.refreshMap && fit.graph.k > 0) {
    xy = prev.rows === 'same' ? Float32Array.from(prev.map.xy) : extendMap(prev.map, fit.graph);
    map = prev.rows === 'same' ? 'same' : 'extended';
  } else if (req.map) {
    t = performance.now();
    post({ type: 'progress', phase: 'map', done: 0, total: 1 });
    xy = tsneMapSource(clean, { seed: req.seed }).points;
    map = 'new';
    timings.mapMs = performance.now() - t;
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
    views: trainViews !== undefined,
    reused: { rows: prev.rows, pca: prev.preprocessor !== null && prev.preprocessor.dIn === clean.d, graph: prev.graph && fit.timings.knnMs === 0 ? 'same' : prev.graphFrom ? 'extended' : 'new', map },
    timings: { ...timings, ...fit.timings },
    finalLoss: fit.lossHistory.at(-1) ?? null,
  };
}

/** Groups in a start grouping (its indices are 0..G-1, -1 for none). */
function groupCount(start: Int32Array): number {
  let max = -1;
  for (const c of start) if (c > max) max = c;
  return max + 1;
}

run().catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
