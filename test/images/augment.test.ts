/**
 * The augmented views: the same views, to the bit, as the plain per-pixel formula (a bilinear
 * sample of the crop, brightness, then hue and saturation in YIQ, or grey; flipped or not), for
 * every kind of draw; a view of the whole input with no colour change is the input itself; the
 * draws depend on the seed alone.
 */
import { describe, expect, it } from 'vitest';
import { augmentedViews, DEFAULT_RECIPE, viewSeed } from '../../core/images/augment.js';
import { Rng } from '../../core/icon/rng.js';

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** One output pixel at a time, every coordinate worked out where it is used. */
function plainViews(input: Float32Array, size: number, count: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const r = DEFAULT_RECIPE;
  const u = ([lo, hi]: readonly [number, number]) => lo + (hi - lo) * rng.next();
  const out = new Float32Array(count * size * size * 3);
  for (let v = 0; v < count; v++) {
    const area = u(r.area) * size * size;
    const aspect = Math.exp(u([Math.log(r.aspect[0]), Math.log(r.aspect[1])]));
    const w = Math.min(size, Math.max(8, Math.sqrt(area * aspect)));
    const h = Math.min(size, Math.max(8, Math.sqrt(area / aspect)));
    const [px, py] = [rng.next() * (size - w), rng.next() * (size - h)];
    const bright = u(r.brightness);
    const sat = u(r.saturation);
    const hue = (u([-r.hueDegrees, r.hueDegrees]) * Math.PI) / 180;
    const grey = rng.next() < r.grey;
    const flip = rng.next() < r.flip;
    const [cos, sin] = [Math.cos(hue) * sat, Math.sin(hue) * sat];
    for (let oy = 0; oy < size; oy++)
      for (let ox = 0; ox < size; ox++) {
        const fy = Math.min(size - 1, Math.max(0, py + (oy + 0.5) * (h / size) - 0.5));
        const fx = Math.min(size - 1, Math.max(0, px + (ox + 0.5) * (w / size) - 0.5));
        const [y0, x0] = [Math.floor(fy), Math.floor(fx)];
        const [y1, x1] = [Math.min(size - 1, y0 + 1), Math.min(size - 1, x0 + 1)];
        const [ty, tx] = [fy - y0, fx - x0];
        const px3 = (y: number, x: number, c: number) => input[(y * size + x) * 3 + c]!;
        const [w00, w01, w10, w11] = [(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty];
        const ch = (c: number) => (w00 * px3(y0, x0, c) + w01 * px3(y0, x1, c) + w10 * px3(y1, x0, c) + w11 * px3(y1, x1, c)) * bright;
        const [R, G, B] = [ch(0), ch(1), ch(2)];
        const yy = 0.299 * R + 0.587 * G + 0.114 * B;
        let rgb = [yy, yy, yy];
        if (!grey) {
          const i0 = 0.596 * R - 0.274 * G - 0.322 * B;
          const q0 = 0.211 * R - 0.523 * G + 0.312 * B;
          const [i1, q1] = [i0 * cos - q0 * sin, i0 * sin + q0 * cos];
          rgb = [yy + 0.956 * i1 + 0.621 * q1, yy - 0.272 * i1 - 0.647 * q1, yy - 1.106 * i1 + 1.703 * q1];
        }
        const o = ((v * size + oy) * size + (flip ? size - 1 - ox : ox)) * 3;
        for (let c = 0; c < 3; c++) out[o + c] = clamp01(rgb[c]!);
      }
  }
  return out;
}

function picture(size: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: size * size * 3 }, (_, i) => (0.5 + 0.4 * Math.sin(i / 97) + 0.1 * rng.next()) % 1);
}

describe('augmentedViews', () => {
  it.each([
    [224, 8, 1],
    [224, 8, 2],
    [37, 40, 3], // 40 views of an odd size: flips, greys and crops of every kind
  ])('equals the plain per-pixel formula to the bit (%i px, %i views, seed %i)', (size, count, seed) => {
    const input = picture(size, seed);
    const views = augmentedViews(input, size, count, seed);
    const plain = plainViews(input, size, count, seed);
    expect(views.length).toBe(plain.length);
    let differing = 0;
    for (let i = 0; i < views.length; i++) if (views[i] !== plain[i]) differing++;
    expect(differing).toBe(0);
  });

  it('a whole-input crop with no colour change, no grey and no flip is the input', () => {
    const input = picture(32, 5);
    const view = augmentedViews(input, 32, 1, 9, {
      area: [1, 1],
      aspect: [1, 1],
      brightness: [1, 1],
      saturation: [1, 1],
      hueDegrees: 0,
      grey: 0,
      flip: 0,
    });
    // the YIQ round trip's coefficients have 3 decimals
    for (let i = 0; i < input.length; i++) expect(Math.abs(view[i]! - input[i]!)).toBeLessThan(1e-3);
  });

  it('depends on the seed alone, and stays in [0, 1]', () => {
    const input = picture(64, 2);
    const a = augmentedViews(input, 64, 4, viewSeed('cs1:abc'));
    expect(augmentedViews(input, 64, 4, viewSeed('cs1:abc'))).toEqual(a);
    expect(augmentedViews(input, 64, 4, viewSeed('cs1:abd'))).not.toEqual(a);
    expect(a.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it("draws another set of views of the same image for another draw, the app's for draw 0", () => {
    const input = picture(64, 2);
    expect(viewSeed('cs1:abc', 0)).toBe(viewSeed('cs1:abc'));
    const first = augmentedViews(input, 64, 4, viewSeed('cs1:abc', 1));
    expect(first).not.toEqual(augmentedViews(input, 64, 4, viewSeed('cs1:abc')));
    expect(augmentedViews(input, 64, 4, viewSeed('cs1:abc', 1))).toEqual(first);
    expect(augmentedViews(input, 64, 4, viewSeed('cs1:abc', 2))).not.toEqual(first);
    expect(() => viewSeed('cs1:abc', -1)).toThrow(RangeError);
    expect(() => viewSeed('cs1:abc', 0.5)).toThrow(RangeError);
  });
});
