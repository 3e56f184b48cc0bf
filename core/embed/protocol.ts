/**
 * Messages between the embed pool (main thread), its decode worker and its embed workers.
 *
 * Decoding and inference run in separate threads so that neither waits for the other: an embed
 * worker's thread is blocked for the whole (synchronous) forward pass, and a decode that needs
 * that thread between its sharp steps would stall behind it. Decoded pixels travel as
 * transferred buffers (decode worker -> main -> embed worker), never copied.
 */
import type { SkipReason } from '../library/skips.js';
import type { EngineChoice, EngineInfo } from './engine.js';
import type { ModelSpec } from './models/spec.js';

export interface EmbedWorkerInit {
  /** Only for the decode worker. */
  thumbnailDir?: string;
  /** Only for the decode worker: augmented views per image (core/images/augment.ts), 0 for none. */
  views?: number;
  /** Only for the decode worker: which set of views (augment.ts `viewSeed`), 0 for the app's. */
  viewDraw?: number;
  /** Only for embed workers: run this engine (the pool's first worker chose it), no search. */
  engine?: EngineChoice;
  /** Only for embed workers: a registered model's image tower (core/embed/models) instead of the bundled backbone. */
  model?: ModelSpec;
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

/** One decoded image, ready for the backbone. */
export interface ReadyImage {
  imageId: number;
  /** The hash of the bytes actually decoded (the file may have changed since the scan). */
  contentHash: string;
  /**
   * [image, view 1, ..., view V]: 1 + V rows of size*size*3 RGB floats in [0,1] (HWC), the
   * image's augmented views after it; its buffer is transferred.
   */
  rows: Float32Array;
  facts: ImageFacts;
  thumbnail: string | null;
}

export type EmbedResult =
  | {
      imageId: number;
      contentHash: string;
      embedding: Float32Array;
      /** The augmented views' embeddings, V rows of the embedding's width (I-Con's view supervision). */
      views: Float32Array;
      /** The engine that made them (`engineTag`), stored with them. */
      engine: string;
      /** The views' engine where it is not `engine` (`viewsEngineTag`: 8-bit views). */
      viewsEngine?: string;
      facts: ImageFacts;
      thumbnail: string | null;
    }
  | { imageId: number; contentHash: string | null; skip: SkipReason };

export type ToDecoder = { type: 'decode'; item: EmbedItem; size: number };

export type FromDecoder =
  | { type: 'ready' }
  | { type: 'decoded'; imageId: number; image: ReadyImage; ms: number }
  | { type: 'failed'; imageId: number; contentHash: string | null; skip: SkipReason; ms: number }
  | { type: 'fatal'; message: string };

export type ToWorker = { type: 'batch'; batchId: number; images: ReadyImage[] } | { type: 'stop' };

export type FromWorker =
  | { type: 'ready'; backend: EngineInfo; modelId: string; dim: number; inputSize: number }
  | { type: 'result'; batchId: number; results: EmbedResult[]; embedMs: number }
  | { type: 'fatal'; message: string };
