/**
 * The measurement behind SUGGESTION_TEMPERATURE (core/jobs/grouping/activeModel.ts): per image,
 * how much closer its own group's centroid is than the next group's, in raw unit backbone space
 * and in the head's feature space (where the model worker ranks suggestions). Run it on a
 * database with a grouping:
 *   node bin/constellate.js cluster ../shared/datasets/tuxpaint300 ../shared/datasets/fashion-mnist-1k --db /tmp/s.db
 *   npx tsx bench/suggest-temperature.ts /tmp/s.db
 */
import { initTf } from '../core/embed/backend.js';
import { applyPreprocess } from '../core/icon/preprocess.js';
import { groupingModelId } from '../core/jobs/grouping/groupingModel.js';
import { decodeRunModel } from '../core/jobs/grouping/runModel.js';
import { openStore } from '../core/store/index.js';

const store = openStore(process.argv[2]!);
await initTf();
const runId = store.runs.activeRunId();
const blob = runId === null ? null : store.runs.loadModel(runId);
if (runId === null || !blob) throw new Error('no grouping in this database: run `constellate cluster` first');
const head = decodeRunModel(blob).head;
const m = store.embeddings.loadAll(groupingModelId(store, runId));
const groupOf = new Map(store.groups.listAssignments(runId).flatMap((a) => (a.groupId === null ? [] : [[a.imageId, a.groupId] as const])));

function unitRows(x: Float32Array, n: number, d: number): Float32Array {
  const o = new Float32Array(x);
  for (let i = 0; i < n; i++) {
    const s = Math.hypot(...o.subarray(i * d, (i + 1) * d)) || 1;
    for (let j = 0; j < d; j++) o[i * d + j]! /= s;
  }
  return o;
}

/** Median and mean over images of (cosine to the nearest group centroid) - (to the second nearest). */
function gaps(z: Float32Array, d: number): { median: number; mean: number } {
  const groups = [...new Set(groupOf.values())];
  const slot = new Map(groups.map((g, i) => [g, i]));
  const c = new Float32Array(groups.length * d);
  for (let i = 0; i < m.count; i++) {
    const g = slot.get(groupOf.get(m.imageIds[i]!) ?? -1);
    if (g !== undefined) for (let j = 0; j < d; j++) c[g * d + j]! += z[i * d + j]!;
  }
  const unit = unitRows(c, groups.length, d);
  const out: number[] = [];
  for (let i = 0; i < m.count; i++) {
    const cos = groups.map((_, g) => unit.subarray(g * d, (g + 1) * d).reduce((s, x, j) => s + x * z[i * d + j]!, 0)).sort((a, b) => b - a);
    out.push(cos[0]! - cos[1]!);
  }
  out.sort((a, b) => a - b);
  return { median: out[out.length >> 1]!, mean: out.reduce((a, b) => a + b, 0) / out.length };
}

const raw = gaps(unitRows(m.vectors, m.count, m.dim), m.dim);
const inHead = gaps(
  unitRows(applyPreprocess(head.preprocessor, m.vectors, m.count), m.count, head.preprocessor.dOut),
  head.preprocessor.dOut,
);
// the temperature at which the nearest group is 30 times as likely as the next, at the median gap
console.log(JSON.stringify({ images: m.count, raw, head: inHead, temperatureFor30x: inHead.median / Math.log(30) }));
