/**
 * A perceptual hash for near-duplicate detection: sharp-phash's DCT pHash (greyscale 32 x 32,
 * the 8 x 8 lowest frequencies but the DC term, each above or below their mean), as 16 hex
 * digits. Resizing, recompressing and small edits change a few of its 64 bits; different
 * pictures about half. Computed from the thumbnail (already oriented, 256 px: the 32 x 32 sample
 * is the same as from the original), so a photo is read once.
 *
 * The sample is sharp-phash's own sharp pipeline; the transform is computed here because the
 * library computes all 1,024 DCT coefficients with a quadruple loop (about 1M multiply-adds,
 * 3.6 ms of main-thread JS an image) to keep 64 of them. Here only those 64, separably (about
 * 10k): the same bits (test/images/fingerprint.test.ts checks them against the library).
 */
import sharp from 'sharp';

const SAMPLE = 32;
const LOW = 8;

/** COS[k][u] = cos((2k + 1) u pi / 2N) for u = 1..LOW (the DC term is not used), k = 0..N-1. */
const COS: Float64Array[] = Array.from({ length: SAMPLE }, (_, k) =>
  Float64Array.from({ length: LOW }, (_, u) => Math.cos(((2 * k + 1) / (2 * SAMPLE)) * (u + 1) * Math.PI)),
);

/** The 64-bit pHash of an image (a path or bytes) as 16 hex digits; null when it cannot be read. */
export async function perceptualHash(image: string | Buffer): Promise<string | null> {
  let pixels: Buffer;
  try {
    pixels = await sharp(image, { limitInputPixels: 16384 * 16384, failOn: 'none' })
      .greyscale()
      .resize(SAMPLE, SAMPLE, { fit: 'fill' })
      .rotate()
      .raw()
      .toBuffer();
  } catch {
    return null;
  }
  if (pixels.length !== SAMPLE * SAMPLE) return null;
  return hashOfSample(pixels);
}

/**
 * The hash of a 32 x 32 greyscale sample (row-major): F[u][v] = 1/4 sum_x sum_y cos_x(u) cos_y(v)
 * s(x, y) for u, v = 1..8 (x the column, y the row, as sharp-phash indexes it), each bit F > mean.
 */
export function hashOfSample(pixels: ArrayLike<number>): string {
  // rows first: t[u][y] = sum_x cos_x(u) s(x, y)
  const t = new Float64Array(LOW * SAMPLE);
  for (let y = 0; y < SAMPLE; y++)
    for (let x = 0; x < SAMPLE; x++) {
      const s = pixels[y * SAMPLE + x]!;
      const c = COS[x]!;
      for (let u = 0; u < LOW; u++) t[u * SAMPLE + y] = t[u * SAMPLE + y]! + c[u]! * s;
    }
  const f = new Float64Array(LOW * LOW);
  let total = 0;
  for (let u = 0; u < LOW; u++)
    for (let v = 0; v < LOW; v++) {
      let sum = 0;
      for (let y = 0; y < SAMPLE; y++) sum += COS[y]![v]! * t[u * SAMPLE + y]!;
      f[u * LOW + v] = sum / 4;
      total += sum / 4;
    }
  const mean = total / (LOW * LOW);
  let hex = '';
  for (let i = 0; i < LOW * LOW; i += 4) {
    let nibble = 0;
    for (let b = 0; b < 4; b++) nibble = (nibble << 1) | (f[i + b]! > mean ? 1 : 0);
    hex += nibble.toString(16);
  }
  return hex;
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
