/**
 * A pool of embed workers (one per core by default). Feeds batches, keeps each worker two
 * batches ahead so decoding overlaps inference, and survives a worker crash: the crashed
 * batch's images are retried one by one, and an image that crashes a worker alone is skipped
 * with a reason instead of stopping the run.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { configureSharp } from '../images/sharpConfig.js';
import { siblingModule, startWorker } from '../jobs/workers.js';
import type { BackendInfo } from './backend.js';
import type { EmbedItem, EmbedResult, FromWorker, ToWorker } from './protocol.js';

export interface EmbedPoolOptions {
  thumbnailDir: string;
  workers?: number;
  batchSize?: number;
  signal?: AbortSignal;
}

export interface EmbedPoolStats {
  backend: BackendInfo | null;
  modelId: string | null;
  dim: number | null;
  decodeMs: number;
  embedMs: number;
  workers: number;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, { items: EmbedItem[]; retry: boolean }>;
  ready: Promise<void>;
  dead: boolean;
}

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Embeds every item, calling `onResults` with each finished batch (in completion order;
 * write them to the store in one transaction each: that is the crash-safety unit).
 */
export async function embedAll(
  items: EmbedItem[],
  options: EmbedPoolOptions,
  onResults: (results: EmbedResult[]) => void | Promise<void>,
): Promise<EmbedPoolStats> {
  const workerCount = Math.max(1, Math.min(options.workers ?? defaultWorkerCount(), Math.ceil(items.length / 4) || 1));
  const batchSize = options.batchSize ?? 8;
  const stats: EmbedPoolStats = { backend: null, modelId: null, dim: null, decodeMs: 0, embedMs: 0, workers: workerCount };
  if (items.length === 0) return stats;

  // libvips is shared by the process's threads: one thread per decode, no operation cache.
  configureSharp();
  const pending: Array<{ items: EmbedItem[]; retry: boolean }> = [];
  for (let i = 0; i < items.length; i += batchSize) pending.push({ items: items.slice(i, i + batchSize), retry: false });

  let nextBatchId = 1;
  let remaining = items.length;
  const slots: Slot[] = [];
  let failure: Error | null = null;

  return await new Promise<EmbedPoolStats>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      for (const s of slots) void s.worker.terminate();
      if (err) reject(err);
      else resolve(stats);
    };
    const onAbort = () => finish(new DOMException('embedding cancelled', 'AbortError') as unknown as Error);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    // Results are written in order of arrival, one at a time, so writes never interleave.
    let writes = Promise.resolve();
    const deliver = (results: EmbedResult[]) => {
      writes = writes.then(async () => {
        if (settled) return;
        await onResults(results);
        remaining -= results.length;
        if (remaining <= 0) {
          options.signal?.removeEventListener('abort', onAbort);
          finish(null);
        }
      }).catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
    };

    const feed = (slot: Slot) => {
      while (!settled && slot.inFlight.size < 2 && pending.length > 0) {
        const batch = pending.shift()!;
        const batchId = nextBatchId++;
        slot.inFlight.set(batchId, batch);
        slot.worker.postMessage({ type: 'batch', batchId, items: batch.items } satisfies ToWorker);
      }
    };

    const spawn = (): Slot => {
      const worker = startWorker(siblingModule(import.meta.url, 'worker'), { workerData: { thumbnailDir: options.thumbnailDir } });
      let markReady: () => void = () => {};
      const slot: Slot = { worker, inFlight: new Map(), ready: new Promise((r) => (markReady = r)), dead: false };
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') {
          stats.backend = msg.backend;
          stats.modelId = msg.modelId;
          stats.dim = msg.dim;
          markReady();
          feed(slot);
        } else if (msg.type === 'result') {
          slot.inFlight.delete(msg.batchId);
          stats.decodeMs += msg.decodeMs;
          stats.embedMs += msg.embedMs;
          deliver(msg.results);
          feed(slot);
        } else if (msg.type === 'fatal') {
          failure = new Error(`embed worker failed to start: ${msg.message}`);
          finish(failure);
        }
      });
      const onDeath = (reason: string) => {
        if (settled || slot.dead) return;
        slot.dead = true;
        const lost = [...slot.inFlight.values()];
        slot.inFlight.clear();
        const i = slots.indexOf(slot);
        if (i >= 0) slots.splice(i, 1);
        // A batch that crashed a worker is retried image by image; a single image that
        // crashes one again is skipped with the reason.
        const crashed: EmbedResult[] = [];
        for (const batch of lost) {
          if (batch.retry || batch.items.length === 1) {
            for (const item of batch.items) crashed.push({ imageId: item.imageId, contentHash: item.contentHash, skip: { code: 'decode-error', message: `the decoder crashed on this file (${reason})` } });
          } else {
            for (const item of batch.items) pending.unshift({ items: [item], retry: true });
          }
        }
        if (crashed.length > 0) deliver(crashed);
        if (stats.backend === null) return finish(new Error(`embed worker exited before starting (${reason})`));
        const replacement = spawn();
        slots.push(replacement);
      };
      worker.on('error', (err) => onDeath(err.message));
      worker.on('exit', (code) => {
        if (!settled && code !== 0) onDeath(`exit code ${code}`);
      });
      return slot;
    };

    for (let i = 0; i < workerCount; i++) slots.push(spawn());
  });
}
