/**
 * Pipeline throughput on realistic 1600x1200 camera JPEGs (bench/photos.ts), for ONNX Runtime and
 * for the tfjs wasm path, measured in the same run on the same files, interleaved (the machine is
 * shared and noisy: a ratio is only taken between figures from the same round).
 *
 * Per engine:
 *  - the backbone's ceiling: the pipeline's own embed workers (core/embed/worker.ts, as many as
 *    the pool would start: one for ONNX Runtime, one per core for wasm) on ready tensors, 8
 *    images + their mirrors per batch, two batches queued per worker; its CPU time per image
 *    (all threads of the process) gives the ceiling `cores / CPU time`;
 *  - the whole clustering run as a user starts it (`runClusterJob`: scan, check, decode +
 *    thumbnail + embed, train, map, write) on the same folder: the pipeline's rate (images over
 *    scan + check + embed) and the end-to-end rate (images over the whole run).
 * Decode's ceiling (sharp: read, hash, decode, model input, thumbnail) comes from its CPU time per
 * image the same way. The pipeline is then compared with min(ceilings) and with the bound of two
 * stages sharing the cores, `cores / (backbone CPU + decode CPU)` per image.
 *
 * The wasm ceiling is measured by the pipeline's embed worker itself, not a separate script: wasm
 * inference speed depends on the call site (from a module body ~150-170 ms per row, from a
 * function 62-90 ms: a stack-vs-data address aliasing effect), so only the worker that runs the
 * pipeline can give its ceiling.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { EngineChoice } from '../core/embed/engine.js';
import { stopEmbedWorker } from '../core/embed/pool.js';
import type { FromWorker, ReadyImage, ToWorker } from '../core/embed/protocol.js';
import { augmentedViews, viewSeed } from '../core/images/augment.js';
import { decodeImage, MODEL_INPUT_SIZE } from '../core/images/decode.js';
import { DEFAULT_VIEWS } from '../core/jobs/indexing/views.js';
import { configureSharp } from '../core/images/sharpConfig.js';
import { runClusterJob } from '../core/jobs/grouping/clusterJob.js';
import { startWorker } from '../core/runtime/workers.js';
import { openStore } from '../core/store/index.js';
import { benchPhotos, PHOTO_HEIGHT, PHOTO_WIDTH } from './photos.js';
import type { Figure } from './report.js';

const BATCH = 8; // the pool's batch: 8 images + 8 mirrors per forward pass
const ENGINES: readonly EngineChoice[] = ['onnx', 'wasm'];

const load = () => loadavg()[0]!.toFixed(2);
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

/** Decoded real photos with their views, copied for each batch (the worker takes ownership of its input). */
function rowSource(pairs: Float32Array[]): (n: number) => ReadyImage[] {
  let k = 0;
  return (n) =>
    Array.from({ length: n }, () => {
      const i = k++;
      const facts = { width: PHOTO_WIDTH, height: PHOTO_HEIGHT, format: 'jpeg', takenAt: null, camera: null, orientation: 1 };
      return { imageId: i, contentHash: `bench:${i}`, rows: pairs[i % pairs.length]!.slice(), facts, thumbnail: null };
    });
}

interface Ceiling {
  rate: number;
  cpuMsPerImage: number;
  workers: number;
  device: string;
  note: string;
}

/**
 * The backbone alone on `engine`, as many workers as the pool would start, each kept two batches
 * deep; timed on the main thread from the first batch to the last result after one warm-up batch
 * per worker (allocation, wasm tier-up, ORT's first-run profiling).
 */
async function backboneCeiling(engine: EngineChoice, cores: number, batchesPerWorker: number, pairs: Float32Array[]): Promise<Ceiling> {
  const next = rowSource(pairs);
  const loadBefore = load();
  const started: Worker[] = [];
  const spawn = () => {
    const w = startWorker(new URL('../core/embed/worker.ts', import.meta.url), { workerData: { engine } });
    started.push(w);
    return new Promise<{ w: Worker; parallel: boolean; device: string }>((resolve, reject) => {
      const onMsg = (m: FromWorker) => {
        if (m.type === 'ready') {
          w.off('message', onMsg);
          resolve({ w, parallel: m.backend.parallelWorkers, device: m.backend.device });
        } else if (m.type === 'fatal') reject(new Error(m.message));
      };
      w.on('message', onMsg);
      w.once('error', reject);
    });
  };
  try {
    const first = await spawn();
    const ready = [first, ...(await Promise.all(Array.from({ length: first.parallel ? cores - 1 : 0 }, spawn)))];
    const run = (w: Worker, batches: number) =>
      new Promise<number>((resolve, reject) => {
        let sent = 0;
        let got = 0;
        let embedMs = 0;
        const send = () => {
          const images = next(BATCH);
          sent++;
          w.postMessage(
            { type: 'batch', batchId: sent, images } satisfies ToWorker,
            images.map((i) => i.rows.buffer as ArrayBuffer),
          );
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
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const busy = await Promise.all(ready.map((r) => run(r.w, batchesPerWorker)));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuMs(process.cpuUsage(c0));
    const images = ready.length * batchesPerWorker * BATCH;
    const perRow = busy.map((ms) => (ms / (batchesPerWorker * BATCH * 2)).toFixed(0)).join('/');
    return {
      rate: images / seconds,
      cpuMsPerImage: cpu / images,
      workers: ready.length,
      device: first.device,
      note: `${images} images in ${seconds.toFixed(1)} s on ${ready.length} worker(s); ${perRow} ms per row (wall); ${(cpu / images).toFixed(1)} ms CPU per image; load ${loadBefore} -> ${load()}`,
    };
  } finally {
    // ONNX Runtime's worker releases its session before it ends (see stopEmbedWorker): the next
    // engine's session opens after it has.
    await Promise.all(started.map((w) => stopEmbedWorker(w, { choice: engine })));
  }
}

/** Decode + thumbnail + model input alone (the decode worker's work), `concurrency` at a time. */
async function decodeCeiling(
  files: string[],
  concurrency: number,
  cacheDir: string,
): Promise<{ rate: number; cpuMsPerImage: number; note: string }> {
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
  const cpu = cpuMs(process.cpuUsage(c0)) / files.length;
  return {
    rate: files.length / seconds,
    cpuMsPerImage: cpu,
    note: `${files.length} in ${seconds.toFixed(1)} s; ${cpu.toFixed(1)} ms CPU per image; load ${loadBefore} -> ${load()}`,
  };
}

interface RunFigures {
  pipelineRate: number;
  endToEndRate: number;
  /** CPU time per image of the whole run (all threads). */
  cpuMsPerImage: number;
  /** CPU time per image up to the end of embedding (scan, check, decode, embed, model loads). */
  pipelineCpuMsPerImage: number;
  note: string;
}

/** One clustering run as a user starts it, on a fresh database, with `engine` forced. */
async function clusterRun(folder: string, n: number, engine: EngineChoice): Promise<RunFigures> {
  const dir = path.join(tmpdir(), `cs-bench-db-${engine}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const store = openStore(path.join(dir, 'bench.db'));
  const before = process.env.CONSTELLATE_ENGINE;
  process.env.CONSTELLATE_ENGINE = engine;
  try {
    const lib = store.libraries.add(folder);
    const loadBefore = load();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let indexCpu: number | null = null;
    const summary = await runClusterJob({
      store,
      libraryIds: [lib.id],
      onProgress: (_phases, phase) => {
        if (indexCpu === null && (phase === 'train' || phase === 'map' || phase === 'write')) indexCpu = cpuMs(process.cpuUsage(c0));
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuMs(process.cpuUsage(c0));
    if (summary.images !== n) throw new Error(`${engine}: clustered ${summary.images} of ${n} images`);
    if (summary.backend.choice !== engine) throw new Error(`${engine}: the run used ${summary.backend.choice}`);
    const p = summary.secondsByPhase;
    const indexSeconds = (p.scan ?? 0) + (p.check ?? 0) + (p.embed ?? 0);
    const phases = Object.entries(p)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ');
    return {
      pipelineRate: n / indexSeconds,
      endToEndRate: n / seconds,
      cpuMsPerImage: cpu / n,
      pipelineCpuMsPerImage: (indexCpu ?? cpu) / n,
      note: `${n} in ${seconds.toFixed(1)} s (${phases}); CPU per image ${((indexCpu ?? cpu) / n).toFixed(0)} ms to the end of embedding, ${(cpu / n).toFixed(0)} ms in all (all threads, model loads and training included); ${summary.backend.device}; load ${loadBefore} -> ${load()}`,
    };
  } finally {
    if (before === undefined) delete process.env.CONSTELLATE_ENGINE;
    else process.env.CONSTELLATE_ENGINE = before;
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

export async function benchPipeline(quick: boolean): Promise<Figure[]> {
  const n = quick ? 16 : 400;
  const rounds = quick ? 1 : 2;
  const cores = availableParallelism();
  const { folder, files } = await benchPhotos(n);
  const cmd = `npx tsx bench/run.ts ${quick ? '--quick ' : ''}--only pipeline`;
  const figures: Figure[] = [];

  const thumbs = path.join(tmpdir(), `cs-bench-thumbs-${process.pid}`);
  const decode = await decodeCeiling(files, cores, thumbs);
  rmSync(thumbs, { recursive: true, force: true });
  const decodeCpuCeiling = (cores * 1000) / decode.cpuMsPerImage;
  figures.push({
    name: `decode (sharp: ${PHOTO_WIDTH}x${PHOTO_HEIGHT} photo -> model input + thumbnail), ${cores} at a time`,
    value: decode.rate,
    unit: 'img/s',
    command: cmd,
    note: decode.note,
  });
  figures.push({
    name: 'decode ceiling from CPU time (cores / CPU per image)',
    value: decodeCpuCeiling,
    unit: 'img/s',
    command: cmd,
    note: `${decode.cpuMsPerImage.toFixed(1)} ms CPU per image`,
  });

  const pairs: Float32Array[] = [];
  for (const f of files.slice(0, BATCH)) {
    const r = await decodeImage(f, { size: MODEL_INPUT_SIZE });
    if (!r.ok || !r.input) throw new Error(`decode failed: ${f}`);
    const rows = new Float32Array((1 + DEFAULT_VIEWS) * r.input.data.length);
    rows.set(r.input.data);
    rows.set(augmentedViews(r.input.data, MODEL_INPUT_SIZE, DEFAULT_VIEWS, viewSeed(r.hash)), r.input.data.length);
    pairs.push(rows);
  }
  const batches = quick ? 2 : 8;
  const ceilings = new Map<EngineChoice, Ceiling>();
  for (const engine of ENGINES) {
    const c = await backboneCeiling(engine, cores, batches, pairs);
    ceilings.set(engine, c);
    figures.push({
      name: `backbone (${engine}, the image and its ${DEFAULT_VIEWS} views), ${c.workers} worker(s)`,
      value: c.rate,
      unit: 'img/s',
      command: cmd,
      note: `${c.device}; ${c.note}`,
    });
    figures.push({
      name: `backbone ceiling from CPU time (${engine})`,
      value: (cores * 1000) / c.cpuMsPerImage,
      unit: 'img/s',
      command: cmd,
      note: `${c.cpuMsPerImage.toFixed(1)} ms CPU per image`,
    });
  }

  // Interleaved: onnx, wasm, then wasm, onnx, ... so neither always runs first.
  const runs = new Map<EngineChoice, RunFigures[]>(ENGINES.map((e) => [e, []]));
  for (let r = 0; r < rounds; r++) {
    for (const engine of r % 2 === 0 ? ENGINES : [...ENGINES].reverse()) runs.get(engine)!.push(await clusterRun(folder, n, engine));
  }
  for (const engine of ENGINES) {
    const rs = runs.get(engine)!;
    const last = rs[rs.length - 1]!;
    figures.push({
      name: `pipeline scan+check+decode+thumbnail+embed (${engine}, ${n} photos), median of ${rs.length}`,
      value: median(rs.map((x) => x.pipelineRate)),
      unit: 'img/s',
      command: cmd,
      note: rs.map((x) => x.pipelineRate.toFixed(2)).join(' / '),
    });
    figures.push({
      name: `end to end: cluster the folder (${engine}), median of ${rs.length}`,
      value: median(rs.map((x) => x.endToEndRate)),
      unit: 'img/s',
      command: cmd,
      note: last.note,
    });
  }
  const onnx = runs.get('onnx')!;
  const wasm = runs.get('wasm')!;
  const paired = (f: (x: RunFigures) => number) => median(onnx.map((o, i) => f(o) / f(wasm[i]!)));
  figures.push({
    name: 'pipeline images/s, ONNX Runtime / wasm, same rounds (target >= 3)',
    value: paired((x) => x.pipelineRate),
    unit: 'ratio',
    command: cmd,
    note: `per round: ${onnx.map((o, i) => (o.pipelineRate / wasm[i]!.pipelineRate).toFixed(2)).join(' / ')}`,
  });
  figures.push({
    name: 'end-to-end images/s, ONNX Runtime / wasm, same rounds',
    value: paired((x) => x.endToEndRate),
    unit: 'ratio',
    command: cmd,
    note: `per round: ${onnx.map((o, i) => (o.endToEndRate / wasm[i]!.endToEndRate).toFixed(2)).join(' / ')}`,
  });
  figures.push({
    name: 'CPU time per image, wasm / ONNX Runtime, whole run',
    value: median(wasm.map((w, i) => w.cpuMsPerImage / onnx[i]!.cpuMsPerImage)),
    unit: 'ratio',
    command: cmd,
    note: 'not disturbed by other load on the machine',
  });

  // Efficiency against the ceilings, in CPU time: the machine is shared, so a wall-clock rate
  // says as much about the neighbours as about the pipeline. `cores / pipeline CPU per image` is
  // the rate the pipeline would have on idle cores.
  for (const engine of ENGINES) {
    const bb = ceilings.get(engine)!;
    const bbCeiling = (cores * 1000) / bb.cpuMsPerImage;
    const minCeiling = Math.min(bbCeiling, decodeCpuCeiling);
    const shared = (cores * 1000) / (bb.cpuMsPerImage + decode.cpuMsPerImage);
    const pipeCpu = median(runs.get(engine)!.map((x) => x.pipelineCpuMsPerImage));
    const rate = (cores * 1000) / pipeCpu;
    figures.push({
      name: `pipeline rate from its CPU time, cores / CPU per image (${engine})`,
      value: rate,
      unit: 'img/s',
      command: cmd,
      note: `${pipeCpu.toFixed(1)} ms CPU per image from scan to the last embedding, model loads included`,
    });
    figures.push({
      name: `pipeline / min(backbone, decode) ceilings, CPU time (${engine}) (target >= 0.85)`,
      value: rate / minCeiling,
      unit: 'ratio',
      command: cmd,
      note: `min(${bbCeiling.toFixed(1)}, ${decodeCpuCeiling.toFixed(1)}) img/s; at most ${(Math.max(bb.cpuMsPerImage, decode.cpuMsPerImage) / (bb.cpuMsPerImage + decode.cpuMsPerImage)).toFixed(2)} where both stages share the cores`,
    });
    figures.push({
      name: `pipeline / shared-core bound cores/(backbone + decode CPU per image) (${engine})`,
      value: rate / shared,
      unit: 'ratio',
      command: cmd,
      note: `bound ${shared.toFixed(1)} img/s: decode and inference share the ${cores} cores`,
    });
  }
  return figures;
}
