/**
 * Embed worker: MobileNetV2 features for batches of decoded images, each image and its augmented
 * views as rows of one forward pass (two where the views run through an 8-bit copy of the model:
 * the images' own rows, then the views). The engine (core/embed/backbone.ts) decides how many of
 * these the pool runs: one for ONNX Runtime and native tfjs (their threads, or a GPU, inside it),
 * one per core for wasm. Decoding happens in the pool's decode worker, so this thread does nothing but
 * inference and the pool keeps a second batch queued in its port: the next forward pass starts
 * as soon as one ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadBackbone, type Backbone } from './backbone.js';
import { engineTag, viewsEngineTag } from './engine.js';
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
function scratchOf(len: number): Float32Array {
  if (scratch.length < len) scratch = new Float32Array(len);
  return scratch.subarray(0, len);
}

/** Each image's rows (itself and its views), checked to be whole model inputs. */
function rowCounts(backbone: Backbone, images: ReadyImage[]): number[] {
  const plane = backbone.inputSize * backbone.inputSize * 3;
  return images.map((img) => {
    if (img.rows.length === 0 || img.rows.length % plane !== 0)
      throw new Error(`image ${img.imageId}: expected rows of ${plane} values, got ${img.rows.length}`);
    return img.rows.length / plane;
  });
}

/** Rows [img0, views of img0..., img1, views of img1...]: one forward pass for all of them. */
function batchInput(backbone: Backbone, images: ReadyImage[]): { input: Float32Array; rows: number } {
  const plane = backbone.inputSize * backbone.inputSize * 3;
  const len = rowCounts(backbone, images).reduce((a, n) => a + n, 0) * plane;
  const input = scratchOf(len);
  let off = 0;
  for (const img of images) {
    input.set(img.rows, off);
    off += img.rows.length;
  }
  return { input, rows: len / plane };
}

/**
 * Where the views run through their own model (Backbone.embedViews): the images' own rows in one
 * forward pass and all their views in another (both from the reused batch input: the own rows,
 * then the views), then their features put back in batchInput's order.
 */
async function embedSplit(backbone: Backbone, images: ReadyImage[]): Promise<Float32Array> {
  const plane = backbone.inputSize * backbone.inputSize * 3;
  const d = backbone.dim;
  const counts = rowCounts(backbone, images).map((n) => n - 1);
  const viewRows = counts.reduce((a, b) => a + b, 0);
  const input = scratchOf((images.length + viewRows) * plane);
  const own = input.subarray(0, images.length * plane);
  const views = input.subarray(images.length * plane);
  let v = 0;
  images.forEach((img, i) => {
    own.set(img.rows.subarray(0, plane), i * plane);
    views.set(img.rows.subarray(plane), v * plane);
    v += counts[i]!;
  });
  const ownFeatures = await backbone.embed(own, images.length);
  const viewFeatures = viewRows > 0 ? await backbone.embedViews!(views, viewRows) : new Float32Array(0);
  const out = new Float32Array((images.length + viewRows) * d);
  let row = 0;
  v = 0;
  images.forEach((_, i) => {
    out.set(ownFeatures.subarray(i * d, (i + 1) * d), row * d);
    out.set(viewFeatures.subarray(v * d, (v + counts[i]!) * d), (row + 1) * d);
    row += 1 + counts[i]!;
    v += counts[i]!;
  });
  return out;
}

function results(backbone: Backbone, tag: string, viewsTag: string, images: ReadyImage[], features: Float32Array): EmbedResult[] {
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
      ...(viewsTag !== tag ? { viewsEngine: viewsTag } : {}),
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
  const viewsTag = viewsEngineTag(backbone.engine);
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
      send(msg.batchId, results(backbone, tag, viewsTag, msg.images, features), t0);
      return;
    }
    // A failed run rejects the chain; the unhandled rejection ends this worker, which the pool
    // treats like any crash on these files (retried alone, then skipped).
    chain = chain.then(async () => {
      if (stopping) return;
      const t0 = performance.now();
      let features: Float32Array;
      if (backbone.embedViews) features = await embedSplit(backbone, msg.images);
      else {
        const { input, rows } = batchInput(backbone, msg.images);
        features = await backbone.embed(input, rows);
      }
      send(msg.batchId, results(backbone, tag, viewsTag, msg.images, features), t0);
    });
  });
  post({ type: 'ready', backend: backbone.engine, modelId: backbone.id, dim: backbone.dim, inputSize: backbone.inputSize });
}

main().catch((err: unknown) => {
  post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
});
