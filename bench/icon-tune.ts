// Tuning driver: npx tsx bench/icon-tune.ts <set> '<json options>' [pinsPerClass]
import { readFileSync, existsSync } from 'node:fs';
import { initTf } from '../core/embed/backend.js';
import { evaluate } from '../core/icon/evaluate.js';

const { backend } = await initTf({ prefer: ['wasm', 'cpu'] });
const set = process.argv[2] ?? 'tuxpaint300';
const opts = JSON.parse(process.argv[3] ?? '{}');
const pinsPerClass = Number(process.argv[4] ?? 0);
const dir = process.env.FEATURES_DIR ?? '/tmp/features';
const meta = JSON.parse(readFileSync(`${dir}/${set}.json`, 'utf8'));
const buf = (p: string) => { const b = readFileSync(p); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
const features = buf(`${dir}/${set}.f32`);
const views = existsSync(`${dir}/${set}.flip.f32`) && !opts.noViews ? buf(`${dir}/${set}.flip.f32`) : undefined;
const t = performance.now();
const r = evaluate({ features, n: meta.n, d: meta.d, labels: meta.labels, views, options: opts, pinsPerClass, seeds: opts.seeds });
const f = (m: { mean: number; std: number }) => `${(100 * m.mean).toFixed(1)}±${(100 * m.std).toFixed(1)}`;
console.log(`${set} ${backend.choice} ${JSON.stringify(opts)} pins=${pinsPerClass} | icon acc ${f(r.icon.acc)} nmi ${f(r.icon.nmi)} ari ${f(r.icon.ari)} | km acc ${f(r.kmeans.acc)} nmi ${f(r.kmeans.nmi)} ari ${f(r.kmeans.ari)} | minMargin ${(100 * r.minAccMargin).toFixed(1)} | per-seed ${r.perSeed.map((s) => (100 * s.icon.acc).toFixed(1) + '/' + (100 * s.kmeans.acc).toFixed(1)).join(' ')} | ${((performance.now() - t) / 1000).toFixed(1)}s iconMs ${(r.perSeed.reduce((a, s) => a + s.iconMs, 0) / r.perSeed.length).toFixed(0)}`);
