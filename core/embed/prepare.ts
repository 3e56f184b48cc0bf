/**
 * One image, ready for the backbone: a single read and decode (core/images) gives the model
 * input, its horizontal flip, the metadata and the thumbnail.
 */
import { decodeImage } from '../images/decode.js';
import type { SkipReason } from '../library/skips.js';
import type { ImageFacts } from './protocol.js';

export type PreparedImage =
  | { pair: Float32Array; facts: ImageFacts; thumbnail: string | null; contentHash: string }
  | { skip: SkipReason; contentHash: string | null };

export async function prepareImage(path: string, options: { size: number; thumbnailDir: string }): Promise<PreparedImage> {
  // 'auto': JPEG thumbnails for opaque images (cheaper to encode), WebP where alpha must survive.
  const r = await decodeImage(path, { size: options.size, thumbnail: { cacheDir: options.thumbnailDir, format: 'auto' } });
  if (!r.ok) return { skip: r.skip, contentHash: null };
  if (!r.input) return { skip: { code: 'decode-error', message: 'the decoder returned no pixels' }, contentHash: r.hash };
  const camera = [r.meta.cameraMake, r.meta.cameraModel].filter(Boolean).join(' ') || null;
  return {
    pair: r.input.pair,
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
