/**
 * Thumbnail cache layout. Thumbnails live only under the app's cache directory, never next to
 * the originals; the file name is derived from the content hash, so a renamed or moved
 * original reuses its thumbnail, and a changed original gets a new one.
 *
 *   <cacheDir>/<hex[0..2]>/<hex>-<size>.<webp|jpg>        (relative path uses '/')
 *   <cacheDir>/<hex[0..2]>/<hex>-<size>-long.<webp|jpg>   (an image longer than 2:1, see elongatedThumbnail)
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';

export type ThumbnailFormat = 'webp' | 'jpeg';

export interface ThumbnailOptions {
  /** Absolute cache directory; created if missing. */
  cacheDir: string;
  /** Long side in pixels (never enlarged). Default 256. */
  size?: number;
  /**
   * Default 'webp' (keeps transparency of cut-outs, ~40% smaller than JPEG). 'auto': JPEG for
   * opaque images (cheaper to encode), WebP only where there is alpha; an existing WebP
   * thumbnail of the same content is still reused.
   */
  format?: ThumbnailFormat | 'auto';
  /** Encoder quality 1-100. Default 80. */
  quality?: number;
  /** Re-encode even if the file exists already. Default false. */
  overwrite?: boolean;
}

export interface ThumbnailResult {
  /** Path relative to cacheDir, with '/' separators (store this). */
  relPath: string;
  /** Absolute path (convenience). */
  absPath: string;
  /** Pixel size of the thumbnail (0 when reused without re-encoding and unknown). */
  width: number;
  height: number;
  /** True when an existing thumbnail for this content was reused (no encode, no write). */
  reused: boolean;
}

export const DEFAULT_THUMBNAIL_SIZE = 256;
export const DEFAULT_THUMBNAIL_QUALITY = 80;

/**
 * Above this aspect ratio a thumbnail fitted inside its size would have a short side under half
 * of it (a 10000x300 panorama came out 224x7): it is sized by its short side instead.
 */
export const THUMBNAIL_FIT_ASPECT = 2;
/** The most elongated a thumbnail gets: a longer image's thumbnail is its centre at this ratio. */
export const THUMBNAIL_MAX_ASPECT = 4;

/**
 * The thumbnail of an image longer than 2:1 (`width` x `height` as shown, oriented), or null for
 * one that is fitted inside `size` as usual. Every view shows a thumbnail as its centre square
 * (object-fit: cover in the grids, the same crop on the map), so what counts is the short side:
 * half the size (128 px, what a 2:1 image gets) where the image has that many pixels (never
 * enlarged), and the long side at most 4 times that (512 px), a centre crop of a longer image.
 * At most 128 x 512 pixels, no more than a 256 x 256 thumbnail, and the crop still shows a
 * panorama as a strip wherever a thumbnail is shown whole.
 */
export function elongatedThumbnail(width: number, height: number, size = DEFAULT_THUMBNAIL_SIZE): { width: number; height: number } | null {
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  if (long <= short * THUMBNAIL_FIT_ASPECT) return null;
  const side = Math.min(short, Math.round(size / THUMBNAIL_FIT_ASPECT));
  const length = Math.round(side * Math.min(long / short, THUMBNAIL_MAX_ASPECT));
  return width >= height ? { width: length, height: side } : { width: side, height: length };
}

/**
 * `shape` 'elongated' (see elongatedThumbnail) has a name of its own, `<hex>-<size>-long.<ext>`:
 * a cache made before such images had their own shape holds a smear (224x7) under the plain
 * name, which must not be reused for them.
 */
export function thumbnailRelPath(
  hash: string,
  size = DEFAULT_THUMBNAIL_SIZE,
  format: ThumbnailFormat = 'webp',
  shape: 'fit' | 'elongated' = 'fit',
): string {
  const hex = hash.includes(':') ? hash.slice(hash.indexOf(':') + 1) : hash;
  if (!/^[0-9a-f]{8,}$/i.test(hex)) throw new Error(`thumbnailRelPath: not a content hash: ${hash}`);
  const ext = format === 'webp' ? 'webp' : 'jpg';
  return `${hex.slice(0, 2).toLowerCase()}/${hex.toLowerCase()}-${size}${shape === 'elongated' ? '-long' : ''}.${ext}`;
}

export function thumbnailAbsPath(cacheDir: string, relPath: string): string {
  return path.join(path.resolve(cacheDir), ...relPath.split('/'));
}

export async function thumbnailExists(absPath: string): Promise<boolean> {
  try {
    const st = await fsp.stat(absPath);
    return st.isFile() && st.size > 0;
  } catch {
    return false;
  }
}

/** Write atomically (temp file in the same cache folder + rename): readers never see half a file. */
export async function writeThumbnailFile(absPath: string, data: Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(absPath), { recursive: true });
  const tmp = `${absPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fsp.writeFile(tmp, data, { flag: 'wx' });
    await fsp.rename(tmp, absPath);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}
