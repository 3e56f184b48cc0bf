import { decodeImage, type DecodeOptions, type ImageSource } from './decode.js';
import type { ThumbnailOptions, ThumbnailResult } from './thumbCache.js';
import type { SkipReason } from '../library/skips.js';

export type ThumbnailOutcome =
  { ok: true; hash: string; thumbnail: ThumbnailResult } | { ok: false; skip: SkipReason } | { ok: false; error: string };

/**
 * Make (or reuse) the thumbnail of one image: 256 px on the long side, WebP q80 by default,
 * correctly oriented, alpha kept, written under `options.cacheDir` as
 * `<hex[0..2]>/<hex>-<size>.webp` (content hash: renamed/moved originals reuse it).
 * Never writes next to the original. Use `decodeImage(src, {thumbnail})` instead when the model
 * input is needed too: both then come from one decode.
 */
export async function makeThumbnail(
  src: ImageSource,
  options: ThumbnailOptions,
  decode: Pick<DecodeOptions, 'limitInputPixels' | 'maxFileBytes' | 'background'> = {},
): Promise<ThumbnailOutcome> {
  const r = await decodeImage(src, { ...decode, model: false, exif: false, thumbnail: options });
  if (!r.ok) return r;
  if (r.thumbnail) return { ok: true, hash: r.hash, thumbnail: r.thumbnail };
  return { ok: false, error: r.thumbnailError ?? 'Thumbnail was not written' };
}

export { thumbnailRelPath, thumbnailAbsPath, DEFAULT_THUMBNAIL_SIZE } from './thumbCache.js';
export type { ThumbnailOptions, ThumbnailResult, ThumbnailFormat } from './thumbCache.js';
