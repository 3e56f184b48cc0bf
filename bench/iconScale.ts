/**
 * I-Con at library scale, streamed from SQLite (run in its own process so its peak RSS is its
 * own): writes N synthetic 1792-d embeddings into a real Constellate database, then fits
 * Debiased InfoNCE Clustering reading them back a block at a time (store rowSource ->
 * fitSource), and k-means on the same preprocessed features. Prints one JSON line.
 * `npx tsx bench/iconScale.ts N [clusters]` (bench/icon.ts runs it for N = 1,000,000).
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BACKBONE } from '../core/embed/backboneInfo.js';
import { initTf } from '../core/embed/backend.js';
import { DebiasedInfoNCEClustering } from '../core/icon/clustering.js';
import { kmeans } from '../core/icon/kmeans.js';
import { hungarianAccuracy } from '../core/icon/metrics.js';
import { fitPreprocessSource } from '../core/icon/preprocess.js';
import { float32ToBlob } from '../core/store/embeddings.js';
import { openStore } from '../core/store/index.js';
import { syntheticBlobs } from './synthetic.js';

const n = Number(process.argv[2] ?? 1_000_000);
const C = Number(process.argv[3] ?? 50);
const d = BACKBONE.dim;
const { backend } = await initTf();
const dir = path.join(tmpdir(), `cs-bench-icon-${process.pid}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(path.join(dir, 'lib'), { recursive: true });
const file = path.join(dir, 'scale.db');
const store = openStore(file);
try {
  // ---- a real database: one library, n ok images, one embedding each (rows written in blocks)
  let t = performance.now();
  const now = Date.now();
  store.db.raw.prepare(`INSERT INTO libraries (id, root_path, name, added_at) VALUES (1, ?, 'bench', ?)`).run(path.join(dir, 'lib'), now);
  const img = store.db.raw.prepare(
    `INSERT INTO images (id, library_id, rel_path, name, size, mtime_ms, content_hash, status, first_seen_at, updated_at)
     VALUES (?, 1, ?, ?, 1000, 0, ?, 'ok', ?, ?)`,
  );
  const emb = store.db.raw.prepare(
    `INSERT INTO embeddings (content_hash, model, view, dim, vector, created_at) VALUES (?, ?, '', ?, ?, ?)`,
  );
  const labels = new Int32Array(n);
  const BLOCK = 10_000;
  for (let s = 0; s < n; s += BLOCK) {
    const m = Math.min(BLOCK, n - s);
    const { x, labels: lb } = syntheticBlobs(m, d, C, 1, s);
    labels.set(lb, s);
    store.db.raw.transaction(() => {
      for (let r = 0; r < m; r++) {
        const id = s + r + 1;
        img.run(id, `f/${id}.jpg`, `${id}.jpg`, `cs1:${id}`, now, now);
        emb.run(`cs1:${id}`, BACKBONE.id, d, float32ToBlob(x.subarray(r * d, (r + 1) * d)), now);
      }
    })();
  }
  store.db.checkpoint();
  const writeS = (performance.now() - t) / 1000;
  const dbBytes = statSync(file).size;

  // ---- I-Con, streaming the embeddings from SQLite
  const ids = Int32Array.from({ length: n }, (_, i) => i + 1);
  const src = store.embeddings.rowSource(BACKBONE.id, ids);
  t = performance.now();
  const model = new DebiasedInfoNCEClustering({ nClusters: C, seed: 0 });
  const fit = model.fitSource(src);
  const iconS = (performance.now() - t) / 1000;
  const iconAcc = hungarianAccuracy(labels, fit.labels);
  const rssAfterIcon = process.resourceUsage().maxRSS * 1024;

  // ---- k-means on the same preprocessed features (the shipped preprocessing, streamed too)
  t = performance.now();
  const { out: xs } = fitPreprocessSource(src, { seed: 0, ...model.opts.preprocess });
  const prepS = (performance.now() - t) / 1000;
  t = performance.now();
  const kmOpts = n > 100_000 ? { nInit: 1, maxIter: 50 } : { nInit: 3, maxIter: 100 };
  const km = kmeans(xs, n, xs.length / n, { k: C, seed: 0, ...kmOpts });
  const kmS = (performance.now() - t) / 1000;
  console.log(
    JSON.stringify({
      n,
      d,
      C,
      backend: backend.choice,
      writeS,
      dbBytes,
      iconS,
      iconAcc,
      timings: fit.timings,
      kmeansS: kmS,
      kmeansPrepS: prepS,
      kmeansOpts: kmOpts,
      kmeansAcc: hungarianAccuracy(labels, km.labels),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      peakRssAfterIconBytes: rssAfterIcon,
    }),
  );
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
