/**
 * Worker entry: picks the embedding engine (ONNX Runtime's best provider, then tfjs-node-gpu ->
 * tfjs-node -> wasm -> cpu) off the main thread, so no ML runtime (nor CUDA) loads on it, and
 * reports the device the runtime says it is using.
 */
import { parentPort } from 'node:worker_threads';
import { loadBackbone } from '../core/embed/backbone.js';

const port = parentPort;
if (!port) throw new Error('backendProbe must run in a worker thread');

try {
  const backbone = await loadBackbone();
  // Released before answering: the pool's worker opens the next session (one at a time, onnxruntime#24486).
  await backbone.dispose();
  port.postMessage({ ok: true, backend: backbone.engine });
} catch (err) {
  port.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
}
