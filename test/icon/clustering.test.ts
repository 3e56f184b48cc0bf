import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DebiasedInfoNCEClustering, type ClusteringOptions } from '../../core/icon/clustering.js';
import { calibratedConfidence } from '../../core/icon/calibration.js';
import { hungarianAccuracy, nmi } from '../../core/icon/metrics.js';
import { arraySource, fitPreprocessSource, type RowSource } from '../../core/icon/preprocess.js';
import { Rng } from '../../core/icon/rng.js';
import { blobs, setupTf } from './helpers.js';

beforeAll(setupTf);

const FAST: Partial<ClusteringOptions> = { epochs: 6, minStepsPerEpoch: 8, lrHalveEvery: 3, learningRate: 0.01 };

describe('DebiasedInfoNCEClustering', () => {
  it('clusters separated blobs, deterministically for a seed, with flat memory', () => {
    const { x, labels, n } = blobs(4, 50, 16, 3);
    const before = tf.memory().numTensors;
    const a = new DebiasedInfoNCEClustering({ nClusters: 4, seed: 5, ...FAST }).fit(x, n, 16);
    const after = tf.memory().numTensors;
    expect(after).toBe(before);
    expect(new Set(a.tensorCounts).size).toBe(1); // unchanged over epochs
    expect(hungarianAccuracy(labels, a.labels)).toBeGreaterThan(0.95);
    const b = new DebiasedInfoNCEClustering({ nClusters: 4, seed: 5, ...FAST }).fit(x, n, 16);
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    expect(b.lossHistory).toEqual(a.lossHistory);
    expect(a.lossHistory.at(-1)!).toBeLessThan(a.lossHistory[0]!);
    // another seed is a different run
    const c = new DebiasedInfoNCEClustering({ nClusters: 4, seed: 6, ...FAST }).fit(x, n, 16);
    expect(c.lossHistory).not.toEqual(a.lossHistory);
  });

  it('uses views and stays flat with the EMA teacher on', () => {
    const { x, labels, n } = blobs(3, 40, 8, 3, 2);
    const rng = new Rng(1);
    const views = Float32Array.from(x, (v) => v + 0.1 * rng.normal());
    const before = tf.memory().numTensors;
    const r = new DebiasedInfoNCEClustering({ nClusters: 3, seed: 1, emaTeacher: true, ...FAST }).fit(x, n, 8, { views });
    expect(tf.memory().numTensors).toBe(before);
    expect(new Set(r.tensorCounts).size).toBe(1);
    expect(hungarianAccuracy(labels, r.labels)).toBeGreaterThan(0.9);
  });

  it("augmented views as the anchors' inputs: training learns what the views keep (the kind), not what they change (the lighting)", () => {
    // two kinds (dims 0-3) under two lightings (dims 4-7, the larger difference); each image's
    // views change the lighting at random and keep the kind
    const rng = new Rng(3);
    const n = 160;
    const d = 16;
    const V = 4;
    const kind = new Int32Array(n);
    const light = new Int32Array(n);
    const x = new Float32Array(n * d);
    const views = new Float32Array(n * V * d);
    for (let i = 0; i < n; i++) {
      kind[i] = i % 2;
      light[i] = Math.floor(i / 2) % 2;
      for (let j = 0; j < d; j++) {
        const base = (j < 4 ? (kind[i] ? 2 : -2) : j < 8 ? (light[i] ? 5 : -5) : 0) + 0.5 * rng.normal();
        x[i * d + j] = base;
        for (let v = 0; v < V; v++)
          views[(i * V + v) * d + j] = j >= 4 && j < 8 ? (rng.next() < 0.5 ? 5 : -5) + 0.5 * rng.normal() : base + 0.3 * rng.normal();
      }
    }
    const opts = { nClusters: 2, epochs: 20, minStepsPerEpoch: 10, lrHalveEvery: 10, learningRate: 0.03 };
    // seeds whose spectral start splits by lighting
    for (const seed of [2, 3, 4]) {
      const plain = new DebiasedInfoNCEClustering({ ...opts, seed }).fit(x, n, d);
      const withViews = new DebiasedInfoNCEClustering({ ...opts, seed }).fit(x, n, d, { views });
      expect(hungarianAccuracy(light, withViews.start)).toBe(1);
      expect(hungarianAccuracy(light, plain.labels)).toBe(1);
      expect(hungarianAccuracy(kind, withViews.labels)).toBe(1);
    }
  });

  it('halves the learning rate every lrHalveEvery epochs', () => {
    const { x, n } = blobs(3, 20, 8, 3);
    const r = new DebiasedInfoNCEClustering({
      nClusters: 3,
      seed: 1,
      epochs: 5,
      minStepsPerEpoch: 2,
      lrHalveEvery: 2,
      learningRate: 0.04,
    }).fit(x, n, 8);
    expect(r.lrHistory).toEqual([0.04, 0.04, 0.02, 0.02, 0.01]);
  });

  it('predicts new points with the trained head; export/import round-trips', () => {
    const train = blobs(3, 60, 12, 3, 4);
    // new points from the same centres
    const rng = new Rng(99);
    const m = 30;
    const xn = new Float32Array(m * 12);
    const yn = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      yn[i] = i % 3;
      for (let j = 0; j < 12; j++) xn[i * 12 + j] = train.centres[(i % 3) * 12 + j]! + rng.normal();
    }
    const model = new DebiasedInfoNCEClustering({ nClusters: 3, seed: 2, ...FAST });
    const fit = model.fit(train.x, train.n, 12);
    const pred = model.predict(xn, m);
    expect(hungarianAccuracy(yn, pred.labels)).toBeGreaterThan(0.95);
    // same cluster ids as the training points of the same blob
    const clusterOfBlob = [0, 1, 2].map((c) => {
      const votes = new Map<number, number>();
      for (let i = c; i < train.n; i += 3) votes.set(fit.labels[i]!, (votes.get(fit.labels[i]!) ?? 0) + 1);
      return [...votes.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    });
    expect(Array.from(pred.labels)).toEqual(Array.from(yn, (c) => clusterOfBlob[c]!));
    const copy = new DebiasedInfoNCEClustering({ nClusters: 3 });
    copy.importHead(model.exportHead());
    expect(Array.from(copy.predict(xn, m).labels)).toEqual(Array.from(pred.labels));
    expect(() => new DebiasedInfoNCEClustering({ nClusters: 3 }).predict(xn, m)).toThrow(/not fitted/);
  });

  it('confidence threshold sends uncertain images to Unsorted (-1)', () => {
    const { x, n } = blobs(3, 30, 8, 3, 6);
    const r = new DebiasedInfoNCEClustering({ nClusters: 3, seed: 1, minConfidence: 1.01, ...FAST }).fit(x, n, 8);
    expect(Array.from(r.groups).every((g) => g === -1)).toBe(true);
    const r2 = new DebiasedInfoNCEClustering({ nClusters: 3, seed: 1, minConfidence: 0, ...FAST }).fit(x, n, 8);
    expect(Array.from(r2.groups)).toEqual(Array.from(r2.labels));
    for (const c of r2.confidence) expect(c).toBeGreaterThan(1 / 3 - 1e-6);
  });

  it('pins are respected and improve accuracy when the dominant structure is a nuisance', () => {
    // 4 classes on a weak axis pair, 3 nuisance groups on strong axes: unsupervised clustering
    // follows the nuisance; 5 pins per class carry the user's grouping.
    const rng = new Rng(21);
    const d = 24;
    const n = 240;
    const cls = rng.normalArray(4 * d, 1.6);
    const nui = rng.normalArray(3 * d, 4);
    const x = new Float32Array(n * d);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 4;
      const z = Math.floor(i / 4) % 3;
      for (let j = 0; j < d; j++) x[i * d + j] = cls[(i % 4) * d + j]! + nui[z * d + j]! + 0.7 * rng.normal();
    }
    const opts: ClusteringOptions = { nClusters: 4, seed: 3, ...FAST, epochs: 8 };
    const free = new DebiasedInfoNCEClustering(opts).fit(x, n, d);
    const pins = new Map<number, number>();
    for (let c = 0; c < 4; c++) for (let t = 0; t < 5; t++) pins.set(c + 4 * t * 3, c); // 5 per class
    const pinned = new DebiasedInfoNCEClustering(opts).fit(x, n, d, { pins });
    for (const [img, c] of pins) {
      expect(pinned.labels[img]).toBe(c);
      expect(pinned.confidence[img]).toBe(1);
    }
    const accFree = hungarianAccuracy(y, free.labels);
    const accPinned = hungarianAccuracy(y, pinned.labels);
    console.log(`pins test: free ${accFree.toFixed(3)} pinned ${accPinned.toFixed(3)}`);
    expect(accPinned).toBeGreaterThan(accFree + 0.15);
    // pinned cluster ids are the user's: accuracy without any matching
    let direct = 0;
    for (let i = 0; i < n; i++) if (pinned.labels[i] === y[i]) direct++;
    expect(direct / n).toBeGreaterThan(0.55);
  });

  it('refines a given grouping (FitInput.start): keeps its numbering and learns from fixes instead of centring on them', () => {
    // 4 blobs, plus 5 images per class that sit in the next class's blob: a free fit puts them
    // there, and a user fixing the groups moves them back to their class's group (pins).
    const d = 16;
    const { x: core, labels: coreY, n: nCore } = blobs(4, 50, d, 3, 7);
    const rng = new Rng(8);
    const centreOf = (c: number) => {
      const m = new Float32Array(d);
      let cnt = 0;
      for (let i = 0; i < nCore; i++) {
        if (coreY[i] !== c) continue;
        cnt++;
        for (let j = 0; j < d; j++) m[j]! += core[i * d + j]!;
      }
      return m.map((v) => v / cnt);
    };
    const n = nCore + 20;
    const x = new Float32Array(n * d);
    x.set(core);
    const y = new Int32Array(n);
    y.set(coreY);
    for (let t = 0; t < 20; t++) {
      const c = t % 4;
      const there = centreOf((c + 1) % 4);
      y[nCore + t] = c;
      for (let j = 0; j < d; j++) x[(nCore + t) * d + j] = there[j]! + 0.5 * rng.normal();
    }
    const opts: ClusteringOptions = { nClusters: 4, seed: 4, ...FAST };
    const free = new DebiasedInfoNCEClustering(opts).fit(x, n, d);
    // the user's groups: the free fit renumbered (the app's group order is its own), with each
    // misplaced image moved to the group holding most of its class and pinned there
    const grouping = Int32Array.from(free.labels, (g) => (g + 1) % 4);
    const groupOfClass = (c: number) => {
      const votes = new Int32Array(4);
      for (let i = 0; i < nCore; i++) if (y[i] === c) votes[grouping[i]!]!++;
      return votes.indexOf(Math.max(...votes));
    };
    const pins = new Map<number, number>();
    for (let t = 0; t < 20; t++) pins.set(nCore + t, groupOfClass(y[nCore + t]!));
    for (const [i, g] of pins) grouping[i] = g;
    // share of the blob images (not the fixes) in the same group in both
    const agree = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let same = 0;
      for (let i = 0; i < nCore; i++) if (a[i] === b[i]) same++;
      return same / nCore;
    };
    expect(agree(grouping, Int32Array.from(coreY, groupOfClass))).toBeGreaterThan(0.95); // the grouping is right on the blobs

    const refined = new DebiasedInfoNCEClustering(opts).fit(x, n, d, { pins, start: grouping });
    expect(refined.refined).toBe(true);
    expect(free.refined).toBe(false);
    for (const [i, g] of pins) expect(refined.labels[i]).toBe(g);
    // the blobs stay in the user's groups, under the user's numbering
    expect(agree(refined.labels, grouping)).toBeGreaterThan(0.95);
    // Without the grouping, every group pinned, the start is the pinned images' means: here
    // the next class's blob, so groups swap their contents and the user's names would follow.
    const fromPins = new DebiasedInfoNCEClustering(opts).fit(x, n, d, { pins });
    expect(agree(fromPins.labels, grouping)).toBeLessThan(0.5);

    // a grouping that leaves a group empty is not a start: the usual one is used
    const partial = Int32Array.from(grouping, (g) => (g === 3 ? -1 : g));
    const fallback = new DebiasedInfoNCEClustering(opts).fit(x, n, d, { start: partial });
    expect(new Set(fallback.labels).size).toBe(4);
    expect(fallback.refined).toBe(false);
    expect(() => new DebiasedInfoNCEClustering(opts).fit(x, n, d, { start: new Int32Array(n).fill(4) })).toThrow(/bad start group/);
    expect(() => new DebiasedInfoNCEClustering(opts).fit(x, n, d, { start: new Int32Array(n - 1) })).toThrow(/start length/);
  });

  it('streams rows from a source (PCA on a sample) and re-clusters reusing the graph and PCA', () => {
    const d = 40;
    const { x, labels, n } = blobs(5, 60, d, 3);
    // a source that only hands out copies of blocks and sampled rows, and counts the samples
    const inner = arraySource(x, n, d);
    let sampled = 0;
    const src: RowSource = {
      n,
      d,
      read: (start, count) => Float32Array.from(inner.read(start, count)),
      readRows: (rows) => ((sampled += rows.length), inner.readRows(rows)),
    };
    const opts = { nClusters: 5, seed: 2, ...FAST, preprocess: { pcaDims: 12, pcaSample: 120 } };
    const streamed = new DebiasedInfoNCEClustering(opts).fitSource(src);
    expect(sampled).toBe(120); // the PCA saw a sample, not every row
    expect(hungarianAccuracy(labels, streamed.labels)).toBeGreaterThan(0.95);
    // same result as the in-memory fit (same sample, same seed)
    const model = new DebiasedInfoNCEClustering(opts);
    const inMemory = model.fit(x, n, d);
    expect(Array.from(inMemory.labels)).toEqual(Array.from(streamed.labels));
    // re-cluster with another K: the graph and the PCA are reused, not computed again
    const pre = model.exportHead().preprocessor;
    expect(pre.dOut).toBe(12);
    const again = new DebiasedInfoNCEClustering({ ...opts, nClusters: 3 }).fit(x, n, d, { graph: inMemory.graph, preprocessor: pre });
    expect(again.graph).toBe(inMemory.graph);
    expect(new Set(again.labels).size).toBeLessThanOrEqual(3);
    const refit = fitPreprocessSource(arraySource(x, n, d), { pcaDims: 12, pcaSample: 120, seed: 2 }).pre;
    expect(Array.from(refit.pca!.components.subarray(0, 12))).toEqual(Array.from(pre.pca!.components.subarray(0, 12)));
  });

  it('keeps its k-means start when training would collapse a handful of images into fewer groups', () => {
    const { x, labels, n } = blobs(2, 2, 16, 1, 2); // 4 images, 2 groups asked for
    // the heavier debiasing of p this collapse was seen with (the guard is under test, not the default)
    const opts = { nClusters: 2, seed: 2, init: 'kmeans', alphaP: 0.6 } as const;
    const r = new DebiasedInfoNCEClustering(opts).fit(x, n, 16);
    expect(r.collapsed).toBe(true);
    expect(new Set(r.labels).size).toBe(2);
    // what it kept is its start: the same head with no training at all
    const start = new DebiasedInfoNCEClustering({ ...opts, epochs: 0 }).fit(x, n, 16);
    expect(Array.from(r.labels)).toEqual(Array.from(start.labels));
    expect(hungarianAccuracy(labels, r.labels)).toBeGreaterThan(0.5);
    // the kept head is the one that predicts: new copies of the points land in their groups
    const again = new DebiasedInfoNCEClustering(opts);
    const fit = again.fit(x, n, 16);
    expect(Array.from(again.predict(x, n).labels)).toEqual(Array.from(fit.labels));
  });

  it('with more groups asked for than the data holds, a few groups left empty is no collapse: the trained head stays', () => {
    // 60 blobs, 70 groups: training empties a few groups and is sure of the rest. Falling back
    // to the start (whose head is unsure of everything) sent a whole library to Unsorted.
    const { x, labels, n } = blobs(60, 5, 32, 3, 3);
    const r = new DebiasedInfoNCEClustering({ nClusters: 70, seed: 0, epochs: 10 }).fit(x, n, 32);
    expect(new Set(r.labels).size).toBeLessThan(70); // some came out empty
    expect(r.collapsed).toBe(false);
    const conf = Array.from(r.confidence).sort((a, b) => a - b);
    // the head's own phi above 0.9 for most images (the start's was about 0.3)
    expect(conf[conf.length >> 1]).toBeGreaterThan(calibratedConfidence(0.9));
    expect(nmi(labels, r.labels)).toBeGreaterThan(0.95);
  });

  it('one group: every image in it with confidence 1, and new images too, down to a single image', () => {
    for (const n of [1, 5]) {
      const rng = new Rng(n);
      const x = rng.normalArray(n * 16, 1);
      const model = new DebiasedInfoNCEClustering({ nClusters: 1, seed: 0 });
      const r = model.fit(x, n, 16, { views: x });
      expect(Array.from(r.labels)).toEqual(new Array(n).fill(0));
      expect(Array.from(r.confidence)).toEqual(new Array(n).fill(1));
      expect(r.graph.k).toBe(0);
      expect(model.exportHead().shape[1]).toBe(1);
      expect(Array.from(model.predict(rng.normalArray(3 * 16, 1), 3).labels)).toEqual([0, 0, 0]);
    }
  });

  it('two images, two groups: one each (the spectral start leaves a group empty, the k-means start does not)', () => {
    const x = new Rng(7).normalArray(2 * 16, 1);
    const r = new DebiasedInfoNCEClustering({ nClusters: 2, seed: 0 }).fit(x, 2, 16);
    expect(new Set(r.labels).size).toBe(2);
  });

  it('separates a handful of images from the spectral start: k stays below the images per group', () => {
    const { x, labels, n } = blobs(2, 4, 16, 1);
    const r = new DebiasedInfoNCEClustering({ nClusters: 2, seed: 0 }).fit(x, n, 16);
    expect(r.graph.k).toBe(3); // 8 images / 2 groups - 1, not the default 10
    expect(r.collapsed).toBe(false);
    expect(hungarianAccuracy(labels, r.labels)).toBe(1);
  });

  it('starts from a spectral clustering of the kNN graph: long parallel bars that k-means cuts across', () => {
    // two bars 20 long and 4 apart: k-means prefers cutting both in half (less spread along
    // them), the kNN graph follows each bar. A far constant coordinate makes cosine (the
    // graph's similarity) track distance in the plane.
    const n = 240;
    const d = 3;
    const x = new Float32Array(n * d);
    const truth: number[] = [];
    const rng = new Rng(5);
    for (let i = 0; i < n; i++) {
      const bar = i % 2;
      x.set([20 * rng.next() - 10, 4 * bar + 0.05 * rng.normal(), 30], i * d);
      truth.push(bar);
    }
    const opts = { nClusters: 2, seed: 0, epochs: 0, preprocess: { pcaDims: null, l2normalize: false } } as const;
    const spectral = new DebiasedInfoNCEClustering({ ...opts }).fit(x, n, d);
    const km = new DebiasedInfoNCEClustering({ ...opts, init: 'kmeans' }).fit(x, n, d);
    expect(hungarianAccuracy(truth, spectral.labels)).toBe(1);
    expect(hungarianAccuracy(truth, km.labels)).toBeLessThan(0.7);
  });
});
