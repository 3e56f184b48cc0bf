/**
 * Worker entry: picks the TensorFlow.js backend (tfjs-node-gpu -> tfjs-node -> wasm -> cpu) off
 * the main thread, so the native libraries (and CUDA) are never loaded into the main process.
 */
import { parentPort } from 'node:worker_threads';
import { initTf } from '../core/embed/backend.js';

const port = parentPort;
if (!port) throw new Error('backendProbe must run in a worker thread');

try {
  const { backend } = await initTf();
  port.postMessage({ ok: true, backend });
} catch (err) {
  port.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
}
