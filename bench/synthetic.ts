/**
 * Synthetic backbone-like features for the engine benchmarks: C centres on N(0, 1)^d and points
 * at centre + 1.5 N(0, 1)^d (about as far from their centre as centres are from each other),
 * float32 row-major. Generated in blocks, seeded by (seed, first row), so a million rows never
 * have to be in memory at once and the same rows come out every time.
 */
import { Rng } from '../core/icon/rng.js';

export function syntheticBlobs(n: number, d: number, C: number, seed: number, firstRow = 0): { x: Float32Array; labels: Int32Array } {
  const centres = new Rng(seed).normalArray(C * d, 1);
  const rng = new Rng(seed * 1_000_003 + firstRow + 1);
  const x = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(C);
    labels[i] = c;
    for (let j = 0; j < d; j++) x[i * d + j] = centres[c * d + j]! + 1.5 * rng.normal();
  }
  return { x, labels };
}
