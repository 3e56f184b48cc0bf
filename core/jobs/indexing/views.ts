/**
 * The augmented views stored with each image's embedding (core/images/augment.ts draws them,
 * the backbone embeds them in the image's forward pass): `aug0` .. `aug<V-1>` in the embeddings
 * table. I-Con feeds its head an image as one of them (core/icon/clustering.ts, FitInput.views).
 * 4 views cost 4 more backbone rows per image; with 1, 2, 4 and 8 views I-Con reached 50.0,
 * 53.1, 54.0 and 54.6 ACC on tuxpaint300 (docs/clustering.md).
 */
import { SCHEDULE } from '../../icon/schedule.js';
import type { Database } from '../../store/database.js';
import { EmbeddingsRepository } from '../../store/embeddings.js';

export const DEFAULT_VIEWS = 4;
/** More views than this add nothing measurable and cost a forward pass each. */
export const MAX_VIEWS = 8;

/** What the user chose (`cluster --views`). */
const VIEWS_KEY = 'views_per_image';
/** What indexing chose for the library's size where the user did not (viewsForLibrarySize). */
const AUTO_KEY = 'views_per_image_auto';

/** The anchor inputs (so views) one training schedule draws at most: maxSteps caps its steps, each feeds its anchors. */
export function viewDrawsOf(o: { maxSteps: number; epochs: number; anchorsPerBatch: number }): number {
  return Math.floor(o.maxSteps / o.epochs) * o.epochs * o.anchorsPerBatch;
}

/**
 * The most views a training run over the whole library reads: each step feeds each of its
 * anchors as one of its views, drawn at random, and the schedule caps the steps, so a run reads
 * at most 506,880 views however large the library (a regroup's shorter schedule, 256,000).
 */
export const VIEW_DRAWS_PER_RUN = viewDrawsOf(SCHEDULE);

/**
 * Views per image worth embedding for a library of `images`: as many as a run is expected to
 * read of each image, ceil(draws / images), at most DEFAULT_VIEWS: 4 up to 168,959 images, 3 up
 * to 253,439, 2 up to 506,879, then 1. At 1,000,000 images a run reads at most 506,880 of the
 * 4,000,000 views that 4 an image would make: the rest would be backbone rows spent for nothing.
 * A run draws each anchor's view at random, so fewer views change what it can draw only where
 * it draws an image more often than it has views.
 */
export function viewsForLibrarySize(images: number, draws: number = VIEW_DRAWS_PER_RUN): number {
  if (!Number.isFinite(images) || images < 0) throw new RangeError('viewsForLibrarySize: images must be a number >= 0');
  if (!Number.isInteger(draws) || draws < 1) throw new RangeError('viewsForLibrarySize: draws must be a whole number >= 1');
  return Math.max(1, Math.min(DEFAULT_VIEWS, Math.ceil(draws / Math.max(1, images))));
}

function readViews(db: Database, key: string): number | null {
  const raw = db.getState(key);
  const v = Number(raw);
  return raw !== null && Number.isInteger(v) && v >= 0 && v <= MAX_VIEWS ? v : null;
}

/**
 * The library's views per image: what `cluster --views` set last, else what indexing chose for
 * the library's size (chooseViewsForIndexing), else DEFAULT_VIEWS.
 */
export function getViewsPerImage(db: Database): number {
  return readViews(db, VIEWS_KEY) ?? readViews(db, AUTO_KEY) ?? DEFAULT_VIEWS;
}

/**
 * The views an indexing run embeds for a library of `images` usable images: the user's choice
 * where there is one; else viewsForLibrarySize, recorded for training to read. It never rises
 * again on its own: a library that shrinks keeps the views it has (`cluster --views 4` embeds
 * the rest), so removing a folder never starts embedding, and every image has the views the
 * training asks for.
 */
export function chooseViewsForIndexing(db: Database, images: number, draws: number = VIEW_DRAWS_PER_RUN): number {
  const chosen = readViews(db, VIEWS_KEY);
  if (chosen !== null) return chosen;
  const before = readViews(db, AUTO_KEY);
  const auto = Math.min(before ?? DEFAULT_VIEWS, viewsForLibrarySize(images, draws));
  if (auto !== (before ?? DEFAULT_VIEWS)) db.setState(AUTO_KEY, String(auto));
  return auto;
}

export function setViewsPerImage(db: Database, views: number): void {
  if (!Number.isInteger(views) || views < 0 || views > MAX_VIEWS)
    throw new RangeError(`views per image must be a whole number from 0 to ${MAX_VIEWS}`);
  db.setState(VIEWS_KEY, String(views));
}

/** The set of views a database holds where it is not the app's (`eval --view-draw`). */
const VIEW_DRAW_KEY = 'view_draw';

/**
 * Checks that an indexing run may draw the set of views `draw` (augment.ts `viewSeed`) into
 * this database, recording it the first time a database gets one other than the app's (0). A database holds one
 * set: asking it for another throws, since its stored views (and an image copied from one
 * already embedded) would be taken as they are and the measurement would be of the wrong set.
 */
export function claimViewDraw(db: Database, draw: number): void {
  if (!Number.isInteger(draw) || draw < 0) throw new RangeError('the view draw must be a whole number >= 0');
  const raw = db.getState(VIEW_DRAW_KEY);
  // the app's own runs (draw 0, nothing recorded) read one key and nothing more
  const held = raw !== null ? Number(raw) : draw === 0 || !new EmbeddingsRepository(db).hasViews() ? null : 0;
  if (held !== null && held !== draw)
    throw new Error(`this database holds the views of draw ${held}, not ${draw}: give each draw a database of its own (--db)`);
  if (raw === null && draw !== 0) db.setState(VIEW_DRAW_KEY, String(draw));
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
