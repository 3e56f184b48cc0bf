import { describe, expect, it } from 'vitest';
import { decodeHalf, encodeHalf, roundToHalves, toHalf } from '../../core/icon/float16.js';

describe('float16', () => {
  it('encodes IEEE half bits, rounding to nearest even', () => {
    expect(toHalf(0)).toBe(0);
    expect(toHalf(-0)).toBe(0x8000);
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(0.5)).toBe(0x3800);
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(1e6)).toBe(0x7c00);
    expect(toHalf(2 ** -24)).toBe(1); // smallest subnormal
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // a tie: to the even neighbour
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalf(NaN) & 0x7c00).toBe(0x7c00);
  });

  it('keeps values of unit-length rows within 2^-11 relative, and decodes what it encoded', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 1.7) * 0.9);
    const back = new Float32Array(x.length);
    decodeHalf(encodeHalf(x), 0, x.length, back);
    for (let i = 0; i < x.length; i++)
      expect(Math.abs(back[i]! - x[i]!)).toBeLessThanOrEqual(Math.max(Math.abs(x[i]!) * 2 ** -11, 2 ** -25));
    expect(Array.from(roundToHalves(Float32Array.from(x)))).toEqual(Array.from(back));
  });
});
