/**
 * Embed worker: MobileNetV2 features for batches of decoded images, each image and its augmented
 * views as rows of one forward pass. The engine (core/embed/backbone.ts) decides how many of these the
 * pool runs: one for ONNX Runtime and native tfjs (their threads, or a GPU, inside it), one per
 * core for wasm. Decoding happens in the pool's decode worker, so this thread does nothing but
 * inference and the pool keeps a second batch queued in its port: the next forward pass starts
 * as soon as one ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadBackbone, type Backbone } from './backbone.js';
import { engineTag } from './engine.js';
import type { EmbedResult, EmbedWorkerInit, FromWorker, ReadyImage, ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('embed worker must run in a worker thread');
const init = (workerData ?? {}) as EmbedWorkerInit;

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

// The batch input, reused: a fresh 9.6 MB array per batch is allocation, zeroing and GC work
// on the inference thread. Safe because both engines copy it (tfjs into its tensor memory, ONNX
// Runtime into its input) before embed() returns or its promise settles, and the next batch
// waits for that.
let scratch = new Float32Array(0);

/** Rows [img0, views of img0..., img1, views of img1...]: one forward pass for all of them. */
function batchInput(backbone: Backbone, images: ReadyImage[]): { input: Float32Array; rows: number } {
  const plane = backbone.inputSize * backbone.inputSize * 3;
  let len = 0;
  for (const img of images) {
    if (img.rows.length === 0 || img.rows.length % plane !== 0)
      throw new Error(`image ${img.imageId}: expected rows of ${plane} values, got ${img.rows.length}`);
    len += img.rows.length;
  }
  if (scratch.length < len) scratch = new Float32Array(len);
  const input = scratch.subarray(0, len);
  let off = 0;
  for (const img of images) {
    input.set(img.rows, off);
    off += img.rows.length;
  }
  return { input, rows: len / plane };
}

function results(backbone: Backbone, tag: string, images: ReadyImage[], features: Float32Array): EmbedResult[] {
  const d = backbone.dim;
  const plane = backbone.inputSize * backbone.inputSize * 3;
  let row = 0;
  return images.map((img) => {
    const n = img.rows.length / plane;
    const r: EmbedResult = {
      imageId: img.imageId,
      contentHash: img.contentHash,
      embedding: features.slice(row * d, (row + 1) * d),
      views: features.slice((row + 1) * d, (row + n) * d),
      engine: tag,
      facts: img.facts,
      thumbnail: img.thumbnail,
    };
    row += n;
    return r;
  });
}

function send(batchId: number, out: EmbedResult[], t0: number): void {
  const transfer: ArrayBuffer[] = [];
  for (const r of out) if ('embedding' in r) transfer.push(r.embedding.buffer as ArrayBuffer, r.views.buffer as ArrayBuffer);
  post({ type: 'result', batchId, results: out, embedMs: performance.now() - t0 }, transfer);
}

async function main(): Promise<void> {
  const backbone = init.model
    ? await (await import('./models/towers.js')).loadModelBackbone(init.model)
    : await loadBackbone(init.engine ? { order: [init.engine] } : {});
  const tag = engineTag(backbone.engine);
  // A synchronous engine (tfjs) runs each batch straight from its message event, so every forward
  // pass (the pipeline's and the benchmark's, which uses this same worker) starts from the same
  // shallow stack. That matters: wasm inference speed here depends on where on the stack it runs
  // (see bench/pipeline.ts). An asynchronous one (ONNX Runtime) is chained: one batch at a time.
  let chain: Promise<void> = Promise.resolve();
  let stopping = false;
  port!.on('message', (msg: ToWorker) => {
    if (msg.type === 'stop') {
      if (backbone.engine.choice !== 'onnx') process.exit(0);
      // ONNX Runtime's session is released before the thread ends: terminating a worker that
      // holds one aborted the whole process (the binding throws a Napi::Error while the thread's
      // environment is torn down), which is what Cancel did to the app.
      stopping = true;
      void chain
        .catch(() => undefined)
        .then(() => backbone.dispose())
        .finally(() => process.exit(0));
      return;
    }
    if (backbone.engine.choice !== 'onnx') {
      const t0 = performance.now();
      const { input, rows } = batchInput(backbone, msg.images);
      const features = backbone.embed(input, rows) as Float32Array;
      send(msg.batchId, results(backbone, tag, msg.images, features), t0);
      return;
    }
    // A failed run rejects the chain; the unhandled rejection ends this worker, which the pool
    // treats like any crash on these files (retried alone, then skipped).
    chain = chain.then(async () => {
      if (stopping) return;
      const t0 = performance.now();
      const { input, rows } = batchInput(backbone, msg.images);
      const features = await backbone.embed(input, rows);
      send(msg.batchId, results(backbone, tag, msg.images, features), t0);
    });
  });
  post({ type: 'ready', backend: backbone.engine, modelId: backbone.id, dim: backbone.dim, inputSize: backbone.inputSize });
}

main().catch((err: unknown) => {
  post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
});
