import { readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { hammingHex, hashOfSample, perceptualHash } from '../../core/images/fingerprint.js';
import { sharedDatasets } from '../helpers/cli.js';

// The library whose hash ours must equal, bit for bit (a dev dependency: the reference only).
const libraryPhash = createRequire(import.meta.url)('sharp-phash') as (image: string | Buffer) => Promise<string>;

function bitsToHex(bits: string): string {
  let hex = '';
  for (let i = 0; i < 64; i += 4) hex += parseInt(bits.slice(i, i + 4), 2).toString(16);
  return hex;
}

async function synthetic(kind: number): Promise<Buffer> {
  const w = 200 + 37 * kind;
  const h = 150 + 23 * kind;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      raw[o] = (x * (kind + 1) + y * 3) & 255;
      raw[o + 1] = Math.round(127 + 120 * Math.sin((x * kind) / 17 + y / 29));
      raw[o + 2] = (x ^ y) & (64 * kind + 63);
    }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

describe('perceptual hash', () => {
  it('equals sharp-phash on synthetic pictures, and tells them apart', async () => {
    const hashes: string[] = [];
    for (let kind = 0; kind < 6; kind++) {
      const img = await synthetic(kind);
      const ours = await perceptualHash(img);
      expect(ours).toBe(bitsToHex(await libraryPhash(img)));
      hashes.push(ours!);
    }
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('keeps the 8 x 8 lowest frequencies but DC, row by row, each against their mean', () => {
    // s(x, y) = cos_x(1) cos_y(2) is the DCT basis of F[1][2] alone: its bit, (u - 1) * 8 + (v - 1) = 1,
    // is the only one above the mean; a transposed or shifted index puts the 1 elsewhere.
    const s = new Float64Array(32 * 32);
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++)
        s[y * 32 + x] = 100 * Math.cos(((2 * x + 1) * Math.PI) / 64) * Math.cos(((2 * y + 1) * 2 * Math.PI) / 64);
    const hex = hashOfSample(s);
    const bits = Array.from(hex, (c) => parseInt(c, 16).toString(2).padStart(4, '0')).join('');
    expect(bits.indexOf('1')).toBe(0 * 8 + 1); // u = 1 -> row 0, v = 2 -> column 1
    expect(bits.lastIndexOf('1')).toBe(1);
  });

  for (const set of ['tuxpaint300', 'fashion-mnist-1k']) {
    const root = path.join(sharedDatasets, set);
    it.skipIf(!existsSync(root))(`equals sharp-phash on ${set} (its first 400 images)`, async () => {
      const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
        .filter((f) => /\.(png|jpe?g)$/i.test(f))
        .slice(0, 400);
      expect(files.length).toBeGreaterThan(250);
      const differ: string[] = [];
      for (const f of files) {
        const file = path.join(root, f);
        const ours = await perceptualHash(file);
        const theirs = bitsToHex(await libraryPhash(file));
        if (ours !== theirs) differ.push(`${f}: ${ours} vs ${theirs} (${hammingHex(ours ?? '0'.repeat(16), theirs)} bits)`);
      }
      expect(differ).toEqual([]);
    });
  }

  it('is null for what cannot be read', async () => {
    expect(await perceptualHash('/nonexistent/missing.jpg')).toBeNull();
    expect(await perceptualHash(Buffer.from('not an image'))).toBeNull();
  });
});
