/**
 * The embed pool: one decode worker and, by default, one embed worker per core for engines
 * that run one thread per worker (wasm, cpu), or a single one for engines with threads (or a
 * GPU) of their own (ONNX Runtime, native tfjs). The first embed worker chooses the engine;
 * the others, where the engine wants them, start when it is ready and run the same engine.
 *
 * The decode worker reads, decodes and thumbnails a bounded number of images ahead; the main
 * thread groups decoded images into batches and keeps every embed worker two batches deep (one
 * running, one queued in its port), so a forward pass starts the moment the previous one ends
 * and no worker waits on decoding, on the main thread or on SQLite writes. Pixels move between
 * threads as transferred buffers, never copied.
 *
 * Items can be added while it runs (indexing streams them in as it checks for known content);
 * workers start with the first item, so a run with nothing to embed never loads the model.
 *
 * Crashes: if a worker dies, what it held is decoded again and embedded alone; an image that
 * kills a worker on its own is skipped with a reason instead of stopping the run.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { configureSharp } from '../images/sharpConfig.js';
import { siblingModule, startWorker, stopWorkerGently } from '../runtime/workers.js';
import { BACKBONE } from './backboneInfo.js';
import type { EngineChoice, EngineInfo } from './engine.js';
import type { ModelSpec } from './models/spec.js';
import { disableOrtTelemetry } from './onnx/ortEnv.js';
import type { EmbedItem, EmbedResult, EmbedWorkerInit, FromDecoder, FromWorker, ReadyImage, ToDecoder, ToWorker } from './protocol.js';

export interface EmbedPoolOptions {
  thumbnailDir: string;
  workers?: number;
  batchSize?: number;
  signal?: AbortSignal;
  /** How many items will be added at most (sizes the pool; default: the first add's count). */
  expected?: number;
  /** Other worker modules speaking the same protocol (tests: crashing workers). */
  workerModules?: { decoder?: URL; embedder?: URL };
  /** Run this engine only (default: the fastest that loads, see core/embed/engine.ts `engineOrder`). */
  engine?: EngineChoice;
  /** Augmented views embedded with each image (core/images/augment.ts); default 0. */
  views?: number;
  /** Which set of views (augment.ts `viewSeed`); default 0, the app's. */
  viewDraw?: number;
  /**
   * A registered model (core/embed/models) instead of the bundled backbone: its image tower on
   * ONNX Runtime, fed the decoder's input at its own size (views drawn at that size too).
   */
  model?: ModelSpec | null;
}

export interface EmbedPoolStats {
  /** The engine the embed workers run, as the first one reported it. */
  backend: EngineInfo | null;
  modelId: string | null;
  dim: number | null;
  /** Sum over images of read + decode + thumbnail time (they overlap: this is not wall time). */
  decodeMs: number;
  /** Sum over batches of the embed workers' forward-pass time. */
  embedMs: number;
  /** Embed workers (plus one decode worker): at most `workers`, one for an engine with threads of its own. */
  workers: number;
}

export interface EmbedPool {
  add(items: readonly EmbedItem[]): void;
  /** No more items: `done` settles once everything added has been delivered. */
  end(): void;
  /** Stops the workers; `done` rejects with `reason` if it had not settled. */
  close(reason?: Error): void;
  readonly done: Promise<EmbedPoolStats>;
}

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}

interface Entry {
  item: EmbedItem;
  /** Already lost once in a worker crash: handled alone from now on. */
  retry: boolean;
}

interface EmbedSlot {
  worker: Worker;
  inFlight: Map<number, Entry[]>;
  ready: boolean;
  dead: boolean;
}

interface DecodeSlot {
  worker: Worker;
  inFlight: Map<number, Entry>;
  ready: boolean;
  dead: boolean;
}

const crashSkip = (e: Entry, what: string, reason: string): EmbedResult => ({
  imageId: e.item.imageId,
  contentHash: e.item.contentHash,
  skip: { code: 'decode-error', message: `the ${what} crashed on this file (${reason})` },
});

/**
 * Starts a pool; `onResults` gets each finished batch (in completion order, one call at a time:
 * write each in one transaction, the crash-safety unit).
 */
export function startEmbedPool(options: EmbedPoolOptions, onResults: (results: EmbedResult[]) => void | Promise<void>): EmbedPool {
  const run = new PoolRun(options, onResults);
  return {
    add: (items) => run.add(items),
    end: () => run.end(),
    close: (reason) => run.close(reason),
    done: run.done,
  };
}

type DecodedImage = { image: ReadyImage; entry: Entry };
type ReadyMessage = Extract<FromWorker, { type: 'ready' }>;

/** One pool's state: the queues, the workers, and the handlers of their messages and deaths. */
class PoolRun {
  readonly done: Promise<EmbedPoolStats>;
  private readonly stats: EmbedPoolStats = { backend: null, modelId: null, dim: null, decodeMs: 0, embedMs: 0, workers: 0 };
  private readonly batchSize: number;
  /** The side, in pixels, the decoder makes and the model takes. */
  private readonly size: number;
  private readonly pending: Entry[] = [];
  private readonly decoded: DecodedImage[] = [];
  private readonly slots: EmbedSlot[] = [];
  private decoder: DecodeSlot | null = null;
  private started = false;
  private ended = false;
  private settled = false;
  private added = 0;
  private delivered = 0;
  private nextBatchId = 1;
  private decodeConcurrency = 1;
  private lookahead: number;
  /** Embed workers for an engine that runs one thread per worker. */
  private wanted = 1;
  // Results are written in order of arrival, one call at a time, so writes never interleave.
  private writes = Promise.resolve();
  private resolveDone!: (s: EmbedPoolStats) => void;
  private rejectDone!: (e: Error) => void;

  constructor(
    private readonly options: EmbedPoolOptions,
    private readonly onResults: (results: EmbedResult[]) => void | Promise<void>,
  ) {
    this.batchSize = options.batchSize ?? 8;
    this.size = options.model?.image.resizeTo ?? BACKBONE.inputSize;
    this.lookahead = this.batchSize;
    this.done = new Promise<EmbedPoolStats>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    // The caller may still be streaming items in when a failure settles `done`; it sees the error
    // when it awaits, and the process must not die of an unhandled rejection meanwhile.
    this.done.catch(() => undefined);
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (options.signal?.aborted) this.onAbort();
  }

  add(items: readonly EmbedItem[]): void {
    if (this.settled || items.length === 0) return;
    if (this.ended) throw new Error('embed pool: add() after end()');
    for (const item of items) this.pending.push({ item, retry: false });
    this.added += items.length;
    if (!this.started) this.start(items.length);
    this.pump();
  }

  end(): void {
    this.ended = true;
    this.pump();
    this.checkDone();
  }

  close(reason?: Error): void {
    this.finish(reason ?? new Error('embed pool closed'));
  }

  private finish(err: Error | null): void {
    if (this.settled) return;
    this.settled = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    const stopped = this.slots.map((s) => stopEmbedWorker(s.worker, this.stats.backend));
    if (this.decoder) void this.decoder.worker.terminate();
    // Settled once the embed workers have gone: an ONNX Runtime worker ends its run in progress
    // first, and a process that exits before it has (the app quitting mid-embed) aborts.
    void Promise.all(stopped).then(() => (err ? this.rejectDone(err) : this.resolveDone(this.stats)));
  }

  private readonly onAbort = () => this.finish(new DOMException('embedding cancelled', 'AbortError') as unknown as Error);

  private checkDone(): void {
    if (this.ended && this.delivered >= this.added) this.finish(null);
  }

  private deliver(results: EmbedResult[]): void {
    this.writes = this.writes
      .then(async () => {
        if (this.settled) return;
        await this.onResults(results);
        this.delivered += results.length;
        this.checkDone();
      })
      .catch((err: unknown) => this.finish(err instanceof Error ? err : new Error(String(err))));
  }

  /**
   * What a dead worker held, in groups (its batches): a group of one, or one holding a file
   * already retried, is skipped as the crash's cause; the rest go back to the front of the
   * queue, each file to be handled alone.
   */
  private salvage(groups: Entry[][], what: 'decoder' | 'embedder', reason: string): void {
    const skipped: EmbedResult[] = [];
    for (const group of [...groups].reverse()) {
      if (group.length === 0) continue;
      if (group.length === 1 || group.some((e) => e.retry)) for (const e of group) skipped.push(crashSkip(e, what, reason));
      else for (const e of [...group].reverse()) this.pending.unshift({ item: e.item, retry: true });
    }
    if (skipped.length > 0) this.deliver(skipped);
  }

  private decoderIdle(): boolean {
    return this.pending.length === 0 && (this.decoder === null || this.decoder.inFlight.size === 0);
  }

  private pump(): void {
    if (this.settled) return;
    this.decodeAhead();
    this.feedEmbedders();
  }

  /** Decode ahead, bounded: a crash-retried file is decoded alone. */
  private decodeAhead(): void {
    const d = this.decoder;
    if (!d || !d.ready || d.dead || [...d.inFlight.values()].some((e) => e.retry)) return;
    const { pending, decoded } = this;
    while (pending.length > 0 && d.inFlight.size < this.decodeConcurrency && decoded.length + d.inFlight.size < this.lookahead) {
      if (pending[0]!.retry && d.inFlight.size > 0) break;
      const entry = pending.shift()!;
      d.inFlight.set(entry.item.imageId, entry);
      d.worker.postMessage({ type: 'decode', item: entry.item, size: this.size } satisfies ToDecoder);
      if (entry.retry) break;
    }
  }

  /**
   * Keep each embed worker two batches deep, so the next forward pass never waits for a round
   * trip through this thread. Near the end, one each and the rest split evenly: a batch queued
   * behind another cannot move to a worker that runs out of work.
   */
  private feedEmbedders(): void {
    const ahead = this.pending.length + (this.decoder?.inFlight.size ?? 0) + this.decoded.length;
    const depth = ahead <= this.slots.length * this.batchSize * 2 ? 1 : 2;
    for (const slot of this.slots) {
      while (slot.ready && !slot.dead && slot.inFlight.size < depth && this.decoded.length > 0) {
        const take = this.nextBatch(depth);
        if (!take) break;
        const batchId = this.nextBatchId++;
        slot.inFlight.set(
          batchId,
          take.map((x) => x.entry),
        );
        const images = take.map((x) => x.image);
        slot.worker.postMessage(
          { type: 'batch', batchId, images } satisfies ToWorker,
          images.map((i) => i.rows.buffer as ArrayBuffer),
        );
      }
    }
  }

  /** The decoded images of the next batch, or null to wait for more: a crash-retried one goes alone. */
  private nextBatch(depth: number): DecodedImage[] | null {
    const { decoded, batchSize } = this;
    const r = decoded.findIndex((x) => x.entry.retry);
    if (r >= 0) return decoded.splice(r, 1);
    if (this.decoderIdle()) {
      // Nothing more is being decoded: share what is left among the workers free for it.
      const open = this.slots.filter((s) => s.ready && !s.dead && s.inFlight.size < depth).length;
      return decoded.splice(0, Math.min(batchSize, Math.ceil(decoded.length / Math.max(1, open))));
    }
    if (decoded.length >= batchSize) return decoded.splice(0, batchSize);
    return null;
  }

  private start(firstCount: number): void {
    const { options } = this;
    this.started = true;
    this.wanted = Math.max(1, Math.min(options.workers ?? defaultWorkerCount(), Math.ceil((options.expected ?? firstCount) / 4) || 1));
    // An engine forced to one that runs a thread per worker starts them all at once; otherwise
    // the first worker finds the engine and the others follow if it wants them.
    const forced = options.engine ?? (process.env.CONSTELLATE_ENGINE as EngineChoice | undefined);
    // A registered model runs on ONNX Runtime whatever the engine: one worker.
    const now = !options.model && (forced === 'wasm' || forced === 'cpu') ? this.wanted : 1;
    this.stats.workers = now;
    this.sizeDecoding(this.wanted);
    // libvips is shared by the process's threads: one thread per decode, no operation cache.
    configureSharp();
    this.decoder = this.spawnDecoder();
    for (let i = 0; i < now; i++) this.slots.push(this.spawnEmbedder());
  }

  /** Decodes in flight and images decoded ahead, for `lanes` forward passes running at once. */
  private sizeDecoding(lanes: number): void {
    // One more decode in flight than lanes, and at most one more batch per lane decoded ahead (on
    // top of the two each worker holds): enough to cover the model load at the start and any
    // hiccup, without holding many decoded images (0.6 MB a row: the image and each view).
    this.decodeConcurrency = lanes + 1;
    this.lookahead = this.batchSize * (lanes + 1);
  }

  private spawnDecoder(): DecodeSlot {
    const init: EmbedWorkerInit = {
      thumbnailDir: this.options.thumbnailDir,
      views: this.options.views ?? 0,
      viewDraw: this.options.viewDraw ?? 0,
    };
    const worker = startWorker(this.options.workerModules?.decoder ?? siblingModule(import.meta.url, 'decodeWorker'), {
      workerData: init,
    });
    const slot: DecodeSlot = { worker, inFlight: new Map(), ready: false, dead: false };
    worker.on('message', (msg: FromDecoder) => this.onDecoderMessage(slot, msg));
    onWorkerDeath(worker, (reason) => this.onDecoderDeath(slot, reason));
    return slot;
  }

  private onDecoderMessage(slot: DecodeSlot, msg: FromDecoder): void {
    if (msg.type === 'ready') {
      slot.ready = true;
    } else if (msg.type === 'decoded') {
      const entry = slot.inFlight.get(msg.imageId);
      slot.inFlight.delete(msg.imageId);
      this.stats.decodeMs += msg.ms;
      if (entry) this.decoded.push({ image: msg.image, entry });
    } else if (msg.type === 'failed') {
      slot.inFlight.delete(msg.imageId);
      this.stats.decodeMs += msg.ms;
      this.deliver([{ imageId: msg.imageId, contentHash: msg.contentHash, skip: msg.skip }]);
    } else if (msg.type === 'fatal') {
      return this.finish(new Error(`decode worker failed to start: ${msg.message}`));
    }
    this.pump();
  }

  private onDecoderDeath(slot: DecodeSlot, reason: string): void {
    if (this.settled || slot.dead) return;
    slot.dead = true;
    if (!slot.ready) return this.finish(new Error(`decode worker exited before starting (${reason})`));
    // A retried file is always decoded alone, so what it held is one group.
    this.salvage([[...slot.inFlight.values()]], 'decoder', reason);
    slot.inFlight.clear();
    this.decoder = this.spawnDecoder();
  }

  private spawnEmbedder(): EmbedSlot {
    // Once the engine is known, every other worker runs it without searching again.
    const engine = this.stats.backend?.choice ?? this.options.engine;
    const init: EmbedWorkerInit = { ...(engine ? { engine } : {}), ...(this.options.model ? { model: this.options.model } : {}) };
    disableOrtTelemetry();
    const worker = startWorker(this.options.workerModules?.embedder ?? siblingModule(import.meta.url, 'worker'), { workerData: init });
    const slot: EmbedSlot = { worker, inFlight: new Map(), ready: false, dead: false };
    worker.on('message', (msg: FromWorker) => this.onEmbedderMessage(slot, msg));
    onWorkerDeath(worker, (reason) => this.onEmbedderDeath(slot, reason));
    return slot;
  }

  private onEmbedderMessage(slot: EmbedSlot, msg: FromWorker): void {
    if (msg.type === 'ready') {
      if (msg.inputSize !== this.size)
        return this.finish(new Error(`backbone input is ${msg.inputSize} px, the decoder makes ${this.size} px`));
      this.onEmbedderReady(slot, msg);
    } else if (msg.type === 'result') {
      slot.inFlight.delete(msg.batchId);
      this.stats.embedMs += msg.embedMs;
      this.deliver(msg.results);
    } else if (msg.type === 'fatal') {
      return this.finish(new Error(`embed worker failed to start: ${msg.message}`));
    }
    this.pump();
  }

  /** The first worker ready has chosen the engine: start the others where the engine wants them. */
  private onEmbedderReady(slot: EmbedSlot, msg: ReadyMessage): void {
    const { stats } = this;
    const first = stats.backend === null;
    stats.backend = msg.backend;
    stats.modelId = msg.modelId;
    stats.dim = msg.dim;
    slot.ready = true;
    if (first) {
      const count = msg.backend.parallelWorkers ? this.wanted : 1;
      stats.workers = count;
      this.sizeDecoding(msg.backend.parallelWorkers ? count : Math.max(1, msg.backend.threads));
      for (let i = this.slots.length; i < count; i++) this.slots.push(this.spawnEmbedder());
    }
  }

  private onEmbedderDeath(slot: EmbedSlot, reason: string): void {
    if (this.settled || slot.dead) return;
    slot.dead = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (this.stats.backend === null) return this.finish(new Error(`embed worker exited before starting (${reason})`));
    // The pixels went with the dead worker: decode again, then embed alone.
    this.salvage([...slot.inFlight.values()], 'embedder', reason);
    slot.inFlight.clear();
    this.slots.push(this.spawnEmbedder());
    this.pump();
  }
}

/** Embeds every item (see `startEmbedPool`). */
export async function embedAll(
  items: EmbedItem[],
  options: EmbedPoolOptions,
  onResults: (results: EmbedResult[]) => void | Promise<void>,
): Promise<EmbedPoolStats> {
  const pool = startEmbedPool({ ...options, expected: options.expected ?? items.length }, onResults);
  pool.add(items);
  pool.end();
  return await pool.done;
}

/**
 * Ends an embed worker; resolves once it has exited (or, for ONNX Runtime, after `graceMs`). A
 * tfjs worker is terminated at once. One that may hold an ONNX Runtime session (its engine, or
 * not known yet) is asked to stop: it finishes the run in progress, releases the session and
 * exits (`stopWorkerGently`, which bounds the wait).
 */
export async function stopEmbedWorker(worker: Worker, engine: Pick<EngineInfo, 'choice'> | null, graceMs?: number): Promise<void> {
  if (engine && engine.choice !== 'onnx') {
    await worker.terminate();
    return;
  }
  if (!(await stopWorkerGently(worker, graceMs)))
    console.warn('constellate: an embed worker is still inside ONNX Runtime after it was asked to stop; it ends when its call returns');
}

/** Any exit before the pool settles is a death, even code 0: what the worker held would never come back. */
function onWorkerDeath(worker: Worker, onDeath: (reason: string) => void): void {
  worker.on('error', (err) => onDeath(err.message));
  worker.on('exit', (code) => onDeath(`exit code ${code}`));
}
