/**
 * One step of the app-path benchmark (bench/app.ts) in a process of its own, so that its peak
 * RSS is its own (worker threads included: the whole tree of what the app runs for it). Prints
 * one JSON line. `npx tsx bench/appCase.ts '{"step":"first","db":"/tmp/x.db"}'`; steps:
 * - build: a database of `n` embedded images with `views` views each (test/fixtures/embeddedLibrary.ts);
 * - first: the first clustering as `cluster` runs it (choose K, fit, map, write), no indexing;
 * - regroup: Regroup with another K (`k`);
 * - unchanged: `cluster` over the library's folder when nothing changed (scan included);
 * - place: `add` images added (embeddings written, not timed), then placed by the head in the
 *   model worker (started cold, as `cluster --place-new` does), then put on the map.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ActiveModel } from '../core/jobs/grouping/activeModel.js';
import { runClusterJob } from '../core/jobs/grouping/clusterJob.js';
import { placeUngroupedImages } from '../core/jobs/grouping/placeNew.js';
import { chooseViewsForIndexing, setViewsPerImage } from '../core/jobs/indexing/views.js';
import { openStore } from '../core/store/index.js';
import { addEmbeddedLibrary } from '../test/fixtures/embeddedLibrary.js';

export interface AppCase {
  step: 'build' | 'first' | 'regroup' | 'unchanged' | 'place';
  db: string;
  n?: number;
  views?: number;
  clusters?: number;
  files?: boolean;
  k?: number;
  add?: number;
}

export interface AppCaseResult {
  seconds: number;
  cpuSeconds: number;
  peakGiB: number;
  detail: Record<string, unknown>;
}

const c = JSON.parse(process.argv[2]!) as AppCase;
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const root = path.join(path.dirname(c.db), 'photos');

let detail: Record<string, unknown> = {};
let t0 = 0;
let c0 = 0;
const start = () => {
  t0 = performance.now();
  c0 = cpu();
};
let seconds = 0;
let cpuSeconds = 0;
const stop = () => {
  seconds = (performance.now() - t0) / 1000;
  cpuSeconds = cpu() - c0;
};

if (c.step === 'build') {
  rmSync(c.db, { force: true });
  rmSync(root, { recursive: true, force: true });
  const store = openStore(c.db);
  // recorded as indexing records it for a library of this size (training reads it)
  if (chooseViewsForIndexing(store.db, c.n!) !== (c.views ?? 4)) setViewsPerImage(store.db, c.views ?? 4);
  start();
  addEmbeddedLibrary(store, root, {
    n: c.n!,
    clusters: c.clusters ?? 50,
    views: c.views ?? 4,
    files: c.files,
    onProgress: (d) => d % 20000 === 0 && console.error(`  built ${d}`),
  });
  store.db.checkpoint();
  stop();
  store.close();
} else {
  const store = openStore(c.db);
  try {
    if (c.step === 'first' || c.step === 'regroup' || c.step === 'unchanged') {
      start();
      const s = await runClusterJob({
        store,
        index: c.step !== 'regroup',
        // first: nothing to index (the images exist only as rows); unchanged: scan the folder
        libraryIds: c.step === 'first' ? [] : undefined,
        k: c.step === 'regroup' ? c.k! : null,
        seed: 0,
      });
      stop();
      const run = store.runs.get(s.runId)!;
      detail = {
        k: s.k,
        images: s.images,
        unchanged: s.unchanged ?? false,
        timings: run.timings,
        reused: run.params.reused,
        views: run.params.views,
      };
    } else if (c.step === 'place') {
      const lib = store.libraries.list()[0]!;
      const n = store.images.countsByStatus().ok;
      const added = addEmbeddedLibrary(store, root, {
        n: c.add!,
        first: n,
        libraryId: lib.id,
        clusters: c.clusters ?? 50,
        views: c.views ?? 4,
      });
      const model = new ActiveModel(store);
      start();
      const r = await placeUngroupedImages(store, model);
      stop();
      const placeSeconds = seconds;
      const placeCpu = cpuSeconds;
      start();
      const at = await model.placeOnMap(store.runs.activeRunId()!, added.imageIds);
      stop();
      const mapSeconds = seconds;
      const mapCpu = cpuSeconds;
      // the same question again: the worker's index is built
      const more = addEmbeddedLibrary(store, root, {
        n: c.add!,
        first: n + c.add!,
        libraryId: lib.id,
        clusters: c.clusters ?? 50,
        views: c.views ?? 4,
      });
      start();
      await placeUngroupedImages(store, model);
      const warmAt = await model.placeOnMap(store.runs.activeRunId()!, more.imageIds);
      stop();
      await model.close();
      detail = { placed: r?.placed, onMap: at.size, mapSeconds, mapCpu, warmSeconds: seconds, warmCpu: cpuSeconds, warmOnMap: warmAt.size };
      seconds = placeSeconds;
      cpuSeconds = placeCpu;
    }
  } finally {
    store.close();
  }
}
const result: AppCaseResult = { seconds, cpuSeconds, peakGiB: (process.resourceUsage().maxRSS * 1024) / 2 ** 30, detail };
console.log(JSON.stringify(result));
