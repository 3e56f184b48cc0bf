/** Messages between a cluster job (main thread) and its training worker. */
import type { HeadExport } from '../../icon/clustering.js';
import type { Preprocessor } from '../../icon/preprocess.js';
import type { KnnGraph } from '../../icon/knn.js';

export interface TrainRequest {
  features: Float32Array;
  /** Augmented views, V per image, image-major (FitInput.views); null to train without them. */
  views: Float32Array | null;
  n: number;
  d: number;
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
  /** The kNN graph of these same rows from an earlier run: re-clustering skips the kNN search. */
  graph: KnnGraph | null;
  /** The preprocessing (L2 + PCA) fitted by that run: re-clustering skips the PCA fit. */
  preprocessor?: Preprocessor | null;
  /** That run's 2-D map of these same rows: the map does not depend on K, so it is kept. */
  previousMap?: Float32Array | null;
  /**
   * 'recluster': the shorter schedule of an interactive re-cluster into another number of
   * groups (RECLUSTER_OVERRIDES); refining the current groups (`start` used) trains in full.
   */
  schedule?: 'full' | 'recluster';
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
  timings: Record<string, number>;
  finalLoss: number | null;
}

export type FromTrainWorker =
  | { type: 'progress'; phase: 'train' | 'map'; done: number; total: number }
  | { type: 'done'; result: TrainResult; backend: { choice: string; device: string } }
  | { type: 'error'; message: string };
