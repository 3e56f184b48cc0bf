/**
 * The whole pipeline behind `constellate cluster` and the UI's "Scan and cluster":
 * index (scan, decode, embed) -> train Debiased InfoNCE Clustering in a worker -> write a
 * new run (groups, assignments, head, map) -> make it the current grouping, carrying over the
 * user's pins and group names. Re-clustering with another K skips indexing: embeddings are
 * cached.
 */
import type { PhaseProgress, RunSummary } from '../api/contract.js';
import { BACKBONE } from '../embed/backboneInfo.js';
import type { Store } from '../store/index.js';
import { setActiveRunId } from '../store/runs.js';
import { FLIP_VIEW, decodeSkip, indexLibraries, throwIfAborted } from './indexLibrary.js';
import { ProgressTracker } from './progress.js';
import { encodeRunModel } from './runModel.js';
import type { FromTrainWorker, TrainRequest, TrainResult } from './trainProtocol.js';
import { siblingModule, startWorker } from './workers.js';

export interface ClusterJobOptions {
  store: Store;
  /** Index these libraries first (all when omitted); false to re-cluster cached embeddings only. */
  index?: boolean;
  libraryIds?: number[];
  /** Number of groups; null/undefined: chosen from the data. */
  k?: number | null;
  seed?: number;
  workers?: number;
  /** Compute the 2-D map too (default true). */
  map?: boolean;
  signal?: AbortSignal;
  onProgress?: (phases: PhaseProgress[], phase: PhaseProgress['name'] | null) => void;
}

export async function runClusterJob(options: ClusterJobOptions): Promise<RunSummary> {
  const { store, signal } = options;
  const progress = new ProgressTracker((t) => options.onProgress?.(t.snapshot(), t.phase));
  let backendChoice = 'none';
  let backendDevice = 'none';

  if (options.index ?? true) {
    const indexed = await indexLibraries({ db: store.db, libraryIds: options.libraryIds, workers: options.workers, signal, progress });
    if (indexed.pool?.backend) {
      backendChoice = indexed.pool.backend.choice;
      backendDevice = indexed.pool.backend.device;
    }
  }
  throwIfAborted(signal);

  // ---- features and the user's pins ----
  const matrix = store.embeddings.loadAll(BACKBONE.id);
  const ids = Array.from(matrix.imageIds);
  const rowOf = new Map(ids.map((id, i) => [id, i]));
  const flips = store.embeddings.loadAll(BACKBONE.id, { view: FLIP_VIEW, imageIds: ids });
  let views: Float32Array | null = null;
  if (flips.count === matrix.count) {
    views = new Float32Array(matrix.count * matrix.dim);
    flips.imageIds.forEach((id, j) => views!.set(flips.vectors.subarray(j * flips.dim, (j + 1) * flips.dim), rowOf.get(id)! * matrix.dim));
  }
  const activeRun = store.runs.activeRunId();
  const pinnedGroups = new Map<number, number>(); // old group id -> cluster index
  const pins: Array<[number, number]> = [];
  if (activeRun !== null) {
    for (const a of store.groups.listAssignments(activeRun, { pinnedOnly: true })) {
      const row = rowOf.get(a.imageId);
      if (row === undefined || a.groupId === null) continue;
      if (!pinnedGroups.has(a.groupId)) pinnedGroups.set(a.groupId, pinnedGroups.size);
      pins.push([row, pinnedGroups.get(a.groupId)!]);
    }
  }

  const summary: RunSummary = {
    runId: 0,
    images: matrix.count,
    skipped: skippedByCode(store),
    groups: [],
    unsorted: 0,
    secondsByPhase: {},
    backend: { choice: backendChoice, device: backendDevice },
    k: 0,
    kChosenBy: options.k ? 'user' : 'auto',
  };
  if (matrix.count < 2) {
    summary.secondsByPhase = progress.secondsByPhase();
    return summary;
  }

  // ---- train (worker thread) ----
  const request: TrainRequest = {
    features: matrix.vectors,
    views,
    n: matrix.count,
    d: matrix.dim,
    k: options.k ?? null,
    seed: options.seed ?? 0,
    pins,
    map: options.map ?? true,
    minK: Math.max(2, pinnedGroups.size),
  };
  const { result, backend } = await train(request, progress, signal);
  if (backendChoice === 'none') summary.backend = { choice: backend, device: backend };

  // ---- write the run ----
  progress.start('write', matrix.count);
  const run = store.runs.create({
    kind: options.index === false ? 'recluster' : 'cluster',
    model: BACKBONE.id,
    k: result.k,
    backend: summary.backend.choice,
    params: { seed: request.seed, k: result.k, kChosenBy: result.kChosenBy, pins: pins.length, views: views !== null },
  });
  try {
    const used = [...new Set(result.labels)].sort((a, b) => a - b);
    const groupIds = store.groups.createRunGroups(run.id, used.map((c, i) => ({ clusterIndex: c, name: `Group ${i + 1}` })));
    const groupOf = new Map(used.map((c, i) => [c, groupIds[i]!]));
    const BATCH = 5000;
    for (let s = 0; s < ids.length; s += BATCH) {
      const rows = [];
      for (let i = s; i < Math.min(ids.length, s + BATCH); i++) {
        rows.push({ imageId: ids[i]!, groupId: groupOf.get(result.labels[i]!)!, confidence: result.confidence[i]! });
      }
      store.groups.writeAssignments(run.id, rows);
      progress.advance(rows.length);
    }
    store.runs.saveModel(run.id, encodeRunModel({ head: result.head, map: result.xy ? { imageIds: Uint32Array.from(ids), xy: result.xy } : null }));
    progress.finish();
    summary.secondsByPhase = progress.secondsByPhase();
    store.runs.finish(run.id, {
      status: 'done',
      timings: { ...summary.secondsByPhase, ...result.timings },
      metrics: { finalLoss: result.finalLoss, kScores: result.kScores, images: matrix.count },
    });
    // Make it current. Over an earlier grouping this is an (undoable) edit that carries the
    // user's pins and group names over to the new groups.
    if (activeRun === null) setActiveRunId(store.db, run.id);
    else store.edits.recluster(run.id);
  } catch (err) {
    store.runs.finish(run.id, { status: 'failed', error: err instanceof Error ? err.message : String(err) });
    throw err;
  }

  summary.runId = run.id;
  summary.k = result.k;
  summary.kChosenBy = result.kChosenBy;
  summary.groups = store.groups.listSummaries({ typical: 0 }).map((g) => ({ id: g.id, name: g.name, size: g.count }));
  return summary;
}

function skippedByCode(store: Store): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of store.images.skipReasons()) {
    const code = decodeSkip(r.reason).code;
    out[code] = (out[code] ?? 0) + r.count;
  }
  return out;
}

function train(request: TrainRequest, progress: ProgressTracker, signal?: AbortSignal): Promise<{ result: TrainResult; backend: string }> {
  return new Promise((resolve, reject) => {
    // The features are copied into the worker (not transferred): the caller keeps its matrix.
    const worker = startWorker(siblingModule(import.meta.url, 'trainWorker'), { workerData: request });
    let phase: 'train' | 'map' | null = null;
    const onAbort = () => {
      void worker.terminate();
      reject(new DOMException('cancelled', 'AbortError'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: FromTrainWorker) => {
      if (m.type === 'progress') {
        if (m.phase !== phase) {
          phase = m.phase;
          progress.start(m.phase, m.total);
        }
        progress.advance(m.done - (progress.snapshot().find((p) => p.name === m.phase)?.done ?? 0));
      } else if (m.type === 'done') {
        progress.finish();
        signal?.removeEventListener('abort', onAbort);
        void worker.terminate();
        resolve({ result: m.result, backend: m.backend });
      } else {
        signal?.removeEventListener('abort', onAbort);
        void worker.terminate();
        reject(new Error(`training failed: ${m.message}`));
      }
    });
    worker.on('error', (err) => reject(err));
    worker.on('exit', (code) => {
      if (code !== 0) reject(new Error(`training worker exited with code ${code}`));
    });
    if (!phase) progress.start('train', null);
  });
}
