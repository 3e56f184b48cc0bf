/**
 * Embed worker: decode (sharp) + thumbnail + MobileNetV2 features for batches of images.
 * One backbone per worker, one tfjs thread each: two workers use both cores.
 *
 * Overlap: sharp decodes in libuv's thread pool, so the next batch's decodes are started
 * before the current batch's (synchronous) inference, and run while it computes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { prepareImage, type PreparedImage } from './prepare.js';
import { loadBackbone } from './mobilenet.js';
import type { EmbedItem, EmbedResult, EmbedWorkerInit, FromWorker, ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('embed worker must run in a worker thread');
const init = workerData as EmbedWorkerInit;

type Prepared = { item: EmbedItem; prepared: PreparedImage };

const queue: Array<{ batchId: number; items: EmbedItem[] }> = [];
let busy = false;
let stopping = false;

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

async function main(): Promise<void> {
  const backbone = await loadBackbone();
  const size = backbone.inputSize;
  const pixelsPer = size * size * 3;

  const decodeBatch = async (items: EmbedItem[]) => {
    const t0 = performance.now();
    const prepared = await Promise.all(items.map(async (item) => ({ item, prepared: await prepareImage(item.path, { size, thumbnailDir: init.thumbnailDir }) })));
    return { prepared, ms: performance.now() - t0 };
  };

  const embedBatch = (batchId: number, decoded: { prepared: Prepared[]; ms: number }) => {
    const t0 = performance.now();
    const ok = decoded.prepared.filter((p) => 'pixels' in p.prepared);
    const results: EmbedResult[] = [];
    let features: Float32Array | null = null;
    if (ok.length > 0) {
      // Originals and flips in one forward pass.
      const input = new Float32Array(ok.length * 2 * pixelsPer);
      ok.forEach((p, i) => {
        const img = p.prepared as Extract<PreparedImage, { pixels: Float32Array }>;
        input.set(img.pixels, i * pixelsPer);
        input.set(img.flipped, (ok.length + i) * pixelsPer);
      });
      features = backbone.embed(input, ok.length * 2);
    }
    let k = 0;
    const transfer: ArrayBuffer[] = [];
    for (const { item, prepared } of decoded.prepared) {
      if ('skip' in prepared) {
        results.push({ imageId: item.imageId, contentHash: item.contentHash, skip: prepared.skip });
        continue;
      }
      const d = backbone.dim;
      const embedding = features!.slice(k * d, (k + 1) * d);
      const flipEmbedding = features!.slice((ok.length + k) * d, (ok.length + k + 1) * d);
      k++;
      transfer.push(embedding.buffer, flipEmbedding.buffer);
      // The hash of the bytes actually decoded: the file may have changed since it was scanned.
      results.push({ imageId: item.imageId, contentHash: prepared.contentHash, embedding, flipEmbedding, facts: prepared.facts, thumbnail: prepared.thumbnail });
    }
    post({ type: 'result', batchId, results, decodeMs: decoded.ms, embedMs: performance.now() - t0 }, transfer);
  };

  post({ type: 'ready', backend: backbone.backend, modelId: backbone.id, dim: backbone.dim });

  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      let current = queue.shift();
      let decoding = current ? decodeBatch(current.items) : null;
      while (current && decoding) {
        const decoded = await decoding;
        const next = queue.shift();
        decoding = next ? decodeBatch(next.items) : null; // starts now, runs during inference
        embedBatch(current.batchId, decoded);
        current = next;
        if (!current && queue.length > 0) {
          current = queue.shift();
          decoding = current ? decodeBatch(current.items) : null;
        }
      }
    } finally {
      busy = false;
      if (queue.length > 0 && !stopping) void pump();
      else if (stopping) process.exit(0);
    }
  };

  port!.on('message', (msg: ToWorker) => {
    if (msg.type === 'stop') {
      stopping = true;
      if (!busy) process.exit(0);
      return;
    }
    queue.push({ batchId: msg.batchId, items: msg.items });
    void pump();
  });
}

main().catch((err: unknown) => {
  post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
});
