/**
 * Duplicate sets of the usable images (core/library/duplicates.ts finds them): the store's rows
 * and, to confirm a near-duplicate, the cosine of the two contents' embeddings (the image's own
 * view, '') under `model`. Cached until the database changes, per model and thresholds.
 */
import { findDuplicateSets, type DuplicateCandidate, type DuplicateOptions, type DuplicateSet } from '../library/duplicates.js';
import type { Database } from './database.js';
import { EmbeddingsRepository } from './embeddings.js';

export interface DuplicateIndex {
  sets: DuplicateSet[];
  /** Each copy's keeper (keepers themselves are not in it). */
  keeperOf: Map<number, number>;
  /** Each keeper's set. */
  setOf: Map<number, DuplicateSet>;
}

export class DuplicatesRepository {
  private cache: { key: string; value: DuplicateIndex } | null = null;
  private readonly embeddings: EmbeddingsRepository;

  constructor(private readonly db: Database) {
    this.embeddings = new EmbeddingsRepository(db);
  }

  find(model: string, options: DuplicateOptions): DuplicateIndex {
    const version = this.db.inTransaction
      ? null
      : `${String(this.db.raw.pragma('data_version', { simple: true }))}:${this.db.raw.prepare('SELECT total_changes()').pluck().get() as number}`;
    const key = `${version}:${model}:${options.maxDistance}:${options.minCosine}`;
    if (version !== null && this.cache?.key === key) return this.cache.value;
    const value = this.db.read(() => this.compute(model, options));
    if (version !== null) this.cache = { key, value };
    return value;
  }

  private compute(model: string, options: DuplicateOptions): DuplicateIndex {
    const items = this.db
      .stmt<DuplicateCandidate>(
        `SELECT id, content_hash AS contentHash, phash, COALESCE(display_width, width, 0) AS width, COALESCE(display_height, height, 0) AS height,
                size AS bytes, COALESCE(taken_at, mtime_ms) AS date, rel_path AS path
         FROM images WHERE status = 'ok' AND content_hash IS NOT NULL ORDER BY id`,
      )
      .all();
    const units = new Map<string, Float32Array | null>();
    const unit = (hash: string): Float32Array | null => {
      if (!units.has(hash)) {
        const v = this.embeddings.get(hash, model);
        if (v) {
          let n = 0;
          for (const x of v) n += x * x;
          n = Math.sqrt(n) || 1;
          for (let i = 0; i < v.length; i++) v[i] = v[i]! / n;
        }
        units.set(hash, v);
      }
      return units.get(hash)!;
    };
    const cosine = (a: string, b: string): number | null => {
      const u = unit(a);
      const v = unit(b);
      if (!u || !v || u.length !== v.length) return null;
      let s = 0;
      for (let i = 0; i < u.length; i++) s += u[i]! * v[i]!;
      return s;
    };
    const sets = findDuplicateSets(items, options, cosine);
    const keeperOf = new Map<number, number>();
    const setOf = new Map<number, DuplicateSet>();
    for (const s of sets) {
      setOf.set(s.keeper, s);
      for (const m of s.members) keeperOf.set(m.id, s.keeper);
    }
    return { sets, keeperOf, setOf };
  }
}
