/**
 * The model worker: every question the UI asks the active run's model is answered here, off the
 * main thread, which never loads an ML runtime nor holds the library's embeddings. It reads from
 * the database with its own read-only connection: the run's head and map, the embeddings of the
 * images asked about, and (for neighbours and map placement only) an index of every image's
 * features in the head's space (L2, PCA, L2: 256 floats an image, a seventh of the 1792-d
 * embedding), built on the first such question and extended by the images added since.
 *
 * Suggestions rank every group by the cosine to its centroid in that index (the groups as the
 * user has them now, Split parts and groups the user made included).
 *
 * Text search and suggested names (a CLIP-like grouping model) read the unit embeddings of the
 * model (`TextRows`: 512 floats an image), held here between questions and refreshed when the
 * embedded images change; the main thread sends the encoded query and gets the ranking back.
 *
 * The head's inference on a few rows is plain JavaScript (core/icon/headInference.ts:
 * milliseconds, no backend to start); the index is reduced with tfjs (wasm), loaded only then.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { HeadExport } from '../../icon/clustering.js';
import { headPredict, preprocessRows } from '../../icon/headInference.js';
import { openStore, type Store } from '../../store/index.js';
import { VISIBLE } from '../../store/unsorted.js';
import { meanOfRows, rankRows, TextRows } from './textRows.js';
import { groupingModelId } from './groupingModel.js';
import { placeOnMap } from './mapPlacement.js';
import type { FromModelWorker, ModelAnswer, ModelRequest, ToModelWorker } from './modelProtocol.js';
import { decodeRunModel, type RunArtifacts } from './runModel.js';

const port = parentPort!;
const { file } = workerData as { file: string };
const store: Store = openStore(file, { readonly: true, alreadyChecked: true });
const textRows = new TextRows(store);

interface Loaded {
  runId: number;
  /** The model whose features the run was made from: the head, index and neighbours read those. */
  modelId: string;
  artifacts: RunArtifacts;
  head: HeadExport;
  index: Index | null;
  centroids: Centroids | null;
}
/** Each group's unit centroid in the index's space, for one database version. */
interface Centroids {
  version: string;
  groups: number[];
  unit: Float32Array;
}
interface Index {
  ids: Uint32Array;
  rowOf: Map<number, number>;
  /** Unit rows in the head's feature space, [n, dim]. */
  z: Float32Array;
  dim: number;
}

let loaded: Loaded | null = null;

function load(runId: number): Loaded | null {
  if (loaded?.runId === runId) return loaded;
  loaded = null;
  const blob = store.runs.loadModel(runId);
  if (!blob) return null;
  const artifacts = decodeRunModel(blob);
  loaded = { runId, modelId: groupingModelId(store, runId), artifacts, head: artifacts.head, index: null, centroids: null };
  return loaded;
}

/** The embeddings of the given images that have one, as rows (ids in the same order). */
function embeddingsOf(modelId: string, imageIds: readonly number[]): { ids: number[]; x: Float32Array; d: number } {
  const m = store.embeddings.loadAll(modelId, { imageIds });
  return { ids: Array.from(m.imageIds), x: m.vectors, d: m.dim };
}

/**
 * Every image's features in the head's space, streamed from the database and reduced a block at
 * a time; kept while the images stay the same, and extended by the images added since (only
 * they are read) when none is gone.
 */
async function index(l: Loaded): Promise<Index> {
  const { modelId } = l;
  const ids = store.embeddings.embeddedImageIds(modelId);
  const old = l.index;
  if (old && old.ids.length === ids.length && old.ids.every((id, i) => id === ids[i])) return old;
  const pre = l.head.preprocessor;
  if (old && ids.length > old.ids.length) {
    const had = new Set(old.ids);
    const added = Array.from(ids).filter((id) => !had.has(id));
    // none gone: every indexed image is still there, the rest are new
    if (added.length + old.ids.length === ids.length) {
      const e = embeddingsOf(modelId, added);
      const z = new Float32Array((old.ids.length + e.ids.length) * old.dim);
      z.set(old.z);
      const zNew = preprocessRows(pre, e.x, e.ids.length);
      if (!pre.options.renormalize) normalizeRows(zNew, old.dim);
      z.set(zNew, old.ids.length * old.dim);
      const all = Uint32Array.from([...old.ids, ...e.ids]);
      l.index = { ids: all, rowOf: new Map(Array.from(all, (id, r) => [id, r])), z, dim: old.dim };
      return l.index;
    }
  }
  const n = ids.length;
  const out = new Uint32Array(n);
  const z = new Float32Array(n * pre.dOut);
  // tfjs only here: a bulk matmul, seconds for 100,000 rows where plain JS takes a minute
  await import('../../embed/backend.js').then((b) => b.initTf());
  const { applyPreprocess } = await import('../../icon/preprocess.js');
  let i = 0;
  for (const batch of store.embeddings.iterate(modelId, { batchSize: 4096 })) {
    if (batch.dim !== pre.dIn || i + batch.count > n) break;
    out.set(batch.imageIds, i);
    z.set(applyPreprocess(pre, batch.vectors, batch.count), i * pre.dOut);
    i += batch.count;
  }
  const index: Index = {
    ids: out.subarray(0, i),
    rowOf: new Map(Array.from(out.subarray(0, i), (id, r) => [id, r])),
    z: z.subarray(0, i * pre.dOut),
    dim: pre.dOut,
  };
  // rows must be unit length for cosine (a head without renormalisation leaves them not)
  if (!pre.options.renormalize) normalizeRows(index.z, index.dim);
  l.index = index;
  return index;
}

/** The unit centroid of each group's visible images (below the Unsorted threshold too). */
function centroids(l: Loaded, ix: Index, version: string): Centroids {
  if (l.centroids?.version === version) return l.centroids;
  const rows = store.db.raw
    .prepare(
      `SELECT a.image_id AS imageId, a.group_id AS groupId FROM assignments a JOIN images i ON i.id = a.image_id
       WHERE a.run_id = ? AND a.group_id IS NOT NULL AND ${VISIBLE}`,
    )
    .all(l.runId) as Array<{ imageId: number; groupId: number }>;
  const d = ix.dim;
  const slot = new Map<number, number>();
  const sums: Float64Array[] = [];
  for (const r of rows) {
    const i = ix.rowOf.get(r.imageId);
    if (i === undefined) continue;
    let g = slot.get(r.groupId);
    if (g === undefined) {
      g = slot.size;
      slot.set(r.groupId, g);
      sums.push(new Float64Array(d));
    }
    const sum = sums[g]!;
    for (let j = 0; j < d; j++) sum[j]! += ix.z[i * d + j]!;
  }
  const unit = new Float32Array(slot.size * d);
  sums.forEach((sum, g) => {
    let n = 0;
    for (let j = 0; j < d; j++) n += sum[j]! * sum[j]!;
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let j = 0; j < d; j++) unit[g * d + j] = sum[j]! * inv;
  });
  l.centroids = { version, groups: [...slot.keys()], unit };
  return l.centroids;
}

/** Every group for one image, most likely first (none when the image has no features). */
function rank(
  ix: Index,
  c: Centroids,
  imageId: number,
  limit: number,
  temperature: number,
): Array<{ groupId: number; probability: number }> {
  const row = ix.rowOf.get(imageId);
  if (row === undefined || c.groups.length === 0) return [];
  const d = ix.dim;
  const q = ix.z.subarray(row * d, (row + 1) * d);
  const logits = c.groups.map((_, g) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += q[j]! * c.unit[g * d + j]!;
    return s / temperature;
  });
  const top = Math.max(...logits);
  const e = logits.map((x) => Math.exp(x - top));
  const z = e.reduce((a, b) => a + b, 0);
  return c.groups
    .map((groupId, g) => ({ groupId, probability: e[g]! / z }))
    .sort((a, b) => b.probability - a.probability || a.groupId - b.groupId)
    .slice(0, limit);
}

function normalizeRows(z: Float32Array, d: number): void {
  for (let o = 0; o < z.length; o += d) {
    let s = 0;
    for (let j = 0; j < d; j++) s += z[o + j]! * z[o + j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) z[o + j] = z[o + j]! * inv;
  }
}

type RunRequest = Exclude<ModelRequest, { type: 'rankByVector' | 'unitMeans' }>;

async function answer(req: ModelRequest): Promise<ModelAnswer> {
  switch (req.type) {
    case 'rankByVector': {
      const allowed = req.allowed && new Set(req.allowed);
      return { type: 'rankByVector', results: rankRows(textRows.of(req.modelId), req.query, req.limit, allowed) };
    }
    case 'unitMeans': {
      const rows = textRows.of(req.modelId);
      return { type: 'unitMeans', means: req.imageIds.map((ids) => meanOfRows(rows, ids)) };
    }
    default:
      return answerForRun(req);
  }
}

async function answerForRun(req: RunRequest): Promise<ModelAnswer> {
  const l = load(req.runId);
  switch (req.type) {
    case 'suggest': {
      if (!l) return { type: 'suggest', rows: req.imageIds.map(() => []) };
      const ix = await index(l);
      const c = centroids(l, ix, req.version);
      return { type: 'suggest', rows: req.imageIds.map((id) => rank(ix, c, id, req.limit, req.temperature)) };
    }
    case 'predict': {
      if (!l) throw new Error(`run ${req.runId} has no model`);
      const e = embeddingsOf(l.modelId, req.imageIds);
      if (e.ids.length === 0 || e.d !== l.head.preprocessor.dIn)
        return { type: 'predict', imageIds: [], labels: new Int32Array(0), confidence: new Float32Array(0) };
      const p = headPredict(l.head, e.x, e.ids.length);
      return { type: 'predict', imageIds: e.ids, labels: p.labels, confidence: p.confidence };
    }
    case 'warm':
      return { type: 'warm', indexed: l ? (await index(l)).ids.length : 0 };
    case 'neighbours': {
      if (!l) return { type: 'neighbours', imageIds: [] };
      const ix = await index(l);
      const row = ix.rowOf.get(req.imageId);
      if (row === undefined) return { type: 'neighbours', imageIds: [] };
      const d = ix.dim;
      const q = ix.z.subarray(row * d, (row + 1) * d);
      const best: Array<{ i: number; s: number }> = [];
      for (let i = 0; i < ix.ids.length; i++) {
        if (i === row) continue;
        let s = 0;
        const off = i * d;
        for (let j = 0; j < d; j++) s += q[j]! * ix.z[off + j]!;
        if (best.length < req.k || s > best[best.length - 1]!.s) {
          best.push({ i, s });
          best.sort((a, b) => b.s - a.s);
          if (best.length > req.k) best.pop();
        }
      }
      return { type: 'neighbours', imageIds: best.map((b) => ix.ids[b.i]!) };
    }
    case 'placeOnMap': {
      const map = l?.artifacts.map;
      if (!l || !map) return { type: 'placeOnMap', points: [] };
      const ix = await index(l);
      const groupOf = new Map<number, number | null>();
      for (const a of store.groups.listAssignments(req.runId)) groupOf.set(a.imageId, a.groupId);
      const at = placeOnMap({
        mapIds: l.artifacts.imageIds,
        mapXy: map,
        unit: ix.z,
        dim: ix.dim,
        rowOf: ix.rowOf,
        newIds: req.imageIds,
        groupOf,
      });
      return { type: 'placeOnMap', points: [...at].map(([id, [x, y]]) => [id, x, y]) };
    }
  }
}

function transferOf(a: ModelAnswer): ArrayBuffer[] {
  if (a.type === 'predict') return [a.labels.buffer as ArrayBuffer, a.confidence.buffer as ArrayBuffer];
  if (a.type === 'unitMeans') return a.means.flatMap((m) => (m ? [m.buffer as ArrayBuffer] : []));
  return [];
}

// One question at a time, in order: answers to one request never interleave with another's load.
let queue: Promise<unknown> = Promise.resolve();
port.on('message', (m: ToModelWorker) => {
  queue = queue.then(async () => {
    try {
      const a = await answer(m.request);
      const transfer = transferOf(a);
      port.postMessage({ id: m.id, answer: a } satisfies FromModelWorker, transfer);
    } catch (err) {
      port.postMessage({ id: m.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromModelWorker);
    }
  });
});
