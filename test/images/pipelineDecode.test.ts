/**
 * The indexing decode's cheaper paths: the one resize to the smallest sufficient intermediate,
 * the model input cut from it without a second resample, and the thumbnail format choice.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseThumbnailFormat, decodeImage, intermediateResize, modelFloatsFromRaw } from '../../core/images/decode.js';
import { configureSharp } from '../../core/images/sharpConfig.js';
import { makeThumbnail } from '../../core/images/thumbnail.js';
import { makeNoiseGradientJpeg } from '../fixtures/badCorpus.js';

let dir: string;
beforeAll(async () => {
  configureSharp({ concurrency: 1 });
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'constellate-pdecode-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const bytes = (f: Float32Array) => Array.from(f, (v) => Math.round(v * 255));

describe('intermediateResize', () => {
  it('decodes straight to the smallest image both outputs can be made from', () => {
    // A 4:3 photo: the short side at the model size makes the model input a crop, and the long
    // side (299) still covers the 256 px thumbnail.
    expect(intermediateResize(1600, 1200, { cover: 224, thumbnail: 256 })).toEqual({ width: 224, height: 224, fit: 'outside' });
    // Square: a 224 px short side would leave the thumbnail at 224, so the thumbnail decides.
    expect(intermediateResize(1000, 1000, { cover: 224, thumbnail: 256 })).toEqual({ width: 256, height: 256, fit: 'inside' });
    expect(intermediateResize(3000, 1000, { contain: 224, thumbnail: 256 })).toEqual({ width: 256, height: 256, fit: 'inside' });
    expect(intermediateResize(3000, 1000, { contain: 224 })).toEqual({ width: 224, height: 224, fit: 'inside' });
    expect(intermediateResize(800, 600, { thumbnail: 256 })).toEqual({ width: 256, height: 256, fit: 'inside' });
    expect(intermediateResize(800, 600, {})).toBeNull();
  });
});

describe('model input without a second resample', () => {
  it("is exactly sharp's centre crop of the one resize, and its mirror", async () => {
    const jpg = await makeNoiseGradientJpeg(1600, 1200, 5);
    const r = await decodeImage(jpg, { fit: 'cover' });
    if (!r.ok || !r.input) throw new Error('decode failed');
    const ref = await sharp(jpg)
      .resize({ width: 224, height: 224, fit: 'outside' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([ref.info.width, ref.info.height]).toEqual([299, 224]);
    const crop = await sharp(ref.data, { raw: { width: ref.info.width, height: ref.info.height, channels: 3 } })
      .resize({ width: 224, height: 224, fit: 'cover', position: 'centre' })
      .raw()
      .toBuffer();
    expect(bytes(r.input.data)).toEqual(Array.from(crop));
    const s = 224;
    for (const [x, y] of [
      [0, 0],
      [10, 100],
      [223, 223],
    ] as const) {
      expect(bytes(r.input.flipped.subarray((y * s + x) * 3, (y * s + x) * 3 + 3))).toEqual(
        bytes(r.input.data.subarray((y * s + s - 1 - x) * 3, (y * s + s - x) * 3)),
      );
    }
  });

  it('flattens alpha onto the background like sharp does', async () => {
    const w = 300;
    const h = 224;
    const rgba = Buffer.alloc(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) rgba.set([200, (x * 7) % 256, 40, Math.min(255, Math.round((255 * x) / 200))], (y * w + x) * 4);
    }
    const png = await sharp(rgba, { raw: { width: w, height: h, channels: 4 } })
      .png()
      .toBuffer();
    const bg = { r: 10, g: 20, b: 250 };
    const r = await decodeImage(png, { fit: 'cover', background: bg });
    if (!r.ok || !r.input) throw new Error('decode failed');
    const ref = await sharp(png)
      .flatten({ background: bg })
      .resize({ width: 224, height: 224, fit: 'cover', position: 'centre' })
      .removeAlpha()
      .raw()
      .toBuffer();
    const got = bytes(r.input.data);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i]! - ref[i]!));
    expect(worst).toBeLessThanOrEqual(1);
    // The background shows through where alpha is low (the crop's left edge), not at the opaque right edge.
    const white = await decodeImage(png, { fit: 'cover' });
    if (!white.ok || !white.input) throw new Error('decode failed');
    const right = (223 * 224 + 223) * 3;
    expect(bytes(white.input.data.subarray(0, 3))).not.toEqual(got.slice(0, 3));
    expect(bytes(white.input.data.subarray(right, right + 3))).toEqual(got.slice(right, right + 3));
  });

  it('refuses a crop outside the image (a bug, not bad input)', () => {
    const raw = { width: 10, height: 10, channels: 3 };
    expect(() => modelFloatsFromRaw(new Uint8Array(300), raw, 8, 3, 0, { r: 0, g: 0, b: 0 })).toThrow(/outside/);
  });
});

describe('model input independent of the thumbnail cache', () => {
  it('is the same whether the thumbnail is written, already cached, not wanted, or larger', async () => {
    // Square and 3:1 images: where a shared decode would be sized by the thumbnail, not the model.
    for (const [w, h] of [
      [900, 900],
      [1500, 500],
      [1600, 1200],
    ] as const) {
      const jpg = await makeNoiseGradientJpeg(w, h, 7);
      const cacheDir = await fsp.mkdtemp(path.join(dir, 'cache-'));
      const written = await decodeImage(jpg, { thumbnail: { cacheDir, format: 'auto' } });
      const cached = await decodeImage(jpg, { thumbnail: { cacheDir, format: 'auto' } });
      const none = await decodeImage(jpg);
      const large = await decodeImage(jpg, { thumbnail: { cacheDir, format: 'auto', size: 512 } });
      if (!written.ok || !cached.ok || !none.ok || !large.ok) throw new Error('decode failed');
      expect(written.thumbnail?.reused).toBe(false);
      const side = (t: { width: number; height: number }, long: boolean) =>
        long ? Math.max(t.width, t.height) : Math.min(t.width, t.height);
      if (w / h > 2) {
        // longer than 2:1: a decode of its own, sized by the short side (half the thumbnail size)
        expect(side(written.thumbnail!, false)).toBe(128);
        expect(side(large.thumbnail!, false), `${w}x${h}`).toBe(256);
      } else {
        // cut from the model's decode: 256 px, or a little under where that decode is smaller
        expect(side(written.thumbnail!, true)).toBeGreaterThanOrEqual(224);
        expect(side(written.thumbnail!, true)).toBeLessThanOrEqual(256);
        expect(side(large.thumbnail!, true), `${w}x${h}`).toBe(512);
      }
      expect(cached.thumbnail?.reused).toBe(true);
      expect(large.thumbnail?.reused).toBe(false);
      for (const r of [cached, none, large])
        expect(Buffer.from(r.input!.pair.buffer).equals(Buffer.from(written.input!.pair.buffer)), `${w}x${h}`).toBe(true);
    }
  });
});

describe("thumbnail format 'auto'", () => {
  it('chooses JPEG for opaque images and WebP where there is alpha', () => {
    expect(chooseThumbnailFormat('auto', false)).toBe('jpeg');
    expect(chooseThumbnailFormat('auto', true)).toBe('webp');
    expect(chooseThumbnailFormat(undefined, false)).toBe('webp');
    expect(chooseThumbnailFormat('jpeg', true)).toBe('jpeg');
  });

  it('writes oriented JPEG for an opaque photo and alpha-keeping WebP for a cut-out, keyed by content', async () => {
    const cacheDir = path.join(dir, 'auto');
    // 600x300 stored sideways (EXIF 6): shown 300x600, so the thumbnail is 128x256.
    const rotated = await sharp({ create: { width: 600, height: 300, channels: 3, background: 'blue' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const a = await decodeImage(rotated, { thumbnail: { cacheDir, format: 'auto' } });
    if (!a.ok || !a.thumbnail) throw new Error('thumb failed');
    expect(a.thumbnail.relPath).toMatch(/^[0-9a-f]{2}\/[0-9a-f]{64}-256\.jpg$/);
    expect(a.thumbnail.relPath.slice(3, 67)).toBe(a.hash.slice(4));
    const am = await sharp(a.thumbnail.absPath).metadata();
    expect([am.format, am.width, am.height, am.hasAlpha]).toEqual(['jpeg', 128, 256, false]);

    const cutout = await sharp({ create: { width: 400, height: 200, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } })
      .png()
      .toBuffer();
    const b = await decodeImage(cutout, { thumbnail: { cacheDir, format: 'auto' } });
    if (!b.ok || !b.thumbnail) throw new Error('thumb failed');
    expect(b.thumbnail.relPath).toMatch(/-256\.webp$/);
    const bm = await sharp(b.thumbnail.absPath).metadata();
    expect([bm.format, bm.width, bm.height, bm.hasAlpha]).toEqual(['webp', 256, 128, true]);

    // Same content again: reused, not re-encoded.
    const again = await decodeImage(rotated, { thumbnail: { cacheDir, format: 'auto' } });
    expect(again.ok && again.thumbnail).toMatchObject({ relPath: a.thumbnail.relPath, reused: true });
  });

  it('reuses a WebP thumbnail an earlier version wrote for an opaque image', async () => {
    const cacheDir = path.join(dir, 'legacy');
    const jpg = await makeNoiseGradientJpeg(640, 480, 9);
    const old = await makeThumbnail(jpg, { cacheDir }); // the old default: WebP for everything
    if (!old.ok) throw new Error('thumb failed');
    expect(old.thumbnail.relPath).toMatch(/\.webp$/);
    const r = await decodeImage(jpg, { thumbnail: { cacheDir, format: 'auto' } });
    expect(r.ok && r.thumbnail).toMatchObject({ relPath: old.thumbnail.relPath, reused: true });
    expect(await fsp.readdir(path.dirname(old.thumbnail.absPath))).toEqual([path.basename(old.thumbnail.absPath)]);
    // Asked to overwrite, it writes the chosen format.
    const fresh = await decodeImage(jpg, { thumbnail: { cacheDir, format: 'auto', overwrite: true } });
    expect(fresh.ok && fresh.thumbnail?.relPath).toMatch(/\.jpg$/);
  });
});
