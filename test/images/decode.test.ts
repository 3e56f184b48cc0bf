import { existsSync } from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeForModel, decodeImage, type ModelInput } from '../../core/images/decode.js';
import { normaliseExifDate } from '../../core/images/metadata.js';
import { configureSharp } from '../../core/images/sharpConfig.js';
import { makeThumbnail, thumbnailRelPath } from '../../core/images/thumbnail.js';
import { hashBuffer, hashFile } from '../../core/library/hash.js';
import { scanAll } from '../../core/library/scan.js';
import { makeNoiseGradientJpeg } from '../fixtures/badCorpus.js';

const TUX = '/work/shared/datasets/tuxpaint300';
const FMNIST = '/work/shared/datasets/fashion-mnist-1k';

let dir: string;
beforeAll(async () => {
  configureSharp({ concurrency: 1 });
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'constellate-decode-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function stats(a: Float32Array) {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of a) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / a.length };
}

function expectMirror(inp: ModelInput) {
  const s = inp.size;
  for (const [x, y] of [
    [0, 0],
    [17, 100],
    [223, 5],
    [111, 223],
  ] as const) {
    for (let c = 0; c < 3; c++) {
      expect(inp.flipped[(y * s + x) * 3 + c]).toBe(inp.data[(y * s + (s - 1 - x)) * 3 + c]);
    }
  }
}

describe.skipIf(!existsSync(TUX))('real data: tuxpaint300 (RGBA cut-outs)', () => {
  it('decodes a sample to 224x224x3 floats in [0,1], transparent background flattened to white', async () => {
    const { files } = await scanAll(TUX);
    expect(files).toHaveLength(300);
    const sample = files.filter((_, i) => i % 30 === 0);
    let whiteCorners = 0;
    for (const f of sample) {
      const r = await decodeForModel(f.path);
      if (!r.ok) throw new Error(`${f.path}: ${r.skip.code} ${r.skip.message}`);
      expect(r.meta.format).toBe('png');
      expect(r.meta.width).toBeGreaterThan(10);
      const inp = r.input!;
      expect(inp.size).toBe(224);
      expect(inp.data).toBeInstanceOf(Float32Array);
      expect(inp.data.length).toBe(224 * 224 * 3);
      expect(inp.pair.length).toBe(2 * 224 * 224 * 3);
      const s = stats(inp.pair);
      expect(s.min).toBeGreaterThanOrEqual(0);
      expect(s.max).toBeLessThanOrEqual(1);
      expect(s.max - s.min).toBeGreaterThan(0.2);
      expectMirror(inp);
      if (r.meta.hasAlpha && inp.data[0] === 1 && inp.data[1] === 1 && inp.data[2] === 1) whiteCorners++;
    }
    expect(whiteCorners).toBeGreaterThanOrEqual(sample.length / 2);
  });
});

describe.skipIf(!existsSync(FMNIST))('real data: fashion-mnist-1k (28x28 greyscale)', () => {
  it('decodes 28x28 PNGs upscaled to 224, grey in all three channels', async () => {
    const { files } = await scanAll(FMNIST);
    expect(files).toHaveLength(1000);
    for (const f of files.slice(0, 10)) {
      const r = await decodeForModel(f.path);
      if (!r.ok) throw new Error(`${f.path}: ${r.skip.code}`);
      expect([r.meta.width, r.meta.height]).toEqual([28, 28]);
      const d = r.input!.data;
      for (let i = 0; i < d.length; i += 3 * 97) {
        expect(d[i]).toBe(d[i + 1]);
        expect(d[i + 1]).toBe(d[i + 2]);
      }
      const s = stats(d);
      expect(s.min).toBeGreaterThanOrEqual(0);
      expect(s.max).toBeLessThanOrEqual(1);
    }
  });
});

describe('decodeImage', () => {
  it('reads EXIF date, camera and orientation; size is after orientation', async () => {
    const buf = await sharp({ create: { width: 80, height: 40, channels: 3, background: 'red' } })
      .jpeg()
      .withExif({
        IFD0: { Make: 'Canon', Model: 'Canon EOS 5D', DateTime: '2020:01:02 03:04:05' },
        IFD2: { DateTimeOriginal: '2019:05:06 07:08:09', OffsetTimeOriginal: '+02:00' },
      })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const r = await decodeForModel(buf);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.meta).toMatchObject({
      width: 40,
      height: 80,
      orientation: 6,
      format: 'jpeg',
      takenAt: '2019-05-06T07:08:09+02:00',
      cameraMake: 'Canon',
      cameraModel: 'Canon EOS 5D',
    });
    const noExif = await decodeForModel(
      await sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } })
        .png()
        .toBuffer(),
    );
    expect(noExif.ok && noExif.meta.takenAt).toBe(undefined);
    expect(normaliseExifDate('0000:00:00 00:00:00')).toBe(undefined);
    expect(normaliseExifDate('2001:02:03 04:05')).toBe('2001-02-03T04:05:00');
  });

  it('cover crops the centre, contain letterboxes; auto picks contain above 2:1', async () => {
    // 300x100: left third red, middle green, right third blue.
    const raw = Buffer.alloc(300 * 100 * 3);
    for (let y = 0; y < 100; y++)
      for (let x = 0; x < 300; x++) raw.set(x < 100 ? [255, 0, 0] : x < 200 ? [0, 255, 0] : [0, 0, 255], (y * 300 + x) * 3);
    const png = await sharp(raw, { raw: { width: 300, height: 100, channels: 3 } })
      .png()
      .toBuffer();
    const cover = await decodeImage(png, { fit: 'cover' });
    const contain = await decodeImage(png, { fit: 'contain' });
    const auto = await decodeImage(png);
    if (!cover.ok || !contain.ok || !auto.ok) throw new Error('decode failed');
    const at = (d: Float32Array, x: number, y: number) =>
      Array.from(d.subarray((y * 224 + x) * 3, (y * 224 + x) * 3 + 3)).map((v) => Math.round(v * 255));
    expect(at(cover.input!.data, 5, 112)).toEqual([0, 255, 0]); // only the middle third is left
    expect(at(contain.input!.data, 5, 112)).toEqual([255, 0, 0]);
    expect(at(contain.input!.data, 112, 5)).toEqual([255, 255, 255]); // white bars
    expect(Array.from(auto.input!.data)).toEqual(Array.from(contain.input!.data));
    const grey = await decodeImage(png, { fit: 'contain', background: { r: 128, g: 128, b: 128 } });
    expect(grey.ok && at(grey.input!.data, 112, 5)).toEqual([128, 128, 128]);
  });

  it('writes the thumbnail from the same decode into the cache by content hash, never next to the original', async () => {
    const src = path.join(dir, 'originals');
    await fsp.mkdir(src);
    const jpg = await makeNoiseGradientJpeg(1600, 1200, 3);
    const orig = path.join(src, 'photo 1.jpg');
    await fsp.writeFile(orig, jpg);
    const before = await fsp.stat(orig);
    const cacheDir = path.join(dir, 'cache', 'thumbs');
    const r = await decodeImage(orig, { thumbnail: { cacheDir } });
    if (!r.ok) throw new Error(r.skip.message);
    expect(r.hash).toBe(await hashFile(orig));
    expect(r.thumbnail).toMatchObject({ relPath: thumbnailRelPath(r.hash), reused: false, width: 256, height: 192 });
    expect(r.thumbnail!.relPath).toMatch(/^[0-9a-f]{2}\/[0-9a-f]{64}-256\.webp$/);
    const meta = await sharp(path.join(cacheDir, r.thumbnail!.relPath)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 256, 192]);
    expect(r.input!.data.length).toBe(224 * 224 * 3);
    // Originals untouched, nothing written next to them.
    expect(await fsp.readdir(src)).toEqual(['photo 1.jpg']);
    const after = await fsp.stat(orig);
    expect([after.mtimeMs, after.size, after.mode]).toEqual([before.mtimeMs, before.size, before.mode]);
    // A renamed/moved copy reuses the thumbnail.
    const moved = path.join(src, 'renamed.jpg');
    await fsp.rename(orig, moved);
    const t = await makeThumbnail(moved, { cacheDir });
    expect(t).toMatchObject({ ok: true, thumbnail: { relPath: r.thumbnail!.relPath, reused: true } });
  });

  it('thumbnails are oriented, keep alpha in WebP, can be JPEG, and small images are not enlarged', async () => {
    const cacheDir = path.join(dir, 'cache2');
    const rotated = await sharp({ create: { width: 600, height: 300, channels: 3, background: 'blue' } })
      .jpeg()
      .withMetadata({ orientation: 8 })
      .toBuffer();
    const a = await makeThumbnail(rotated, { cacheDir });
    expect(a).toMatchObject({ ok: true, thumbnail: { width: 128, height: 256 } });
    const rgba = await sharp({ create: { width: 40, height: 20, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    const b = await makeThumbnail(rgba, { cacheDir });
    if (!b.ok) throw new Error('thumb failed');
    const bm = await sharp(b.thumbnail.absPath).metadata();
    expect([bm.width, bm.height, bm.hasAlpha]).toEqual([40, 20, true]);
    const c = await makeThumbnail(rotated, { cacheDir, format: 'jpeg', size: 128 });
    if (!c.ok) throw new Error('thumb failed');
    expect(c.thumbnail.relPath).toMatch(/-128\.jpg$/);
    expect((await sharp(c.thumbnail.absPath).metadata()).format).toBe('jpeg');
    expect(await makeThumbnail(Buffer.from('nope'), { cacheDir })).toMatchObject({ ok: false, skip: { code: 'not-an-image' } });
  });

  it('a 10000x300 panorama gets a 512x128 thumbnail of its centre (it was 224x7), the model input unchanged', async () => {
    // red, then green in the middle fifth, then blue: a 4:1 centre crop (1200 px of 10000) is all green
    const [w, h] = [10000, 300];
    const raw = Buffer.alloc(w * h * 3);
    for (let x = 0; x < w; x++) {
      const colour = x < 4000 ? [255, 0, 0] : x < 6000 ? [0, 255, 0] : [0, 0, 255];
      for (let y = 0; y < h; y++) raw.set(colour, (y * w + x) * 3);
    }
    const pano = path.join(dir, 'pano.jpg');
    await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(pano);
    const cacheDir = path.join(dir, 'cache-pano');
    // as indexing decodes it (prepareImage): model input and thumbnail together
    const r = await decodeImage(pano, { thumbnail: { cacheDir, format: 'auto' } });
    if (!r.ok) throw new Error(r.skip.message);
    expect(r.thumbnail).toMatchObject({ width: 512, height: 128, reused: false });
    expect(r.thumbnail!.relPath).toMatch(/-256-long\.jpg$/);
    const { data, info } = await sharp(r.thumbnail!.absPath).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([512, 128]);
    for (const x of [2, 256, 509]) {
      const [red, green, blue] = data.subarray((64 * 512 + x) * 3, (64 * 512 + x) * 3 + 3);
      expect(green!, `x=${x}`).toBeGreaterThan(200);
      expect(red! + blue!, `x=${x}`).toBeLessThan(60);
    }
    // the model's pixels do not depend on the thumbnail being made
    const modelOnly = await decodeImage(pano);
    expect(modelOnly.ok && Array.from(modelOnly.input!.data)).toEqual(Array.from(r.input!.data));
    // a thumbnail-only decode gives the same shape, and a portrait strip the other way round
    const t = await makeThumbnail(pano, { cacheDir: path.join(dir, 'cache-pano-2') });
    expect(t).toMatchObject({ ok: true, thumbnail: { width: 512, height: 128 } });
    const tall = await sharp(pano).rotate(90).jpeg().toBuffer();
    expect(await makeThumbnail(tall, { cacheDir })).toMatchObject({ ok: true, thumbnail: { width: 128, height: 512 } });
  });

  it('sizes thumbnails longer than 2:1 by their short side: 3:1 whole, a thin strip never enlarged; an old smear in the cache is not reused', async () => {
    const cacheDir = path.join(dir, 'cache-long');
    const threeToOne = await sharp({ create: { width: 900, height: 300, channels: 3, background: 'orange' } })
      .png()
      .toBuffer();
    expect(await makeThumbnail(threeToOne, { cacheDir })).toMatchObject({ ok: true, thumbnail: { width: 384, height: 128 } });
    const strip = await sharp({ create: { width: 10000, height: 50, channels: 3, background: 'teal' } })
      .png()
      .toBuffer();
    expect(await makeThumbnail(strip, { cacheDir })).toMatchObject({ ok: true, thumbnail: { width: 200, height: 50 } });
    const twoToOne = await sharp({ create: { width: 600, height: 300, channels: 3, background: 'navy' } })
      .png()
      .toBuffer();
    expect(await makeThumbnail(twoToOne, { cacheDir })).toMatchObject({ ok: true, thumbnail: { width: 256, height: 128 } });
    // a cache made before holds the 224x7 smear under the plain name: a new thumbnail is made
    const wide = await sharp({ create: { width: 3000, height: 100, channels: 3, background: 'olive' } })
      .png()
      .toBuffer();
    const hash = hashBuffer(wide);
    const smear = path.join(cacheDir, ...thumbnailRelPath(hash).split('/'));
    await fsp.mkdir(path.dirname(smear), { recursive: true });
    await sharp({ create: { width: 224, height: 7, channels: 3, background: 'olive' } })
      .webp()
      .toFile(smear);
    expect(await makeThumbnail(wide, { cacheDir })).toMatchObject({ ok: true, thumbnail: { width: 400, height: 100, reused: false } });
  });

  it('reports a cache write failure without failing the decode', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    await fsp.writeFile(blocker, 'x');
    const png = await sharp({ create: { width: 10, height: 10, channels: 3, background: 'red' } })
      .png()
      .toBuffer();
    const r = await decodeImage(png, { thumbnail: { cacheDir: path.join(blocker, 'cache') } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.input).toBeDefined();
    expect(r.thumbnail).toBeUndefined();
    expect(r.thumbnailError).toMatch(/Could not write thumbnail/);
  });

  it('pair is one transferable buffer holding [image, mirror]', async () => {
    const png = await sharp({ create: { width: 10, height: 10, channels: 3, background: 'red' } })
      .png()
      .toBuffer();
    const r = await decodeForModel(png, 64);
    if (!r.ok) throw new Error('decode failed');
    expect(r.input!.size).toBe(64);
    expect(r.input!.pair.buffer.byteLength).toBe(2 * 64 * 64 * 3 * 4);
    expect(r.input!.data.byteOffset).toBe(0);
    expect(r.input!.flipped.byteOffset).toBe(64 * 64 * 3 * 4);
  });
});
