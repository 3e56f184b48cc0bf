/**
 * Pipeline throughput on large JPEGs: scan+decode+thumbnail+embed with one embed worker and with
 * one per core, next to the backbone's own ceiling (inference alone on ready tensors) and
 * sharp's ceiling (decode alone, thumbnails included), and the ratio to min(ceilings).
 *
 * The backbone ceiling is measured by the pipeline's own embed workers (core/embed/worker.ts,
 * started the same way, fed 8 decoded images + their mirrors per batch, two batches queued per
 * worker, all workers at once), not by a separate script: a separate helper running the same
 * `embed()` loop from the body of its worker module (after a top-level await) measures about 2x
 * slower than the same loop inside a function, as wasm inference speed depends on the call site
 * (measured: from the module body ~150-170 ms per row, from a function 62-90 ms; padding the
 * stack before the call by 256 B steps moves it between ~63 and ~100 ms with a 4 KiB period, so
 * it looks like a stack-vs-data address aliasing effect, not warm-up, GC, tsx or threads). Only
 * the worker that runs the pipeline can therefore give its ceiling.
 *
 * The machine may be shared: each figure notes the load average when it was taken.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { decodeImage, MODEL_INPUT_SIZE } from '../core/images/decode.js';
import { configureSharp } from '../core/images/sharpConfig.js';
import type { FromWorker, ReadyImage, ToWorker } from '../core/embed/protocol.js';
import { indexLibraries } from '../core/jobs/indexing/indexLibrary.js';
import { ProgressTracker } from '../core/runtime/progress.js';
import { startWorker } from '../core/runtime/workers.js';
import { openStore } from '../core/store/index.js';
import { makeNoiseGradientJpeg } from '../test/fixtures/badCorpus.js';
import type { Figure } from './report.js';

const BATCH = 8; // the pool's batch: 8 images + 8 mirrors per forward pass

const load = () => loadavg()[0]!.toFixed(2);

interface Measured {
  rate: number;
  note: string;
}

/** Decoded pairs of real photos, copied for each batch (the worker takes ownership of its input). */
function pairSource(pairs: Float32Array[]): (n: number) => ReadyImage[] {
  let k = 0;
  return (n) =>
    Array.from({ length: n }, () => {
      const i = k++;
      const facts = { width: 1600, height: 1200, format: 'jpeg', takenAt: null, camera: null, orientation: 1 };
      return { imageId: i, contentHash: `bench:${i}`, pair: pairs[i % pairs.length]!.slice(), facts, thumbnail: null };
    });
}

/**
 * Images/s of `workers` embed workers on ready tensors, all running at once, each kept two
 * batches deep as the pool does; timed on the main thread from the first batch to the last
 * result, after one warm-up batch per worker (allocation, wasm tier-up).
 */
async function backboneCeiling(workers: number, batchesPerWorker: number, pairs: Float32Array[]): Promise<Measured & { backend: string }> {
  const next = pairSource(pairs);
  const loadBefore = load();
  const started: Worker[] = [];
  try {
    const ready = await Promise.all(
      Array.from({ length: workers }, () => {
        const w = startWorker(new URL('../core/embed/worker.ts', import.meta.url), { workerData: {} });
        started.push(w);
        return new Promise<{ w: Worker; backend: string }>((resolve, reject) => {
          const onMsg = (m: FromWorker) => {
            if (m.type === 'ready') {
              w.off('message', onMsg);
              resolve({ w, backend: m.backend.choice });
            } else if (m.type === 'fatal') reject(new Error(m.message));
          };
          w.on('message', onMsg);
          w.once('error', reject);
        });
      }),
    );
    const run = (w: Worker, batches: number) =>
      new Promise<number>((resolve, reject) => {
        let sent = 0;
        let got = 0;
        let embedMs = 0;
        const send = () => {
          const images = next(BATCH);
          w.postMessage({ type: 'batch', batchId: ++sent, images } satisfies ToWorker, images.map((i) => i.pair.buffer as ArrayBuffer));
        };
        const onMsg = (m: FromWorker) => {
          if (m.type !== 'result') return;
          embedMs += m.embedMs;
          if (++got === batches) {
            w.off('message', onMsg);
            resolve(embedMs);
          } else if (sent < batches) send();
        };
        w.on('message', onMsg);
        w.once('error', reject);
        send();
        if (batches > 1) send();
      });
    await Promise.all(ready.map((r) => run(r.w, 1)));
    const t0 = performance.now();
    const busy = await Promise.all(ready.map((r) => run(r.w, batchesPerWorker)));
    const seconds = (performance.now() - t0) / 1000;
    const images = workers * batchesPerWorker * BATCH;
    const perRow = busy.map((ms) => (ms / (batchesPerWorker * BATCH * 2)).toFixed(0)).join('/');
    return {
      rate: images / seconds,
      backend: ready[0]!.backend,
      note: `${images} images in ${seconds.toFixed(1)} s; ${perRow} ms per row; load ${loadBefore} -> ${load()}`,
    };
  } finally {
    for (const w of started) void w.terminate();
  }
}

/** Images/s of decode + thumbnail + model input alone (the decode worker's work), `concurrency` at a time. */
async function decodeCeiling(files: string[], concurrency: number, cacheDir: string): Promise<Measured> {
  configureSharp();
  const loadBefore = load();
  const c0 = process.cpuUsage();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < files.length) {
        const f = files[next++]!;
        const r = await decodeImage(f, { thumbnail: { cacheDir, overwrite: true, format: 'auto' } });
        if (!r.ok) throw new Error(`decode failed: ${f}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  return {
    rate: files.length / seconds,
    note: `${((cpu.user + cpu.system) / 1000 / files.length).toFixed(1)} ms CPU per image; load ${loadBefore} -> ${load()}`,
  };
}

async function pipelineRate(folder: string, workers: number): Promise<Measured> {
  const dir = path.join(tmpdir(), `cs-bench-db-${workers}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const store = openStore(path.join(dir, 'bench.db'));
  try {
    const lib = store.libraries.add(folder);
    const loadBefore = load();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await indexLibraries({ db: store.db, libraryIds: [lib.id], workers, progress: new ProgressTracker() });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const busy = r.pool ? r.pool.embedMs / 1000 / (seconds * r.pool.workers) : 0;
    return {
      rate: r.embedded / seconds,
      note:
        `${r.embedded} in ${seconds.toFixed(1)} s; ${((cpu.user + cpu.system) / 1000 / r.embedded).toFixed(0)} ms CPU per image (all threads, ` +
        `model loads included); embed workers in forward passes ${(busy * 100).toFixed(0)}% of the time; load ${loadBefore} -> ${load()}`,
    };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchPipeline(quick: boolean): Promise<Figure[]> {
  const n = quick ? 16 : 1000;
  const cores = availableParallelism();
  const folder = path.join(tmpdir(), `cs-bench-jpegs-${n}`);
  mkdirSync(folder, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = path.join(folder, `photo-${String(i).padStart(5, '0')}.jpg`);
    files.push(f);
    writeFileSync(f, await makeNoiseGradientJpeg(1600, 1200, i + 1));
  }
  const cmd = `npx tsx bench/run.ts ${quick ? '--quick ' : ''}--only pipeline`;
  const thumbs = path.join(tmpdir(), `cs-bench-thumbs-${process.pid}`);
  const decode1 = await decodeCeiling(files, 1, thumbs);
  const decodeAll = await decodeCeiling(files, cores, thumbs);
  rmSync(thumbs, { recursive: true, force: true });

  const pairs: Float32Array[] = [];
  for (const f of files.slice(0, BATCH)) {
    const r = await decodeImage(f, { size: MODEL_INPUT_SIZE });
    if (!r.ok || !r.input) throw new Error(`decode failed: ${f}`);
    pairs.push(r.input.pair);
  }
  const batches = quick ? 2 : 12;
  const bb1 = await backboneCeiling(1, batches, pairs);
  const bbAll = await backboneCeiling(cores, batches, pairs);
  const p1 = await pipelineRate(folder, 1);
  const pAll = await pipelineRate(folder, cores);

  const ceiling = Math.min(bbAll.rate, decodeAll.rate);
  // Decode and inference take turns on the same cores, so even with no waiting at all the
  // pipeline cannot beat 1 / (1/backbone + 1/decode): shown for context, not the target.
  const shared = 1 / (1 / bbAll.rate + 1 / decodeAll.rate);
  return [
    { name: 'decode ceiling (sharp: 1600x1200 JPEG -> model input + thumbnail), 1 at a time', value: decode1.rate, unit: 'img/s', command: cmd, note: decode1.note },
    { name: `decode ceiling, ${cores} at a time`, value: decodeAll.rate, unit: 'img/s', command: cmd, note: decodeAll.note },
    { name: `backbone ceiling (${bb1.backend}, image + mirror, pipeline's embed worker), 1 worker`, value: bb1.rate, unit: 'img/s', command: cmd, note: bb1.note },
    { name: `backbone ceiling, ${cores} workers`, value: bbAll.rate, unit: 'img/s', command: cmd, note: bbAll.note },
    { name: `pipeline scan+decode+thumbnail+embed, 1 embed worker (+ decode worker) (${n} JPEGs)`, value: p1.rate, unit: 'img/s', command: cmd, note: p1.note },
    { name: `pipeline, ${cores} embed workers (${n} JPEGs)`, value: pAll.rate, unit: 'img/s', command: cmd, note: pAll.note },
    {
      name: `pipeline / min(ceilings), ${cores} workers (target >= 0.85)`,
      value: pAll.rate / ceiling,
      unit: 'ratio',
      command: cmd,
      note: `min(${bbAll.rate.toFixed(2)}, ${decodeAll.rate.toFixed(2)})`,
    },
    {
      name: `pipeline / shared-core bound 1/(1/backbone + 1/decode), ${cores} workers (context)`,
      value: pAll.rate / shared,
      unit: 'ratio',
      command: cmd,
      note: `bound ${shared.toFixed(2)} img/s: decode and inference share the cores`,
    },
  ];
}
