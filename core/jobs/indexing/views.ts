/**
 * The augmented views stored with each image's embedding (core/images/augment.ts draws them,
 * the backbone embeds them in the image's forward pass): `aug0` .. `aug<V-1>` in the embeddings
 * table. I-Con feeds its head an image as one of them (core/icon/clustering.ts, FitInput.views).
 * 4 views cost 4 more backbone rows per image; with 1, 2, 4 and 8 views I-Con reached 50.0,
 * 53.1, 54.0 and 54.6 ACC on tuxpaint300 (docs/clustering.md).
 */
import type { Database } from '../../store/database.js';
import type { EmbeddingsRepository } from '../../store/embeddings.js';

export const DEFAULT_VIEWS = 4;
/** More views than this add nothing measurable and cost a forward pass each. */
export const MAX_VIEWS = 8;

const VIEWS_KEY = 'views_per_image';

/** The library's views per image: what `cluster --views` set last, else DEFAULT_VIEWS. */
export function getViewsPerImage(db: Database): number {
  const v = Number(db.getState(VIEWS_KEY));
  return db.getState(VIEWS_KEY) !== null && Number.isInteger(v) && v >= 0 && v <= MAX_VIEWS ? v : DEFAULT_VIEWS;
}

export function setViewsPerImage(db: Database, views: number): void {
  if (!Number.isInteger(views) || views < 0 || views > MAX_VIEWS)
    throw new RangeError(`views per image must be a whole number from 0 to ${MAX_VIEWS}`);
  db.setState(VIEWS_KEY, String(views));
}

export function viewNames(count: number): string[] {
  return Array.from({ length: count }, (_, v) => `aug${v}`);
}

/**
 * The first `count` views of the given images as one array, image-major (rows i*V .. i*V+V-1
 * are image i's), or null when an image lacks one (indexed before views were stored, and not
 * embedded again yet).
 */
export function loadViews(
  embeddings: EmbeddingsRepository,
  model: string,
  imageIds: readonly number[],
  count: number,
): Float32Array | null {
  if (count <= 0 || imageIds.length === 0) return null;
  let out: Float32Array | null = null;
  let dim = 0;
  for (const [v, name] of viewNames(count).entries()) {
    const m = embeddings.loadAll(model, { view: name, imageIds });
    if (m.count !== imageIds.length) return null;
    if (!out) {
      dim = m.dim;
      out = new Float32Array(imageIds.length * count * dim);
    }
    for (let i = 0; i < m.count; i++) {
      if (m.imageIds[i] !== imageIds[i]) return null;
      out.set(m.vectors.subarray(i * dim, (i + 1) * dim), (i * count + v) * dim);
    }
  }
  return out;
}
