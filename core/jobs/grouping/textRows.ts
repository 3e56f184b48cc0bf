/**
 * The rows of text search and suggested names with a CLIP-like model (core/jobs/search): images
 * ranked by the cosine between their image embedding and the query's text embedding, as Immich's
 * smart search does, and the mean unit embedding of a group's images. The unit-length image
 * embeddings of a model are held by the model worker (`TextRows`, kept between questions), never
 * by the main thread: it sends the query vector and gets the ranking back.
 */
import type { Store } from '../../store/index.js';

export interface Ranked {
  imageId: number;
  score: number;
}

/** Unit-length rows, [n, dim], and each row's image id. */
export interface UnitRows {
  ids: ArrayLike<number>;
  unit: Float32Array;
  dim: number;
}

/**
 * Rows scaled to unit length (zero rows stay zero). Not preprocess.ts's l2normalize: that module
 * loads tfjs, and the main thread imports this one (naming.ts).
 */
export function unitRows(vectors: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = i * d; k < (i + 1) * d; k++) s += vectors[k]! * vectors[k]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = i * d; k < (i + 1) * d; k++) out[k] = vectors[k]! * inv;
  }
  return out;
}

export function unitVector(v: ArrayLike<number>): Float32Array {
  return unitRows(Float32Array.from(v), 1, v.length);
}

/** The best `limit` rows by cosine with `query` (unit), among `allowed` image ids when given; ties by image id. */
export function rankRows(rows: UnitRows, query: Float32Array, limit: number, allowed?: ReadonlySet<number>): Ranked[] {
  const d = rows.dim;
  if (query.length !== d) throw new Error(`the query has ${query.length} dimensions, the images ${d}`);
  const q = unitVector(query);
  const scored: Ranked[] = [];
  for (let i = 0; i < rows.ids.length; i++) {
    const id = rows.ids[i]!;
    if (allowed && !allowed.has(id)) continue;
    let s = 0;
    for (let k = 0; k < d; k++) s += q[k]! * rows.unit[i * d + k]!;
    scored.push({ imageId: id, score: s });
  }
  scored.sort((a, b) => b.score - a.score || a.imageId - b.imageId);
  return scored.slice(0, limit);
}

/** The mean of the unit rows of `imageIds` (those that have one), or null when none has. */
export function meanOfRows(rows: UnitRows, imageIds: readonly number[]): Float32Array | null {
  const want = new Set(imageIds);
  const mean = new Float32Array(rows.dim);
  let n = 0;
  for (let i = 0; i < rows.ids.length; i++) {
    if (!want.has(rows.ids[i]!)) continue;
    for (let k = 0; k < rows.dim; k++) mean[k]! += rows.unit[i * rows.dim + k]!;
    n++;
  }
  return n ? mean.map((v) => v / n) : null;
}

type EmbeddedKeys = ReturnType<Store['embeddings']['embeddedKeys']>;

interface Held extends UnitRows {
  modelId: string;
  ids: Uint32Array;
  /** What each row was read from (`embeddedKeys`, in the rows' order): a changed row is read again. */
  keys: EmbeddedKeys;
}

/**
 * The unit embeddings of one model (the last asked for), for the model worker: kept while the
 * images and their embedding rows stay the same, extended by the images added since (only they
 * are read) when none is gone or changed, else read again a block at a time.
 */
export class TextRows {
  private held: Held | null = null;

  constructor(private readonly store: Store) {}

  of(modelId: string): UnitRows {
    // one snapshot: the keys and the rows read agree
    return this.store.db.read(() => this.refresh(modelId));
  }

  private refresh(modelId: string): Held {
    const keys = this.store.embeddings.embeddedKeys(modelId);
    const old = this.held?.modelId === modelId ? this.held : null;
    if (old && sameKeys(old.keys, keys)) return old;
    const added = old ? addedRows(old.keys, keys) : null;
    // the same rows in another order (images added before others): nothing to read
    if (old && added?.length === 0) return old;
    this.held = null;
    this.held = old && added ? this.extend(old, keys, added) : this.readAll(modelId, keys);
    return this.held;
  }

  private extend(old: Held, keys: EmbeddedKeys, added: number[]): Held {
    const m = this.store.embeddings.loadAll(old.modelId, { imageIds: added });
    if (m.count !== added.length || m.dim !== old.dim) return this.readAll(old.modelId, keys);
    const unit = new Float32Array((old.ids.length + m.count) * old.dim);
    unit.set(old.unit);
    unit.set(unitRows(m.vectors, m.count, old.dim), old.ids.length * old.dim);
    const ids = Uint32Array.from([...old.ids, ...m.imageIds]);
    const at = new Map(Array.from(keys.imageIds, (id, i) => [id, i]));
    const pick = (a: Float64Array) => Float64Array.from(ids, (id) => a[at.get(id)!]!);
    return {
      modelId: old.modelId,
      ids,
      unit,
      dim: old.dim,
      keys: { imageIds: ids, embeddingIds: pick(keys.embeddingIds), writtenAt: pick(keys.writtenAt) },
    };
  }

  /** Every row, a block at a time (never all the raw vectors at once); in the keys' snapshot, so in their order. */
  private readAll(modelId: string, keys: EmbeddedKeys): Held {
    const n = keys.imageIds.length;
    let unit = new Float32Array(0);
    let dim = 0;
    let i = 0;
    for (const batch of this.store.embeddings.iterate(modelId, { batchSize: 4096 })) {
      if (i === 0) {
        dim = batch.dim;
        unit = new Float32Array(n * dim);
      }
      if (batch.dim !== dim || i + batch.count > n) throw new Error(`the embeddings of ${modelId} are not all ${dim}-d`);
      unit.set(unitRows(batch.vectors, batch.count, dim), i * dim);
      i += batch.count;
    }
    return { modelId, ids: keys.imageIds, keys, unit, dim };
  }
}

function sameKeys(a: EmbeddedKeys, b: EmbeddedKeys): boolean {
  if (a.imageIds.length !== b.imageIds.length) return false;
  for (let i = 0; i < a.imageIds.length; i++)
    if (a.imageIds[i] !== b.imageIds[i] || a.embeddingIds[i] !== b.embeddingIds[i] || a.writtenAt[i] !== b.writtenAt[i]) return false;
  return true;
}

/** The image ids in `now` and not in `held` when every held row is still there unchanged; else null. */
function addedRows(held: EmbeddedKeys, now: EmbeddedKeys): number[] | null {
  const at = new Map(Array.from(now.imageIds, (id, i) => [id, i]));
  for (let i = 0; i < held.imageIds.length; i++) {
    const j = at.get(held.imageIds[i]!);
    if (j === undefined || now.embeddingIds[j] !== held.embeddingIds[i] || now.writtenAt[j] !== held.writtenAt[i]) return null;
  }
  const had = new Set(held.imageIds);
  return Array.from(now.imageIds).filter((id) => !had.has(id));
}
