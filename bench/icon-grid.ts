/**
 * Tuning grid for I-Con on a labeled set, on the embeddings `constellate eval` cached (its
 * --db): every option set against k-means on the same features, per seed.
 *   node bin/constellate.js eval ../shared/datasets/tuxpaint300 --db /tmp/tux.db --seeds 1
 *   npx tsx bench/icon-grid.ts /tmp/tux.db 10 '[{}, {"knn": 5}, {"init": "kmeans", "pins": 5}]'
 * Seeds: N (0..N-1) or A-B (A..B-1). Option keys are ClusteringOptions, plus pins (per class)
 * and noViews. Labels are the first-level folder names, as in eval.
 */
import Database from 'better-sqlite3';
import { initTf } from '../core/embed/backend.js';
import { evaluate } from '../core/icon/evaluate.js';
import { BACKBONE } from '../core/embed/backboneInfo.js';
await initTf({ prefer: ['wasm'] });
const dbPath = process.argv[2]!;
const set = dbPath.replace(/^.*\//, '').replace(/\.db$/, '');
const nSeeds = process.argv[3]!.split('-').map(Number);
const seeds = nSeeds.length === 2 ? Array.from({ length: nSeeds[1]! - nSeeds[0]! }, (_, i) => nSeeds[0]! + i) : Array.from({ length: nSeeds[0]! }, (_, i) => i);
const grid = JSON.parse(process.argv[4]!) as object[];
const db = new Database(dbPath, { readonly: true });
const rows = db.prepare(`SELECT i.id, i.rel_path AS p, e.vector AS v, e.view AS view FROM images i JOIN embeddings e ON e.content_hash = i.content_hash WHERE e.model = ? AND i.status = 'ok' ORDER BY i.id`).all(BACKBONE.id) as Array<{ id: number; p: string; v: Buffer; view: string }>;
const byId = new Map<number, { p: string; f?: Buffer; g?: Buffer }>();
for (const r of rows) { const e = byId.get(r.id) ?? { p: r.p }; if (!r.view) e.f = r.v; else e.g = r.v; byId.set(r.id, e); }
const ents = [...byId.values()].filter((e) => e.f && e.g && e.p.includes('/'));
const n = ents.length, d = ents[0]!.f!.byteLength / 4;
const features = new Float32Array(n * d), views = new Float32Array(n * d);
ents.forEach((e, i) => { features.set(new Float32Array(e.f!.buffer, e.f!.byteOffset, d), i * d); views.set(new Float32Array(e.g!.buffer, e.g!.byteOffset, d), i * d); });
const names = [...new Set(ents.map((e) => e.p.split('/')[0]!))].sort();
const labels = ents.map((e) => names.indexOf(e.p.split('/')[0]!));
console.log(`${set}: n=${n} d=${d} k=${names.length}`);
for (const o of grid) {
  const { noViews, pins, ...opts } = o as { noViews?: boolean; pins?: number };
  const r = evaluate({ features, n, d, labels, views: noViews ? undefined : views, options: opts, pinsPerClass: pins ?? 0, seeds });
  const f = (m: { mean: number; std: number }) => `${(100 * m.mean).toFixed(1)}±${(100 * m.std).toFixed(1)}`;
  console.log(`${set} ${JSON.stringify(o)} | icon ${f(r.icon.acc)} nmi ${f(r.icon.nmi)} ari ${f(r.icon.ari)} | km ${f(r.kmeans.acc)} | margin ${(100 * (r.icon.acc.mean - r.kmeans.acc.mean)).toFixed(1)} min ${(100 * r.minAccMargin).toFixed(1)} | ${r.perSeed.map((s) => (100 * s.icon.acc).toFixed(0) + '/' + (100 * s.kmeans.acc).toFixed(0)).join(' ')} | iconMs ${(r.perSeed.reduce((a, s) => a + s.iconMs, 0) / r.perSeed.length).toFixed(0)}`);
}
