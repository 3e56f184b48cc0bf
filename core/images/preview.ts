/**
 * The file the Image and Review screens show for an original: the original itself where a
 * browser (Chromium, in Electron and browser mode) decodes its format, else a converted copy.
 * TIFF is a format the scan accepts (as are HEIC and JPEG XL with a sharp build that reads
 * them) that no Chromium shows: served as it is, it is a broken image. The copy is the first
 * page, EXIF orientation applied, at most 4096 px on the long side, 8-bit sRGB, JPEG (WebP where
 * there is transparency to keep), cached beside the thumbnails: converting takes 0.2 to 3 s
 * (24 to 96 megapixels on one core), and Review goes back and forth.
 *
 *   <cacheDir>/<key>.<jpg|webp>   key: hash of the original's path, size and mtime
 *
 * A changed original has another key, so it is converted again; at most PREVIEW_CACHE_FILES
 * copies are kept (the oldest removed first).
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DECODE_TIMEOUT_SECONDS, DEFAULT_LIMIT_INPUT_PIXELS } from './decode.js';
import { sniffFormat, type SniffedFormat } from './sniff.js';
import { writeThumbnailFile } from './thumbCache.js';

/** The cache's folder, beside `thumbnails` next to the database. */
export const PREVIEW_DIR_NAME = 'previews';
/** Long side of a converted copy: sharper than any screen shows it whole, a few MB at most. */
export const PREVIEW_MAX_SIDE = 4096;
/** Converted copies kept (about 1 to 4 MB each). */
export const PREVIEW_CACHE_FILES = 100;
/** Part of the key: a change to how copies are made makes new ones. */
const PREVIEW_VERSION = 1;
const QUALITY = 85;

/**
 * Formats the scan accepts that Chromium's <img> does not decode. JPEG, PNG, GIF, WebP and AVIF
 * it does. Decided by content, as decoding is: a TIFF named .jpg is still a TIFF.
 */
const CONVERTED: ReadonlySet<SniffedFormat> = new Set(['tiff', 'heic', 'jxl']);

/** The format of a file by its first bytes (enough for every signature sniffFormat knows). */
async function sniffFile(file: string): Promise<SniffedFormat> {
  const fh = await fsp.open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return sniffFormat(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

async function nonEmptyFile(file: string): Promise<boolean> {
  const st = await fsp.stat(file).catch(() => null);
  return st !== null && st.isFile() && st.size > 0;
}

/** Converts `original` into `<cacheDir>/<key>.<jpg|webp>`; resolves to the file written. */
async function convert(original: string, cacheDir: string, key: string): Promise<string> {
  const options = { limitInputPixels: DEFAULT_LIMIT_INPUT_PIXELS, failOn: 'truncated', pages: 1, page: 0 } as const;
  const { hasAlpha } = await sharp(original, options).metadata();
  let p = sharp(original, options)
    .timeout({ seconds: DECODE_TIMEOUT_SECONDS })
    .autoOrient()
    .resize({ width: PREVIEW_MAX_SIDE, height: PREVIEW_MAX_SIDE, fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb');
  p = hasAlpha ? p.webp({ quality: QUALITY, alphaQuality: 100, effort: 2 }) : p.jpeg({ quality: QUALITY, mozjpeg: false });
  const file = path.join(cacheDir, `${key}.${hasAlpha ? 'webp' : 'jpg'}`);
  await writeThumbnailFile(file, await p.toBuffer());
  return file;
}

/** Keeps the newest `keep` copies: the cache must not grow with every image ever viewed. */
async function evictOldest(cacheDir: string, keep: number): Promise<void> {
  const names = (await fsp.readdir(cacheDir)).filter((n) => /\.(jpg|webp)$/.test(n));
  if (names.length <= keep) return;
  const dated = await Promise.all(
    names.map(async (n) => ({ n, t: (await fsp.stat(path.join(cacheDir, n)).catch(() => null))?.mtimeMs ?? 0 })),
  );
  dated.sort((a, b) => a.t - b.t);
  // A copy being served may be open (Windows refuses to remove it): it goes next time.
  await Promise.all(
    dated.slice(0, dated.length - keep).map(({ n }) => fsp.rm(path.join(cacheDir, n), { force: true }).catch(() => undefined)),
  );
}

/** Conversions in flight, by cache key: two requests for one image convert it once. */
const inFlight = new Map<string, Promise<string>>();

/**
 * The file to show for `original`: itself where browsers show its format, else its converted
 * copy in `cacheDir` (made now if there is none). Rejects where the original cannot be read or
 * converted.
 */
export async function previewFile(original: string, cacheDir: string, maxFiles = PREVIEW_CACHE_FILES): Promise<string> {
  if (!CONVERTED.has(await sniffFile(original))) return original;
  const st = await fsp.stat(original);
  const key = createHash('sha256')
    .update(`${PREVIEW_VERSION}\0${path.resolve(original)}\0${st.size}\0${st.mtimeMs}`)
    .digest('hex')
    .slice(0, 40);
  for (const ext of ['jpg', 'webp']) {
    const cached = path.join(cacheDir, `${key}.${ext}`);
    if (await nonEmptyFile(cached)) return cached;
  }
  let pending = inFlight.get(key);
  if (!pending) {
    pending = convert(original, cacheDir, key)
      .then(async (file) => {
        // The copy just written is the newest: never the one removed.
        await evictOldest(cacheDir, Math.max(1, maxFiles)).catch(() => undefined);
        return file;
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}
