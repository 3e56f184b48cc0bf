/**
 * The app's own path, what a user waits for, at library sizes: `npm run bench -- --only app
 * --sizes 10000,100000[,1000000] [--json]`. Per size, on synthetic embeddings written into a
 * real database through the store (test/fixtures/embeddedLibrary.ts: 50 clusters in 1792-d,
 * with the augmented views indexing embeds for a library of that size (4 an image up to 168,959
 * images, 1 from 506,880: viewsForLibrarySize), 39 KB an image with 4; no pictures, so no
 * embedding time anywhere):
 * - app.first.N: the first clustering as `cluster` runs it: choose K, fit (on the views), the
 *   2-D map, writing the run;
 * - app.regroup.N: Regroup… with another K (PCA, kNN graph and map of the first run reused);
 * - app.unchanged.N (sizes up to 20,000, where the bench writes a file per image): `cluster`
 *   again over the unchanged folder: the scan finds nothing new, nothing is trained;
 * - app.place.100.into.N: 100 images added (their embedding not counted), placed in the groups
 *   by the head in a model worker started for it; app.placeOnMap.100.into.N: the same images on
 *   the map (the worker first indexes every image's features), and .warm: 100 more once indexed.
 * Each step runs in a process of its own (bench/appCase.ts): wall and CPU seconds (all threads),
 * and the peak RSS of that process, worker threads included. The database for a size is built
 * once and kept under the temp folder (its build time is printed); each run works on a copy.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { viewsForLibrarySize } from '../core/jobs/indexing/views.js';
import { LATEST_VERSION } from '../core/store/migrations.js';
import type { AppCase, AppCaseResult } from './appCase.js';
import type { Figure } from './report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLUSTERS = 50;
/** Up to this size a file stands for each image, so that a `cluster` run can scan the folder. */
const FILES_UP_TO = 20000;

function step(c: AppCase): AppCaseResult {
  const child = spawnSync(process.execPath, [...process.execArgv, path.join(here, 'appCase.ts'), JSON.stringify(c)], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status !== 0 || !line.startsWith('{'))
    throw new Error(`app bench step ${c.step} failed (exit ${child.status}): ${child.stdout.slice(-2000)}`);
  return JSON.parse(line) as AppCaseResult;
}

export async function benchApp(quick: boolean, sizes?: number[]): Promise<Figure[]> {
  const list = sizes ?? (quick ? [2000] : [10000, 100000]);
  const figs: Figure[] = [];
  const command = `npm run bench -- --only app --sizes ${list.join(',')}`;
  for (const n of list) {
    const files = n <= FILES_UP_TO;
    const views = viewsForLibrarySize(n);
    // the schema version in the name: an older database would be migrated (and backed up, 4 GB at 100,000) on every run
    const dir = path.join(tmpdir(), `cs-bench-app-${n}-v${views}-c${CLUSTERS}-s${LATEST_VERSION}${files ? '-files' : ''}`);
    const pristine = path.join(dir, 'pristine.db');
    let work = path.join(dir, 'work.db');
    if (!existsSync(path.join(dir, 'READY'))) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      console.error(`  app ${n}: building the database (${views} views an image)`);
      const b = step({ step: 'build', db: pristine, n, views, clusters: CLUSTERS, files });
      console.error(`  app ${n}: built in ${b.seconds.toFixed(0)} s`);
      writeFileSync(path.join(dir, 'READY'), `${b.seconds.toFixed(0)} s\n`);
    }
    for (const ext of ['', '-wal', '-shm', '-reduced']) rmSync(work + ext, { force: true });
    const disk = statfsSync(dir);
    if (disk.bavail * disk.bsize > 1.2 * statSync(pristine).size) copyFileSync(pristine, work);
    else {
      // no room for a copy (1,000,000 images: 39 GB): this run works on the built database,
      // and the next one builds it again
      console.error(`  app ${n}: no room for a copy of the database; working on it (rebuilt next time)`);
      rmSync(path.join(dir, 'READY'));
      work = pristine;
    }
    const load = () => loadavg()[0]!.toFixed(1);
    const fig = (name: string, r: { seconds: number; cpuSeconds: number; peakGiB: number }, note: string): void => {
      const f: Figure = {
        name,
        value: r.seconds,
        unit: 's',
        command,
        seconds: r.seconds,
        cpuSeconds: r.cpuSeconds,
        peakGiB: r.peakGiB,
        note: `${r.cpuSeconds.toFixed(1)} CPU-s, peak RSS ${r.peakGiB.toFixed(2)} GiB; ${note}; load ${load()} on 2 cores`,
      };
      figs.push(f);
      console.error(`  ${name}: ${r.seconds.toFixed(2)} s (${r.cpuSeconds.toFixed(1)} CPU-s), peak ${r.peakGiB.toFixed(2)} GiB; ${note}`);
    };
    const timings = (d: Record<string, unknown>) => {
      const t = (d.timings ?? {}) as Record<string, number>;
      const s = (k: string) => (t[k] === undefined ? '' : `${k.replace(/Ms$/, '')} ${(t[k] / 1000).toFixed(1)} s`);
      return ['chooseKMs', 'preprocessMs', 'knnMs', 'initMs', 'trainMs', 'mapMs', 'write']
        .map((k) => (k === 'write' ? (t.write === undefined ? '' : `write ${Number(t.write).toFixed(1)} s`) : s(k)))
        .filter(Boolean)
        .join(', ');
    };
    const first = step({ step: 'first', db: work });
    const k = Number(first.detail.k);
    fig(`app.first.${n}`, first, `K ${k} chosen (${CLUSTERS} made), views ${String(first.detail.views)}; ${timings(first.detail)}`);
    const k2 = k > 10 ? k - 10 : k + 5;
    const regroup = step({ step: 'regroup', db: work, k: k2 });
    fig(`app.regroup.${n}`, regroup, `K ${k} -> ${k2}; reused ${JSON.stringify(regroup.detail.reused)}; ${timings(regroup.detail)}`);
    if (files) {
      const same = step({ step: 'unchanged', db: work });
      fig(
        `app.unchanged.${n}`,
        same,
        `\`cluster\` over the unchanged folder (scan of ${n} files included): ${same.detail.unchanged ? 'nothing changed, nothing trained' : 'TRAINED'}`,
      );
    }
    const place = step({ step: 'place', db: work, add: 100, views, clusters: CLUSTERS });
    fig(
      `app.place.100.into.${n}`,
      place,
      `placed ${String(place.detail.placed)} by the head in a model worker started for it (its start included), embedding excluded`,
    );
    const d = place.detail as { mapSeconds: number; mapCpu: number; warmSeconds: number; warmCpu: number };
    fig(
      `app.placeOnMap.100.into.${n}`,
      { seconds: d.mapSeconds, cpuSeconds: d.mapCpu, peakGiB: place.peakGiB },
      'the same 100 on the map: the model worker indexes every image first',
    );
    fig(
      `app.place.100.into.${n}.warm`,
      { seconds: d.warmSeconds, cpuSeconds: d.warmCpu, peakGiB: place.peakGiB },
      '100 more placed in the groups and on the map by the indexed worker',
    );
    for (const ext of ['', '-wal', '-shm', '-reduced']) rmSync(work + ext, { force: true });
  }
  return figs;
}
