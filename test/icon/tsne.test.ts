import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { denseTsneGradient, tsneMapDetailed } from '../../core/icon/tsne.js';
import { gaussianKernel, studentTKernel } from '../../core/icon/kernels.js';
import { debiasedLog } from '../../core/icon/debias.js';
import { iconLoss } from '../../core/icon/loss.js';
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
  it("the exact path's written-out gradient is tf.grad of iconLoss over the kernels", () => {
    const n = 12;
    const { x } = blobs(3, 4, 5, 1, 9);
    const y0 = blobs(1, n, 2, 1, 4).x;
    const p = tf.tidy(() => gaussianKernel(tf.tensor2d(x, [n, 5]), { perplexity: 3 }));
    const pData = p.dataSync() as Float32Array;
    const Y = tf.tensor2d(y0, [n, 2]);
    const attraction = (y: tf.Tensor2D) =>
      tf.tidy(() => {
        const d2 = tf.sum(tf.square(tf.sub(tf.expandDims(y, 1), tf.expandDims(y, 0))), 2);
        return tf.div(tf.sum(tf.mul(p, tf.log1p(d2))), n) as tf.Scalar;
      });
    for (const a of [1, 4]) {
      // I-Con: iconLoss(p, log q), q the Student-t kernel; exaggeration a adds (a - 1) x attraction
      const lossOf = (y: tf.Tensor2D) =>
        tf.add(iconLoss(p, debiasedLog(studentTKernel(y), 0), n), tf.mul(attraction(y), a - 1)) as tf.Scalar;
      const { value, grad } = tf.valueAndGrad(lossOf)(Y);
      const g = new Float64Array(2 * n);
      const loss = denseTsneGradient(pData, y0, n, a, g, undefined, true);
      expect(loss).toBeCloseTo(value.dataSync()[0]!, 4);
      const want = grad.dataSync();
      for (let t = 0; t < 2 * n; t++) expect(g[t]).toBeCloseTo(want[t]!, 5);
      expect(Number.isNaN(denseTsneGradient(pData, y0, n, a))).toBe(true);
      tf.dispose([value, grad]);
    }
    tf.dispose([p, Y]);
  });

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

  it('beyond maxPoints maps a sample and puts every other row beside its most similar sampled row', () => {
    const { x, labels, n } = blobs(5, 120, 20, 2, 6);
    const opts = { perplexity: 10, iterations: 300, seed: 2, exactUpTo: 100, maxPoints: 150 };
    const r = tsneMapDetailed(x, n, 20, opts);
    expect(r.points.length).toBe(2 * n);
    expect(r.points.every(Number.isFinite)).toBe(true);
    expect(separation(r.points, labels)).toBeGreaterThan(2);
    expect(nnAgreement(r.points, labels)).toBeGreaterThan(0.95);
    // 150 distinct places, each row within 0.5% of the map's extent of one of them
    const xs = Array.from({ length: n }, (_, i) => r.points[2 * i]!);
    const extent = Math.max(...xs) - Math.min(...xs);
    const exact = new Set<string>();
    for (let i = 0; i < n; i++) exact.add(`${r.points[2 * i]},${r.points[2 * i + 1]}`);
    expect(exact.size).toBe(n);
    let far = 0;
    for (let i = 0; i < n; i++) {
      let best = Infinity;
      for (let j = 0; j < n; j++)
        if (j !== i) best = Math.min(best, Math.hypot(r.points[2 * i]! - r.points[2 * j]!, r.points[2 * i + 1]! - r.points[2 * j + 1]!));
      if (best > 0.01 * extent) far++;
    }
    expect(far).toBeLessThan(n / 4);
    expect(Array.from(tsneMapDetailed(x, n, 20, opts).points)).toEqual(Array.from(r.points));
  });
});

describe('copies of one image on the map', () => {
  it('share one point; distinct images keep their own', () => {
    const { x, n, labels } = blobs(3, 20, 8, 6, 21);
    // every fifth image copied twice more, appended
    const copies = Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 === 0);
    const all = new Float32Array((n + 2 * copies.length) * 8);
    all.set(x);
    copies.forEach((src, c) => {
      all.set(x.subarray(src * 8, src * 8 + 8), (n + 2 * c) * 8);
      all.set(x.subarray(src * 8, src * 8 + 8), (n + 2 * c + 1) * 8);
    });
    const m = n + 2 * copies.length;
    const { points } = tsneMapDetailed(all, m, 8, { seed: 0, iterations: 200 });
    const at = (i: number) => [points[2 * i]!, points[2 * i + 1]!];
    copies.forEach((src, c) => {
      expect(at(n + 2 * c)).toEqual(at(src));
      expect(at(n + 2 * c + 1)).toEqual(at(src));
    });
    // the distinct images are all apart, and still grouped by blob
    const keys = new Set(Array.from({ length: n }, (_, i) => at(i).join()));
    expect(keys.size).toBe(n);
    expect(nnAgreement(points.subarray(0, 2 * n), labels)).toBeGreaterThan(0.9);
  });

  it('twelve copies of one image: one point, not spread over the canvas', () => {
    const one = blobs(1, 1, 8, 1, 3).x;
    const x = new Float32Array(12 * 8);
    for (let i = 0; i < 12; i++) x.set(one, i * 8);
    const { points } = tsneMapDetailed(x, 12, 8, { seed: 0 });
    expect(points.every(Number.isFinite)).toBe(true);
    expect(new Set(Array.from({ length: 12 }, (_, i) => `${points[2 * i]},${points[2 * i + 1]}`)).size).toBe(1);
  });
});
