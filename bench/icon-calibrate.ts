/**
 * Refits the confidence calibration (core/icon/calibration.ts, CONFIDENCE_CALIBRATION): the
 * logistic sigmoid(slope * phi + intercept) of the head's max phi to "in its class's group",
 * pooled over labelled sets and seeds, and reports its honesty per set: fitted on all sets
 * (what ships) and fitted on the other sets only (held out), ECE and AUROC each.
 *   node bin/constellate.js eval ../shared/datasets/tuxpaint300 --db /tmp/eval.db --seeds 1
 *   node bin/constellate.js eval ../shared/datasets/fashion-mnist-1k --db /tmp/eval.db --seeds 1
 *   npx tsx bench/icon-calibrate.ts /tmp/eval.db [seeds=5]
 * Every library of the database is one labelled set (as eval leaves them).
 */
import { initTf } from '../core/embed/backend.js';
import { auroc, expectedCalibrationError, inRightGroup } from '../core/icon/calibration.js';
import { DebiasedInfoNCEClustering } from '../core/icon/clustering.js';
import { loadLabelled } from '../core/cli/eval.js';
import { openStore } from '../core/store/index.js';

await initTf({ prefer: ['wasm'] });
const dbPath = process.argv[2]!;
const seeds = Number(process.argv[3] ?? 5);
const store = openStore(dbPath, { readonly: true });
const sets: Array<{ name: string; phi: number[]; ok: number[] }> = [];
for (const lib of store.libraries.list()) {
  const { features, views, n, d, labels, classes } = loadLabelled(store, lib.id, lib.rootPath);
  const set = { name: lib.rootPath.replace(/^.*[\\/]/, ''), phi: [] as number[], ok: [] as number[] };
  for (let seed = 0; seed < seeds; seed++) {
    const model = new DebiasedInfoNCEClustering({ nClusters: classes.length, seed });
    const fit = model.fit(features, n, d, { views });
    const proba = model.predictProba(features, n);
    const ok = inRightGroup(labels, fit.labels);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 0; c < classes.length; c++) best = Math.max(best, proba[i * classes.length + c]!);
      set.phi.push(best);
      set.ok.push(ok[i]!);
    }
  }
  sets.push(set);
}
store.close();

/** Logistic regression on one feature by Newton's method (maximum likelihood, no penalty). */
function fitLogistic(x: number[], y: number[]): { slope: number; intercept: number } {
  let a = 0;
  let b = 0;
  for (let it = 0; it < 50; it++) {
    let ga = 0,
      gb = 0,
      haa = 0,
      hab = 0,
      hbb = 0;
    for (let i = 0; i < x.length; i++) {
      const p = 1 / (1 + Math.exp(-(a * x[i]! + b)));
      const w = p * (1 - p);
      ga += (y[i]! - p) * x[i]!;
      gb += y[i]! - p;
      haa += w * x[i]! * x[i]!;
      hab += w * x[i]!;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    a += (hbb * ga - hab * gb) / det;
    b += (haa * gb - hab * ga) / det;
  }
  return { slope: a, intercept: b };
}

const all = fitLogistic(
  sets.flatMap((s) => s.phi),
  sets.flatMap((s) => s.ok),
);
console.log(
  `CONFIDENCE_CALIBRATION = { slope: ${all.slope.toFixed(3)}, intercept: ${all.intercept.toFixed(3)} } (${sets.map((s) => s.name).join(' + ')}, ${seeds} seeds)`,
);
for (const s of sets) {
  const others = sets.filter((o) => o !== s);
  const held = others.length
    ? fitLogistic(
        others.flatMap((o) => o.phi),
        others.flatMap((o) => o.ok),
      )
    : all;
  const conf = (c: { slope: number; intercept: number }) => s.phi.map((p) => 1 / (1 + Math.exp(-(c.slope * p + c.intercept))));
  const acc = s.ok.reduce((a, v) => a + v, 0) / s.ok.length;
  console.log(
    `${s.name}: in the right group ${(100 * acc).toFixed(1)}%; head's phi: ECE ${expectedCalibrationError(s.phi, s.ok).toFixed(3)}; ` +
      `calibrated on all sets: ECE ${expectedCalibrationError(conf(all), s.ok).toFixed(3)}; on the others only: ECE ${expectedCalibrationError(conf(held), s.ok).toFixed(3)}; ` +
      `AUROC ${auroc(s.phi, s.ok).toFixed(3)}`,
  );
}
