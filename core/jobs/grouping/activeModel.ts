/**
 * The current run's model, for the UI's per-image questions: "which groups would this image
 * fit?" (suggestions: cosine to each group's centroid), "which images look like it?"
 * (cosine nearest neighbours in the head's feature space), where images placed since the map
 * was made go on it, which group new images belong to, and, with a CLIP-like model, which
 * images match a text query and what each group's images average to (suggested names). All of
 * it is answered by the model worker (modelWorker.ts), which reads the database itself: the
 * main thread (the Electron main process, the HTTP server) loads no ML runtime and holds no
 * embeddings.
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, startWorker } from '../../runtime/workers.js';
import type { Store } from '../../store/index.js';
import type { FromModelWorker, ModelAnswer, ModelRequest } from './modelProtocol.js';

/**
 * The softmax temperature of the suggestions over cosines to group centroids (in the head's
 * feature space: L2, PCA, L2), fitted so that a first suggestion shown as NN% is right about
 * NN% of the time on the labelled sets (lowest log loss; ECE 0.078 on each):
 * `npx tsx bench/suggest-temperature.ts` (docs/scale.md). The ranking does not depend on it.
 */
export const SUGGESTION_TEMPERATURE = 0.245;

type Pending = { resolve: (a: ModelAnswer) => void; reject: (e: Error) => void };

export class ActiveModel {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly store: Store) {}

  /** The run changed (or its groups did): the worker reloads what it needs on the next question. */
  invalidate(): void {
    // The worker keys what it loaded by run id; a new run id reloads. Nothing to drop here.
  }

  /** Stops the worker (the next question starts another). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private ask(request: ModelRequest): Promise<ModelAnswer> {
    const w = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // held while a question waits for its answer, let go when idle
      w.ref();
      w.postMessage({ id, request });
    });
  }

  private start(): Worker {
    const w = startWorker(siblingModule(import.meta.url, 'modelWorker'), { workerData: { file: this.store.db.file } });
    // An idle model worker never keeps the process alive (the CLI exits when its work is done).
    w.unref();
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('message', (m: FromModelWorker) => {
      if (m.id === null) return fail(new Error(m.error));
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if ('error' in m) p.reject(new Error(`model worker: ${m.error}`));
      else p.resolve(m.answer);
    });
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`model worker exited with code ${code}`)));
    return w;
  }

  /**
   * Every group of the grouping as the user has it now, ranked for this image: the softmax
   * (temperature SUGGESTION_TEMPERATURE) of its cosine to each group's centroid (the mean of
   * the unit features of its images, those below the Unsorted threshold too), in the head's
   * feature space. One measure for every group: the parts a Split made and the groups the user
   * made, which the trained head knows nothing of, are ranked with the others, and the user's
   * moves count at once.
   */
  async suggestions(imageId: number, limit = 9): Promise<Array<{ groupId: number; probability: number }>> {
    return (await this.suggestionsMany([imageId], limit)).get(imageId) ?? [];
  }

  /** Suggestions for many images at once (review queue): one question to the worker. */
  async suggestionsMany(imageIds: number[], limit = 3): Promise<Map<number, Array<{ groupId: number; probability: number }>>> {
    const out = new Map<number, Array<{ groupId: number; probability: number }>>();
    const runId = this.store.runs.activeRunId();
    if (runId === null || imageIds.length === 0) return out;
    // The worker keeps the centroids while this stays the same: an edit here (or by another
    // process) changes it, and the next question computes them again.
    const raw = this.store.db.raw;
    const version = `${String(raw.pragma('data_version', { simple: true }))}:${raw.prepare('SELECT total_changes()').pluck().get() as number}`;
    const a = await this.ask({ type: 'suggest', runId, imageIds, limit, temperature: SUGGESTION_TEMPERATURE, version });
    if (a.type !== 'suggest') return out;
    imageIds.forEach((id, i) => out.set(id, a.rows[i] ?? []));
    return out;
  }

  /**
   * Builds, in the worker, the index that suggestions and neighbours read (every image's
   * features: about 7 s at 100,000 images), so that the first image the user opens does not wait
   * for it. The number of rows indexed (0 without a grouping).
   */
  async warm(): Promise<number> {
    const runId = this.store.runs.activeRunId();
    if (runId === null) return 0;
    const a = await this.ask({ type: 'warm', runId });
    return a.type === 'warm' ? a.indexed : 0;
  }

  /** The `k` most similar images (cosine in the head's feature space), excluding the image itself. */
  async neighbours(imageId: number, k = 12): Promise<number[]> {
    const runId = this.store.runs.activeRunId();
    if (runId === null) return [];
    const a = await this.ask({ type: 'neighbours', runId, imageId, k });
    return a.type === 'neighbours' ? a.imageIds : [];
  }

  /** Each image's cluster in the run's head and its calibrated confidence (images without an embedding are left out). */
  async predict(runId: number, imageIds: number[]): Promise<{ imageIds: number[]; labels: Int32Array; confidence: Float32Array }> {
    const a = await this.ask({ type: 'predict', runId, imageIds });
    if (a.type !== 'predict') throw new Error('model worker: unexpected answer');
    return a;
  }

  /** Points on the run's map for images placed since it was made, beside their most similar mapped image of the same group. */
  async placeOnMap(runId: number, imageIds: number[]): Promise<Map<number, [number, number]>> {
    if (imageIds.length === 0) return new Map();
    const a = await this.ask({ type: 'placeOnMap', runId, imageIds });
    return new Map(a.type === 'placeOnMap' ? a.points.map(([id, x, y]) => [id, [x, y]]) : []);
  }

  /**
   * Text search: the `limit` images of `modelId` whose unit embedding is nearest (cosine) the
   * text embedding `query`, among `allowed` when given; ties by image id.
   */
  async rankByVector(
    modelId: string,
    query: Float32Array,
    options: { limit: number; allowed?: ReadonlySet<number> },
  ): Promise<Array<{ imageId: number; score: number }>> {
    const allowed = options.allowed && [...options.allowed];
    const a = await this.ask({ type: 'rankByVector', modelId, query, limit: options.limit, ...(allowed ? { allowed } : {}) });
    return a.type === 'rankByVector' ? a.results : [];
  }

  /** For each list of images, the mean of their unit embeddings for `modelId` (null when none has one). */
  async unitMeans(modelId: string, imageIds: number[][]): Promise<Array<Float32Array | null>> {
    if (imageIds.length === 0) return [];
    const a = await this.ask({ type: 'unitMeans', modelId, imageIds });
    return a.type === 'unitMeans' ? a.means : imageIds.map(() => null);
  }
}
