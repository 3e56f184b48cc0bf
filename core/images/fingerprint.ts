/**
 * A perceptual hash for near-duplicate detection: sharp-phash (a well-used DCT pHash on sharp:
 * greyscale 32 x 32, the 8 x 8 lowest frequencies but the DC term, each above or below their
 * mean), as 16 hex digits. Resizing, recompressing and small edits change a few of its 64
 * bits; different pictures about half. Computed from the thumbnail (already oriented, 256 px:
 * the 32 x 32 sample is the same as from the original), so a photo is read once.
 */
import { createRequire } from 'node:module';

// CommonJS (module.exports = fn) with an ES-style default in its types: required as what it is.
const phash = createRequire(import.meta.url)('sharp-phash') as (image: string | Buffer, options?: object) => Promise<string>;

/** The 64-bit pHash of an image (a path or bytes) as 16 hex digits; null when it cannot be read. */
export async function perceptualHash(image: string | Buffer): Promise<string | null> {
  try {
    const bits = await phash(image, { limitInputPixels: 16384 * 16384, failOn: 'none' });
    if (!/^[01]{64}$/.test(bits)) return null;
    let hex = '';
    for (let i = 0; i < 64; i += 4) hex += parseInt(bits.slice(i, i + 4), 2).toString(16);
    return hex;
  } catch {
    return null;
  }
}

/** How many of the 64 bits differ between two hashes (16 hex digits each). */
export function hammingHex(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < 16; i += 8) {
    let x = (parseInt(a.slice(i, i + 8), 16) ^ parseInt(b.slice(i, i + 8), 16)) >>> 0;
    while (x) {
      x &= x - 1;
      d++;
    }
  }
  return d;
}
