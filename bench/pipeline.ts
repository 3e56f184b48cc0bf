/**
 * Pipeline throughput on large JPEGs: scan+decode+thumbnail+embed with one worker and with
 * all cores, next to the backbone's own ceiling (inference alone) and sharp's ceiling
 * (decode alone, thumbnails included), and the ratio to min(ceilings).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { decodeImage } from '../core/images/decode.js';
import { configureSharp } from '../core/images/sharpConfig.js';
import { indexLibraries } from '../core/jobs/indexLibrary.js';
import { ProgressTracker } from '../core/jobs/progress.js';
import { siblingModule, startWorker } from '../core/jobs/workers.js';
import { openStore } from '../core/store/index.js';
import { makeNoiseGradientJpeg } from '../test/fixtures/badCorpus.js';
import type { Figure } from './report.js';

async function backboneCeiling(workers: number, perWorker: number): Promise<{ rate: number; backend: string }> {
  const runs = Array.from({ length: workers }, () =>
    new Promise<{ seconds: number; images: number; backend: string }>((resolve, reject) => {
      const w = startWorker(siblingModule(import.meta.url, 'backboneWorker'), { workerData: { calls: Math.ceil(perWorker / 8) } });
      w.once('message', (m: { seconds: number; images: number; backend: string }) => {
        resolve(m);
        void w.terminate();
      });
      w.once('error', reject);
    }),
  );
  const res = await Promise.all(runs);
  return { rate: res.reduce((a, r) => a + r.images / r.seconds, 0), backend: res[0]!.backend };
}

async function decodeCeiling(files: string[], concurrency: number, cacheDir: string): Promise<number> {
  configureSharp();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < files.length) {
        const f = files[next++]!;
        const r = await decodeImage(f, { thumbnail: { cacheDir, overwrite: true } });
        if (!r.ok) throw new Error(`decode failed: ${f}`);
      }
    }),
  );
  return files.length / ((performance.now() - t0) / 1000);
}

async function pipelineRate(folder: string, workers: number): Promise<number> {
  const dir = path.join(tmpdir(), `cs-bench-db-${workers}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const store = openStore(path.join(dir, 'bench.db'));
  try {
    const lib = store.libraries.add(folder);
    const t0 = performance.now();
    const r = await indexLibraries({ db: store.db, libraryIds: [lib.id], workers, progress: new ProgressTracker() });
    return r.embedded / ((performance.now() - t0) / 1000);
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
  const cmd = `npm run bench -- ${quick ? '--quick ' : ''}--only pipeline`;
  const thumbs = path.join(tmpdir(), `cs-bench-thumbs-${process.pid}`);
  const decode1 = await decodeCeiling(files, 1, thumbs);
  const decodeAll = await decodeCeiling(files, cores, thumbs);
  rmSync(thumbs, { recursive: true, force: true });
  const perWorker = quick ? 16 : 96;
  const bb1 = await backboneCeiling(1, perWorker);
  const bbAll = await backboneCeiling(cores, perWorker);
  const p1 = await pipelineRate(folder, 1);
  const pAll = await pipelineRate(folder, cores);
  const ceiling = Math.min(bbAll.rate, decodeAll);
  return [
    { name: `decode ceiling (sharp, 1600x1200 JPEG + thumbnail), 1 thread`, value: decode1, unit: 'img/s', command: cmd },
    { name: `decode ceiling, ${cores} threads`, value: decodeAll, unit: 'img/s', command: cmd },
    { name: `backbone ceiling (${bb1.backend}, image + flip), 1 worker`, value: bb1.rate, unit: 'img/s', command: cmd },
    { name: `backbone ceiling, ${cores} workers`, value: bbAll.rate, unit: 'img/s', command: cmd },
    { name: `pipeline scan+decode+thumbnail+embed, 1 worker (${n} JPEGs)`, value: p1, unit: 'img/s', command: cmd },
    { name: `pipeline, ${cores} workers (${n} JPEGs)`, value: pAll, unit: 'img/s', command: cmd },
    { name: `pipeline / min(ceilings), ${cores} workers (target >= 0.85)`, value: pAll / ceiling, unit: 'ratio', command: cmd },
  ];
}
