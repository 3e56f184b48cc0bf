/**
 * IEEE 754 half precision, for rows held by the million: the reduced views (PCA-256, unit
 * length, entries in [-1, 1]) keep 11 significant bits, a relative error below 2^-11, at half
 * the memory of float32. Node 20 has no Float16Array; the bits live in a Uint16Array.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The half nearest to `v` (ties to even), as its 16 bits. */
export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf, NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow: inf
  if (e <= 0) {
    // subnormal half (or zero): shift the implicit 1 in, round to nearest even
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // a carry out of the mantissa bumps the exponent, which is the right rounding
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/** Every half's float32 value, indexed by its bits (256 KiB, made on first use). */
let table: Float32Array | null = null;
function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    table[h] = e === 0 ? sign * m * 2 ** -24 : e === 0x1f ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return table;
}

/** `x` rounded to halves. */
export function encodeHalf(x: Float32Array, out: Uint16Array = new Uint16Array(x.length), offset = 0): Uint16Array {
  for (let i = 0; i < x.length; i++) out[offset + i] = toHalf(x[i]!);
  return out;
}

/** Halves `h[start .. start + count)` as float32 into `out` at `outOffset`. */
export function decodeHalf(h: Uint16Array, start: number, count: number, out: Float32Array, outOffset = 0): void {
  const t = halfTable();
  for (let i = 0; i < count; i++) out[outOffset + i] = t[h[start + i]!]!;
}

/** `x` rounded to halves in place (their float32 values): rows read per step made equal to held ones. */
export function roundToHalves(x: Float32Array): Float32Array {
  const t = halfTable();
  for (let i = 0; i < x.length; i++) x[i] = t[toHalf(x[i]!)]!;
  return x;
}
