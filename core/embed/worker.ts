/**
 * Embed worker: MobileNetV2 features for batches of decoded images, each image and its mirror
 * as rows of one forward pass. The engine (core/embed/backbone.ts) decides how many of these the
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

/** Rows [img0, mirror0, img1, mirror1, ...]: one forward pass for the images and their mirrors. */
function batchInput(backbone: Backbone, images: ReadyImage[]): Float32Array {
  const pairLen = 2 * backbone.inputSize * backbone.inputSize * 3;
  if (scratch.length < images.length * pairLen) scratch = new Float32Array(images.length * pairLen);
  const input = scratch.subarray(0, images.length * pairLen);
  images.forEach((img, i) => {
    if (img.pair.length !== pairLen) throw new Error(`image ${img.imageId}: expected ${pairLen} values, got ${img.pair.length}`);
    input.set(img.pair, i * pairLen);
  });
  return input;
}

function results(backbone: Backbone, tag: string, images: ReadyImage[], features: Float32Array): EmbedResult[] {
  const d = backbone.dim;
  return images.map((img, i) => ({
    imageId: img.imageId,
    contentHash: img.contentHash,
    embedding: features.slice(2 * i * d, (2 * i + 1) * d),
    flipEmbedding: features.slice((2 * i + 1) * d, (2 * i + 2) * d),
    engine: tag,
    facts: img.facts,
    thumbnail: img.thumbnail,
  }));
}

function send(batchId: number, out: EmbedResult[], t0: number): void {
  const transfer: ArrayBuffer[] = [];
  for (const r of out) if ('embedding' in r) transfer.push(r.embedding.buffer as ArrayBuffer, r.flipEmbedding.buffer as ArrayBuffer);
  post({ type: 'result', batchId, results: out, embedMs: performance.now() - t0 }, transfer);
}

async function main(): Promise<void> {
  const backbone = await loadBackbone(init.engine ? { order: [init.engine] } : {});
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
    const rows = msg.images.length * 2;
    if (backbone.engine.choice !== 'onnx') {
      const t0 = performance.now();
      const features = backbone.embed(batchInput(backbone, msg.images), rows) as Float32Array;
      send(msg.batchId, results(backbone, tag, msg.images, features), t0);
      return;
    }
    // A failed run rejects the chain; the unhandled rejection ends this worker, which the pool
    // treats like any crash on these files (retried alone, then skipped).
    chain = chain.then(async () => {
      if (stopping) return;
      const t0 = performance.now();
      const features = await backbone.embed(batchInput(backbone, msg.images), rows);
      send(msg.batchId, results(backbone, tag, msg.images, features), t0);
    });
  });
  post({ type: 'ready', backend: backbone.engine, modelId: backbone.id, dim: backbone.dim, inputSize: backbone.inputSize });
}

main().catch((err: unknown) => {
  post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
});
