/**
 * `constellate eval <labeled-folder>`: embeds a labelled folder (labels = first-level folder
 * names; embeddings cached in a database so repeated runs only train), then scores I-Con
 * against its own start, k-means and scikit-learn's clusterers on the same embeddings over
 * several seeds, with the K chosen without labels and how honest the confidence is.
 */
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { BACKBONE } from '../embed/backboneInfo.js';
import { resolveModel } from '../embed/models/manage.js';
import { ModelRegistry } from '../embed/models/registry.js';
import { initTf } from '../embed/backend.js';
import type { CalibrationScores } from '../icon/calibration.js';
import { DEFAULTS } from '../icon/clustering.js';
import { evaluate, type EvaluateResult, type MetricSummary } from '../icon/evaluate.js';
import { fitPreprocess } from '../icon/preprocess.js';
import { peerSpaces, scorePeers, type PeerScores } from './evalPeers.js';
import { indexLibraries } from '../jobs/indexing/indexLibrary.js';
import { DEFAULT_VIEWS, loadViews } from '../jobs/indexing/views.js';
import { DEFAULT_UNSORTED_THRESHOLD } from '../store/unsorted.js';
import { ProgressTracker } from '../runtime/progress.js';
import { isScanSkip, scanFolders } from '../library/scan.js';
import { defaultDatabasePath, type Store } from '../store/index.js';
import { stderrProgress } from './progressReporter.js';
import { openSession } from '../app/session.js';

type Triple = { acc: number; nmi: number; ari: number };

export interface EvalOutput {
  icon: Triple;
  /** The trainer's starting partition, before training (means over seeds). */
  start: Triple;
  kmeans: Triple;
  /** scikit-learn on the same embeddings: `<method>.l2` (L2-normalised) and `<method>.pre` (the trainer's features). */
  peers?: Record<string, PeerScores>;
  /** Why peers are absent (no Python with scikit-learn). */
  peersUnavailable?: string;
  /** ECE (10 bins) and AUROC of the shown confidence for "in its class's group", and the Spearman correlation of a group's confidence with its purity. */
  confidence: CalibrationScores;
  /** The K chosen without labels (as the app does when no K is given) and I-Con's scores there. */
  autoK?: { k: number } & Triple;
  n: number;
  k: number;
  seeds: number;
  std: { icon: Triple; start: Triple; kmeans: Triple };
  perSeed: Array<{ seed: number; icon: Triple; start: Triple; kmeans: Triple }>;
  minAccMargin: number;
  /** After pinning `perClass` random images per class and regrouping (means over seeds). */
  pinned?: { perClass: number; acc: number; nmi: number; ari: number };
  /** After moving `perClass` misplaced images per class to their group and regrouping. */
  fixed?: { perClass: number; acc: number; nmi: number; ari: number };
  /** The app's default Unsorted threshold applied to I-Con's result (means over seeds). */
  unsorted?: { threshold: number; share: number; accSorted: number; accUnsorted: number };
  backend: string;
  /** The set of augmented views trained on (`--view-draw`; 0 is the app's). */
  viewDraw: number;
  /** The model whose features were scored. */
  model?: string;
  /** The engines that made the embeddings scored (`engineTag`s with counts; 'unrecorded' for ones made before engines were recorded). */
  engines: Record<string, number>;
}

export async function evalCommand(
  folder: string,
  opts: { groups?: number; seeds: number; db?: string; pins: number; json?: boolean; peers?: boolean; model?: string; viewDraw?: number },
): Promise<void> {
  const model = opts.model === undefined ? null : resolveModel(new ModelRegistry(), opts.model);
  const modelId = model?.id ?? BACKBONE.id;
  // The same check and words as `cluster` (realpathSync alone threw a raw ENOENT).
  const abs = path.resolve(folder);
  if (!statSync(abs, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`not a folder: ${folder}`);
  const root = realpathSync(abs);
  // Before embedding (minutes on a big folder), not after: without labels there is nothing to score.
  if ((await labelsWithImages(root, 2)) < 2) {
    throw new Error(`${folder} needs at least 2 subfolders with images: eval's labels are the first-level folder names`);
  }
  const session = openSession(opts.db ?? path.join(path.dirname(defaultDatabasePath()), 'eval-cache.db'));
  try {
    const { store } = session;
    // The cache keeps every folder evaluated, nested ones too: each run indexes its own folder whole.
    const lib = store.libraries.add(root, undefined, { allowOverlap: true });
    const report = stderrProgress();
    const progress = new ProgressTracker((t) => report(t.snapshot(), t.phase));
    await indexLibraries({ db: store.db, libraryIds: [lib.id], progress, oneLibraryPerFile: false, model, viewDraw: opts.viewDraw ?? 0 });
    process.stderr.write('\n');

    const { features, views, n, d, labels, classes } = loadLabelled(store, lib.id, folder, modelId);

    const { backend } = await initTf();
    const seeds = Array.from({ length: opts.seeds }, (_, i) => i);
    const k = opts.groups ?? classes.length;
    const base = evaluate({
      features,
      n,
      d,
      labels,
      k,
      seeds,
      views,
      unsortedThreshold: DEFAULT_UNSORTED_THRESHOLD,
      pinsPerClass: opts.pins > 0 ? opts.pins : undefined,
      autoK: true,
    });
    const out = toOutput(base, backend.choice, opts.viewDraw ?? 0);
    out.model = modelId;
    if (opts.peers !== false) {
      const pre = fitPreprocess(features, n, d, { seed: 0, ...DEFAULTS.preprocess }).out;
      const peers = scorePeers(peerSpaces(features, n, d, { x: pre, d: pre.length / n }), n, labels, k, seeds);
      if ('peers' in peers) out.peers = peers.peers;
      else out.peersUnavailable = peers.unavailable;
    }
    for (const e of store.embeddings.engines(modelId)) out.engines[e.engine ?? 'unrecorded'] = e.count;
    if (base.unsorted) out.unsorted = { threshold: DEFAULT_UNSORTED_THRESHOLD, ...base.unsorted };
    if (base.pinned) out.pinned = { perClass: opts.pins, ...means(base.pinned) };
    if (base.fixed) out.fixed = { perClass: opts.pins, ...means(base.fixed) };
    if (opts.json) console.log(JSON.stringify(out));
    else console.log(formatEval(out, root));
  } finally {
    session.close();
  }
}

/** How many first-level folders of `root` hold an image, counting up to `enough` (a scan that stops early). */
async function labelsWithImages(root: string, enough: number): Promise<number> {
  const labels = new Set<string>();
  for await (const entry of scanFolders(root)) {
    if (isScanSkip(entry)) continue;
    const parts = path.relative(root, entry.path).split(path.sep);
    if (parts.length >= 2) labels.add(parts[0]!);
    if (labels.size >= enough) break;
  }
  return labels.size;
}

export interface LabelledEmbeddings {
  /** Row-major [n, d] image embeddings and, where every image has them, their augmented views (n * V rows). */
  features: Float32Array;
  views: Float32Array | undefined;
  n: number;
  d: number;
  /** Class index per row, into `classes` (sorted first-level folder names). */
  labels: number[];
  classes: string[];
}

/**
 * The rows `eval` scores: the library's embedded images below a first-level folder, labelled
 * by that folder, in the store's row order (bench/icon-grid.ts tunes on exactly these).
 */
export function loadLabelled(store: Store, libraryId: number, folder: string, modelId: string = BACKBONE.id): LabelledEmbeddings {
  const labelName = new Map<number, string>();
  for (const { id, relPath } of store.images.listUsable(libraryId)) {
    const top = relPath.split(/[\\/]/);
    if (top.length < 2) continue; // files directly in the root have no label
    labelName.set(id, top[0]!);
  }
  const ids = [...labelName.keys()];
  const feats = store.embeddings.loadAll(modelId, { imageIds: ids });
  if (feats.count < 4) throw new Error(`found only ${feats.count} labelled images in ${folder} (labels are first-level folder names)`);
  const views = loadViews(store.embeddings, modelId, Array.from(feats.imageIds), DEFAULT_VIEWS);
  const names = Array.from(feats.imageIds, (id) => labelName.get(id)!);
  const classes = [...new Set(names)].sort();
  const labels = names.map((name) => classes.indexOf(name));
  return { features: feats.vectors, views: views ?? undefined, n: feats.count, d: feats.dim, labels, classes };
}

function means(m: MetricSummary) {
  return { acc: m.acc.mean, nmi: m.nmi.mean, ari: m.ari.mean };
}
function stds(m: MetricSummary) {
  return { acc: m.acc.std, nmi: m.nmi.std, ari: m.ari.std };
}

function toOutput(r: EvaluateResult, backend: string, viewDraw: number): EvalOutput {
  const triple = (s: Triple): Triple => ({ acc: s.acc, nmi: s.nmi, ari: s.ari });
  return {
    icon: means(r.icon),
    start: means(r.start),
    kmeans: means(r.kmeans),
    confidence: r.calibration,
    ...(r.auto ? { autoK: { k: r.auto.k, ...means(r.auto.scores) } } : {}),
    n: r.n,
    k: r.k,
    seeds: r.perSeed.length,
    std: { icon: stds(r.icon), start: stds(r.start), kmeans: stds(r.kmeans) },
    perSeed: r.perSeed.map((s) => ({ seed: s.seed, icon: triple(s.icon), start: triple(s.start), kmeans: triple(s.kmeans) })),
    minAccMargin: r.minAccMargin,
    backend,
    viewDraw,
    engines: {},
  };
}

function formatEval(o: EvalOutput, root: string): string {
  const f = (m: number, s: number) => `${m.toFixed(3)} ± ${s.toFixed(3)}`;
  const lines = [
    `${root}: n=${o.n}, k=${o.k}, ${o.seeds} ${o.seeds === 1 ? 'seed' : 'seeds'}, model ${o.model ?? BACKBONE.id}${o.viewDraw ? `, views of draw ${o.viewDraw}` : ''}, backend ${o.backend}, embedded by ${Object.keys(o.engines).join(', ') || 'none'}`,
    `            ACC              NMI              ARI`,
    `I-Con    ${f(o.icon.acc, o.std.icon.acc)}  ${f(o.icon.nmi, o.std.icon.nmi)}  ${f(o.icon.ari, o.std.icon.ari)}`,
    `start    ${f(o.start.acc, o.std.start.acc)}  ${f(o.start.nmi, o.std.start.nmi)}  ${f(o.start.ari, o.std.start.ari)}   (before training)`,
    `k-means  ${f(o.kmeans.acc, o.std.kmeans.acc)}  ${f(o.kmeans.nmi, o.std.kmeans.nmi)}  ${f(o.kmeans.ari, o.std.kmeans.ari)}`,
    `worst seed: I-Con ACC - k-means ACC = ${o.minAccMargin >= 0 ? '+' : ''}${o.minAccMargin.toFixed(3)}`,
  ];
  if (o.peers) {
    lines.push("scikit-learn on the same embeddings (l2: L2-normalised; pre: the trainer's PCA features), ACC / NMI / ARI:");
    const best = Math.max(...Object.values(o.peers).map((p) => p.acc));
    for (const [name, p] of Object.entries(o.peers)) {
      lines.push(
        `  ${name.padEnd(22)} ${p.acc.toFixed(3)}  ${p.nmi.toFixed(3)}  ${p.ari.toFixed(3)}${p.runs > 1 ? ` (${p.runs} seeds)` : ''}${p.acc === best ? '  best' : ''}`,
      );
    }
  } else if (o.peersUnavailable) lines.push(`scikit-learn peers: ${o.peersUnavailable}`);
  if (o.autoK)
    lines.push(`K chosen without labels: ${o.autoK.k} (ACC ${o.autoK.acc.toFixed(3)} there; ${o.icon.acc.toFixed(3)} at K=${o.k})`);
  const c = o.confidence;
  lines.push(
    `confidence: ECE ${c.ece.toFixed(3)}, AUROC ${c.auroc.toFixed(3)} for "in its class's group"; groups' confidence vs purity: Spearman ${c.groupSpearman.toFixed(2)}`,
  );
  if (o.unsorted) {
    const u = o.unsorted;
    const acc = (a: number) => (Number.isNaN(a) ? '-' : a.toFixed(3));
    lines.push(
      `Unsorted (confidence below ${u.threshold}): ${(100 * u.share).toFixed(1)}% of images; ACC of the grouped ${acc(u.accSorted)}, of the unsorted ${acc(u.accUnsorted)}`,
    );
  }
  const edited = (what: string, m: { acc: number; nmi: number; ari: number }) =>
    `Regrouped after ${what}: ACC ${m.acc.toFixed(3)} (${m.acc >= o.icon.acc ? '+' : ''}${(100 * (m.acc - o.icon.acc)).toFixed(1)} points), NMI ${m.nmi.toFixed(3)}, ARI ${m.ari.toFixed(3)}`;
  if (o.pinned) lines.push(edited(`pinning ${o.pinned.perClass} random images per class`, o.pinned));
  if (o.fixed) lines.push(edited(`moving ${o.fixed.perClass} misplaced images per class to their group`, o.fixed));
  return lines.join('\n');
}
