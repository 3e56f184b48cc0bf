/**
 * One image, ready for the backbone: a single read and decode (core/images) gives the model
 * input, the metadata and the thumbnail; its augmented views are drawn from the model input.
 */
import { augmentedViews, viewSeed } from '../images/augment.js';
import { decodeImage } from '../images/decode.js';
import type { SkipReason } from '../library/skips.js';
import type { ImageFacts } from './protocol.js';

export type PreparedImage =
  | { rows: Float32Array; facts: ImageFacts; thumbnail: string | null; contentHash: string }
  | { skip: SkipReason; contentHash: string | null };

/** `viewDraw`: which set of views (augment.ts `viewSeed`); 0, the default, is the app's. */
export async function prepareImage(
  path: string,
  options: { size: number; thumbnailDir: string; views: number; viewDraw?: number },
): Promise<PreparedImage> {
  // 'auto': JPEG thumbnails for opaque images (cheaper to encode), WebP where alpha must survive.
  const r = await decodeImage(path, { size: options.size, thumbnail: { cacheDir: options.thumbnailDir, format: 'auto' } });
  if (!r.ok) return { skip: r.skip, contentHash: null };
  if (!r.input) return { skip: { code: 'decode-error', message: 'the decoder returned no pixels' }, contentHash: r.hash };
  const camera = [r.meta.cameraMake, r.meta.cameraModel].filter(Boolean).join(' ') || null;
  const plane = r.input.data.length;
  const rows = new Float32Array((1 + options.views) * plane);
  rows.set(r.input.data);
  rows.set(augmentedViews(r.input.data, options.size, options.views, viewSeed(r.hash, options.viewDraw ?? 0)), plane);
  return {
    rows,
    contentHash: r.hash,
    thumbnail: r.thumbnail?.relPath ?? null,
    facts: {
      width: r.meta.width,
      height: r.meta.height,
      format: r.meta.format,
      takenAt: r.meta.takenAt ?? null,
      camera,
      orientation: r.meta.orientation,
    },
  };
}
