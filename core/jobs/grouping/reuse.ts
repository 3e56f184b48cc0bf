/**
 * What a new run can take from the previous one instead of computing it again. The PCA, the kNN
 * graph and the 2-D map depend on the images only, not on K: over the same images (Regroup
 * with another K) all three are kept; over images of which a small share changed (a few added
 * or gone) the PCA is kept, the graph extended (extendKnnGraph) and the map kept with the new
 * images put beside their nearest mapped neighbour. Past that share everything is computed
 * afresh, as it is when asked to (`refreshMap`).
 */
import type { KnnGraph } from '../../icon/knn.js';
import type { Preprocessor } from '../../icon/preprocess.js';
import type { Store } from '../../store/index.js';
import { decodeRunModel } from './runModel.js';

/** Above this share of images added or gone since the previous run, PCA, graph and map are made afresh. */
export const REUSE_UP_TO_CHANGED_SHARE = 0.1;

export interface PreviousWork {
  rows: 'same' | 'extended' | 'none';
  preprocessor: Preprocessor | null;
  /** Same images: the graph as it is. */
  graph: KnnGraph | null;
  /** A few changed: the graph and, per row, its row in it (-1: added since). */
  graphFrom: { graph: KnnGraph; rows: Int32Array } | null;
  /** The previous map and, per row, its row in it (-1: not mapped). */
  map: { xy: Float32Array; rows: Int32Array } | null;
}

const NONE: PreviousWork = { rows: 'none', preprocessor: null, graph: null, graphFrom: null, map: null };

/** The share of images added or gone between two sets of image ids. */
export function changedShare(before: ArrayLike<number>, after: ArrayLike<number>): number {
  const had = new Set(Array.from(before));
  let kept = 0;
  for (let i = 0; i < after.length; i++) if (had.has(after[i]!)) kept++;
  const changed = after.length - kept + (had.size - kept);
  return changed / Math.max(1, after.length, had.size);
}

export function previousWork(store: Store, runId: number | null, ids: Uint32Array): PreviousWork {
  if (runId === null) return NONE;
  const blob = store.runs.loadModel(runId);
  if (!blob) return NONE;
  let prev;
  try {
    prev = decodeRunModel(blob);
  } catch {
    return NONE; // an older or unreadable model: compute everything again
  }
  const same = prev.imageIds.length === ids.length && prev.imageIds.every((id, i) => id === ids[i]);
  if (same) {
    return {
      rows: 'same',
      preprocessor: prev.head.preprocessor,
      graph: prev.graph,
      graphFrom: null,
      map: prev.map ? { xy: prev.map, rows: Int32Array.from(ids, (_, i) => i) } : null,
    };
  }
  if (changedShare(prev.imageIds, ids) > REUSE_UP_TO_CHANGED_SHARE) return NONE;
  const rowOf = new Map(Array.from(prev.imageIds, (id, i) => [id, i]));
  const rows = Int32Array.from(ids, (id) => rowOf.get(id) ?? -1);
  return {
    rows: 'extended',
    preprocessor: prev.head.preprocessor,
    graph: null,
    graphFrom: prev.graph && prev.graph.n === prev.imageIds.length && prev.graph.k > 0 ? { graph: prev.graph, rows } : null,
    map: prev.map && prev.map.length === prev.imageIds.length * 2 ? { xy: prev.map, rows } : null,
  };
}

/**
 * The previous map for these rows: a row it had keeps its point; a row added since goes beside
 * its nearest neighbour (in `graph`, nearest first) that has a point, with a small offset of its
 * own so that copies do not hide each other (the mean of the map if none of its neighbours has one).
 */
export function extendMap(prev: { xy: Float32Array; rows: Int32Array }, graph: KnnGraph): Float32Array {
  const n = prev.rows.length;
  const xy = new Float32Array(n * 2);
  let minX = Infinity,
    maxX = -Infinity,
    sx = 0,
    sy = 0,
    m = 0;
  for (let i = 0; i < n; i++) {
    const p = prev.rows[i]!;
    if (p < 0) continue;
    xy[2 * i] = prev.xy[2 * p]!;
    xy[2 * i + 1] = prev.xy[2 * p + 1]!;
    minX = Math.min(minX, xy[2 * i]!);
    maxX = Math.max(maxX, xy[2 * i]!);
    sx += xy[2 * i]!;
    sy += xy[2 * i + 1]!;
    m++;
  }
  const span = maxX > minX ? maxX - minX : 1;
  const jitter = (i: number, k: number) => (((Math.imul(i + 1, 2654435761) >>> (k * 8)) & 255) / 255 - 0.5) * 0.01 * span;
  for (let i = 0; i < n; i++) {
    if (prev.rows[i]! >= 0) continue;
    let at = -1;
    for (let t = 0; t < graph.k && at < 0; t++) {
      const j = graph.indices[i * graph.k + t]!;
      if (j >= 0 && prev.rows[j]! >= 0) at = j;
    }
    xy[2 * i] = (at >= 0 ? xy[2 * at]! : sx / Math.max(1, m)) + jitter(i, 0);
    xy[2 * i + 1] = (at >= 0 ? xy[2 * at + 1]! : sy / Math.max(1, m)) + jitter(i, 1);
  }
  return xy;
}
