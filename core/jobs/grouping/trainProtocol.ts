/** Messages between a cluster job (main thread) and its training worker. */
import type { HeadExport } from '../../icon/clustering.js';
import type { KnnGraph } from '../../icon/knn.js';

/**
 * Where the worker reads the embeddings: the database file, with its own read-only connection
 * (WAL lets it read while the main thread writes), a block at a time. The main thread never
 * holds them.
 */
export interface TrainSource {
  file: string;
  model: string;
  /** One row per image, in the order training sees them. */
  imageIds: Uint32Array;
  /** The augmented views trained on (FitInput.views: 'aug0', …), or null to train without. */
  views: string[] | null;
}

export interface TrainRequest {
  source: TrainSource;
  /** null: choose K from the data. */
  k: number | null;
  seed: number;
  /** [row index, cluster index] of pinned images: fixed groups and a labels kernel in p. */
  pins: Array<[number, number]>;
  /**
   * The user's current groups per row (cluster index, -1 for none), numbered as the pins are:
   * when the new run has that many groups, training refines them (FitInput.start).
   */
  start: Int32Array | null;
  /** Also compute the 2-D map (t-SNE through the I-Con engine). */
  map: boolean;
  /** Smallest K the data needs (e.g. the number of distinct pinned groups). */
  minK: number;
  /**
   * The run whose work the worker may reuse (reuse.ts): over the same images its kNN graph, PCA
   * and map; over images a small share of which changed, its PCA, its graph extended and its
   * map with the new images placed beside their neighbours.
   */
  previousRunId: number | null;
  /** Compute the map afresh even where the previous run's could be kept. */
  refreshMap?: boolean;
  /**
   * From this many images on, K and the map are computed in helper threads (default: the map from
   * 3,000, K above 20,000: trainWorker.ts MAP_BESIDE_FROM, CHOOSE_K_BESIDE_FROM); for tests.
   */
  helpersFrom?: number;
  /** FitSourceInput.viewsInMemoryUpTo (default: the trainer's, 131,072 images with 4 views); for tests. */
  viewsInMemoryUpTo?: number;
  /**
   * 'recluster': the shorter schedule of an interactive re-cluster into another number of
   * groups (RECLUSTER_OVERRIDES); refining the current groups (`start` used) trains in full.
   */
  schedule?: 'full' | 'recluster';
}

/** What the worker took from the previous run. */
export interface Reused {
  /** 'same': the same images; 'extended': a few changed (added ones searched, placed); 'none'. */
  rows: 'same' | 'extended' | 'none';
  pca: boolean;
  graph: 'same' | 'extended' | 'new';
  map: 'same' | 'extended' | 'new' | 'none';
}

export interface TrainResult {
  k: number;
  kChosenBy: 'user' | 'auto';
  kScores: Array<{ k: number; score: number }> | null;
  labels: Int32Array;
  confidence: Float32Array;
  head: HeadExport;
  xy: Float32Array | null;
  graph: KnnGraph;
  /** Training started from `start`: its cluster c goes on from the user's group c. */
  refined: boolean;
  /** Trained on the augmented views. */
  views: boolean;
  reused: Reused;
  timings: Record<string, number>;
  finalLoss: number | null;
}

/** A task the training worker hands to a helper thread (helperWorker.ts). */
export type HelperTask = { task: 'chooseK' | 'map'; source: TrainSource; seed: number };
export type HelperAnswer =
  { task: 'chooseK'; k: number; scores: Array<{ k: number; score: number }>; ms: number } | { task: 'map'; xy: Float32Array; ms: number };

export type FromTrainWorker =
  | { type: 'progress'; phase: 'train' | 'map'; done: number; total: number }
  | { type: 'done'; result: TrainResult; backend: { choice: string; device: string } }
  | { type: 'error'; message: string };
