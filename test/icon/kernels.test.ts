import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  clusterKernel,
  gaussianKernel,
  gaussianQKernel,
  knnKernel,
  labelsKernel,
  studentTKernel,
  viewsKernel,
  walkKernel,
} from '../../core/icon/kernels.js';
import { knnGraph, knnKernelSparse, walkKernelSparse, symmetrizeSparse } from '../../core/icon/knn.js';
import { debiasedLog } from '../../core/icon/debias.js';
import { iconLoss } from '../../core/icon/loss.js';
import { Rng } from '../../core/icon/rng.js';
import { blobs, setupTf } from './helpers.js';

beforeAll(setupTf);

const rowSums = (t: tf.Tensor2D): number[] => Array.from(tf.tidy(() => tf.sum(t, 1)).dataSync());
const diag = (t: tf.Tensor2D): number[] => Array.from(tf.tidy(() => tf.sum(tf.mul(t, tf.eye(t.shape[0])), 1)).dataSync());
const rand = (b: number, d: number, seed = 3): tf.Tensor2D => tf.tensor2d(new Rng(seed).normalArray(b * d), [b, d]);

describe('supervisory kernels p: rows sum to 1, self excluded', () => {
  it('kNN, walk, Gaussian (sigma and perplexity)', () => {
    const x = rand(40, 8);
    const kernels = {
      knn: knnKernel(x, 3),
      walk: walkKernel(knnKernel(x, 3), 1),
      gaussSigma: gaussianKernel(x, { sigma: 2 }),
      gaussPerp: gaussianKernel(x, { perplexity: 10 }),
    };
    for (const [name, k] of Object.entries(kernels)) {
      for (const s of rowSums(k)) expect(s, name).toBeCloseTo(1, 5);
      for (const v of diag(k)) expect(v, name).toBe(0);
    }
    // kNN rows are uniform over exactly k entries
    const row0 = Array.from(kernels.knn.dataSync().slice(0, 40)).filter((v) => v > 0);
    expect(row0).toHaveLength(3);
    for (const v of row0) expect(v).toBeCloseTo(1 / 3, 6);
    // perplexity achieved: exp(H(p_i)) = 10
    const p = kernels.gaussPerp.arraySync();
    for (const row of p.slice(0, 5)) {
      const h = -row.reduce((s, v) => (v > 0 ? s + v * Math.log(v) : s), 0);
      expect(Math.exp(h)).toBeCloseTo(10, 1);
    }
    tf.dispose([x, ...Object.values(kernels)]);
  });

  it('views and labels kernels: uniform over the other views / same pinned group', () => {
    const v = viewsKernel([0, 1, 2, 0, 1, 5]);
    const vs = v.arraySync();
    expect(vs[0]).toEqual([0, 0, 0, 1, 0, 0].map((a) => expect.closeTo(a, 6)));
    expect(rowSums(v).map((s) => Math.round(s * 1e6) / 1e6)).toEqual([1, 1, 0, 1, 1, 0]);
    const l = labelsKernel([0, 0, 0, -1, 1, 2]);
    const ls = l.arraySync();
    expect(ls[0]![1]).toBeCloseTo(0.5, 6);
    expect(ls[0]![2]).toBeCloseTo(0.5, 6);
    expect(ls[0]![0]).toBe(0);
    // unpinned row and singleton groups carry no mass
    expect(rowSums(l).map((s) => Math.round(s * 1e6) / 1e6)).toEqual([1, 1, 1, 0, 0, 0]);
    tf.dispose([v, l]);
  });

  it('sparse kNN / walk / symmetrised kernels on a graph', () => {
    const { x, n } = blobs(3, 20, 6, 4);
    const g = knnGraph(x, n, 6, 4);
    for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) expect(g.indices[i * 4 + j]).not.toBe(i);
    for (const m of [
      knnKernelSparse(g),
      walkKernelSparse(knnKernelSparse(g), 1),
      walkKernelSparse(knnKernelSparse(g), 2),
      symmetrizeSparse(knnKernelSparse(g)),
    ]) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let e = m.rowPtr[i]!; e < m.rowPtr[i + 1]!; e++) {
          expect(m.cols[e]).not.toBe(i);
          s += m.vals[e]!;
        }
        expect(s).toBeCloseTo(1, 5);
      }
    }
    // walk of 1 step reaches neighbours of neighbours
    const w = walkKernelSparse(knnKernelSparse(g), 1);
    expect(w.rowPtr[1]! - w.rowPtr[0]!).toBeGreaterThan(4);
  });

  it('exact kNN matches brute force', () => {
    const { x, n } = blobs(5, 60, 16, 3, 7);
    const d = 16;
    const k = 5;
    const g = knnGraph(x, n, d, k);
    const norm = (i: number): number => Math.hypot(...x.subarray(i * d, i * d + d));
    for (const i of [0, 17, 123, 299]) {
      const sims: [number, number][] = [];
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        let s = 0;
        for (let t = 0; t < d; t++) s += x[i * d + t]! * x[j * d + t]!;
        sims.push([s / (norm(i) * norm(j)), j]);
      }
      sims.sort((a, b) => b[0] - a[0]);
      expect(Array.from(g.indices.subarray(i * k, i * k + k))).toEqual(sims.slice(0, k).map((s) => s[1]));
    }
  });
});

describe('learned kernels q', () => {
  it('cluster, Gaussian and Student-t kernels have rows summing to 1', () => {
    const phi = tf.softmax(rand(30, 5, 9)) as tf.Tensor2D;
    const y = rand(30, 2, 11);
    for (const k of [clusterKernel(phi), gaussianQKernel(y, 1), studentTKernel(y)]) {
      for (const s of rowSums(k)) expect(s).toBeCloseTo(1, 5);
      k.dispose();
    }
    tf.dispose([phi, y]);
  });

  it('cluster kernel matches the formula sum_c phi_ic phi_jc / sum_k phi_kc', () => {
    const phi = tf.tensor2d([
      [0.9, 0.1],
      [0.2, 0.8],
      [0.5, 0.5],
    ]);
    const q = clusterKernel(phi).arraySync();
    const m = [1.6, 1.4];
    expect(q[0]![1]).toBeCloseTo((0.9 * 0.2) / m[0]! + (0.1 * 0.8) / m[1]!, 6);
    expect(q[2]![2]).toBeCloseTo((0.5 * 0.5) / m[0]! + (0.5 * 0.5) / m[1]!, 6);
    phi.dispose();
  });

  it('a cluster of exactly zero mass gives no NaN (epsilon), in value and gradient', () => {
    // hard one-hot assignments: cluster 2 is empty (mass exactly 0)
    const phi = tf.tensor2d([
      [1, 0, 0],
      [1, 0, 0],
      [0, 1, 0],
      [0, 1, 0],
    ]);
    const q = clusterKernel(phi);
    expect(Array.from(q.dataSync()).every(Number.isFinite)).toBe(true);
    for (const s of rowSums(q)) expect(s).toBeCloseTo(1, 5);
    // without the epsilon the same formula is 0/0 = NaN
    const naive = tf.tidy(() => tf.matMul(tf.div(phi, tf.sum(phi, 0, true)), phi, false, true));
    expect(Array.from(naive.dataSync()).some(Number.isNaN)).toBe(true);
    const p = tf.tensor2d([
      [0, 1, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 1],
      [0, 0, 1, 0],
    ]);
    const g = tf.grad((ph: tf.Tensor) => iconLoss(p, debiasedLog(clusterKernel(ph as tf.Tensor2D), 0.5), 4))(phi);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([phi, q, naive, p, g]);
  });
});

describe('normalize option is honoured', () => {
  it('Gaussian kernel: normalize=false depends on norms, normalize=true does not', () => {
    const x = rand(10, 4, 5);
    const scale = tf.tensor2d(
      Array.from({ length: 10 }, (_, i) => [1 + i]),
      [10, 1],
    );
    const xs = tf.mul(x, scale) as tf.Tensor2D;
    const rawA = gaussianKernel(x, { sigma: 1, normalize: false });
    const rawB = gaussianKernel(xs, { sigma: 1, normalize: false });
    const nA = gaussianKernel(x, { sigma: 1, normalize: true });
    const nB = gaussianKernel(xs, { sigma: 1, normalize: true });
    const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
    expect(maxDiff(rawA, rawB)).toBeGreaterThan(1e-2);
    expect(maxDiff(nA, nB)).toBeLessThan(1e-5);
    tf.dispose([x, scale, xs, rawA, rawB, nA, nB]);
  });

  it('kNN kernel: normalize=false uses dot products (different neighbour than cosine)', () => {
    // row 0 = (1, 0). row 1 = (10, 10): large dot, 45 degrees. row 2 = (1, 0.1): nearly parallel.
    const x = tf.tensor2d([
      [1, 0],
      [10, 10],
      [1, 0.1],
    ]);
    const cos = knnKernel(x, 1, { normalize: true }).arraySync();
    const dot = knnKernel(x, 1, { normalize: false }).arraySync();
    expect(cos[0]![2]).toBe(1);
    expect(dot[0]![1]).toBe(1);
    x.dispose();
  });
});
