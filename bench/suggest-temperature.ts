/**
 * The measurement behind SUGGESTION_TEMPERATURE (core/jobs/grouping/activeModel.ts): the
 * temperature at which a suggestion's percentage means what it says, "NN% of such images belong
 * there". On databases grouped from labelled folders (class = the first folder of the path), it
 * ranks every group for every image as the model worker does (softmax of the cosine to each
 * group's centroid, in the head's L2 -> PCA -> L2 space), takes the first suggestion as right
 * when its group is the Hungarian match of the image's class, and picks the temperature with the
 * lowest log loss of the first suggestion's probability over all the databases given:
 *   node bin/constellate.js cluster ../shared/datasets/tuxpaint300 --db /tmp/cal/tux.db
 *   node bin/constellate.js cluster ../shared/datasets/fashion-mnist-1k --db /tmp/cal/fm.db
 *   npx tsx bench/suggest-temperature.ts /tmp/cal/tux.db /tmp/cal/fm.db
 * Prints, per database and temperature, the log loss and the ECE (10 bins) of the first
 * suggestion, over every image and over those in Unsorted (where Review shows it as "best guess").
 */
import { initTf } from '../core/embed/backend.js';
import { auroc, expectedCalibrationError } from '../core/icon/calibration.js';
import { hungarianMatch } from '../core/icon/metrics.js';
import { applyPreprocess, l2normalize } from '../core/icon/preprocess.js';
import { groupingModelId } from '../core/jobs/grouping/groupingModel.js';
import { SUGGESTION_TEMPERATURE } from '../core/jobs/grouping/activeModel.js';
import { decodeRunModel } from '../core/jobs/grouping/runModel.js';
import { openStore } from '../core/store/index.js';
import { getUnsortedThreshold } from '../core/store/unsorted.js';

interface Case {
  name: string;
  /** Per image: cosine to each group's centroid; the right group's slot (-1: none is right); in Unsorted. */
  cos: Float32Array[];
  right: number[];
  unsorted: boolean[];
}

function load(file: string): Case {
  const store = openStore(file, { readonly: true, alreadyChecked: true });
  const runId = store.runs.activeRunId();
  const blob = runId === null ? null : store.runs.loadModel(runId);
  if (runId === null || !blob) throw new Error(`${file}: no grouping: run \`constellate cluster\` first`);
  const head = decodeRunModel(blob).head;
  const m = store.embeddings.loadAll(groupingModelId(store, runId));
  const d = head.preprocessor.dOut;
  const z = l2normalize(applyPreprocess(head.preprocessor, m.vectors, m.count), m.count, d);
  const rows = store.db.raw
    .prepare(
      `SELECT a.image_id AS imageId, a.group_id AS groupId, a.pinned = 0 AND a.confidence < ? AS unsorted, i.rel_path AS relPath
       FROM assignments a JOIN images i ON i.id = a.image_id WHERE a.run_id = ?`,
    )
    .all(getUnsortedThreshold(store.db), runId) as Array<{ imageId: number; groupId: number | null; unsorted: number; relPath: string }>;
  const byId = new Map(rows.map((r) => [r.imageId, r]));
  const groups = [...new Set(rows.flatMap((r) => (r.groupId === null ? [] : [r.groupId])))];
  const slot = new Map(groups.map((g, i) => [g, i]));
  const sums = groups.map(() => new Float64Array(d));
  for (let i = 0; i < m.count; i++) {
    const g = slot.get(byId.get(m.imageIds[i]!)?.groupId ?? -1);
    if (g !== undefined) for (let j = 0; j < d; j++) sums[g]![j]! += z[i * d + j]!;
  }
  const centroids = l2normalize(Float32Array.from(sums.flatMap((s) => Array.from(s))), groups.length, d);
  const classes = [...new Set(rows.map((r) => r.relPath.split('/')[0]!))];
  const classOf = (id: number) => classes.indexOf(byId.get(id)!.relPath.split('/')[0]!);
  // the match on the head's groups (where each image is, or would be above the threshold)
  const ids = [...m.imageIds].filter((id) => (byId.get(id)?.groupId ?? null) !== null);
  const match = hungarianMatch(
    ids.map(classOf),
    ids.map((id) => byId.get(id)!.groupId!),
  );
  const groupOfClass = new Map([...match].map(([g, c]) => [c, g]));
  const out: Case = { name: file, cos: [], right: [], unsorted: [] };
  for (let i = 0; i < m.count; i++) {
    const r = byId.get(m.imageIds[i]!);
    if (!r) continue;
    const cos = new Float32Array(groups.length);
    for (let g = 0; g < groups.length; g++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += z[i * d + j]! * centroids[g * d + j]!;
      cos[g] = s;
    }
    out.cos.push(cos);
    out.right.push(slot.get(groupOfClass.get(classOf(r.imageId)) ?? -1) ?? -1);
    out.unsorted.push(r.groupId === null || r.unsorted === 1);
  }
  store.close();
  return out;
}

/** The first suggestion's probability at temperature t, and whether its group is right. */
function firsts(c: Case, t: number, only?: (i: number) => boolean): { p: number[]; ok: boolean[] } {
  const p: number[] = [];
  const ok: boolean[] = [];
  c.cos.forEach((cos, i) => {
    if (only && !only(i)) return;
    let top = 0;
    for (let g = 1; g < cos.length; g++) if (cos[g]! > cos[top]!) top = g;
    let z = 0;
    for (let g = 0; g < cos.length; g++) z += Math.exp((cos[g]! - cos[top]!) / t);
    p.push(1 / z);
    ok.push(top === c.right[i]);
  });
  return { p, ok };
}

function logLoss(p: number[], ok: boolean[]): number {
  let s = 0;
  p.forEach((x, i) => (s -= Math.log(Math.min(1 - 1e-6, Math.max(1e-6, ok[i] ? x : 1 - x)))));
  return s / Math.max(1, p.length);
}

await initTf();
const cases = process.argv.slice(2).map(load);
const grid = Array.from({ length: 200 }, (_, i) => 0.005 + 0.0025 * i);
const total = (t: number) => cases.reduce((s, c) => s + logLoss(...(Object.values(firsts(c, t)) as [number[], boolean[]])), 0);
const best = grid.reduce((a, b) => (total(b) < total(a) ? b : a));
for (const t of [SUGGESTION_TEMPERATURE, best]) {
  for (const c of cases) {
    const all = firsts(c, t);
    const uns = firsts(c, t, (i) => c.unsorted[i]!);
    const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / Math.max(1, x.length);
    console.log(
      JSON.stringify({
        temperature: Number(t.toFixed(4)),
        db: c.name,
        images: all.p.length,
        firstRight: Number(mean(all.ok.map(Number)).toFixed(3)),
        meanShown: Number(mean(all.p).toFixed(3)),
        logLoss: Number(logLoss(all.p, all.ok).toFixed(3)),
        ece: Number(expectedCalibrationError(all.p, all.ok.map(Number)).toFixed(3)),
        auroc: Number(auroc(all.p, all.ok.map(Number)).toFixed(3)),
        unsorted: {
          images: uns.p.length,
          firstRight: Number(mean(uns.ok.map(Number)).toFixed(3)),
          meanShown: Number(mean(uns.p).toFixed(3)),
        },
      }),
    );
  }
}
