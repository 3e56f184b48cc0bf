// chooseK on cached features: npx tsx bench/icon-choosek.ts <set> [candidates comma-separated]
import { readFileSync } from 'node:fs';
import { initTf } from '../core/embed/backend.js';
import { chooseK } from '../core/icon/choosek.js';

await initTf({ prefer: ['wasm', 'cpu'] });
const set = process.argv[2] ?? 'tuxpaint300';
const dir = process.env.FEATURES_DIR ?? '/tmp/features';
const meta = JSON.parse(readFileSync(`${dir}/${set}.json`, 'utf8'));
const b = readFileSync(`${dir}/${set}.f32`);
const x = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
const cands = process.argv[3] ? process.argv[3].split(',').map(Number) : undefined;
const t = performance.now();
const r = chooseK(x, meta.n, meta.d, cands, { criterion: (process.env.CRIT as "modularity" | "silhouette") ?? "modularity", graphK: Number(process.env.GK ?? 10) });
console.log(`${set}: ${r.criterion}: true K ${new Set(meta.labels).size}, chosen K ${r.k} (${((performance.now() - t) / 1000).toFixed(1)} s) | ${r.scores.map((s) => `${s.k}:${s.score.toFixed(4)}`).join(' ')}`);
