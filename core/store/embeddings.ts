/**
 * Embeddings: Float32 vectors stored as little-endian BLOBs, keyed by
 * (content hash, model, view). Keying by content (not by path) means a
 * renamed/moved/duplicated file reuses its embedding. `view` is '' for the
 * image itself and e.g. 'hflip' for augmented views.
 */
import path from 'node:path';

import type { Database } from './database.js';
import { StoreUsageError } from './errors.js';

export interface EmbeddingInput {
  contentHash: string;
  vector: Float32Array;
  /** '' (default) for the image itself, e.g. 'hflip' for a horizontally flipped view. */
  view?: string;
  /** The engine that made it (core/embed/engine.ts `engineTag`), e.g. 'onnx/CPUExecutionProvider'. */
  engine?: string;
}

export interface EmbeddingMatrix {
  /** Image ids, one per row of `vectors` (ascending). */
  imageIds: Uint32Array;
  /** Row-major n x dim. */
  vectors: Float32Array;
  count: number;
  dim: number;
}

/** Rows of embeddings read on demand (structurally the engine's RowSource). */
export interface EmbeddingRowSource {
  readonly n: number;
  readonly d: number;
  read(start: number, count: number): Float32Array;
  readRows(indices: ArrayLike<number>): Float32Array;
}

export interface EmbeddingTarget {
  /** One image holding this content (the lowest id). */
  imageId: number;
  contentHash: string;
  absPath: string;
}

export interface ModelSummary {
  model: string;
  view: string;
  dim: number;
  count: number;
}

/** Zero-copy Float32Array view of a BLOB Buffer (copies only if misaligned). */
export function blobToFloat32(buf: Buffer | Uint8Array): Float32Array {
  if (buf.byteLength % 4 !== 0) throw new StoreUsageError(`Embedding blob of ${buf.byteLength} bytes is not Float32 data`);
  if (buf.byteOffset % 4 === 0) return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Float32Array(copy.buffer);
}

/** Zero-copy Buffer view of a Float32Array for binding as a BLOB. */
export function float32ToBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

const USABLE = `i.status = 'ok'`;

export class EmbeddingsRepository {
  constructor(private readonly db: Database) {}

  /** Write (or replace) a batch of embeddings in one transaction. */
  putMany(model: string, items: readonly EmbeddingInput[]): void {
    if (items.length === 0) return;
    const ins = this.db.stmt(
      `INSERT INTO embeddings (content_hash, model, view, dim, vector, created_at, engine) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (content_hash, model, view) DO UPDATE SET dim = excluded.dim, vector = excluded.vector,
         created_at = excluded.created_at, engine = excluded.engine`,
    );
    this.db.write(() => {
      const now = Date.now();
      for (const it of items)
        ins.run(it.contentHash, model, it.view ?? '', it.vector.length, float32ToBlob(it.vector), now, it.engine ?? null);
    });
  }

  get(contentHash: string, model: string, view = ''): Float32Array | null {
    const row = this.db
      .stmt<{ vector: Buffer }>('SELECT vector FROM embeddings WHERE content_hash = ? AND model = ? AND view = ?')
      .get(contentHash, model, view);
    return row ? blobToFloat32(row.vector) : null;
  }

  has(contentHash: string, model: string, view = ''): boolean {
    return (
      this.db.stmt('SELECT 1 FROM embeddings WHERE content_hash = ? AND model = ? AND view = ?').get(contentHash, model, view) !== undefined
    );
  }

  /**
   * Usable images whose content has no embedding for `model`/`view` yet, or lacks one of the
   * `alsoViews` (e.g. augmented views added to an older library), one entry per distinct content
   * hash (duplicates are embedded once), by image id. Walk forward with `afterImageId` = last
   * imageId of the previous batch.
   */
  missing(
    model: string,
    options: { limit?: number; afterImageId?: number; view?: string; alsoViews?: readonly string[] } = {},
  ): EmbeddingTarget[] {
    type Row = { imageId: number; contentHash: string; relPath: string; root: string };
    const also = options.alsoViews ?? [];
    const lacksViews = also.length
      ? ` OR (SELECT count(*) FROM embeddings e WHERE e.content_hash = i.content_hash AND e.model = ? AND e.view IN (${also.map(() => '?').join(', ')})) < ${also.length}`
      : '';
    return this.db
      .stmt<Row>(
        `SELECT i.id AS imageId, i.content_hash AS contentHash, i.rel_path AS relPath, l.root_path AS root
         FROM images i JOIN libraries l ON l.id = i.library_id
         WHERE ${USABLE} AND i.id > ? AND i.content_hash IS NOT NULL
           AND (NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.content_hash = i.content_hash AND e.model = ? AND e.view = ?)${lacksViews})
           AND NOT EXISTS (SELECT 1 FROM images j WHERE j.content_hash = i.content_hash AND j.status = 'ok' AND j.id < i.id)
         ORDER BY i.id LIMIT ?`,
      )
      .all(options.afterImageId ?? 0, model, options.view ?? '', ...(also.length ? [model, ...also] : []), options.limit ?? 256)
      .map((r) => ({ imageId: r.imageId, contentHash: r.contentHash, absPath: path.join(r.root, r.relPath) }));
  }

  /** Number of usable images (not distinct contents) lacking an embedding for `model`. */
  countMissing(model: string, view = ''): number {
    return this.db
      .stmt<{ n: number }>(
        `SELECT count(*) AS n FROM images i WHERE ${USABLE} AND i.content_hash IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.content_hash = i.content_hash AND e.model = ? AND e.view = ?)`,
      )
      .get(model, view)!.n;
  }

  /** Number of usable images having an embedding for `model`. */
  countAvailable(model: string, view = ''): number {
    return this.db
      .stmt<{ n: number }>(
        `SELECT count(*) AS n FROM images i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model = ? AND e.view = ?
         WHERE ${USABLE}`,
      )
      .get(model, view)!.n;
  }

  /**
   * All embeddings of usable images for `model` as one n x d Float32Array
   * (one row per image; duplicates share content but get their own row),
   * read from one consistent snapshot.
   */
  loadAll(model: string, options: { view?: string; imageIds?: readonly number[] } = {}): EmbeddingMatrix {
    const view = options.view ?? '';
    return this.db.read(() => {
      if (options.imageIds) return this.loadSome(model, view, options.imageIds);
      const n = this.countAvailable(model, view);
      const first = this.db
        .stmt<{ dim: number }>(
          `SELECT e.dim FROM images i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model = ? AND e.view = ?
           WHERE ${USABLE} LIMIT 1`,
        )
        .get(model, view);
      const dim = first?.dim ?? 0;
      const imageIds = new Uint32Array(n);
      const vectors = new Float32Array(n * dim);
      let i = 0;
      const it = this.db
        .stmt<[number, Buffer]>(
          `SELECT i.id, e.vector FROM images i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model = ? AND e.view = ?
           WHERE ${USABLE} ORDER BY i.id`,
        )
        .raw(true)
        .iterate(model, view) as IterableIterator<[number, Buffer]>;
      for (const [id, blob] of it) {
        const v = blobToFloat32(blob);
        if (v.length !== dim) throw new StoreUsageError(`Embedding of image ${id} for ${model} has ${v.length} dims, expected ${dim}`);
        imageIds[i] = id;
        vectors.set(v, i * dim);
        i++;
      }
      return { imageIds, vectors, count: i, dim };
    });
  }

  private loadSome(model: string, view: string, ids: readonly number[]): EmbeddingMatrix {
    const s = this.db.stmt<{ vector: Buffer }>(
      `SELECT e.vector FROM images i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model = ? AND e.view = ?
         WHERE i.id = ?`,
    );
    const found: Array<[number, Float32Array]> = [];
    for (const id of ids) {
      const r = s.get(model, view, id);
      if (r) found.push([id, blobToFloat32(r.vector)]);
    }
    const dim = found[0]?.[1].length ?? 0;
    const vectors = new Float32Array(found.length * dim);
    const imageIds = new Uint32Array(found.length);
    found.forEach(([id, v], k) => {
      if (v.length !== dim) throw new StoreUsageError(`Embedding of image ${id} has ${v.length} dims, expected ${dim}`);
      imageIds[k] = id;
      vectors.set(v, k * dim);
    });
    return { imageIds, vectors, count: found.length, dim };
  }

  /**
   * The embeddings of `imageIds` (in that order) as rows read on demand: the shape of the
   * engine's RowSource (core/icon/preprocess.ts), so a million 1792-d vectors are read a block
   * at a time instead of held at once. Every id must have an embedding for `model` and `view`.
   * With `views` (e.g. ['aug0', 'aug1']) there are V rows per image, image-major: row r is image
   * r / V's view r % V (the trainer's FitInput.views). Each image's content hash is looked up
   * once; a row is then one read of the (content_hash, model, view) key.
   */
  rowSource(model: string, imageIds: ArrayLike<number>, options: { view?: string; views?: readonly string[] } = {}): EmbeddingRowSource {
    const views = options.views ?? [options.view ?? ''];
    const V = views.length;
    if (V === 0) throw new StoreUsageError('rowSource: no views');
    const hashOf = this.db.stmt<[string | null]>('SELECT content_hash FROM images WHERE id = ?').raw(true);
    const hashes: string[] = new Array(imageIds.length);
    for (let i = 0; i < imageIds.length; i++) {
      const h = (hashOf.get(imageIds[i]!) as [string | null] | undefined)?.[0];
      if (!h) throw new StoreUsageError(`No ${model} embedding for image ${imageIds[i]}`);
      hashes[i] = h;
    }
    const s = this.db.stmt<[Buffer]>('SELECT vector FROM embeddings WHERE content_hash = ? AND model = ? AND view = ?').raw(true);
    const n = imageIds.length * V;
    const get = (r: number): Float32Array => {
      const view = views[r % V]!;
      const row = s.get(hashes[Math.floor(r / V)]!, model, view) as [Buffer] | undefined;
      if (!row) throw new StoreUsageError(`No ${model}${view ? `/${view}` : ''} embedding for image ${imageIds[Math.floor(r / V)]}`);
      return blobToFloat32(row[0]);
    };
    const d = n > 0 ? get(0).length : 0;
    const readRows = (rows: ArrayLike<number>): Float32Array => {
      const out = new Float32Array(rows.length * d);
      for (let r = 0; r < rows.length; r++) {
        const v = get(rows[r]!);
        if (v.length !== d)
          throw new StoreUsageError(`Embedding of image ${imageIds[Math.floor(rows[r]! / V)]} has ${v.length} dims, expected ${d}`);
        out.set(v, r * d);
      }
      return out;
    };
    return {
      n,
      d,
      readRows,
      read: (start, count) => readRows(Array.from({ length: Math.max(0, Math.min(count, n - start)) }, (_, k) => start + k)),
    };
  }

  /** Usable images with an embedding for `model` and `view`, by id. */
  embeddedImageIds(model: string, view = ''): Uint32Array {
    const rows = this.db
      .stmt<[number]>(
        `SELECT i.id FROM images i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model = ? AND e.view = ?
         WHERE ${USABLE} ORDER BY i.id`,
      )
      .raw(true)
      .all(model, view) as Array<[number]>;
    return Uint32Array.from(rows, (r) => r[0]);
  }

  /**
   * embeddedImageIds and, for each, the id of the embedding row it reads and when that row was
   * written (putMany replaces a vector in place): a cache of the rows (the model worker's text
   * search) knows from these alone whether it is still what is stored.
   */
  embeddedKeys(model: string, view = ''): { imageIds: Uint32Array; embeddingIds: Float64Array; writtenAt: Float64Array } {
    const rows = this.db
      .stmt<[number, number, number]>(
        `SELECT i.id, e.id, e.created_at FROM images i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model = ? AND e.view = ?
         WHERE ${USABLE} ORDER BY i.id`,
      )
      .raw(true)
      .all(model, view) as Array<[number, number, number]>;
    return {
      imageIds: Uint32Array.from(rows, (r) => r[0]),
      embeddingIds: Float64Array.from(rows, (r) => r[1]),
      writtenAt: Float64Array.from(rows, (r) => r[2]),
    };
  }

  /** Whether any augmented view (`aug0`, `aug1`, ...) of any image and model is stored. */
  hasViews(): boolean {
    return this.db.stmt("SELECT 1 FROM embeddings WHERE view LIKE 'aug%' LIMIT 1").get() !== undefined;
  }

  /**
   * Usable images that have an embedding for `model` for every one of `views` (and their own,
   * view ''): equal to countAvailable(model) when every image has all its views.
   */
  countWithViews(model: string, views: readonly string[]): number {
    if (views.length === 0) return this.countAvailable(model);
    return this.db
      .stmt<{ n: number }>(
        `SELECT count(*) AS n FROM images i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model = ? AND e.view = ''
         WHERE ${USABLE}
           AND (SELECT count(*) FROM embeddings v WHERE v.content_hash = i.content_hash AND v.model = ? AND v.view IN (${views.map(() => '?').join(', ')})) = ${views.length}`,
      )
      .get(model, model, ...views)!.n;
  }

  /**
   * Streams embeddings of usable images in batches (for very large libraries).
   * Each batch is read in its own short query (keyset on image id), so the
   * connection stays usable between batches and writers are never blocked.
   */
  *iterate(model: string, options: { view?: string; batchSize?: number } = {}): Generator<EmbeddingMatrix> {
    const view = options.view ?? '';
    const size = options.batchSize ?? 4096;
    let after = 0;
    for (;;) {
      const rows = this.db
        .stmt<[number, Buffer]>(
          `SELECT i.id, e.vector FROM images i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model = ? AND e.view = ?
           WHERE ${USABLE} AND i.id > ? ORDER BY i.id LIMIT ?`,
        )
        .raw(true)
        .all(model, view, after, size) as Array<[number, Buffer]>;
      if (rows.length === 0) return;
      const dim = blobToFloat32(rows[0]![1]).length;
      const imageIds = new Uint32Array(rows.length);
      const vectors = new Float32Array(rows.length * dim);
      rows.forEach(([id, blob], k) => {
        const v = blobToFloat32(blob);
        if (v.length !== dim) throw new StoreUsageError(`Embedding of image ${id} has ${v.length} dims, expected ${dim}`);
        imageIds[k] = id;
        vectors.set(v, k * dim);
      });
      after = rows[rows.length - 1]![0];
      yield { imageIds, vectors, count: rows.length, dim };
      if (rows.length < size) return;
    }
  }

  /** How many embeddings of `model` each engine made (null: not recorded). */
  engines(model: string): Array<{ engine: string | null; count: number }> {
    return this.db
      .stmt<{ engine: string | null; count: number }>(
        'SELECT engine, count(*) AS count FROM embeddings WHERE model = ? GROUP BY engine ORDER BY engine',
      )
      .all(model);
  }

  models(): ModelSummary[] {
    return this.db
      .stmt<ModelSummary>(
        `SELECT model, view, max(dim) AS dim, count(*) AS count FROM embeddings GROUP BY model, view ORDER BY model, view`,
      )
      .all();
  }

  deleteModel(model: string): number {
    return this.db.write(() => this.db.stmt('DELETE FROM embeddings WHERE model = ?').run(model).changes);
  }

  /** Remove embeddings whose content no image (in any state) has any more. */
  pruneOrphans(): number {
    return this.db.write(
      () =>
        this.db
          .stmt('DELETE FROM embeddings WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.content_hash = embeddings.content_hash)')
          .run().changes,
    );
  }
}
