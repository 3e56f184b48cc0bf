import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { centroidColumns, groupMeans, kmeans, kmeansPlusPlus, PointBlocks } from '../../core/icon/kmeans.js';
import { hungarianAccuracy } from '../../core/icon/metrics.js';
import { chooseK, defaultCandidates, knnModularity, silhouette } from '../../core/icon/choosek.js';
import { Rng } from '../../core/icon/rng.js';
import { blobs, setupTf } from './helpers.js';

beforeAll(setupTf);

describe('k-means', () => {
  it('k-means++ seeds one centre per well-separated blob', () => {
    const { x, labels, n } = blobs(6, 30, 10, 20, 3);
    const xt = new PointBlocks(x, n, 10);
    for (const seed of [0, 1, 2]) {
      const c = kmeansPlusPlus(xt, 6, new Rng(seed));
      // each seed centre is a data point; all six in different blobs
      const blobOf = (ci: number): number => {
        for (let i = 0; i < n; i++) if (x.subarray(i * 10, i * 10 + 10).every((v, j) => v === c[ci * 10 + j])) return labels[i]!;
        return -1;
      };
      expect(new Set([0, 1, 2, 3, 4, 5].map(blobOf)).size).toBe(6);
    }
    xt.dispose();
  });

  it('recovers blobs exactly; inertia is the sum of squared distances; deterministic', () => {
    const { x, labels, n } = blobs(5, 40, 8, 6, 4);
    const before = tf.memory().numTensors;
    const r = kmeans(x, n, 8, { k: 5, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(hungarianAccuracy(labels, r.labels)).toBe(1);
    let inertia = 0;
    for (let i = 0; i < n; i++) {
      const c = r.labels[i]!;
      for (let j = 0; j < 8; j++) inertia += (x[i * 8 + j]! - r.centroids[c * 8 + j]!) ** 2;
    }
    expect(r.inertia).toBeCloseTo(inertia, 0);
    // centroids are the means of their members
    const c0 = Array.from({ length: 8 }, (_, j) => {
      let s = 0;
      let m = 0;
      for (let i = 0; i < n; i++)
        if (r.labels[i] === 0) {
          s += x[i * 8 + j]!;
          m++;
        }
      return s / m;
    });
    c0.forEach((v, j) => expect(r.centroids[j]).toBeCloseTo(v, 4));
    expect(Array.from(kmeans(x, n, 8, { k: 5, seed: 1 }).labels)).toEqual(Array.from(r.labels));
  });
});

describe('centroid helpers (hand-computed)', () => {
  it('group means skip unlabelled rows and leave an empty group at zero', () => {
    const x = Float32Array.from([1, 2, 3, 4, 10, 10, 5, 6]); // 4 rows, d 2
    const { means, counts } = groupMeans(x, 4, 2, [0, 0, -1, 2], 3);
    expect(Array.from(counts)).toEqual([2, 0, 1]);
    expect(Array.from(means)).toEqual([2, 3, 0, 0, 5, 6]);
  });

  it('centroid columns are the transpose, with squared norms', () => {
    const { cT, sqNorms } = centroidColumns(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3);
    expect(Array.from(cT)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(sqNorms)).toEqual([14, 77]);
  });
});

describe('chooseK', () => {
  it('picks the number of blobs (modularity on the kNN graph, and silhouette)', () => {
    const { x, n } = blobs(4, 30, 8, 5, 12);
    const r = chooseK(x, n, 8, [2, 3, 4, 5, 6, 8]);
    expect(r.criterion).toBe('modularity');
    expect(r.k).toBe(4);
    expect(r.scores).toHaveLength(6);
    expect(chooseK(x, n, 8, [2, 3, 4, 5, 6, 8], { criterion: 'silhouette', preprocess: { l2normalize: false } }).k).toBe(4);
  });

  it('keeps one group when no split beats it: identical images, or fewer than 6', () => {
    expect(defaultCandidates(2)).toEqual([1]);
    expect(defaultCandidates(7)).toEqual([1, 2]);
    expect(defaultCandidates(1000)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const one = new Rng(3).normalArray(8, 1);
    const same = new Float32Array(12 * 8);
    for (let i = 0; i < 12; i++) same.set(one, i * 8);
    const r = chooseK(same, 12, 8);
    expect(r.k).toBe(1);
    // no K above the number of distinct images is tried: it could only split copies by how
    // the kNN search broke its ties
    expect(r.scores.map((s) => s.k)).toEqual([1]);
    // two images, six copies each: two groups
    const two = new Float32Array(12 * 8);
    const other = new Rng(5).normalArray(8, 1);
    for (let i = 0; i < 12; i++) two.set(i % 2 ? other : one, i * 8);
    const r2 = chooseK(two, 12, 8);
    expect(r2.scores.map((s) => s.k)).toEqual([1, 2]);
    expect(r2.k).toBe(2);
    expect(chooseK(new Rng(4).normalArray(5 * 8, 1), 5, 8)).toMatchObject({ k: 1, criterion: 'modularity', scores: [{ k: 1, score: 0 }] });
    // real structure still wins over one group
    const { x, n } = blobs(4, 30, 8, 5, 12);
    expect(chooseK(x, n, 8).k).toBe(4);
  });

  it('depends on the images, not on their order: the same scores for the rows in any order', () => {
    // overlapping blobs: an ambiguous K, where order-dependent partitions used to move it
    const { x, n } = blobs(6, 25, 8, 1.5, 31);
    const { scored: baseRows, ...base } = chooseK(x, n, 8);
    const rng = new Rng(9);
    for (let t = 0; t < 3; t++) {
      const perm = rng.permutation(n);
      const y = new Float32Array(n * 8);
      perm.forEach((src, i) => y.set(x.subarray(src * 8, src * 8 + 8), i * 8));
      const { scored, ...got } = chooseK(y, n, 8);
      expect(got).toEqual(base);
      // its rows and graph are the same ones, in the order they were given
      const d = base.preprocessor.dOut;
      const k = baseRows!.graph.k;
      perm.forEach((src, i) => {
        expect(Array.from(scored!.reduced.subarray(i * d, i * d + d))).toEqual(
          Array.from(baseRows!.reduced.subarray(src * d, src * d + d)),
        );
        const neighbours = Array.from(scored!.graph.indices.subarray(i * k, i * k + k), (j) => perm[j]);
        expect(neighbours).toEqual(Array.from(baseRows!.graph.indices.subarray(src * k, src * k + k)));
      });
    }
  });

  it('modularity by hand: two disconnected triangles', () => {
    // kNN graph (k=2) of two triangles {0,1,2}, {3,4,5}: all edges inside -> Q = 1 - 2 * (1/2)^2 = 0.5
    const g = { n: 6, k: 2, indices: Int32Array.from([1, 2, 0, 2, 0, 1, 4, 5, 3, 5, 3, 4]), sims: new Float32Array(12) };
    expect(knnModularity(g, Int32Array.from([0, 0, 0, 1, 1, 1]), 2)).toBeCloseTo(0.5, 12);
    expect(knnModularity(g, Int32Array.from([0, 0, 0, 0, 0, 0]), 1)).toBeCloseTo(0, 12);
  });

  it('silhouette is 1 for points on their centres, ~0 for random labels', () => {
    const x = Float32Array.from([0, 0, 0, 0, 10, 10, 10, 10]);
    expect(silhouette(x, 4, 2, Int32Array.from([0, 0, 1, 1]), 2)).toBeCloseTo(1, 5);
  });
});
