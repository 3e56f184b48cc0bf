import { initTf } from '../../core/embed/backend.js';
import { Rng } from '../../core/icon/rng.js';

export async function setupTf(): Promise<void> {
  await initTf({ prefer: ['wasm', 'cpu'] });
}

/** Gaussian blobs: k centres N(0, sep^2 I) in d dims, `per` points each with unit noise. */
export function blobs(
  k: number,
  per: number,
  d: number,
  sep: number,
  seed = 1,
): { x: Float32Array; labels: Int32Array; n: number; centres: Float32Array } {
  const rng = new Rng(seed);
  const centres = rng.normalArray(k * d, sep);
  const n = k * per;
  const x = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    labels[i] = c;
    for (let j = 0; j < d; j++) x[i * d + j] = centres[c * d + j]! + rng.normal();
  }
  return { x, labels, n, centres };
}
