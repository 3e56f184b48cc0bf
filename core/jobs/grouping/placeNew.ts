/**
 * Placing new images: images that arrived (or changed) since the last clustering go into the
 * current groups by the run's trained head, without retraining (fast: one small matmul per
 * image). The groups, names and the user's edits stay exactly as they are. One name everywhere:
 * `cluster --place-new`, the API's placeNewImages, the job kind 'place-new', the app's "Place
 * new images".
 */
import type { PhaseProgress, PlaceSummary } from '../../shared/contract.js';
import type { ModelSpec } from '../../embed/models/spec.js';
import type { Store } from '../../store/index.js';
import { ActiveModel } from './activeModel.js';
import { skippedByCode } from './clusterJob.js';
import { indexLibraries, throwIfAborted } from '../indexing/indexLibrary.js';
import { ProgressTracker } from '../../runtime/progress.js';
import { getUnsortedThreshold, isBelowThreshold } from '../../store/unsorted.js';

export interface PlaceResult {
  placed: number;
  /** New images left without a group (their cluster's group and its images are all gone). */
  unplaced: number;
  /** Of the placed, those below the Unsorted threshold. */
  belowThreshold: number;
  seconds: number;
}

/** How many of the run's images to predict to learn where a merged-away cluster's images went. */
const ORPHAN_SAMPLE = 4000;

/**
 * Places the active run's images that have no assignment row yet; null when there is no run with
 * a head. The head runs in the model worker (`model`: the app's, or one started for this call).
 */
export async function placeUngroupedImages(store: Store, model?: ActiveModel): Promise<PlaceResult | null> {
  const t0 = performance.now();
  const runId = store.runs.activeRunId();
  if (runId === null || !store.runs.hasModel(runId)) return null;
  const ids: number[] = [];
  for (let after = 0; ;) {
    const batch = store.groups.imagesWithoutAssignment(runId, { afterImageId: after, limit: 5000 });
    if (batch.length === 0) break;
    ids.push(...batch);
    after = batch[batch.length - 1]!;
  }
  const seconds = () => (performance.now() - t0) / 1000;
  if (ids.length === 0) return { placed: 0, unplaced: 0, belowThreshold: 0, seconds: seconds() };
  const worker = model ?? new ActiveModel(store);
  try {
    const m = await worker.predict(runId, ids);
    const { labels, confidence } = m;
    const groupOf = store.groups.groupIdsByCluster(runId);
    const orphans = new Set(Array.from(labels).filter((c) => !groupOf.has(c)));
    if (orphans.size > 0) for (const [c, g] of await whereClustersWent(store, worker, runId, orphans)) groupOf.set(c, g);
    const rows = m.imageIds.map((imageId, i) => ({ imageId, groupId: groupOf.get(labels[i]!) ?? null, confidence: confidence[i]! }));
    return write(store, runId, rows, seconds);
  } finally {
    if (!model) await worker.close();
  }
}

function write(
  store: Store,
  runId: number,
  rows: Array<{ imageId: number; groupId: number | null; confidence: number }>,
  seconds: () => number,
): PlaceResult {
  store.groups.writeAssignments(runId, rows);
  const threshold = getUnsortedThreshold(store.db);
  return {
    placed: rows.length,
    unplaced: rows.filter((r) => r.groupId === null).length,
    belowThreshold: rows.filter((r) => isBelowThreshold({ ...r, pinned: false }, threshold)).length,
    seconds: seconds(),
  };
}

/**
 * A cluster whose group the user merged into another (the group row is gone) still exists in
 * the head. Its images went with the merge, so the group now holding most of the images the
 * head puts in that cluster is where a new one belongs. Predicts a spread sample of the run.
 */
async function whereClustersWent(
  store: Store,
  model: ActiveModel,
  runId: number,
  clusters: ReadonlySet<number>,
): Promise<Map<number, number>> {
  const grouped = store.groups.listAssignments(runId).filter((a) => a.groupId !== null);
  const step = Math.max(1, Math.floor(grouped.length / ORPHAN_SAMPLE));
  const sample = grouped.filter((_, i) => i % step === 0);
  const groupOfImage = new Map(sample.map((a) => [a.imageId, a.groupId!]));
  const m = await model.predict(
    runId,
    sample.map((a) => a.imageId),
  );
  const { labels } = m;
  const votes = new Map<number, Map<number, number>>();
  m.imageIds.forEach((id, i) => {
    const c = labels[i]!;
    if (!clusters.has(c)) return;
    const byGroup = votes.get(c) ?? votes.set(c, new Map()).get(c)!;
    const g = groupOfImage.get(id)!;
    byGroup.set(g, (byGroup.get(g) ?? 0) + 1);
  });
  const out = new Map<number, number>();
  for (const [c, byGroup] of votes) out.set(c, [...byGroup].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0]);
  return out;
}

export interface PlaceJobOptions {
  store: Store;
  /** The app's model worker (default: one started for this job). */
  active?: ActiveModel;
  /** Index these libraries first (all when omitted). */
  libraryIds?: number[];
  workers?: number;
  /** The current grouping's model (registered; null/undefined: the bundled backbone): new images are embedded with it, for its head. */
  model?: ModelSpec | null;
  signal?: AbortSignal;
  onProgress?: (phases: PhaseProgress[], phase: PhaseProgress['name'] | null) => void;
}

/**
 * The place-new job: index the libraries (new, changed, moved and deleted files), then place the
 * new and changed images in the current groups. What "Place new images" and adding a folder do
 * in the app once there are groups, and `constellate cluster --place-new`: the user's groups are
 * never reshaped without being asked (Regroup… does that).
 */
export async function placeNewImages(options: PlaceJobOptions): Promise<PlaceSummary> {
  const { store, signal } = options;
  const t0 = performance.now();
  const progress = new ProgressTracker((t) => options.onProgress?.(t.snapshot(), t.phase));
  const libraries = options.libraryIds ?? store.libraries.list().map((l) => l.id);
  const missingNow = () => libraries.reduce((n, id) => n + store.images.countsByStatus({ libraryId: id }).missing, 0);
  const missingBefore = missingNow();
  const indexed = await indexLibraries({
    db: store.db,
    libraryIds: options.libraryIds,
    workers: options.workers,
    signal,
    progress,
    model: options.model ?? null,
  });
  throwIfAborted(signal);
  const r = await placeUngroupedImages(store, options.active);
  if (!r) throw new Error('there are no groups yet to place new images in');
  const missing = missingNow();
  return {
    placed: r.placed,
    unsorted: r.unplaced + r.belowThreshold,
    moved: indexed.moved,
    missing,
    // Net of files that came back: a moved file is first missing, then found again.
    newlyMissing: Math.max(0, missing - missingBefore),
    skipped: skippedByCode(store),
    seconds: (performance.now() - t0) / 1000,
  };
}
