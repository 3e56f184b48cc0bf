/**
 * Decode an image once and produce the model input (and optionally the thumbnail) from it.
 *
 * Pipeline (one file read, one decode):
 *   read file into a Buffer (read-only open)  ->  sniff magic bytes (content decides the format,
 *   never the extension)  ->  sharp header (metadata: size, orientation, EXIF)  ->  ONE decode:
 *   auto-orient (EXIF 1-8) + shrink-on-load + resize to the model's intermediate (see
 *   `intermediateResize`: short side = model size for a centre crop; sized for the model alone,
 *   so a cached thumbnail never changes the embedding), converted to 8-bit sRGB (CMYK, 16-bit
 *   and greyscale become RGB; alpha kept)  ->  from that small raw image:
 *     model:     when the short side is already the model size (the usual photo), the centre
 *                crop, alpha flattening and /255 happen in one JS pass with the h-flip, no
 *                second resample; otherwise flatten + resize with sharp, then the same pass
 *     thumbnail: fit inside 256 px (224-256 where the model's intermediate is smaller; a
 *                thumbnail-only decode is sized for the thumbnail), q80; WebP by default, or
 *                with `format: 'auto'` JPEG for opaque images and WebP (alpha kept) only where
 *                there is alpha; written to the cache by content hash. An image longer than
 *                2:1 gets a decode of its own and a thumbnail 128 px across and at most 4:1 (its
 *                centre), see `elongatedThumbnail`
 *
 * Decisions (see the report / README of core/images):
 * - Flatten colour: white (255,255,255). Cut-outs (a large part of the data) become "product
 *   shots on white", a very common ImageNet look; opaque images are unaffected.
 * - Resize mode 'auto': centre crop ('cover') like MobileNet's ImageNet preprocessing, except
 *   for very elongated images (aspect > 2:1) which are letterboxed ('contain', padded with the
 *   flatten colour) so a panorama or a 10000x50 strip keeps its content.
 * - Pixel limit 16384 x 16384 = 268,435,456 px (checked from the header, before any pixel is
 *   decoded: a 30000x30000 PNG bomb of 100 KB is refused as `too-many-pixels`). File size
 *   limit 512 MiB (`too-large`).
 * - failOn 'truncated': truncated files are refused (`truncated`), but libjpeg/libpng
 *   warnings about slightly corrupt data (common in real camera files) are tolerated.
 * - Never throws for bad input: every failure is `{ok: false, skip: {code, message}}`.
 */
import { constants as fsConstants } from 'node:fs';
import fsp from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from 'sharp';
import { hashBuffer } from '../library/hash.js';
import { decoderSupport } from '../library/formats.js';
import { skipFromFsError, skipReason, type SkipReason } from '../library/skips.js';
import { parseExif, type ExifInfo } from './metadata.js';
import { DECODABLE_FORMATS, FORMAT_NAMES, sniffFormat, type SniffedFormat } from './sniff.js';
import {
  DEFAULT_THUMBNAIL_QUALITY,
  DEFAULT_THUMBNAIL_SIZE,
  elongatedThumbnail,
  thumbnailAbsPath,
  thumbnailExists,
  thumbnailRelPath,
  writeThumbnailFile,
  type ThumbnailFormat,
  type ThumbnailOptions,
  type ThumbnailResult,
} from './thumbCache.js';

export const MODEL_INPUT_SIZE = 224;
export const DEFAULT_LIMIT_INPUT_PIXELS = 16384 * 16384;
export const DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024;
export const FLATTEN_BACKGROUND = Object.freeze({ r: 255, g: 255, b: 255 });
/** Aspect ratio above which 'auto' letterboxes instead of centre-cropping. */
export const AUTO_CONTAIN_ASPECT = 2;
/** Seconds after which one image's processing is abandoned (`decode-error`). */
export const DECODE_TIMEOUT_SECONDS = 60;

export type ResizeFit = 'cover' | 'contain' | 'auto';
export type RGB = { r: number; g: number; b: number };

export interface DecodeOptions {
  /** Model input side in pixels. Default 224. */
  size?: number;
  /** Default 'auto' (cover, or contain above 2:1). */
  fit?: ResizeFit;
  /** Colour transparent pixels (and letterbox bars) are flattened onto. Default white. */
  background?: RGB;
  /** Default 16384*16384. */
  limitInputPixels?: number;
  /** Default 512 MiB. */
  maxFileBytes?: number;
  /** Also write the thumbnail from the same decode. */
  thumbnail?: ThumbnailOptions;
  /** Skip the model input (thumbnail only). Default true. */
  model?: boolean;
  /** Parse EXIF date/camera. Default true. */
  exif?: boolean;
}

export type DecodedFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'avif' | 'heic' | 'jxl';

export interface ImageMeta extends ExifInfo {
  /** Width/height after applying the EXIF orientation (what the user sees). */
  width: number;
  height: number;
  /** Detected from the content (not the extension). */
  format: DecodedFormat;
  /** EXIF orientation 1-8 (1 when absent). */
  orientation: number;
  hasAlpha: boolean;
  /** Frames/pages in the file (animated GIF/WebP, multi-page TIFF); only the first is used. */
  pages: number;
  /** File size in bytes. */
  bytes: number;
}

export interface ModelInput {
  /** Side in pixels (224). */
  size: number;
  /** size*size*3 RGB floats in [0,1], HWC, row-major. A view into `pair`. */
  data: Float32Array;
  /** The horizontal mirror of `data`. A view into `pair`. */
  flipped: Float32Array;
  /** [data, flipped] contiguous: a ready [2, size, size, 3] batch; `pair.buffer` is transferable. */
  pair: Float32Array;
}

export interface DecodeOk {
  ok: true;
  /** Content hash (`cs1:...`, see core/library/hash.ts) of the bytes that were decoded. */
  hash: string;
  meta: ImageMeta;
  /** Absent only when `model: false`. */
  input?: ModelInput;
  thumbnail?: ThumbnailResult;
  /** Set when the decode worked but writing the thumbnail failed (cache dir problem, not the image's fault). */
  thumbnailError?: string;
}

export interface DecodeFailed {
  ok: false;
  skip: SkipReason;
}

export type DecodeResult = DecodeOk | DecodeFailed;

export type ImageSource = string | Uint8Array;

const fail = (code: SkipReason['code'], message: string): DecodeFailed => ({ ok: false, skip: skipReason(code, message) });

/** Read the whole file once, read-only. */
async function readSource(src: ImageSource, maxBytes: number): Promise<Buffer | DecodeFailed> {
  if (typeof src !== 'string') {
    const buf = Buffer.isBuffer(src) ? src : Buffer.from(src.buffer, src.byteOffset, src.byteLength);
    if (buf.length === 0) return fail('empty-file', 'The file is empty (0 bytes)');
    if (buf.length > maxBytes) return fail('too-large', `The file is larger than ${Math.round(maxBytes / 2 ** 20)} MiB`);
    return buf;
  }
  let fh: fsp.FileHandle | undefined;
  try {
    // O_NONBLOCK: opening a FIFO named .jpg must not block a thread forever (no effect on files).
    fh = await fsp.open(src, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
    const st = await fh.stat();
    if (st.isDirectory()) return fail('unreadable', 'This is a folder, not a file');
    if (!st.isFile()) return fail('unreadable', 'Not a regular file (pipe, socket or device)');
    if (st.size === 0) return fail('empty-file', 'The file is empty (0 bytes)');
    if (st.size > maxBytes) return fail('too-large', `The file is larger than ${Math.round(maxBytes / 2 ** 20)} MiB`);
    const buf = await fh.readFile();
    if (buf.length === 0) return fail('empty-file', 'The file is empty (0 bytes)');
    return buf;
  } catch (err) {
    const s = skipFromFsError(err, 'file');
    return { ok: false, skip: s };
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

function checkFormat(fmt: SniffedFormat): DecodeFailed | undefined {
  if (DECODABLE_FORMATS.has(fmt)) return undefined;
  const support = decoderSupport();
  if (fmt === 'heic') return support.heic ? undefined : fail('unsupported-format', 'HEIC is not supported (no HEVC decoder)');
  if (fmt === 'jxl') return support.jxl ? undefined : fail('unsupported-format', 'JPEG XL is not supported (no JPEG XL decoder)');
  if (fmt === 'unknown') return fail('not-an-image', 'Not an image (the content is not a known image format)');
  return fail('unsupported-format', `${FORMAT_NAMES[fmt]} is not supported`);
}

/** Heuristic end-of-data checks: a decode error on a file without its end marker is `truncated`. */
function looksTruncated(buf: Buffer, fmt: SniffedFormat): boolean {
  const tail = buf.subarray(Math.max(0, buf.length - 4096));
  switch (fmt) {
    case 'jpeg':
      return tail.lastIndexOf(Buffer.from([0xff, 0xd9])) < 0;
    case 'png':
      return tail.lastIndexOf(Buffer.from('IEND', 'latin1')) < 0;
    case 'gif':
      return buf[buf.length - 1] !== 0x3b && tail.lastIndexOf(0x3b) < 0;
    case 'webp':
      return buf.length >= 12 && buf.readUInt32LE(4) + 8 > buf.length;
    default:
      return false;
  }
}

/**
 * Why an image over the pixel limit is skipped, in a user's words (the limit guards against
 * decompression bombs: a 100 KB file that would take gigabytes to decode). Megapixels are
 * whole numbers, with decimals only where whole ones would show the image no larger than the limit.
 */
export function tooManyPixelsMessage(size: { width: number; height: number } | null, limit: number): string {
  const limitMp = limit / 1e6;
  if (!size) return `Too large to open safely: more than the limit of ${limitMp.toFixed(0)} megapixels`;
  const mp = (size.width * size.height) / 1e6;
  let digits = 0;
  while (digits < 3 && mp.toFixed(digits) === limitMp.toFixed(digits)) digits++;
  return `Too large to open safely: ${mp.toFixed(digits)} megapixels (${size.width} x ${size.height}), the limit is ${limitMp.toFixed(digits)}`;
}

function skipFromSharpError(err: unknown, buf: Buffer, fmt: SniffedFormat, limit: number): SkipReason {
  const msg = err instanceof Error ? err.message : String(err);
  const first = msg.split('\n')[0]!.slice(0, 200);
  if (/pixel limit/i.test(msg)) return skipReason('too-many-pixels', tooManyPixelsMessage(null, limit));
  if (/unsupported image format/i.test(msg)) return skipReason('not-an-image', 'Not an image (the content is not a known image format)');
  if (/timeout/i.test(msg)) return skipReason('decode-error', `Decoding took longer than ${DECODE_TIMEOUT_SECONDS} s`);
  if (looksTruncated(buf, fmt) || /premature end|truncat|unexpected end|end of (file|stream|data)|not enough data/i.test(msg)) {
    return skipReason('truncated', `The ${FORMAT_NAMES[fmt]} file is truncated (incomplete download or copy)`);
  }
  return skipReason('decode-error', `Could not decode ${FORMAT_NAMES[fmt]}: ${first}`);
}

function decodedFormat(fmt: SniffedFormat, meta: Metadata): DecodedFormat | undefined {
  switch (meta.format) {
    case 'jpeg':
    case 'png':
    case 'gif':
    case 'webp':
    case 'tiff':
    case 'jxl':
      return meta.format;
    case 'heif':
      return fmt === 'avif' || meta.compression === 'av1' ? 'avif' : 'heic';
    default:
      return undefined; // a loader we do not allow (svg, pdf, magick...)
  }
}

/**
 * The [image, mirror] float pair from `size` x `size` pixels of an 8-bit sRGB raw image (3 or 4
 * channels) starting at (`left`, `top`): RGB/255, with alpha flattened onto `bg`. One pass that
 * crops, flattens, converts and mirrors, so the common photo needs no second sharp pipeline.
 */
export function modelFloatsFromRaw(
  src: Uint8Array,
  raw: { width: number; height: number; channels: number },
  size: number,
  left: number,
  top: number,
  bg: RGB,
): ModelInput {
  const { width, channels } = raw;
  if (channels !== 3 && channels !== 4) throw new Error(`internal: modelFloatsFromRaw needs 3 or 4 channels, got ${channels}`);
  if (left < 0 || top < 0 || left + size > width || top + size > raw.height) throw new Error('internal: model crop outside the image');
  const n = size * size * 3;
  const pair = new Float32Array(2 * n);
  const inv = 1 / 255;
  const row = size * 3;
  for (let y = 0; y < size; y++) {
    let s = ((top + y) * width + left) * channels;
    const base = y * row;
    for (let x = 0; x < size; x++, s += channels) {
      let r = src[s]! * inv;
      let g = src[s + 1]! * inv;
      let b = src[s + 2]! * inv;
      if (channels === 4) {
        const a = src[s + 3]! * inv;
        r = r * a + bg.r * inv * (1 - a);
        g = g * a + bg.g * inv * (1 - a);
        b = b * a + bg.b * inv * (1 - a);
      }
      const d = base + x * 3;
      const m = n + base + (size - 1 - x) * 3;
      pair[d] = pair[m] = r;
      pair[d + 1] = pair[m + 1] = g;
      pair[d + 2] = pair[m + 2] = b;
    }
  }
  return { size, data: pair.subarray(0, n), flipped: pair.subarray(n), pair };
}

/**
 * The one resize of the decode: the smallest image that still gives the model input and the
 * thumbnail without enlarging either, so JPEG shrink-on-load can skip as much as it may and
 * nothing downstream resamples twice. A centre-cropped ('cover') model input needs the short
 * side >= `size` and gets exactly `size`, making the model input a plain crop; a letterboxed one
 * and the thumbnail need the long side >= their size.
 */
export function intermediateResize(
  width: number,
  height: number,
  need: { cover?: number; contain?: number; thumbnail?: number },
): { width: number; height: number; fit: 'outside' | 'inside' } | null {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const coverScale = need.cover ? need.cover / short : 0;
  const longSide = Math.max(need.contain ?? 0, need.thumbnail ?? 0);
  if (coverScale === 0 && longSide === 0) return null;
  if (coverScale >= longSide / long) return { width: need.cover!, height: need.cover!, fit: 'outside' };
  return { width: longSide, height: longSide, fit: 'inside' };
}

/**
 * The one decode: orient, shrink (JPEG shrink-on-load), 8-bit sRGB, alpha kept, straight to the
 * intermediate size.
 */
async function decodeTo(
  buf: Buffer,
  sharpOptions: SharpOptions,
  resize: { width: number; height: number; fit: 'outside' | 'inside' },
): Promise<{ data: Buffer; raw: { width: number; height: number; channels: 1 | 2 | 3 | 4 } }> {
  const { data, info } = await sharp(buf, sharpOptions)
    .timeout({ seconds: DECODE_TIMEOUT_SECONDS })
    .autoOrient()
    .resize({ ...resize, withoutEnlargement: true })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { data, raw: { width: info.width, height: info.height, channels: info.channels } };
}

/**
 * The thumbnail's encoding. 'auto': JPEG for opaque images (at 256 px it encodes in about a third
 * of WebP's time at the lowest effort, ~0.5 vs ~1.6 ms, for files ~1.6x larger), WebP where there
 * is alpha to keep. Decided from the header, before decoding,
 * so the cache path (and a reuse check) is known up front.
 */
export function chooseThumbnailFormat(requested: ThumbnailOptions['format'], hasAlpha: boolean): ThumbnailFormat {
  if (requested === 'auto') return hasAlpha ? 'webp' : 'jpeg';
  return requested ?? 'webp';
}

/**
 * The decode a thumbnail of its own needs: the long side at the thumbnail's size, or for an
 * image longer than 2:1 the short side at the thumbnail's (see elongatedThumbnail).
 */
function thumbnailDecodeSize(width: number, height: number, size: number): { width: number; height: number; fit: 'outside' | 'inside' } {
  const elongated = elongatedThumbnail(width, height, size);
  return intermediateResize(width, height, elongated ? { cover: Math.min(elongated.width, elongated.height) } : { thumbnail: size })!;
}

/**
 * The thumbnail's file from decoded pixels: fitted inside `shape` px (never enlarged), or an
 * elongated image's exact size (its centre where it is longer than 4:1).
 */
function encodeThumbnail(
  src: { data: Buffer; raw: { width: number; height: number; channels: 1 | 2 | 3 | 4 } },
  shape: number | { width: number; height: number },
  format: ThumbnailFormat,
  quality: number,
  bg: RGB,
): Promise<{ data: Buffer; info: OutputInfo }> {
  let p = sharp(src.data, { raw: src.raw });
  p =
    typeof shape === 'number'
      ? p.resize({ width: shape, height: shape, fit: 'inside', withoutEnlargement: true })
      : p.resize({ ...shape, fit: 'cover', position: 'centre' });
  if (format === 'webp') p = p.webp({ quality, alphaQuality: 80, effort: 1 });
  else p = p.flatten({ background: bg }).jpeg({ quality, mozjpeg: false });
  return p.toBuffer({ resolveWithObject: true });
}

/**
 * Where this content's thumbnail goes in the cache, and whether it is there already (then it is
 * not encoded again).
 */
async function thumbnailSlot(
  thumbOpts: NonNullable<DecodeOptions['thumbnail']>,
  hash: string,
  thumbSize: number,
  thumbShape: 'elongated' | 'fit',
  hasAlpha: boolean,
): Promise<{ rel: string; abs: string; reused: boolean; format: ThumbnailFormat }> {
  const format = chooseThumbnailFormat(thumbOpts.format, hasAlpha);
  const rel = thumbnailRelPath(hash, thumbSize, format, thumbShape);
  const abs = thumbnailAbsPath(thumbOpts.cacheDir, rel);
  const reused = !thumbOpts.overwrite && (await thumbnailExists(abs));
  if (!reused && !thumbOpts.overwrite && thumbOpts.format === 'auto' && format !== 'webp') {
    // A cache written before 'auto' holds WebP for opaque images too: still this content's
    // thumbnail, so reuse it rather than encode a second copy.
    const legacyRel = thumbnailRelPath(hash, thumbSize, 'webp', thumbShape);
    const legacyAbs = thumbnailAbsPath(thumbOpts.cacheDir, legacyRel);
    if (await thumbnailExists(legacyAbs)) return { rel: legacyRel, abs: legacyAbs, reused: true, format };
  }
  return { rel, abs, reused, format };
}

/** The model input from decoded pixels not yet at the model's size: resized (cover or contain), flattened, sRGB. */
async function resizeToModelInput(
  data: Buffer,
  raw: { width: number; height: number; channels: 1 | 2 | 3 | 4 },
  size: number,
  fit: 'cover' | 'contain',
  bg: RGB,
): Promise<ModelInput> {
  let p = sharp(data, { raw });
  if (raw.channels === 2 || raw.channels === 4) p = p.flatten({ background: bg });
  const out = await p
    .resize({ width: size, height: size, fit, position: 'centre', background: { ...bg, alpha: 1 } })
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (out.info.width !== size || out.info.height !== size || out.info.channels !== 3) {
    throw new Error(`internal: model input came out ${out.info.width}x${out.info.height}x${out.info.channels}`);
  }
  return modelFloatsFromRaw(out.data, out.info, size, 0, 0, bg);
}

/**
 * Decode one image: model input (+ optional thumbnail) from a single read and a single decode.
 * Never throws for bad input (only for invalid options).
 */
export async function decodeImage(src: ImageSource, options: DecodeOptions = {}): Promise<DecodeResult> {
  const size = options.size ?? MODEL_INPUT_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new RangeError(`decodeImage: bad size ${size}`);
  const limit = options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS;

  const read = await readSource(src, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  if (!Buffer.isBuffer(read)) return read;
  const buf = read;

  const sniffed = sniffFormat(buf);
  const bad = checkFormat(sniffed);
  if (bad) return bad;

  try {
    return await decodeReadable(buf, sniffed, options, size, limit);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('internal:')) throw err;
    return { ok: false, skip: skipFromSharpError(err, buf, sniffed, limit) };
  }
}

/** What one decode makes for one image, and the facts of its header that size it. */
interface PixelJob {
  buf: Buffer;
  sharpOptions: SharpOptions;
  /** As the user sees it (EXIF orientation applied). */
  width: number;
  height: number;
  /** The model input's side, when `wantModel`. */
  size: number;
  wantModel: boolean;
  fit: ResizeFit | undefined;
  bg: RGB;
  thumbSize: number;
  elongated: { width: number; height: number } | null;
  /** The thumbnail to encode and write; null when none is asked for or the cache has it. */
  thumb: { rel: string; abs: string; format: ThumbnailFormat; quality: number } | null;
}

/** Bytes of a supported format, read: its header, then one decode for what is asked. Throws sharp's errors. */
async function decodeReadable(
  buf: Buffer,
  sniffed: SniffedFormat,
  options: DecodeOptions,
  size: number,
  limit: number,
): Promise<DecodeResult> {
  const bg = options.background ?? FLATTEN_BACKGROUND;
  const wantModel = options.model ?? true;
  const thumbOpts = options.thumbnail;
  const thumbSize = thumbOpts?.size ?? DEFAULT_THUMBNAIL_SIZE;
  const sharpOptions: SharpOptions = {
    failOn: 'truncated',
    limitInputPixels: limit,
    sequentialRead: true,
    pages: 1,
    page: 0,
  };

  // The header alone (no pixel is decoded), read without the pixel limit so that an image over
  // it is told by its size below rather than by sharp's error, which does not give it.
  const meta = await sharp(buf, { ...sharpOptions, limitInputPixels: false }).metadata();
  const format = decodedFormat(sniffed, meta);
  if (!format) return fail('unsupported-format', `${meta.format} images are not supported`);
  if (meta.width * meta.height > limit) {
    return fail('too-many-pixels', tooManyPixelsMessage({ width: meta.width, height: meta.height }, limit));
  }
  const { orientation, width, height } = orientedSize(meta);
  const hasAlpha = meta.hasAlpha === true;
  const hash = hashBuffer(buf);
  const elongated = elongatedThumbnail(width, height, thumbSize);
  const thumbShape = elongated ? 'elongated' : 'fit';

  const cached = thumbOpts ? await thumbnailSlot(thumbOpts, hash, thumbSize, thumbShape, hasAlpha) : null;
  const needThumb = thumbOpts !== undefined && cached !== null && !cached.reused;

  const exifPromise: Promise<ExifInfo> = options.exif === false ? Promise.resolve({}) : parseExif(meta.exif);

  const thumb = needThumb
    ? { rel: cached.rel, abs: cached.abs, format: cached.format, quality: thumbOpts.quality ?? DEFAULT_THUMBNAIL_QUALITY }
    : null;
  const job: PixelJob = { buf, sharpOptions, width, height, size, wantModel, fit: options.fit, bg, thumbSize, elongated, thumb };
  const { input, thumbnail: written, thumbnailError } = wantModel || needThumb ? await decodePixels(job) : {};
  const thumbnail: ThumbnailResult | undefined = cached?.reused
    ? { relPath: cached.rel, absPath: cached.abs, width: 0, height: 0, reused: true }
    : written;

  const exif = await exifPromise;
  const result: DecodeOk = {
    ok: true,
    hash,
    meta: {
      width,
      height,
      format,
      orientation,
      hasAlpha,
      pages: meta.pages ?? 1,
      bytes: buf.length,
      ...exif,
    },
  };
  if (input) result.input = input;
  if (thumbnail) result.thumbnail = thumbnail;
  if (thumbnailError) result.thumbnailError = thumbnailError;
  return result;
}

/** The EXIF orientation (1 when absent or invalid) and the size the user sees once it is applied. */
function orientedSize(meta: Metadata): { orientation: number; width: number; height: number } {
  const orientation = meta.orientation && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1;
  const swap = orientation >= 5;
  const width = meta.autoOrient?.width ?? (swap ? meta.height : meta.width);
  const height = meta.autoOrient?.height ?? (swap ? meta.width : meta.height);
  return { orientation, width, height };
}

type PixelOutputs = { input?: ModelInput; thumbnail?: ThumbnailResult; thumbnailError?: string };

/** The one decode, and the model input and the thumbnail made from it (the thumbnail may need its own). */
async function decodePixels(job: PixelJob): Promise<PixelOutputs> {
  const { buf, sharpOptions, width, height, size, wantModel, bg, thumbSize, elongated } = job;
  const aspect = Math.max(width / height, height / width);
  const fit = (job.fit ?? 'auto') === 'auto' ? (aspect > AUTO_CONTAIN_ASPECT ? 'contain' : 'cover') : job.fit;
  // The model input must depend on the content alone: whether this image's thumbnail is
  // already cached (a resumed run, a copy) must not change its pixels, or its embedding
  // would differ by run history. So when the model is wanted the decode is sized for it
  // alone, and a default-size thumbnail is cut from that (for near-square and very long
  // images a little under 256 px, at least the model's 224); a thumbnail asked larger than
  // the default gets a decode of its own, and so does an image longer than 2:1, whose
  // letterboxed model decode is far too short across for its thumbnail (224x7 of a 10000x300
  // panorama; see elongatedThumbnail).
  const baseServesThumb = elongated
    ? fit === 'cover' && size >= Math.min(elongated.width, elongated.height)
    : thumbSize <= DEFAULT_THUMBNAIL_SIZE;
  const thumbFromBase = job.thumb !== null && (!wantModel || baseServesThumb);
  const resize = wantModel
    ? intermediateResize(width, height, { cover: fit === 'cover' ? size : undefined, contain: fit === 'contain' ? size : undefined })!
    : thumbnailDecodeSize(width, height, thumbSize);
  const base = await decodeTo(buf, sharpOptions, resize);

  const model = wantModel ? modelInputFrom(base, size, fit === 'contain' ? 'contain' : 'cover', bg) : undefined;
  const thumbnail = job.thumb ? writeThumbnail(job, job.thumb, thumbFromBase ? base : null) : undefined;
  const [input, written] = await Promise.all([model, thumbnail]);
  return { ...(input ? { input } : {}), ...written };
}

/** The model input from the decode sized for it: its centre crop where it is at the model's scale already. */
function modelInputFrom(
  { data, raw }: { data: Buffer; raw: { width: number; height: number; channels: 1 | 2 | 3 | 4 } },
  size: number,
  fit: 'cover' | 'contain',
  bg: RGB,
): ModelInput | Promise<ModelInput> {
  const short = Math.min(raw.width, raw.height);
  if (fit === 'cover' && short === size && (raw.channels === 3 || raw.channels === 4)) {
    // Already the model's scale: the centre crop is the model input. Offsets as sharp's
    // 'cover' + 'centre' ((in - out + 1) / 2, rounded down), so both paths give the same pixels.
    return modelFloatsFromRaw(data, raw, size, Math.floor((raw.width - size + 1) / 2), Math.floor((raw.height - size + 1) / 2), bg);
  }
  return resizeToModelInput(data, raw, size, fit, bg);
}

/**
 * Encodes the thumbnail from `base` (the model's decode) or, where that cannot serve it, a decode
 * of its own, and writes it; a file that cannot be written is `thumbnailError`, not a skip.
 */
async function writeThumbnail(
  job: PixelJob,
  thumb: NonNullable<PixelJob['thumb']>,
  base: { data: Buffer; raw: { width: number; height: number; channels: 1 | 2 | 3 | 4 } } | null,
): Promise<PixelOutputs> {
  const src = base ?? (await decodeTo(job.buf, job.sharpOptions, thumbnailDecodeSize(job.width, job.height, job.thumbSize)));
  const enc = await encodeThumbnail(src, job.elongated ?? job.thumbSize, thumb.format, thumb.quality, job.bg);
  try {
    await writeThumbnailFile(thumb.abs, enc.data);
    return { thumbnail: { relPath: thumb.rel, absPath: thumb.abs, width: enc.info.width, height: enc.info.height, reused: false } };
  } catch (err) {
    return { thumbnailError: `Could not write thumbnail: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * The model input of one image: 224x224 RGB floats in [0,1] (HWC) plus its horizontal flip,
 * and metadata. Path or bytes; never throws for bad input.
 */
export function decodeForModel(
  src: ImageSource,
  size: number = MODEL_INPUT_SIZE,
  options: Omit<DecodeOptions, 'size' | 'model'> = {},
): Promise<DecodeResult> {
  return decodeImage(src, { ...options, size, model: true });
}
