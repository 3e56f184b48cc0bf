/** Messages between the embed pool (main thread) and its workers. */
import type { SkipReason } from '../library/skips.js';
import type { BackendInfo } from './backend.js';

export interface EmbedWorkerInit {
  thumbnailDir: string;
}

export interface EmbedItem {
  imageId: number;
  path: string;
  /** From the scan-time hash; null if not hashed yet. The worker reports the decoded bytes' hash. */
  contentHash: string | null;
}

export interface ImageFacts {
  width: number;
  height: number;
  format: string;
  takenAt: string | null;
  camera: string | null;
  orientation: number | null;
}

export type EmbedResult =
  | {
      imageId: number;
      contentHash: string;
      embedding: Float32Array;
      /** The horizontal flip's embedding: the "augmented view" supervision of I-Con. */
      flipEmbedding: Float32Array;
      facts: ImageFacts;
      thumbnail: string | null;
    }
  | { imageId: number; contentHash: string | null; skip: SkipReason };

export type ToWorker = { type: 'batch'; batchId: number; items: EmbedItem[] } | { type: 'stop' };

export type FromWorker =
  | { type: 'ready'; backend: BackendInfo; modelId: string; dim: number }
  | { type: 'result'; batchId: number; results: EmbedResult[]; decodeMs: number; embedMs: number }
  | { type: 'fatal'; message: string };
