/** Messages between the model worker (modelWorker.ts) and its client (modelClient.ts). */
import type { ModelFolder } from './folder.js';
import type { ModelSpec } from './spec.js';

export type ToModelWorker =
  { type: 'check'; id: number; folder: ModelFolder; prompts: string[] } | { type: 'encode'; id: number; spec: ModelSpec; texts: string[] };

export type FromModelWorker =
  | { type: 'checked'; id: number; spec: ModelSpec; names: Float32Array | null }
  | { type: 'encoded'; id: number; vectors: Float32Array }
  /** `user`: a ModelFolderError, whose message is the line the user sees. */
  | { type: 'error'; id: number; message: string; user: boolean };
