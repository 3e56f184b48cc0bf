/**
 * Small seeded PRNG (mulberry32) used for every random choice in core/icon
 * (sampling, shuffles, inits), so that results are deterministic for a seed.
 * No global state: each consumer creates its own Rng.
 */
export class Rng {
  private s: number;

  constructor(seed: number) {
    // Mix the seed so nearby seeds give unrelated streams.
    let h = (seed ^ 0x9e3779b9) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    this.s = (h ^ (h >>> 16)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A seed for tf.random* ops derived from this stream. */
  seed(): number {
    return this.int(2 ** 31 - 1);
  }

  /** Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /** Fills a Float32Array with N(0, std^2). */
  normalArray(len: number, std = 1): Float32Array {
    const a = new Float32Array(len);
    for (let i = 0; i < len; i++) a[i] = this.normal() * std;
    return a;
  }
}
