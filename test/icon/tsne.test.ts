import { beforeAll, describe, expect, it } from 'vitest';
import { tsneMapDetailed } from '../../core/icon/tsne.js';
import { blobs, setupTf } from './helpers.js';

beforeAll(setupTf);

/** Ratio of mean between-blob to mean within-blob distance in the 2-D map. */
function separation(y: Float32Array, labels: Int32Array): number {
  let within = 0;
  let wn = 0;
  let between = 0;
  let bn = 0;
  const n = labels.length;
  for (let i = 0; i < n; i += 3) {
    for (let j = i + 1; j < n; j += 3) {
      const d = Math.hypot(y[2 * i]! - y[2 * j]!, y[2 * i + 1]! - y[2 * j + 1]!);
      if (labels[i] === labels[j]) {
        within += d;
        wn++;
      } else {
        between += d;
        bn++;
      }
    }
  }
  return between / bn / (within / wn);
}

/** Fraction of points whose 2-D nearest neighbour has their label. */
function nnAgreement(y: Float32Array, labels: Int32Array): number {
  const n = labels.length;
  let ok = 0;
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bd = Infinity;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const d = (y[2 * i]! - y[2 * j]!) ** 2 + (y[2 * i + 1]! - y[2 * j + 1]!) ** 2;
      if (d < bd) {
        bd = d;
        best = j;
      }
    }
    if (labels[best] === labels[i]) ok++;
  }
  return ok / n;
}

describe('t-SNE map (Gaussian p, Student-t q, I-Con loss)', () => {
  it('exact path separates blobs', () => {
    const { x, labels, n } = blobs(4, 40, 20, 2, 5);
    const r = tsneMapDetailed(x, n, 20, { perplexity: 15, iterations: 250, seed: 1 });
    expect(r.method).toBe('exact');
    expect(r.points).toHaveLength(2 * n);
    expect(r.points.every(Number.isFinite)).toBe(true);
    expect(separation(r.points, labels)).toBeGreaterThan(2);
    expect(nnAgreement(r.points, labels)).toBeGreaterThan(0.95);
  });

  it('sampled-negatives path separates blobs and is deterministic', () => {
    const { x, labels, n } = blobs(5, 120, 20, 2, 6);
    const opts = { perplexity: 10, iterations: 300, seed: 2, exactUpTo: 100 };
    const r = tsneMapDetailed(x, n, 20, opts);
    expect(r.method).toBe('sampled');
    expect(r.points.every(Number.isFinite)).toBe(true);
    expect(separation(r.points, labels)).toBeGreaterThan(2);
    expect(nnAgreement(r.points, labels)).toBeGreaterThan(0.95);
    expect(Array.from(tsneMapDetailed(x, n, 20, opts).points)).toEqual(Array.from(r.points));
  });
});
