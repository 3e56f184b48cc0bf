/**
 * Augmented views of a model input, the "augmented views" of I-Con's supervision: each view is
 * a random resized crop of the 224 x 224 input (area 35-100%, aspect 3:4 to 4:3, bilinear),
 * with colour jitter (brightness x0.7-1.3, saturation x0.6-1.4, hue +-10 degrees), greyscale
 * with probability 0.2 and a horizontal flip with probability 0.5 (SimCLR's recipe, milder in
 * colour). The trainer feeds each image to its head as one of these views and asks it to agree
 * with the image's neighbours (docs/clustering.md has the measurements behind the recipe).
 *
 * Views are drawn from a seed derived from the image's content hash, so an image has the same
 * views on every machine and every re-embedding, and a copy of it shares them.
 */
import { Rng } from '../icon/rng.js';

export interface AugmentRecipe {
  /** Crop area as a fraction of the input, [min, max]. */
  area: [number, number];
  /** Crop aspect ratio (width / height), [min, max], drawn log-uniformly. */
  aspect: [number, number];
  /** Brightness factor range. */
  brightness: [number, number];
  /** Saturation factor range (0 = grey). */
  saturation: [number, number];
  /** Hue rotation, +- degrees. */
  hueDegrees: number;
  /** Probability of a greyscale view. */
  grey: number;
  /** Probability of a horizontal flip. */
  flip: number;
}

export const DEFAULT_RECIPE: Readonly<AugmentRecipe> = Object.freeze<AugmentRecipe>({
  area: [0.35, 1],
  aspect: [3 / 4, 4 / 3],
  brightness: [0.7, 1.3],
  saturation: [0.6, 1.4],
  hueDegrees: 10,
  grey: 0.2,
  flip: 0.5,
});

/**
 * A 32-bit seed from a content hash (`cs1:<hex>`) or any string: FNV-1a. `draw` picks another
 * set of views of the same image (0, the app's, is the hash alone): `constellate eval
 * --view-draw` measures how much a result owes to the particular crops drawn.
 */
export function viewSeed(contentHash: string, draw = 0): number {
  if (!Number.isInteger(draw) || draw < 0) throw new RangeError('viewSeed: draw must be a whole number >= 0');
  const key = draw === 0 ? contentHash : `${contentHash}#${draw}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * `count` augmented views of one model input (`size` x `size` x 3 floats in [0, 1], HWC), as
 * one [count, size, size, 3] batch ready for the backbone.
 */
export function augmentedViews(
  input: Float32Array,
  size: number,
  count: number,
  seed: number,
  recipe: AugmentRecipe = DEFAULT_RECIPE,
): Float32Array {
  if (input.length !== size * size * 3) throw new Error(`augmentedViews: expected ${size}x${size}x3 floats, got ${input.length}`);
  if (!Number.isInteger(count) || count < 0) throw new Error('augmentedViews: count must be a whole number >= 0');
  const rng = new Rng(seed);
  const plane = size * size * 3;
  const out = new Float32Array(count * plane);
  for (let v = 0; v < count; v++) writeView(input, size, drawView(rng, size, recipe), out.subarray(v * plane, (v + 1) * plane));
  return out;
}

interface ViewParams {
  x0: number;
  y0: number;
  w: number;
  h: number;
  brightness: number;
  saturation: number;
  hue: number;
  grey: boolean;
  flip: boolean;
}

function uniform(rng: Rng, [lo, hi]: [number, number]): number {
  return lo + (hi - lo) * rng.next();
}

function drawView(rng: Rng, size: number, r: AugmentRecipe): ViewParams {
  const area = uniform(rng, r.area) * size * size;
  const aspect = Math.exp(uniform(rng, [Math.log(r.aspect[0]), Math.log(r.aspect[1])]));
  const w = Math.min(size, Math.max(8, Math.sqrt(area * aspect)));
  const h = Math.min(size, Math.max(8, Math.sqrt(area / aspect)));
  return {
    x0: rng.next() * (size - w),
    y0: rng.next() * (size - h),
    w,
    h,
    brightness: uniform(rng, r.brightness),
    saturation: uniform(rng, r.saturation),
    hue: (uniform(rng, [-r.hueDegrees, r.hueDegrees]) * Math.PI) / 180,
    grey: rng.next() < r.grey,
    flip: rng.next() < r.flip,
  };
}

/**
 * Bilinear resize of the crop, then colour, one pass per output pixel. A view costs ~1 ms here:
 * what depends only on the output column (source columns and weights, the flipped column) is
 * worked out once per view, not once per pixel, with the same arithmetic as per pixel.
 */
function writeView(src: Float32Array, size: number, p: ViewParams, dst: Float32Array): void {
  // Hue rotation about the grey axis in YIQ (luma kept), folded with saturation into one 3x3.
  const cos = Math.cos(p.hue) * p.saturation;
  const sin = Math.sin(p.hue) * p.saturation;
  const { brightness, grey } = p;
  const sx = p.w / size;
  const sy = p.h / size;
  const col0 = new Int32Array(size);
  const col1 = new Int32Array(size);
  const colT = new Float64Array(size);
  const outCol = new Int32Array(size);
  for (let ox = 0; ox < size; ox++) {
    const fx = Math.min(size - 1, Math.max(0, p.x0 + (ox + 0.5) * sx - 0.5));
    const x0 = Math.floor(fx);
    col0[ox] = x0 * 3;
    col1[ox] = Math.min(size - 1, x0 + 1) * 3;
    colT[ox] = fx - x0;
    outCol[ox] = (p.flip ? size - 1 - ox : ox) * 3;
  }
  for (let oy = 0; oy < size; oy++) {
    const fy = Math.min(size - 1, Math.max(0, p.y0 + (oy + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const row0 = y0 * size * 3;
    const row1 = Math.min(size - 1, y0 + 1) * size * 3;
    const outRow = oy * size * 3;
    const ty = fy - y0;
    for (let ox = 0; ox < size; ox++) {
      const tx = colT[ox]!;
      const a = row0 + col0[ox]!;
      const b = row0 + col1[ox]!;
      const c = row1 + col0[ox]!;
      const d = row1 + col1[ox]!;
      const w00 = (1 - tx) * (1 - ty);
      const w01 = tx * (1 - ty);
      const w10 = (1 - tx) * ty;
      const w11 = tx * ty;
      const r = (w00 * src[a]! + w01 * src[b]! + w10 * src[c]! + w11 * src[d]!) * brightness;
      const g = (w00 * src[a + 1]! + w01 * src[b + 1]! + w10 * src[c + 1]! + w11 * src[d + 1]!) * brightness;
      const bl = (w00 * src[a + 2]! + w01 * src[b + 2]! + w10 * src[c + 2]! + w11 * src[d + 2]!) * brightness;
      const yy = 0.299 * r + 0.587 * g + 0.114 * bl;
      let rr = yy;
      let gg = yy;
      let bb = yy;
      if (!grey) {
        const i0 = 0.596 * r - 0.274 * g - 0.322 * bl;
        const q0 = 0.211 * r - 0.523 * g + 0.312 * bl;
        const i1 = i0 * cos - q0 * sin;
        const q1 = i0 * sin + q0 * cos;
        rr = yy + 0.956 * i1 + 0.621 * q1;
        gg = yy - 0.272 * i1 - 0.647 * q1;
        bb = yy - 1.106 * i1 + 1.703 * q1;
      }
      const o = outRow + outCol[ox]!;
      dst[o] = clamp01(rr);
      dst[o + 1] = clamp01(gg);
      dst[o + 2] = clamp01(bb);
    }
  }
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
