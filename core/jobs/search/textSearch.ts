/**
 * Text search over a library with a CLIP-like model: images ranked by the cosine between their
 * image embedding and the query's text embedding (the model worker encodes the query), as
 * Immich's smart search does. The unit-length image embeddings of a model are kept between
 * queries (`SearchIndex`) until a job or an edit changes what is there.
 */
import type { Store } from '../../store/index.js';

export interface Ranked {
  imageId: number;
  score: number;
}

/** Unit-length rows, and each row's image id. */
interface ModelRows {
  modelId: string;
  ids: Uint32Array;
  unit: Float32Array;
  dim: number;
}

function unitRows(vectors: Float32Array, n: number, d: number): Float32Array {
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
export function rankRows(
  rows: { ids: ArrayLike<number>; unit: Float32Array; dim: number },
  query: Float32Array,
  limit: number,
  allowed?: ReadonlySet<number>,
): Ranked[] {
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

export class SearchIndex {
  private rows: ModelRows | null = null;

  constructor(private readonly store: Store) {}

  /** Forget the rows (after a job: new images, another model). */
  invalidate(): void {
    this.rows = null;
  }

  private load(modelId: string): ModelRows {
    if (this.rows?.modelId === modelId) return this.rows;
    const m = this.store.embeddings.loadAll(modelId);
    this.rows = { modelId, ids: m.imageIds, unit: unitRows(m.vectors, m.count, m.dim), dim: m.dim };
    return this.rows;
  }

  /** The mean of the unit embeddings of `imageIds` (those that have one), or null when none has. */
  meanOf(modelId: string, imageIds: readonly number[]): Float32Array | null {
    const rows = this.load(modelId);
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

  /** The images of `modelId` best matching the text embedding `query`, among `allowed` when given. */
  search(modelId: string, query: Float32Array, options: { limit: number; allowed?: ReadonlySet<number> }): Ranked[] {
    return rankRows(this.load(modelId), query, options.limit, options.allowed);
  }
}
