/**
 * Embed worker: MobileNetV2 features for batches of decoded images (image + mirror rows).
 * One backbone per worker, one tfjs thread each: one worker per core. Decoding happens in the
 * pool's decode worker, so this thread does nothing but inference and the pool keeps a second
 * batch queued in its port: the next forward pass starts as soon as one ends.
 */
import { parentPort } from 'node:worker_threads';
import { loadBackbone, type Backbone } from './mobilenet.js';
import type { EmbedResult, FromWorker, ReadyImage, ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('embed worker must run in a worker thread');

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

// The batch input, reused: a fresh 9.6 MB array per batch is allocation, zeroing and GC work
// on the inference thread. Safe because the backbone copies it into its own tensor memory
// within embed() and disposes that tensor before returning.
let scratch = new Float32Array(0);

/** One forward pass over every image and its mirror; rows are [img0, mirror0, img1, mirror1, ...]. */
function embedBatch(backbone: Backbone, images: ReadyImage[]): EmbedResult[] {
  const pairLen = 2 * backbone.inputSize * backbone.inputSize * 3;
  if (scratch.length < images.length * pairLen) scratch = new Float32Array(images.length * pairLen);
  const input = scratch.subarray(0, images.length * pairLen);
  images.forEach((img, i) => {
    if (img.pair.length !== pairLen) throw new Error(`image ${img.imageId}: expected ${pairLen} values, got ${img.pair.length}`);
    input.set(img.pair, i * pairLen);
  });
  const features = backbone.embed(input, images.length * 2);
  const d = backbone.dim;
  return images.map((img, i) => ({
    imageId: img.imageId,
    contentHash: img.contentHash,
    embedding: features.slice(2 * i * d, (2 * i + 1) * d),
    flipEmbedding: features.slice((2 * i + 1) * d, (2 * i + 2) * d),
    facts: img.facts,
    thumbnail: img.thumbnail,
  }));
}

async function main(): Promise<void> {
  const backbone = await loadBackbone();
  // Each batch runs straight from its message event, so every forward pass (the pipeline's and
  // the benchmark's, which uses this same worker) starts from the same shallow stack. That
  // matters: wasm inference speed here depends on where on the stack it runs (see
  // bench/pipeline.ts), and a ceiling measured from a different call site is not this one's.
  port!.on('message', (msg: ToWorker) => {
    if (msg.type === 'stop') process.exit(0);
    const t0 = performance.now();
    const results = embedBatch(backbone, msg.images);
    const transfer: ArrayBuffer[] = [];
    for (const r of results) if ('embedding' in r) transfer.push(r.embedding.buffer as ArrayBuffer, r.flipEmbedding.buffer as ArrayBuffer);
    post({ type: 'result', batchId: msg.batchId, results, embedMs: performance.now() - t0 }, transfer);
  });
  post({ type: 'ready', backend: backbone.backend, modelId: backbone.id, dim: backbone.dim, inputSize: backbone.inputSize });
}

main().catch((err: unknown) => {
  post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
});
