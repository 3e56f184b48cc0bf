/**
 * The whole pipeline behind `constellate cluster` and the UI's "Scan and cluster":
 * index (scan, check for copies, decode + embed) -> train Debiased InfoNCE Clustering in a
 * worker -> write a new run (groups, assignments, head, map) -> make it the current grouping,
 * carrying over the user's pins and group names. Re-clustering with another K skips indexing:
 * embeddings are cached.
 */
import type { BackendInfo, PhaseProgress, RunSummary } from '../../shared/contract.js';
import { BACKBONE } from '../../embed/backboneInfo.js';
import type { ModelSpec } from '../../embed/models/spec.js';
import type { Store } from '../../store/index.js';
import { setActiveRunId } from '../../store/runs.js';
import { decodeSkip, indexLibraries, throwIfAborted } from '../indexing/indexLibrary.js';
import { getViewsPerImage, setViewsPerImage, viewNames } from '../indexing/views.js';
import { ProgressTracker } from '../../runtime/progress.js';
import { decodeRunModel, encodeRunModel } from './runModel.js';
import { getUnsortedThreshold } from '../../store/unsorted.js';
import { groupingModelId } from './groupingModel.js';
import { trainInWorker } from './train.js';
import type { TrainRequest, TrainResult } from './trainProtocol.js';

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
  /**
   * Compute the map afresh even where the previous run's can be kept (the same images, or a
   * small share of them changed: new ones are put beside their neighbours). Default false.
   */
  refreshMap?: boolean;
  /**
   * From this many images on, choosing K and the map run in threads of their own beside the fit
   * (default: the map from 3,000, K above 20,000, where it reads a sample of the rows); for tests.
   */
  helpersFrom?: number;
  /** Views held in memory up to this many values (FitSourceInput.viewsInMemoryUpTo); for tests. */
  viewsInMemoryUpTo?: number;
  /**
   * Augmented views per image, embedded when indexing and trained on (0: none); kept as the
   * database's setting for later runs. Default: that setting.
   */
  views?: number;
  /** The model whose features are grouped (indexed with it first): a registered one, or null/undefined for the bundled backbone. */
  model?: ModelSpec | null;
  signal?: AbortSignal;
  onProgress?: (phases: PhaseProgress[], phase: PhaseProgress['name'] | null) => void;
}

export async function runClusterJob(options: ClusterJobOptions): Promise<RunSummary> {
  const { store, signal } = options;
  const progress = new ProgressTracker((t) => options.onProgress?.(t.snapshot(), t.phase));
  if (options.views !== undefined) setViewsPerImage(store.db, options.views);
  const indexBackend = (options.index ?? true) ? await indexFirst(options, progress) : null;
  throwIfAborted(signal);
  const input = trainingInput(store, options.model?.id ?? BACKBONE.id);
  const summary: RunSummary = {
    runId: 0,
    images: input.ids.length,
    skipped: skippedByCode(store),
    groups: [],
    unsorted: 0,
    secondsByPhase: {},
    backend: indexBackend ?? { choice: 'none', device: 'none' },
    k: 0,
    kChosenBy: options.k ? 'user' : 'auto',
    ...(options.k ? { kRequested: options.k } : {}),
    ...(input.activeRun === null ? {} : { pinnedGroups: input.grouping.pinnedGroupCount }),
  };
  if (input.ids.length === 0) return { ...summary, secondsByPhase: progress.secondsByPhase() };
  const standing = standingGrouping(store, options, input);
  if (standing) return { ...summary, ...standing, secondsByPhase: progress.secondsByPhase() };

  const request = trainRequest(store, options, input);
  const { result, backend } = await trainInWorker(request, progress, signal);
  if (summary.backend.choice === 'none') summary.backend = backend;
  const { runId, names } = writeRun(store, options, input, request, result, summary, progress);
  return { ...summary, ...(names ? { names } : {}), runId, k: result.k, kChosenBy: result.kChosenBy, ...groupsNow(store) };
}

/**
 * Which images, in which order, with which views, and the user's current grouping (pins and
 * groups). The embeddings stay in the database: the training worker reads them itself.
 */
interface TrainingInput {
  modelId: string;
  imageIds: Uint32Array;
  ids: number[];
  /** Without every image's views (an older library not embedded again yet, or views turned off), training goes on without them. */
  views: string[] | null;
  activeRun: number | null;
  grouping: ReturnType<typeof currentGrouping>;
}

function trainingInput(store: Store, modelId: string): TrainingInput {
  const imageIds = orderedImageIds(store, modelId);
  const ids = Array.from(imageIds);
  const V = getViewsPerImage(store.db);
  const views = V > 0 && ids.length > 0 && store.embeddings.countWithViews(modelId, viewNames(V)) === ids.length ? viewNames(V) : null;
  const activeRun = store.runs.activeRunId();
  const grouping = currentGrouping(store, activeRun, new Map(ids.map((id, i) => [id, i])));
  return { modelId, imageIds, ids, views, activeRun, grouping };
}

/**
 * The current grouping when nothing is new since it was made (a `cluster` run over the same
 * images, asked the same way): it stands, since training again would only move images the user
 * has seen placed. Null when there is something to train.
 */
function standingGrouping(store: Store, options: ClusterJobOptions, input: TrainingInput): Partial<RunSummary> | null {
  const asked = { modelId: input.modelId, k: options.k ?? null, seed: options.seed ?? 0, views: input.views !== null };
  if (options.index === false || options.refreshMap || !unchanged(store, input.activeRun, input.imageIds, asked)) return null;
  const run = store.runs.get(input.activeRun!)!;
  return {
    runId: run.id,
    k: run.k ?? 0,
    kChosenBy: run.params.kChosenBy === 'user' ? 'user' : 'auto',
    unchanged: true,
    ...groupsNow(store),
  };
}

function trainRequest(store: Store, options: ClusterJobOptions, input: TrainingInput): TrainRequest {
  const { activeRun, grouping } = input;
  return {
    source: { file: store.db.file, model: input.modelId, imageIds: input.imageIds, views: input.views },
    k: options.k ?? null,
    seed: options.seed ?? 0,
    pins: grouping.pins,
    start: grouping.start,
    map: options.map ?? true,
    minK: Math.max(1, grouping.pinnedGroupCount),
    // PCA, graph and map of the previous run, where it was made from the same model's features
    previousRunId: activeRun !== null && groupingModelId(store, activeRun) === input.modelId ? activeRun : null,
    refreshMap: options.refreshMap ?? false,
    helpersFrom: options.helpersFrom,
    viewsInMemoryUpTo: options.viewsInMemoryUpTo,
    schedule: options.index === false ? 'recluster' : 'full',
  };
}

/**
 * Writes the trained run and makes it current. Over an earlier grouping this is an (undoable)
 * edit that carries the user's pins and group names over to the new groups; their fate is
 * returned. A failure marks the run failed and is thrown.
 */
function writeRun(
  store: Store,
  options: ClusterJobOptions,
  input: TrainingInput,
  request: TrainRequest,
  result: TrainResult,
  summary: RunSummary,
  progress: ProgressTracker,
): { runId: number; names: RunSummary['names'] | null } {
  progress.start('write', input.ids.length);
  const run = store.runs.create({
    kind: options.index === false ? 'recluster' : 'cluster',
    model: input.modelId,
    k: result.k,
    backend: summary.backend.choice,
    params: {
      seed: request.seed,
      k: result.k,
      kChosenBy: result.kChosenBy,
      pins: request.pins.length,
      views: result.views,
      viewsAvailable: input.views !== null,
      reused: result.reused,
      device: summary.backend.device,
    },
  });
  try {
    writeRunResults(store, run.id, input.ids, result, progress);
    progress.finish();
    summary.secondsByPhase = progress.secondsByPhase();
    store.runs.finish(run.id, {
      status: 'done',
      timings: { ...summary.secondsByPhase, ...result.timings },
      metrics: { finalLoss: result.finalLoss, kScores: result.kScores, images: input.ids.length },
    });
    if (input.activeRun === null) {
      setActiveRunId(store.db, run.id);
      return { runId: run.id, names: null };
    }
    const { clusterOf, pinnedGroupCount } = input.grouping;
    const carried = store.edits.recluster(run.id, { lineage: lineage(clusterOf, pinnedGroupCount, result.refined) }).summary;
    return { runId: run.id, names: { kept: carried.keptNames, dropped: carried.droppedNames, offers: carried.nameOffers } };
  } catch (err) {
    store.runs.finish(run.id, { status: 'failed', error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}

/** Indexes the libraries; the embedding backend it used, or null when there was nothing to embed. */
async function indexFirst(options: ClusterJobOptions, progress: ProgressTracker): Promise<BackendInfo | null> {
  const indexed = await indexLibraries({
    db: options.store.db,
    libraryIds: options.libraryIds,
    workers: options.workers,
    signal: options.signal,
    progress,
    views: options.views,
    model: options.model ?? null,
  });
  return indexed.pool?.backend ? { choice: indexed.pool.backend.choice, device: indexed.pool.backend.device } : null;
}

/** The groups as the user sees them now (sizes without the images in Unsorted), and how many are in Unsorted. */
function groupsNow(store: Store): Pick<RunSummary, 'groups' | 'unsorted'> {
  const threshold = getUnsortedThreshold(store.db);
  return {
    groups: store.browse.groupSummaries({ typical: 0, threshold }).map((g) => ({ id: g.id, name: g.name, size: g.count })),
    unsorted: store.browse.countUnsorted({ threshold }),
  };
}

/**
 * A trained run into the store: a group per cluster used ("Group 1", "Group 2", … in cluster
 * order), every image's assignment (in batches, with progress), and the model (head and map).
 */
function writeRunResults(store: Store, runId: number, ids: readonly number[], result: TrainResult, progress: ProgressTracker): void {
  const used = [...new Set(result.labels)].sort((a, b) => a - b);
  const groupIds = store.groups.createRunGroups(
    runId,
    used.map((c, i) => ({ clusterIndex: c, name: `Group ${i + 1}` })),
  );
  const groupOf = new Map(used.map((c, i) => [c, groupIds[i]!]));
  const BATCH = 5000;
  for (let s = 0; s < ids.length; s += BATCH) {
    const rows = [];
    for (let i = s; i < Math.min(ids.length, s + BATCH); i++) {
      rows.push({ imageId: ids[i]!, groupId: groupOf.get(result.labels[i]!)!, confidence: result.confidence[i]! });
    }
    store.groups.writeAssignments(runId, rows);
    progress.advance(rows.length);
  }
  store.runs.saveModel(runId, encodeRunModel({ head: result.head, imageIds: Uint32Array.from(ids), map: result.xy, graph: result.graph }));
}

/**
 * The images with an embedding, in path order (not insertion order), so that training, which
 * samples rows by index, gives the same result for the same files and seed however the files
 * were indexed (one run, or a run resumed after being killed).
 */
export function orderedImageIds(store: Store, modelId: string = BACKBONE.id): Uint32Array {
  const ids = store.embeddings.embeddedImageIds(modelId);
  const keys = store.browse.pathKeys();
  return Uint32Array.from(ids).sort((a, b) => {
    const ka = keys.get(a) ?? '';
    const kb = keys.get(b) ?? '';
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/**
 * Whether the current grouping was made of exactly these images (same order), asked the same
 * way (model, K, seed, views): then a `cluster` run has nothing to do.
 */
function unchanged(
  store: Store,
  runId: number | null,
  ids: Uint32Array,
  asked: { modelId: string; k: number | null; seed: number; views: boolean },
): boolean {
  if (runId === null) return false;
  const run = store.runs.get(runId);
  if (!run || run.status !== 'done' || (run.model ?? BACKBONE.id) !== asked.modelId) return false;
  const p = run.params;
  if ((asked.k !== null && asked.k !== run.k) || p.seed !== asked.seed || (p.viewsAvailable ?? p.views) !== asked.views) return false;
  const blob = store.runs.loadModel(runId);
  if (!blob) return false;
  try {
    const prev = decodeRunModel(blob).imageIds;
    return prev.length === ids.length && prev.every((id, i) => id === ids[i]);
  } catch {
    return false;
  }
}

/**
 * The user's current grouping as the trainer's input: pins as [row, cluster index] (pinned
 * groups numbered first), and every image's current group as the grouping to refine (-1 for
 * images in no group or not in that run), numbered the same way (`clusterOf`: group id ->
 * cluster index). The trainer starts from it when the new run has as many groups
 * (re-clustering learns from the user's fixes instead of starting over).
 */
function currentGrouping(
  store: Store,
  runId: number | null,
  rowOf: Map<number, number>,
): Pick<TrainRequest, 'pins' | 'start'> & { pinnedGroupCount: number; clusterOf: Map<number, number> } {
  if (runId === null) return { pins: [], start: null, pinnedGroupCount: 0, clusterOf: new Map() };
  const placed = store.groups.listAssignments(runId).flatMap((a) => {
    const row = rowOf.get(a.imageId);
    return row === undefined || a.groupId === null ? [] : [{ row, groupId: a.groupId, pinned: a.pinned }];
  });
  const index = new Map<number, number>(); // group id -> cluster index
  for (const a of placed) if (a.pinned && !index.has(a.groupId)) index.set(a.groupId, index.size);
  const pinnedGroupCount = index.size;
  for (const a of placed) if (!index.has(a.groupId)) index.set(a.groupId, index.size);
  const start = new Int32Array(rowOf.size).fill(-1);
  for (const a of placed) start[a.row] = index.get(a.groupId)!;
  const pins = placed.filter((a) => a.pinned).map((a): [number, number] => [a.row, start[a.row]!]);
  return { pins, start: index.size ? start : null, pinnedGroupCount, clusterOf: index };
}

/**
 * Which of the user's groups the new run continues, as cluster indices: a pinned group always
 * (its pins were fixed in that cluster), every group when training started from the grouping.
 * Their names and pins go to those clusters' groups (EditsRepository.recluster).
 */
function lineage(clusterOf: Map<number, number>, pinnedGroupCount: number, refined: boolean): Map<number, number> {
  return new Map([...clusterOf].filter(([, c]) => refined || c < pinnedGroupCount));
}

export function skippedByCode(store: Store): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of store.images.skipReasons()) {
    const code = decodeSkip(r.reason).code;
    out[code] = (out[code] ?? 0) + r.count;
  }
  return out;
}
